"""Real database outages at the accept step: the daemon's SMTP listener and IMAP poller meet a
PostgreSQL that is down or a SQLite file another process locks, then the same desk recovers.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url
from sqlmodel import col, select

from maildesk.app import App, open_app
from maildesk.daemon.imap import DatabaseImapState, imap_pollers
from maildesk.daemon.loop import Daemon
from maildesk.db import unit_of_work
from maildesk.errors import TransientError
from maildesk.ingest.imap import ImapCursor, ImapPoller
from maildesk.ingest.smtp import Reply
from maildesk.models import InboxItem
from maildesk.services.origin import Accepted, AcceptFn, Origin
from tests.conftest import make_settings
from tests.integration.dovecot import DovecotServer
from tests.integration.outages import HOST, Outage, PostgresSwitch, SqliteLock
from tests.mails import mail

pytestmark = pytest.mark.integration

SEEN = "\\Seen"
PROCESSED = "Processed"
CUSTOMER = "carol@acme.test"


def on_the_wire(raw: bytes) -> bytes:
    """CRLF line ends, as SMTP and IMAP carry (and the desk stores) a mail."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


FIRST = on_the_wire(mail(subject="Printer on fire", message_id="first@acme.test"))
SECOND = on_the_wire(mail(subject="Still on fire", message_id="second@acme.test"))


@pytest.fixture
def outage(database_url: str) -> Iterator[Outage]:
    """A way to take the test database away from the desk and give it back."""
    made: Outage
    if database_url.startswith("sqlite"):
        made = SqliteLock(database_url)
    else:
        made = PostgresSwitch(make_url(database_url))
    try:
        yield made
    finally:
        made.close()


@contextmanager
def open_desk(outage: Outage, base_dir: Path, **sections: Any) -> Iterator[App]:
    """The App as `maildesk run` opens it, on the database the outage can take away."""
    app = open_app(make_settings(base_dir, outage.url, **sections))
    outage.prepare(app.engine)
    try:
        yield app
    finally:
        app.engine.dispose()


