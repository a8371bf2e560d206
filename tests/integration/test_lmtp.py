"""The LMTP listener, driven by stdlib smtplib.LMTP over TCP and a Unix socket: one reply per
recipient after DATA, each after the commit it reports, and what became of the mail.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import stat
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select

from maildesk.addresses import local_part_matches
from maildesk.app import App, async_accept, open_app
from maildesk.config import Settings
from maildesk.daemon.loop import Daemon
from maildesk.db import unit_of_work
from maildesk.errors import ConfigError, TransientError
from maildesk.ingest.lmtp import LmtpListener, remove_stale_socket
from maildesk.models import InboxItem, Ticket
from maildesk.pipeline.runner import process_one
from maildesk.services.origin import Accepted, AcceptFn, Origin
from tests.conftest import make_settings
from tests.mails import mail

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"
CUSTOMER = "carol@acme.test"
SUPPORT = "support@example.com"
BILLING = "billing@example.com"
QUEUES = [
    {"name": "general", "addresses": [SUPPORT]},
    {"name": "billing", "addresses": [BILLING]},
]
MAX_MESSAGE_BYTES = 4096
DEADLINE = 20.0  # seconds; only reached when something is broken


@dataclass
class Replies:
    """What an LMTP client was told: per RCPT, then per accepted recipient after DATA."""

    rcpt: dict[str, int]
    data: list[tuple[int, str]]


def lmtp_exchange(where: str | int, recipients: list[str], raw: bytes) -> Replies:
    """One LMTP transaction with smtplib (whose sendmail reads only the first DATA reply)."""
    host, port = (where, 0) if isinstance(where, str) else (HOST, where)
    with smtplib.LMTP(host, port, timeout=10) as client:
        client.ehlo()  # smtplib.LMTP says LHLO
        client.mail(CUSTOMER)
        rcpt = {address: client.rcpt(address)[0] for address in recipients}
        owed = sum(code == 250 for code in rcpt.values())
        if owed == 0:
            return Replies(rcpt, [])
        first = client.data(raw)
        data = [first] + [client.getreply() for _ in range(owed - 1)]
        return Replies(rcpt, [(code, text.decode()) for code, text in data])


async def exchange(where: str | int, recipients: list[str], raw: bytes) -> Replies:
    """The exchange in a thread, so the listener in this loop keeps answering."""
    return await asyncio.to_thread(lmtp_exchange, where, recipients, raw)


class OutageOnFirstCommit:
    """The desk's real accept, behind a database that is down for the first commit only."""

    def __init__(self, app: App) -> None:
        self.accept = async_accept(app)
        self.attempts = 0

    async def __call__(self, raw: bytes, origin: Origin) -> Accepted:
        self.attempts += 1
        if self.attempts == 1:
            raise TransientError("database unavailable: connection refused")
        return await self.accept(raw, origin)


@pytest.fixture
def two_queue_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, queues=QUEUES)


@pytest.fixture
def two_queue_app(two_queue_settings: Settings) -> Iterator[App]:
    application = open_app(two_queue_settings)
    yield application
    application.engine.dispose()


def make_listener(
    app: App,
    *,
    socket_path: Path | None = None,
    socket_mode: int = 0o660,
    accept: AcceptFn | None = None,
) -> LmtpListener:
    desk = app.settings.desk_addresses()
    return LmtpListener(
        socket_path=socket_path,
        socket_mode=socket_mode,
        host=HOST,
        port=0,
        accept=accept or async_accept(app),
        local_addresses=lambda address: local_part_matches(address, desk),
        max_message_bytes=MAX_MESSAGE_BYTES,
        hostname="mx.example.com",
    )


@pytest.fixture
async def listener(two_queue_app: App) -> AsyncIterator[LmtpListener]:
    server = make_listener(two_queue_app)
    await server.start()
    yield server
    await server.stop(grace_seconds=1)


def inbox_items(app: App) -> list[InboxItem]:
    with unit_of_work(app.engine) as session:
        return list(session.exec(select(InboxItem)))


