"""Delivering the outbox to a real aiosmtpd relay on loopback, and to a Maildir folder."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlmodel import col, select

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.mail import Address
from maildesk.models import OutboxItem
from maildesk.outbound.bounces import parse_bounce
from maildesk.outbound.compose import DeskIdentity
from maildesk.outbound.draft import Draft
from maildesk.outbound.outbox import (
    DEFAULT_BACKOFF,
    auto_reply_allowed,
    enqueue_draft,
    match_bounce,
    release,
    retry,
)
from maildesk.outbound.render import SAMPLE_CONTEXTS
from maildesk.sender import delivery, transports
from maildesk.sender.delivery import CLAIM_CHUNK, deliver_due
from maildesk.sender.transports import MaildirTransport, SmtpTransport
from maildesk.timing.clock import FixedClock

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"
DESK = DeskIdentity(name="Example Support", address="support@example.com")
BOUNCES = "support+bounces@example.com"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes


@dataclass
class Relay:
    """An SMTP relay that records what it accepts; it can refuse or hang up on demand."""

    port: int = 0
    connections: int = 0
    received: list[Received] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # replies to the next DATA commands
    hang_up_after_each_mail: bool = False
    stall_seconds: float = 0.0  # wait this long before answering DATA

    def answer_next(self, reply: str, times: int = 1) -> None:
        self.answers.extend([reply] * times)

    def connect(self) -> SMTP:
        self.connections += 1
        return SMTP(self, hostname="relay.test")

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(self.stall_seconds)
        if self.answers:
            return self.answers.pop(0)
        content = envelope.original_content or b""
        self.received.append(Received(envelope.mail_from or "", tuple(envelope.rcpt_tos), content))
        if self.hang_up_after_each_mail and server.transport is not None:
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 2.0.0 Ok: queued"


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    recorder = Relay()
    server = await asyncio.get_running_loop().create_server(recorder.connect, HOST, 0)
    recorder.port = server.sockets[0].getsockname()[1]
    async with server:
        yield recorder
        server.close()


def smtp(relay: Relay) -> SmtpTransport:
    return SmtpTransport(HOST, relay.port, timeout=5)


def notice(clock: FixedClock, *recipients: str) -> Draft:
    """A new-ticket notice, automatic mail, as the desk queues it."""
    return Draft(
        template="notify_new",
        context=SAMPLE_CONTEXTS["notify_new"],
        templates_dir=None,
        desk=DESK,
        kind="notify",
        ticket_ref="TKT-42",
        recipients=tuple(Address(r) for r in recipients),
        date=clock.now(),
        automatic=True,
    )


def queue_mails(app: App, clock: FixedClock, *recipients: str) -> list[int]:
    """Queue one notice per recipient as a use case does (a draft the sender composes); row ids."""
    queued = []
    with unit_of_work(app.engine) as session:
        for recipient in recipients:
            draft = notice(clock, recipient)
            item = enqueue_draft(session, draft=draft, ticket_id=None, now=clock.now())
            assert item.id is not None and item.raw is None
            queued.append(item.id)
    return queued


def composed(app: App) -> list[tuple[int | None, bytes | None]]:
    """Each row's id and the bytes the sender composed for it (kept: a retry sends the same)."""
    return [(row.id, row.raw) for row in rows(app)]


def rows(app: App) -> list[OutboxItem]:
    with unit_of_work(app.engine) as session:
        return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))


@pytest.mark.parametrize(
    ("recipients", "refusal"),
    [((), "at least one recipient"), (("a@acme.test", "b@acme.test"), "exactly one recipient")],
)
def test_mail_to_no_one_or_automatic_mail_to_several_is_refused_and_not_queued(
    app: App, clock: FixedClock, recipients: tuple[str, ...], refusal: str
) -> None:
    with unit_of_work(app.engine) as session, pytest.raises(ValueError, match=refusal):
        enqueue_draft(session, draft=notice(clock, *recipients), ticket_id=None, now=clock.now())

    assert rows(app) == []


async def test_due_mails_go_out_over_one_reused_connection(
    app: App, clock: FixedClock, relay: Relay
) -> None:
    queue_mails(app, clock, "a@acme.test", "b@acme.test", "c@acme.test")

    report = await deliver_due(app.engine, smtp(relay), clock)
    queued = composed(app)

    assert (report.sent, report.retrying, report.failed) == (3, 0, 0)
    assert relay.connections == 1
    assert relay.received == [
        Received(BOUNCES, (to,), raw)
        for to, (_, raw) in zip(("a@acme.test", "b@acme.test", "c@acme.test"), queued, strict=True)
    ]
    assert [(r.state, r.attempts, r.sent_at) for r in rows(app)] == [("sent", 1, clock.now())] * 3


