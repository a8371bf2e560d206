"""The IMAP poller against a real Dovecot: each mail accepted once, acknowledged only after."""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest
from sqlmodel import select

from maildesk.app import App, async_accept
from maildesk.daemon.imap import DatabaseImapState
from maildesk.db import unit_of_work
from maildesk.ingest.imap import ImapCursor, ImapMailboxSettings, ImapPoller, MemoryImapState
from maildesk.models import InboxItem
from maildesk.services.origin import Accepted, AcceptFn, Origin
from tests.integration.dovecot import HOST, DovecotServer

pytestmark = pytest.mark.integration

SEEN = "\\Seen"
DEADLINE = 30.0  # seconds: a bound on waits that only a broken poller reaches


def mail(n: int) -> bytes:
    """A raw mail whose body looks like IMAP protocol, to prove bytes pass through untouched."""
    return (
        f"From: customer{n}@example.org\r\nTo: support@desk.example\r\n"
        f"Subject: help {n} \xe9\r\nMessage-ID: <m{n}@example.org>\r\n\r\n"
        f"* {n} FETCH (UID 99 BODY[] {{5}}\r\n)\r\nline two\r\n"
    ).encode("latin-1")


class Desk:
    """Stands in for the accept step: records what it stored, or crashes like a bug in it."""

    def __init__(self, answer: Accepted = Accepted.STORED) -> None:
        self.answer = answer
        self.failing = False
        self.accepted: list[tuple[bytes, Origin]] = []

    async def __call__(self, raw: bytes, origin: Origin) -> Accepted:
        if self.failing:
            raise RuntimeError("a bug in accept")
        self.accepted.append((raw, origin))
        return self.answer

    @property
    def raws(self) -> list[bytes]:
        return [raw for raw, _ in self.accepted]


def settings_for(server: DovecotServer, **changes: object) -> ImapMailboxSettings:
    settings = ImapMailboxSettings(
        name="support",
        host=server.host,
        port=server.port,
        username=server.username,
        password=server.password,
        tls=False,
        poll_seconds=60.0,  # long: a test passing quickly proves IDLE woke the poller
        timeout_seconds=5.0,
        backoff_min_seconds=0.05,
        backoff_max_seconds=0.5,
    )
    return replace(settings, **changes)  # type: ignore[arg-type]


async def eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait until `check()` holds, looking every 50 ms; TimeoutError after `seconds`."""
    async with asyncio.timeout(seconds):
        while not check():
            await asyncio.sleep(0.05)


@asynccontextmanager
async def running(poller: ImapPoller) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(poller.run())
    try:
        yield task
    finally:
        await asyncio.wait_for(poller.stop(), 10)
        assert task.done()


async def test_each_mail_is_accepted_once_with_its_exact_bytes_then_flagged_seen(
    dovecot_server: DovecotServer,
) -> None:
    for n in (1, 2, 3):
        dovecot_server.append(mail(n))
    desk, state = Desk(), MemoryImapState()
    poller = ImapPoller(settings_for(dovecot_server), accept=desk, state=state)

    assert await poller.poll_once() == 3

    uidvalidity = dovecot_server.uidvalidity()
    assert desk.raws == [mail(1), mail(2), mail(3)]
    assert [origin for _, origin in desk.accepted] == [
        Origin(transport="imap", mailbox="support", uidvalidity=uidvalidity, uid=uid)
        for uid in (1, 2, 3)
    ]
    assert all(SEEN in message.flags for message in dovecot_server.messages())
    assert state.cursors["support"] == ImapCursor(uidvalidity, 3)


async def test_a_second_poll_accepts_nothing_new(dovecot_server: DovecotServer) -> None:
    dovecot_server.append(mail(1))
    desk = Desk()
    poller = ImapPoller(settings_for(dovecot_server), accept=desk, state=MemoryImapState())
    await poller.poll_once()

    assert await poller.poll_once() == 0
    assert desk.raws == [mail(1)]


async def test_mail_already_seen_before_the_poller_came_is_left_alone(
    dovecot_server: DovecotServer,
) -> None:
    dovecot_server.append(mail(1), flags=SEEN)
    dovecot_server.append(mail(2))
    desk = Desk()
    poller = ImapPoller(settings_for(dovecot_server), accept=desk, state=MemoryImapState())

    await poller.poll_once()

    assert desk.raws == [mail(2)]


async def test_accepted_mail_is_moved_to_the_processed_folder(
    dovecot_server: DovecotServer,
) -> None:
    dovecot_server.create_folder("Processed")
    dovecot_server.append(mail(1))
    dovecot_server.append(mail(2))
    desk = Desk()
    settings = settings_for(dovecot_server, processed_folder="Processed")
    poller = ImapPoller(settings, accept=desk, state=MemoryImapState())

    assert await poller.poll_once() == 2
    assert await poller.poll_once() == 0

    assert desk.raws == [mail(1), mail(2)]
    assert dovecot_server.messages("INBOX") == []
    processed = dovecot_server.messages("Processed")
    assert [message.raw for message in processed] == [mail(1), mail(2)]
    assert all(SEEN in message.flags for message in processed)


@pytest.mark.dovecot(imap_capability="IMAP4rev1 UIDPLUS")
async def test_without_move_support_accepted_mail_is_copied_and_expunged(
    dovecot_server: DovecotServer,
) -> None:
    dovecot_server.create_folder("Processed")
    dovecot_server.append(mail(1))
    settings = settings_for(dovecot_server, processed_folder="Processed")
    poller = ImapPoller(settings, accept=Desk(), state=MemoryImapState())

    assert await poller.poll_once() == 1

    assert dovecot_server.messages("INBOX") == []
    assert [message.raw for message in dovecot_server.messages("Processed")] == [mail(1)]


async def test_a_server_restart_between_polls_neither_duplicates_nor_loses_mail(
    dovecot_server: DovecotServer,
) -> None:
    desk, state = Desk(), MemoryImapState()
    dovecot_server.append(mail(1))
    await ImapPoller(settings_for(dovecot_server), accept=desk, state=state).poll_once()

    dovecot_server.restart()
    dovecot_server.append(mail(2))
    await ImapPoller(settings_for(dovecot_server), accept=desk, state=state).poll_once()

    assert desk.raws == [mail(1), mail(2)]


# A database that is down or locked during a poll: tests/integration/test_outages.py.


async def test_mail_the_desk_already_has_is_still_acknowledged(
    dovecot_server: DovecotServer,
) -> None:
    # as after a crash between commit and \Seen: the desk answers DUPLICATE, the poller flags
    dovecot_server.append(mail(1))
    poller = ImapPoller(
        settings_for(dovecot_server), accept=Desk(Accepted.DUPLICATE), state=MemoryImapState()
    )

    assert await poller.poll_once() == 1

    assert SEEN in dovecot_server.messages()[0].flags


def killed_after_commit(commit: AcceptFn) -> AcceptFn:
    """Commits the mail to the inbox, then the poller's task is killed before it flags \\Seen."""

    async def accept(raw: bytes, origin: Origin) -> Accepted:
        accepted = await commit(raw, origin)
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(0)  # the cancellation lands here, as a kill would
        return accepted

    return accept