async def process_all(app: App) -> list[Ticket]:
    while await asyncio.to_thread(process_one, app.engine, app.desk) is not None:
        pass
    with unit_of_work(app.engine) as session:
        return list(session.exec(select(Ticket)))


# --- one reply per recipient ------------------------------------------------------------------


async def test_two_desk_recipients_get_a_reply_each_and_the_mail_is_stored_once(
    listener: LmtpListener, two_queue_app: App
) -> None:
    replies = await exchange(listener.port, [BILLING, SUPPORT], mail(to=BILLING, cc=SUPPORT))

    assert replies.rcpt == {BILLING: 250, SUPPORT: 250}
    assert [code for code, _ in replies.data] == [250, 250]
    [item] = inbox_items(two_queue_app)
    assert (item.transport, item.envelope_to) == ("lmtp", [BILLING, SUPPORT])
    [ticket] = await process_all(two_queue_app)
    assert ticket.queue == "billing"


async def test_no_recipient_is_answered_before_the_commit(two_queue_app: App) -> None:
    commit, committing = asyncio.Event(), asyncio.Event()
    real_accept = async_accept(two_queue_app)

    async def slow_commit(raw: bytes, origin: Origin) -> Accepted:
        committing.set()
        await commit.wait()
        return await real_accept(raw, origin)

    server = make_listener(two_queue_app, accept=slow_commit)
    await server.start()
    try:
        delivery = asyncio.create_task(exchange(server.port, [SUPPORT], mail()))
        await asyncio.wait_for(committing.wait(), DEADLINE)
        assert not delivery.done(), "the recipient was answered before the commit"
        commit.set()
        replies = await asyncio.wait_for(delivery, DEADLINE)
    finally:
        await server.stop(grace_seconds=1)

    assert [code for code, _ in replies.data] == [250]
    assert len(inbox_items(two_queue_app)) == 1


async def test_a_recipient_the_desk_does_not_serve_is_refused_at_rcpt(
    listener: LmtpListener, two_queue_app: App
) -> None:
    replies = await exchange(listener.port, ["sales@example.com", SUPPORT], mail())

    assert replies.rcpt == {"sales@example.com": 550, SUPPORT: 250}
    assert [code for code, _ in replies.data] == [250]  # owed only for the accepted one
    [item] = inbox_items(two_queue_app)
    assert item.envelope_to == [SUPPORT]


async def test_an_outage_during_the_first_commit_costs_only_the_first_recipient(
    two_queue_app: App,
) -> None:
    outage = OutageOnFirstCommit(two_queue_app)
    server = make_listener(two_queue_app, accept=outage)
    await server.start()
    try:
        replies = await exchange(server.port, [SUPPORT, BILLING], mail(to=SUPPORT, cc=BILLING))
    finally:
        await server.stop(grace_seconds=1)

    assert replies.data[0][0] == 451 and replies.data[0][1].startswith("4.3.0")
    assert replies.data[1][0] == 250
    [ticket] = await process_all(two_queue_app)
    assert ticket.queue == "general"


async def test_the_retry_for_the_recipient_that_got_451_is_a_harmless_duplicate(
    two_queue_app: App,
) -> None:
    outage = OutageOnFirstCommit(two_queue_app)
    server = make_listener(two_queue_app, accept=outage)
    raw = mail(to=SUPPORT, cc=BILLING)
    await server.start()
    try:
        await exchange(server.port, [SUPPORT, BILLING], raw)
        retry = await exchange(server.port, [SUPPORT], raw)
    finally:
        await server.stop(grace_seconds=1)

    assert retry.data == [(250, "2.0.0 OK: message already accepted")]
    assert len(inbox_items(two_queue_app)) == 1


async def test_a_database_that_stays_down_answers_451_to_every_recipient(
    two_queue_app: App,
) -> None:
    attempts = 0

    async def down(raw: bytes, origin: Origin) -> Accepted:
        nonlocal attempts
        attempts += 1
        raise TransientError("database unavailable")

    server = make_listener(two_queue_app, accept=down)
    await server.start()
    try:
        many = [f"support+{n}@example.com" for n in range(5)]
        replies = await exchange(server.port, many, mail())
    finally:
        await server.stop(grace_seconds=1)

    assert [code for code, _ in replies.data] == [451] * 5
    assert attempts == 3  # MAX_ATTEMPTS: an outage does not cost one wait per recipient


