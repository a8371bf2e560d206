"""The SMTP listener, driven by stdlib smtplib on loopback: what senders see, what is stored."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from sqlmodel import select

from maildesk.addresses import local_part_matches
from maildesk.app import App, async_accept
from maildesk.db import unit_of_work
from maildesk.ingest.smtp import SmtpListener
from maildesk.models import InboxItem, OutboxItem
from maildesk.pipeline.runner import Outcome, process_one
from maildesk.services.origin import Accepted, Origin
from tests.mails import mail

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"
DESK_DOMAIN = "desk.example"
MAX_MESSAGE_BYTES = 4096
CUSTOMER = "alice@customer.example"
SUPPORT = f"support@{DESK_DOMAIN}"
DEADLINE = 30.0  # seconds: a bound on waits that only a broken listener reaches
AN_HOUR = 3600.0  # a grace period no test waits out: a stop that did would hit DEADLINE

MAIL = (
    b"From: Alice <alice@customer.example>\r\n"
    b"To: support@desk.example\r\n"
    b"Subject: printer on fire\r\n"
    b"Message-ID: <1@customer.example>\r\n"
    b"\r\n"
    b"Hello,\r\n"
    b".a line that smtplib dot-stuffs\r\n"
    b"Gr\xc3\xbc\xc3\x9fe in UTF-8, caf\xe9 in Latin-1\r\n"
)


@dataclass
class FakeInbox:
    """Stands in for the durable accept: records what it was given, or fails on demand."""

    answer: Accepted = Accepted.STORED
    failure: Exception | None = None
    commit: asyncio.Event | None = None  # when set, accept waits for it, like a slow commit
    committing: asyncio.Event = field(default_factory=asyncio.Event)  # accept is waiting
    received: list[tuple[bytes, Origin]] = field(default_factory=list)
    stored_signals: int = 0
    events: list[str] = field(default_factory=list)  # "committed", in order with others

    async def accept(self, raw: bytes, origin: Origin) -> Accepted:
        if self.commit is not None:
            self.committing.set()
            await self.commit.wait()
            self.events.append("committed")
        if self.failure is not None:
            raise self.failure
        self.received.append((raw, origin))
        return self.answer

    def on_stored(self) -> None:
        self.stored_signals += 1


def desk_addresses(address: str) -> bool:
    """support@ and its subaddresses (support+TKT-7.sig@) at the desk's domain."""
    local, _, domain = address.rpartition("@")
    return domain == DESK_DOMAIN and (local == "support" or local.startswith("support+"))


@pytest.fixture
def inbox() -> FakeInbox:
    return FakeInbox()


@pytest.fixture
async def listener(inbox: FakeInbox) -> AsyncIterator[SmtpListener]:
    server = make_listener(inbox)
    await server.start()
    yield server
    await server.stop(grace_seconds=1)


def make_listener(
    inbox: FakeInbox, local_addresses: Callable[[str], bool] = desk_addresses
) -> SmtpListener:
    return SmtpListener(
        host=HOST,
        port=0,
        accept=inbox.accept,
        local_addresses=local_addresses,
        max_message_bytes=MAX_MESSAGE_BYTES,
        hostname="mx.desk.example",
        on_stored=inbox.on_stored,
    )


async def send(
    port: int, sender: str, recipients: list[str], mail: bytes, options: tuple[str, ...] = ()
) -> dict[str, tuple[int, bytes]]:
    """Deliver one mail with smtplib (in a thread, so the listener keeps running)."""

    def deliver() -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP(HOST, port, timeout=10) as client:
            return client.sendmail(sender, recipients, mail, mail_options=list(options))

    return await asyncio.to_thread(deliver)


def as_text(smtp_error: bytes | str) -> str:
    return smtp_error.decode() if isinstance(smtp_error, bytes) else smtp_error


# --- accepting mail ---------------------------------------------------------------------------