def warnings_of(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    """What `logger` warned of, one line each: none of its records carries a traceback."""
    records = [r for r in caplog.records if r.name == logger and r.levelno >= logging.WARNING]
    assert [record.exc_info for record in records if record.exc_info] == []
    return [record.getMessage() for record in records]


def inbox(app: App) -> list[bytes]:
    with unit_of_work(app.engine) as session:
        return [item.raw for item in session.exec(select(InboxItem).order_by(col(InboxItem.id)))]


# --- SMTP: 451 while the database is out, 250 and one item once it is back -------------------


def deliver(port: int, raw: bytes) -> tuple[int, str]:
    """One SMTP transaction with stdlib smtplib; the reply to DATA."""
    with smtplib.SMTP(HOST, port, timeout=30) as client:
        client.ehlo()
        client.mail(CUSTOMER)
        client.rcpt("support@example.com")
        code, text = client.data(raw)
        return code, text.decode()


async def test_smtp_answers_451_while_the_database_is_out_and_stores_the_resent_mail_once(
    outage: Outage, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with open_desk(outage, tmp_path, smtp={"host": HOST, "port": 0}) as app:
        daemon = Daemon(app)
        listener = daemon._smtp_listener()  # the daemon's own wiring: its accept, its worker
        await listener.start()
        try:
            await asyncio.to_thread(outage.begin)
            with caplog.at_level(logging.WARNING, logger="maildesk.ingest.smtp"):
                refused = await asyncio.to_thread(deliver, listener.port, FIRST)
            woken_by_refused = daemon.worker.wake.is_set()
            await asyncio.to_thread(outage.end)
            stored_while_out = inbox(app)
            accepted = await asyncio.to_thread(deliver, listener.port, FIRST)
        finally:
            await listener.stop(grace_seconds=1)

        assert refused == (451, Reply.TRY_AGAIN.removeprefix("451 "))
        [warning] = warnings_of(caplog, "maildesk.ingest.smtp")
        assert "database unavailable" in warning and warning.endswith("answering 451")
        assert not woken_by_refused
        assert stored_while_out == []
        assert accepted == (250, Reply.STORED.removeprefix("250 "))  # not "already accepted"
        assert daemon.worker.wake.is_set()
        assert inbox(app) == [FIRST]


# --- IMAP: left as it was while the database is out, taken once after ------------------------


def imap_section(server: DovecotServer) -> list[dict[str, Any]]:
    return [
        {
            "name": "support",
            "host": server.host,
            "port": server.port,
            "username": server.username,
            "password": server.password,
            "processed_folder": PROCESSED,
            "timeout_seconds": 10,
        }
    ]


def going_down_first(outage: Outage, accept: AcceptFn) -> AcceptFn:
    """The real accept, reached after the cursor was loaded, just as the database goes down."""

    async def accept_in_outage(raw: bytes, origin: Origin) -> Accepted:
        await asyncio.to_thread(outage.begin)
        return await accept(raw, origin)

    return accept_in_outage


async def poll_in_outage(poller: ImapPoller, outage: Outage, when: str) -> None:
    """One poll that meets the outage `when` ("before the poll" or "at the handover")."""
    real_accept = poller.accept
    if when == "before the poll":
        await asyncio.to_thread(outage.begin)
    else:
        poller.accept = going_down_first(outage, real_accept)
    try:
        with pytest.raises(TransientError, match="database unavailable"):
            await poller.poll_once()
    finally:
        poller.accept = real_accept
    await asyncio.to_thread(outage.end)


@pytest.mark.parametrize("when", ["before the poll", "at the handover"])
async def test_imap_leaves_mail_in_place_while_the_database_is_out_and_takes_each_once_after(
    dovecot_server: DovecotServer, outage: Outage, tmp_path: Path, when: str
) -> None:
    dovecot_server.create_folder(PROCESSED)
    with open_desk(outage, tmp_path, imap=imap_section(dovecot_server)) as app:
        [poller] = imap_pollers(app)  # the daemon's own wiring: real accept, cursor in the DB
        assert await poller.poll_once() == 0  # the cursor is saved at UID 0
        dovecot_server.append(FIRST)
        dovecot_server.append(SECOND)

        await poll_in_outage(poller, outage, when)

        waiting = dovecot_server.messages("INBOX")
        assert [(m.raw, SEEN in m.flags) for m in waiting] == [(FIRST, False), (SECOND, False)]
        assert dovecot_server.messages(PROCESSED) == []
        assert inbox(app) == []
        cursor = await DatabaseImapState(app).load("support")
        assert cursor == ImapCursor(dovecot_server.uidvalidity(), 0)

        assert await poller.poll_once() == 2

        assert inbox(app) == [FIRST, SECOND]
        assert dovecot_server.messages("INBOX") == []
        taken = dovecot_server.messages(PROCESSED)
        assert [(m.raw, SEEN in m.flags) for m in taken] == [(FIRST, True), (SECOND, True)]
        assert await poller.poll_once() == 0
        assert inbox(app) == [FIRST, SECOND]


async def eventually(check: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait until `check()` holds, giving up after `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        assert loop.time() < deadline, f"not true within {seconds}s"
        await asyncio.sleep(0.05)


async def test_a_running_poller_waits_out_the_outage_with_one_line_per_retry_then_takes_the_mail(
    dovecot_server: DovecotServer, outage: Outage, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="maildesk.ingest.imap")
    dovecot_server.create_folder(PROCESSED)
    dovecot_server.append(FIRST)
    with open_desk(outage, tmp_path, imap=imap_section(dovecot_server)) as app:
        [poller] = imap_pollers(app)
        await asyncio.to_thread(outage.begin)
        running = asyncio.create_task(poller.run())
        try:
            await eventually(lambda: "reconnecting in" in caplog.text)
            untouched = dovecot_server.messages("INBOX")
            await asyncio.to_thread(outage.end)
            await eventually(lambda: dovecot_server.messages("INBOX") == [])
        finally:
            await asyncio.wait_for(poller.stop(), 10)
        await running

        assert [(m.raw, SEEN in m.flags) for m in untouched] == [(FIRST, False)]
        assert inbox(app) == [FIRST]
        assert [m.raw for m in dovecot_server.messages(PROCESSED)] == [FIRST]
        retries = warnings_of(caplog, "maildesk.ingest.imap")
        assert retries and all("database unavailable" in line for line in retries)