async def test_a_mail_too_big_is_refused_once_per_recipient(
    listener: LmtpListener, two_queue_app: App
) -> None:
    huge = mail(body="A line of a long mail.\n" * MAX_MESSAGE_BYTES).replace(b"\n", b"\r\n")

    replies = await exchange(listener.port, [SUPPORT, BILLING], huge)

    assert [code for code, _ in replies.data] == [552, 552]
    assert inbox_items(two_queue_app) == []


async def test_helo_is_not_lmtp_but_help_still_lists_data(listener: LmtpListener) -> None:
    def helo_and_help() -> tuple[int, bytes]:
        with smtplib.LMTP(HOST, listener.port, timeout=10) as client:
            return client.helo()[0], client.help()

    helo, help_text = await asyncio.to_thread(helo_and_help)

    assert helo == 500
    assert b"DATA" in help_text and b"LHLO" in help_text


# --- the Unix socket --------------------------------------------------------------------------


async def test_over_a_unix_socket_a_mail_becomes_a_ticket(
    tmp_path: Path, two_queue_app: App
) -> None:
    path = tmp_path / "lmtp.sock"
    server = make_listener(two_queue_app, socket_path=path, socket_mode=0o660)
    await server.start()
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o660
        replies = await exchange(str(path), [SUPPORT], mail())
    finally:
        await server.stop(grace_seconds=1)

    assert replies.data[0][0] == 250
    assert len(await process_all(two_queue_app)) == 1
    assert not path.exists()  # removed at stop


async def test_a_stale_socket_is_replaced_at_start(tmp_path: Path, two_queue_app: App) -> None:
    path = tmp_path / "lmtp.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()  # the file stays, nobody listens: what a killed daemon leaves

    server = make_listener(two_queue_app, socket_path=path)
    await server.start()
    try:
        replies = await exchange(str(path), [SUPPORT], mail())
    finally:
        await server.stop(grace_seconds=1)

    assert replies.data[0][0] == 250


def test_a_live_socket_or_another_file_is_never_removed(tmp_path: Path) -> None:
    live = tmp_path / "live.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as other_daemon:
        other_daemon.bind(str(live))
        other_daemon.listen(1)
        with pytest.raises(ConfigError, match="another process is listening on"):
            remove_stale_socket(live)
    data = tmp_path / "maildesk.db"
    data.write_bytes(b"precious")
    with pytest.raises(ConfigError, match="exists and is not a socket"):
        remove_stale_socket(data)
    assert live.exists() and data.read_bytes() == b"precious"


# --- in the daemon ----------------------------------------------------------------------------


async def test_the_daemon_takes_mail_over_lmtp_beside_smtp(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path,
        database_url,
        smtp={"host": HOST, "port": 0},
        lmtp={"enabled": True, "socket": "var/lmtp.sock", "socket_mode": 0o600},
    )
    daemon = Daemon(open_app(settings))
    await daemon.start()
    try:
        path = tmp_path / "var" / "lmtp.sock"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        replies = await exchange(str(path), [SUPPORT], mail())
        async with asyncio.timeout(DEADLINE):
            while daemon.worker.processed == 0:  # the worker was woken by the commit
                await asyncio.sleep(0.02)
    finally:
        await daemon.stop()

    assert replies.data[0][0] == 250
    assert not path.exists()


async def test_a_socket_in_a_missing_folder_is_named_and_the_listener_does_not_start(
    tmp_path: Path, two_queue_app: App
) -> None:
    server = make_listener(two_queue_app, socket_path=tmp_path / "nowhere" / "lmtp.sock")

    with pytest.raises(ConfigError, match=f"lmtp.socket: no such folder {tmp_path}/nowhere"):
        await server.start()