async def test_a_mail_for_the_desk_is_stored_byte_for_byte(
    listener: SmtpListener, inbox: FakeInbox
) -> None:
    refused = await send(listener.port, CUSTOMER, [SUPPORT], MAIL, options=("BODY=8BITMIME",))

    assert refused == {}
    [(raw, origin)] = inbox.received
    assert raw == MAIL
    assert origin.transport == "smtp"
    assert origin.envelope_from == CUSTOMER
    assert origin.envelope_to == (SUPPORT,)
    host, _, port = (origin.peer or "").rpartition(":")
    assert host == HOST and port.isdigit()


async def test_250_is_answered_only_after_the_commit(
    listener: SmtpListener, inbox: FakeInbox
) -> None:
    inbox.commit = asyncio.Event()

    async def deliver() -> dict[str, tuple[int, bytes]]:
        refused = await send(listener.port, CUSTOMER, [SUPPORT], MAIL)
        inbox.events.append("answered")
        return refused

    delivery = asyncio.create_task(deliver())
    await asyncio.wait_for(inbox.committing.wait(), timeout=DEADLINE)
    assert not delivery.done(), "the client was answered before the commit"
    inbox.commit.set()

    assert await asyncio.wait_for(delivery, timeout=DEADLINE) == {}
    assert inbox.events == ["committed", "answered"]
    assert len(inbox.received) == 1


async def test_utf8_addresses_are_accepted_with_smtputf8(
    listener: SmtpListener, inbox: FakeInbox
) -> None:
    sender, recipient = "josé@bücher.example", f"support+grüße@{DESK_DOMAIN}"

    await send(listener.port, sender, [recipient], MAIL, options=("SMTPUTF8", "BODY=8BITMIME"))

    [(raw, origin)] = inbox.received
    assert raw == MAIL
    assert origin.envelope_from == sender
    assert origin.envelope_to == (recipient,)


async def test_a_bounce_has_an_empty_envelope_sender(
    listener: SmtpListener, inbox: FakeInbox
) -> None:
    await send(listener.port, "", [SUPPORT], MAIL)

    [(_, origin)] = inbox.received
    assert origin.envelope_from == ""


async def test_the_recipient_domain_is_matched_case_insensitively(
    listener: SmtpListener, inbox: FakeInbox
) -> None:
    await send(listener.port, CUSTOMER, ["support@DESK.Example"], MAIL)

    [(_, origin)] = inbox.received
    assert origin.envelope_to == ("support@DESK.Example",)


async def test_a_stored_mail_wakes_the_worker(listener: SmtpListener, inbox: FakeInbox) -> None:
    await send(listener.port, CUSTOMER, [SUPPORT], MAIL)

    assert inbox.stored_signals == 1


async def test_a_duplicate_is_still_250_but_wakes_nobody(
    listener: SmtpListener, inbox: FakeInbox
) -> None:
    inbox.answer = Accepted.DUPLICATE

    refused = await send(listener.port, CUSTOMER, [SUPPORT], MAIL)

    assert refused == {}
    assert inbox.stored_signals == 0


# --- through the desk: stored, then processed -------------------------------------------------


@pytest.fixture
async def desk_listener(app: App) -> AsyncIterator[SmtpListener]:
    """The listener as the daemon wires it: accept commits an inbox item in the test database."""
    addresses = app.settings.desk_addresses()
    server = SmtpListener(
        host=HOST,
        port=0,
        accept=async_accept(app),
        local_addresses=lambda address: local_part_matches(address, addresses),
        max_message_bytes=app.settings.smtp.max_message_bytes,
        hostname="mx.example.com",
    )
    await server.start()
    yield server
    await server.stop(grace_seconds=1)


async def deliver_and_process(app: App, port: int, sender: str) -> Outcome:
    """A plain mail a person could have written, sent with `sender` as MAIL FROM."""
    assert await send(port, sender, ["support@example.com"], mail()) == {}
    outcome = await asyncio.to_thread(process_one, app.engine, app.desk)
    assert outcome is not None
    return outcome


def outbox(app: App) -> list[OutboxItem]:
    with unit_of_work(app.engine) as session:
        return list(session.exec(select(OutboxItem)))