def inbox_items(app: App) -> list[InboxItem]:
    with unit_of_work(app.engine) as session:
        return list(session.exec(select(InboxItem)))


async def test_a_poller_killed_between_commit_and_seen_is_finished_by_the_next_one(
    dovecot_server: DovecotServer, app: App
) -> None:
    dovecot_server.append(mail(1))
    settings, state = settings_for(dovecot_server), DatabaseImapState(app)
    dying = ImapPoller(settings, accept=killed_after_commit(async_accept(app)), state=state)

    with pytest.raises(asyncio.CancelledError):
        await asyncio.create_task(dying.poll_once())
    assert [item.raw for item in inbox_items(app)] == [mail(1)]
    assert SEEN not in dovecot_server.messages()[0].flags
    assert (await state.load("support")) == ImapCursor(dovecot_server.uidvalidity(), 0)

    restarted = ImapPoller(settings, accept=async_accept(app), state=DatabaseImapState(app))
    assert await restarted.poll_once() == 1

    assert [item.raw for item in inbox_items(app)] == [mail(1)]
    assert SEEN in dovecot_server.messages()[0].flags
    assert (await state.load("support")) == ImapCursor(dovecot_server.uidvalidity(), 1)
    assert await restarted.poll_once() == 0


async def test_a_new_uidvalidity_rescans_the_folder_from_uid_1(
    dovecot_server: DovecotServer,
) -> None:
    dovecot_server.create_folder("Support")
    dovecot_server.append(mail(1), folder="Support")
    desk, state = Desk(), MemoryImapState()
    settings = settings_for(dovecot_server, folder="Support")
    await ImapPoller(settings, accept=desk, state=state).poll_once()
    old_uidvalidity = dovecot_server.uidvalidity("Support")

    dovecot_server.delete_folder("Support")  # recreated: its UIDs start at 1 again
    dovecot_server.create_folder("Support")
    dovecot_server.append(mail(2), folder="Support")
    await ImapPoller(settings, accept=desk, state=state).poll_once()

    new_uidvalidity = dovecot_server.uidvalidity("Support")
    assert new_uidvalidity != old_uidvalidity
    assert desk.raws == [mail(1), mail(2)]
    assert (desk.accepted[1][1].uidvalidity, desk.accepted[1][1].uid) == (new_uidvalidity, 1)
    assert state.cursors["support"] == ImapCursor(new_uidvalidity, 1)


def poller_log(caplog: pytest.LogCaptureFixture) -> Callable[[str], bool]:
    """Whether the poller has logged a line containing the given words (DEBUG included)."""
    caplog.set_level(logging.DEBUG, logger="maildesk.ingest.imap")
    return lambda words: any(words in message for message in caplog.messages)