async def test_a_batch_claims_rows_in_chunks_and_leaves_the_rest_due(
    app: App, clock: FixedClock, relay: Relay
) -> None:
    queue_mails(app, clock, *(f"customer{i}@acme.test" for i in range(CLAIM_CHUNK + 3)))

    report = await deliver_due(app.engine, smtp(relay), clock, batch=CLAIM_CHUNK + 1)

    assert (report.sent, relay.connections) == (CLAIM_CHUNK + 1, 1)
    unsent = [r for r in rows(app) if r.state == "queued"]
    assert [(r.attempts, r.next_attempt_at) for r in unsent] == [(0, clock.now())] * 2


async def test_a_stalling_relay_ends_the_batch_before_the_lease_ends(
    app: App, clock: FixedClock, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "SEND_LIMIT", timedelta(seconds=0.3))
    relay.stall_seconds = 2
    queue_mails(app, clock, "a@acme.test", "b@acme.test", "c@acme.test")

    report = await deliver_due(app.engine, smtp(relay), clock)

    first, *rest = rows(app)
    assert (report.sent, report.retrying) == (0, 1)
    assert "the relay took longer than 0.3 s" in (first.last_error or "")
    assert [(r.attempts, r.next_attempt_at) for r in rest] == [(0, clock.now())] * 2


class GarbledRelay:
    """A relay whose answer holds a byte that is not UTF-8 (aiosmtplib keeps it as a surrogate)."""

    async def send(self, envelope: transports.Envelope) -> transports.SendResult:
        return transports.SendResult(
            transports.Outcome.TEMPORARY, "451 4.3.0 busy \udcff try later"
        )

    async def close(self) -> None:
        return None


async def test_a_garbled_relay_answer_is_stored_readably_on_every_database(
    app: App, clock: FixedClock
) -> None:
    queue_mails(app, clock, "a@acme.test")

    report = await deliver_due(app.engine, GarbledRelay(), clock)

    assert report.retrying == 1
    assert rows(app)[0].last_error == "451 4.3.0 busy \ufffd try later"


def test_released_rows_another_worker_holds_by_now_stay_his(app: App, clock: FixedClock) -> None:
    [item_id] = queue_mails(app, clock, "a@acme.test")
    ours = clock.now() + timedelta(minutes=15)
    theirs = ours + timedelta(minutes=15)  # our lease ran out and another worker claimed it
    with unit_of_work(app.engine) as session:
        row = session.get(OutboxItem, item_id)
        assert row is not None
        row.next_attempt_at = theirs

    with unit_of_work(app.engine) as session:
        release(session, item_ids=[item_id], leased_until=ours, now=clock.now())

    assert rows(app)[0].next_attempt_at == theirs


async def test_a_relay_hanging_up_mid_batch_is_reconnected(
    app: App, clock: FixedClock, relay: Relay
) -> None:
    queue_mails(app, clock, "a@acme.test", "b@acme.test")
    relay.hang_up_after_each_mail = True

    report = await deliver_due(app.engine, smtp(relay), clock)

    assert report.sent == 2
    assert relay.connections == 2
    assert [r.rcpt_tos for r in relay.received] == [("a@acme.test",), ("b@acme.test",)]


async def test_a_temporary_refusal_is_delivered_once_after_the_backoff(
    app: App, clock: FixedClock, relay: Relay
) -> None:
    [item_id] = queue_mails(app, clock, "a@acme.test")
    relay.answer_next("451 4.3.0 Try again later")

    first = await deliver_due(app.engine, smtp(relay), clock)
    [(_, raw)] = composed(app)  # composed for the first attempt, sent as is by the second
    [row] = rows(app)
    assert first.retrying == 1 and relay.received == []
    assert (row.state, row.attempts, row.last_error) == ("queued", 1, "451 4.3.0 Try again later")
    assert row.next_attempt_at == clock.now() + DEFAULT_BACKOFF.delay(1)

    too_early = await deliver_due(app.engine, smtp(relay), clock)
    assert (too_early.sent, too_early.retrying) == (0, 0)

    clock.advance(DEFAULT_BACKOFF.delay(1))
    second = await deliver_due(app.engine, smtp(relay), clock)

    assert second.sent == 1
    assert relay.received == [Received(BOUNCES, ("a@acme.test",), raw)]
    [row] = rows(app)
    assert (row.id, row.state, row.attempts) == (item_id, "sent", 2)


async def test_a_permanent_refusal_fails_the_row_and_sends_nothing_else(
    app: App, clock: FixedClock, relay: Relay
) -> None:
    queue_mails(app, clock, "nobody@acme.test")
    relay.answer_next("550 5.1.1 <nobody@acme.test>: Recipient address rejected")

    report = await deliver_due(app.engine, smtp(relay), clock)
    clock.advance(timedelta(days=1))
    later = await deliver_due(app.engine, smtp(relay), clock)

    assert report.failed == 1 and later.sent == later.failed == later.retrying == 0
    [row] = rows(app)
    assert row.state == "failed"
    assert row.last_error == "550 5.1.1 <nobody@acme.test>: Recipient address rejected"
    assert relay.received == []