async def test_a_plain_mail_from_a_real_envelope_sender_gets_a_ticket_and_an_ack(
    app: App, desk_listener: SmtpListener
) -> None:
    outcome = await deliver_and_process(app, desk_listener.port, "carol@acme.test")

    assert outcome.outcome == "created"
    assert "ack" in [item.kind for item in outbox(app)]


async def test_a_plain_mail_with_a_null_envelope_sender_is_stored_but_never_answered(
    app: App, desk_listener: SmtpListener
) -> None:
    outcome = await deliver_and_process(app, desk_listener.port, "")

    assert outcome.outcome == "dropped"
    assert outcome.reason == (
        "decide: automatic mail (null envelope sender MAIL FROM:<>) matching no ticket"
    )
    with unit_of_work(app.engine) as session:
        [stored] = session.exec(select(InboxItem)).all()
        assert (stored.envelope_from, stored.state) == ("", "dropped")
    assert outbox(app) == []


# --- never an open relay ------------------------------------------------------------------------


async def test_a_foreign_recipient_is_refused_with_550(
    listener: SmtpListener, inbox: FakeInbox
) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await send(listener.port, CUSTOMER, ["bob@elsewhere.example"], MAIL)

    code, message = refused.value.recipients["bob@elsewhere.example"]
    assert code == 550 and message.startswith(b"5.1.1")
    assert inbox.received == []


async def test_a_foreign_recipient_beside_a_local_one_is_left_out(
    listener: SmtpListener, inbox: FakeInbox
) -> None:
    refused = await send(listener.port, CUSTOMER, ["bob@elsewhere.example", SUPPORT], MAIL)

    assert refused["bob@elsewhere.example"][0] == 550
    [(_, origin)] = inbox.received
    assert origin.envelope_to == (SUPPORT,)


async def test_an_unknown_mailbox_at_the_desk_domain_is_refused(
    listener: SmtpListener, inbox: FakeInbox
) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        await send(listener.port, CUSTOMER, [f"sales@{DESK_DOMAIN}"], MAIL)

    assert inbox.received == []


# --- size -------------------------------------------------------------------------------------


async def test_the_size_limit_is_advertised(listener: SmtpListener) -> None:
    def ehlo_features() -> dict[str, str]:
        with smtplib.SMTP(HOST, listener.port, timeout=10) as client:
            client.ehlo()
            return client.esmtp_features

    features = await asyncio.to_thread(ehlo_features)

    assert features["size"] == str(MAX_MESSAGE_BYTES)
    assert "8bitmime" in features and "smtputf8" in features


async def test_a_mail_announced_too_big_is_refused_at_mail_from(
    listener: SmtpListener, inbox: FakeInbox
) -> None:
    too_big = MAIL + b"x" * MAX_MESSAGE_BYTES + b"\r\n"

    with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # smtplib sends SIZE= itself
        await send(listener.port, CUSTOMER, [SUPPORT], too_big)

    assert refused.value.smtp_code == 552
    assert inbox.received == []


async def test_a_mail_too_big_without_announcing_it_is_refused_after_data(
    listener: SmtpListener, inbox: FakeInbox
) -> None:
    too_big = MAIL + (b"y" * 70 + b"\r\n") * 100

    def send_without_size() -> tuple[int, bytes]:
        with smtplib.SMTP(HOST, listener.port, timeout=10) as client:
            client.ehlo()
            client.mail(CUSTOMER)
            client.rcpt(SUPPORT)
            return client.data(too_big)

    code, _ = await asyncio.to_thread(send_without_size)

    assert code == 552
    assert inbox.received == []


# --- failures are temporary -------------------------------------------------------------------


# A database that is down or locked: tests/integration/test_outages.py, with the real accept.


async def test_an_unexpected_error_in_accept_answers_451_and_logs_its_traceback(
    listener: SmtpListener, inbox: FakeInbox, caplog: pytest.LogCaptureFixture
) -> None:
    inbox.failure = RuntimeError("a bug in accept")

    with pytest.raises(smtplib.SMTPDataError) as refused:
        await send(listener.port, CUSTOMER, [SUPPORT], MAIL)

    assert refused.value.smtp_code == 451
    assert as_text(refused.value.smtp_error).startswith("4.3.0")
    [error] = [record.exc_info[1] for record in caplog.records if record.exc_info]
    assert str(error) == "a bug in accept"
    assert inbox.stored_signals == 0