async def test_an_idling_poller_takes_new_mail_at_once_and_stops_cleanly(
    dovecot_server: DovecotServer, caplog: pytest.LogCaptureFixture
) -> None:
    dovecot_server.append(mail(1))
    desk, logged = Desk(), poller_log(caplog)
    poller = ImapPoller(settings_for(dovecot_server), accept=desk, state=MemoryImapState())

    async with running(poller):
        await eventually(lambda: len(desk.accepted) == 1)
        await eventually(lambda: logged("idling"))  # the server took IDLE; poll_seconds is 60
        dovecot_server.append(mail(2))
        await eventually(lambda: len(desk.accepted) == 2, seconds=10)

    assert desk.raws == [mail(1), mail(2)]
    await eventually(lambda: "Disconnected: Logged out" in dovecot_server.log_tail(lines=1))


@pytest.mark.dovecot(imap_capability="IMAP4rev1 UIDPLUS MOVE")
async def test_without_idle_the_poller_checks_every_poll_seconds(
    dovecot_server: DovecotServer, caplog: pytest.LogCaptureFixture
) -> None:
    desk, logged = Desk(), poller_log(caplog)
    settings = settings_for(dovecot_server, poll_seconds=0.2)
    poller = ImapPoller(settings, accept=desk, state=MemoryImapState())

    async with running(poller):
        await eventually(lambda: logged("next poll in"))  # a first poll found nothing
        dovecot_server.append(mail(1))
        await eventually(lambda: len(desk.accepted) == 1, seconds=5)


async def test_after_an_outage_the_poller_reconnects_with_backoff(
    dovecot_server: DovecotServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="maildesk.ingest.imap")
    desk = Desk()
    poller = ImapPoller(settings_for(dovecot_server), accept=desk, state=MemoryImapState())

    async with running(poller):
        dovecot_server.append(mail(1))
        await eventually(lambda: len(desk.accepted) == 1)
        dovecot_server.stop()
        await eventually(lambda: len(re.findall("reconnecting in", caplog.text)) >= 3)
        dovecot_server.start()
        dovecot_server.append(mail(2))
        await eventually(lambda: len(desk.accepted) == 2, seconds=10)

    assert desk.raws == [mail(1), mail(2)]
    assert re.findall(r"reconnecting in ([\d.]+)s", caplog.text)[:3] == ["0.05", "0.10", "0.20"]


async def test_a_crashed_accept_is_retried_after_backoff_while_running(
    dovecot_server: DovecotServer, caplog: pytest.LogCaptureFixture
) -> None:
    dovecot_server.append(mail(1))
    desk, logged = Desk(), poller_log(caplog)
    desk.failing = True
    poller = ImapPoller(settings_for(dovecot_server), accept=desk, state=MemoryImapState())

    async with running(poller):
        await eventually(lambda: logged("a bug in accept; reconnecting in"))
        assert SEEN not in dovecot_server.messages()[0].flags
        desk.failing = False
        await eventually(lambda: len(desk.accepted) == 1, seconds=5)

    assert SEEN in dovecot_server.messages()[0].flags


async def test_a_server_that_never_answers_times_out() -> None:
    held: list[asyncio.StreamWriter] = []
    silent = await asyncio.start_server(lambda _reader, writer: held.append(writer), HOST, 0)
    port = silent.sockets[0].getsockname()[1]
    settings = ImapMailboxSettings(
        name="support", host=HOST, port=port, username="u", password="p", tls=False,
        timeout_seconds=0.3,
    )  # fmt: skip
    poller = ImapPoller(settings, accept=Desk(), state=MemoryImapState())
    try:
        # Should the poller's own timeout not work, this guard cancels it after DEADLINE: the
        # CancelledError is no TimeoutError for pytest.raises, and the test fails.
        async with asyncio.timeout(DEADLINE):
            with pytest.raises(TimeoutError):
                await poller.poll_once()
    finally:
        for writer in held:
            writer.close()
            await writer.wait_closed()
        silent.close()
        await silent.wait_closed()


@pytest.mark.dovecot(tls=True)
async def test_implicit_tls_and_starttls_both_reach_the_mailbox(
    dovecot_server: DovecotServer,
) -> None:
    dovecot_server.append(mail(1))
    dovecot_server.append(mail(2))
    ca = str(dovecot_server.cert_file)
    implicit = settings_for(dovecot_server, tls=True, port=dovecot_server.tls_port, ca_file=ca)
    starttls = settings_for(dovecot_server, starttls=True, ca_file=ca)
    desk = Desk()

    assert await ImapPoller(implicit, accept=desk, state=MemoryImapState()).poll_once() == 2
    dovecot_server.append(mail(3))
    assert await ImapPoller(starttls, accept=desk, state=MemoryImapState()).poll_once() == 1

    assert desk.raws == [mail(1), mail(2), mail(3)]
    assert len(re.findall(r"Login: user=<desk>.*, TLS, ", dovecot_server.log_tail())) == 2


@pytest.mark.dovecot(tls=True)
async def test_a_certificate_nobody_vouched_for_is_refused(
    dovecot_server: DovecotServer,
) -> None:
    dovecot_server.append(mail(1))
    settings = settings_for(dovecot_server, tls=True, port=dovecot_server.tls_port)
    desk = Desk()

    with pytest.raises(ssl.SSLCertVerificationError):
        await ImapPoller(settings, accept=desk, state=MemoryImapState()).poll_once()

    assert desk.accepted == []