async def test_an_unreachable_relay_is_a_temporary_failure_that_ends_the_batch(
    app: App, clock: FixedClock
) -> None:
    queue_mails(app, clock, "a@acme.test", "b@acme.test")
    with socket.socket() as unused:  # bound, never listening: connections are refused
        unused.bind((HOST, 0))
        nobody_listens = SmtpTransport(HOST, unused.getsockname()[1], timeout=2)
        report = await deliver_due(app.engine, nobody_listens, clock)

    first, second = rows(app)
    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    assert first.state == "queued" and (first.last_error or "").startswith("cannot connect to")
    assert first.next_attempt_at == clock.now() + DEFAULT_BACKOFF.delay(1)
    assert (second.state, second.attempts, second.next_attempt_at) == ("queued", 0, clock.now())


async def test_maildir_transport_writes_the_exact_bytes_to_new(
    app: App, clock: FixedClock, tmp_path: Path
) -> None:
    queue_mails(app, clock, "a@acme.test")

    report = await deliver_due(app.engine, MaildirTransport(tmp_path / "sent"), clock)
    [(_, raw)] = composed(app)

    assert report.sent == 1
    [stored] = list((tmp_path / "sent" / "new").iterdir())
    assert stored.read_bytes() == raw
    assert list((tmp_path / "sent" / "tmp").iterdir()) == []


def delivery_report(message_id: str, *, action: str, report_type: str = "delivery-status") -> bytes:
    """A DSN (RFC 3464) from the relay about the mail with `message_id`, like Postfix writes."""
    return (
        "From: MAILER-DAEMON@relay.test (Mail Delivery System)\r\n"
        f"To: {BOUNCES}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type={report_type}; boundary="b"\r\n'
        "\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; relay.test\r\n\r\n"
        "Final-Recipient: rfc822; nobody@acme.test\r\n"
        f"Action: {action}\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <nobody@acme.test>:\r\n"
        "    Recipient address rejected: User unknown\r\n"
        "\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Example Support <support@example.com>\r\nMessage-ID: <{message_id}>\r\n"
        "\r\n--b--\r\n"
    ).encode()


async def test_a_bounce_fails_the_sent_row_and_an_operator_can_retry_it(
    app: App, clock: FixedClock, relay: Relay
) -> None:
    [item_id] = queue_mails(app, clock, "nobody@acme.test")
    await deliver_due(app.engine, smtp(relay), clock)
    [row] = rows(app)

    with unit_of_work(app.engine) as session:
        failed = parse_bounce(delivery_report(row.message_id, action="failed"))
        matched = match_bounce(session, bounce=failed)
        assert matched is not None and matched.id == item_id
    [row] = rows(app)
    assert row.state == "failed"
    assert row.last_error == (
        "bounced: nobody@acme.test: 5.1.1 smtp; 550 5.1.1 <nobody@acme.test>: "
        "Recipient address rejected: User unknown"
    )

    with unit_of_work(app.engine) as session:
        retry(session, item_id=item_id, now=clock.now())
    report = await deliver_due(app.engine, smtp(relay), clock)
    assert report.sent == 1 and len(relay.received) == 2


async def test_a_delay_notice_matches_its_row_but_fails_nothing(
    app: App, clock: FixedClock, relay: Relay
) -> None:
    queue_mails(app, clock, "nobody@acme.test")
    await deliver_due(app.engine, smtp(relay), clock)
    [row] = rows(app)

    with unit_of_work(app.engine) as session:
        delayed = parse_bounce(delivery_report(row.message_id, action="delayed"))
        matched = match_bounce(session, bounce=delayed)
        receipt = delivery_report(row.message_id, action="", report_type="disposition-notification")
        assert match_bounce(session, bounce=parse_bounce(receipt)) is None

    assert matched is not None and matched.id == row.id
    assert rows(app)[0].state == "sent"


def test_automatic_mail_to_one_address_is_limited_per_hour(app: App, clock: FixedClock) -> None:
    queue_mails(app, clock, *["a@acme.test"] * 5)

    def allowed(recipient: str) -> bool:
        with unit_of_work(app.engine) as session:
            return auto_reply_allowed(
                session, recipient=recipient, now=clock.now(), limit_per_hour=5
            )

    assert not allowed("A@acme.test")
    assert allowed("b@acme.test")
    clock.advance(timedelta(hours=1))
    assert allowed("a@acme.test")