async def test_a_crash_before_accept_answers_451_not_500(inbox: FakeInbox) -> None:
    def broken_address_book(address: str) -> bool:
        raise LookupError("address book unavailable")

    server = make_listener(inbox, local_addresses=broken_address_book)
    await server.start()
    try:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            await send(server.port, CUSTOMER, [SUPPORT], MAIL)
    finally:
        await server.stop(grace_seconds=1)

    assert refused.value.recipients[SUPPORT][0] == 451
    assert inbox.received == []


# --- shutdown ---------------------------------------------------------------------------------


class HalfSentMail:
    """A client that stops in the middle of DATA until told to finish (runs in a thread)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.in_data = threading.Event()
        self.may_finish = threading.Event()

    def run(self) -> tuple[int, bytes]:
        with smtplib.SMTP(HOST, self.port, timeout=10) as client:
            client.ehlo()
            client.mail(CUSTOMER)
            client.rcpt(SUPPORT)
            client.putcmd("data")
            assert client.getreply()[0] == 354
            wire = MAIL.replace(b"\r\n.", b"\r\n..") + b".\r\n"  # dot-stuffed, terminated
            client.send(wire[:40])
            self.in_data.set()
            self.may_finish.wait(10)
            client.send(wire[40:])
            return client.getreply()


def greeting(port: int) -> tuple[int, str]:
    """What a new connection is told first."""
    try:
        with smtplib.SMTP(HOST, port, timeout=10):
            return 220, ""
    except smtplib.SMTPConnectError as error:
        return error.smtp_code, as_text(error.smtp_error)


async def test_shutdown_finishes_the_mail_in_flight_and_turns_new_ones_away(
    inbox: FakeInbox,
) -> None:
    server = make_listener(inbox)
    await server.start()
    port = server.port
    sender = HalfSentMail(port)
    delivery = asyncio.create_task(asyncio.to_thread(sender.run))
    assert await asyncio.to_thread(sender.in_data.wait, 10)

    stopping = asyncio.create_task(server.stop(grace_seconds=AN_HOUR))
    await asyncio.sleep(0)  # stop() has begun draining
    newcomer = await asyncio.to_thread(greeting, port)
    sender.may_finish.set()
    reply = await delivery
    await asyncio.wait_for(stopping, timeout=DEADLINE)  # done when the last mail is, not later

    assert newcomer[0] == 421 and newcomer[1].startswith("4.3.2")
    assert reply[0] == 250
    assert [raw for raw, _ in inbox.received] == [MAIL]


async def test_shutdown_tells_an_idle_session_421_at_once(
    listener: SmtpListener, inbox: FakeInbox
) -> None:
    client = await asyncio.to_thread(smtplib.SMTP, HOST, listener.port, timeout=10)
    try:
        await asyncio.to_thread(client.ehlo)
        await asyncio.wait_for(listener.stop(grace_seconds=AN_HOUR), timeout=DEADLINE)

        code, _ = await asyncio.to_thread(client.getreply)
    finally:
        client.close()

    assert code == 421


async def test_shutdown_cuts_off_a_stalled_mail_after_the_grace_period(
    inbox: FakeInbox, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_listener(inbox)
    await server.start()
    sender = HalfSentMail(server.port)
    delivery = asyncio.create_task(asyncio.to_thread(sender.run))
    assert await asyncio.to_thread(sender.in_data.wait, 10)

    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(server.stop(grace_seconds=0.2), timeout=5)
    sender.may_finish.set()

    try:
        code, _ = await delivery
    except OSError:  # smtplib.SMTPServerDisconnected is one
        code = None
    assert code in (421, None), "the sender must not believe the mail was accepted"
    assert inbox.received == []
    assert "cutting off" in caplog.text
