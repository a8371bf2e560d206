"""Large mails: a 15 MB attachment arrives whole over SMTP and is stored byte for byte; large
mails are parsed one at a time in a process, small ones side by side."""

from __future__ import annotations

import asyncio
import random
import smtplib
import threading
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

from maildesk.app import App, accept_raw, async_accept
from maildesk.db import unit_of_work
from maildesk.ingest.smtp import SmtpListener
from maildesk.mail import InboundMail, parse_mail
from maildesk.models import Attachment, InboxItem, Ticket
from maildesk.pipeline.batch import drain, processing
from maildesk.pipeline.large_mail import LargeMailGate
from maildesk.pipeline.stages import parse as parse_stage
from maildesk.services.inbox import get_item, list_items
from maildesk.services.origin import Accepted, Origin
from tests.mails import mail

pytestmark = pytest.mark.integration

SUPPORT = "support@example.com"
CUSTOMER = "carol@acme.test"


def send(port: int, raw: bytes) -> dict[str, Any]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        return client.sendmail(CUSTOMER, [SUPPORT], raw)


async def test_a_mail_with_a_15_mb_attachment_becomes_a_ticket_with_the_file_intact(
    app: App,
) -> None:
    log = random.Random(15).randbytes(15 * 1024 * 1024)
    raw = mail(subject="The server log", attachments=[("server.log.gz", "application/gzip", log)])
    raw = raw.replace(b"\n", b"\r\n")  # as a mail client sends it (smtplib leaves bytes be)
    assert len(raw) < app.settings.smtp.max_message_bytes, "under the default limit, encoded"
    listener = SmtpListener(
        host="127.0.0.1",
        port=0,
        accept=async_accept(app),
        local_addresses=lambda address: address == SUPPORT,
        max_message_bytes=app.settings.smtp.max_message_bytes,
        hostname="mx.example.com",
    )
    await listener.start()
    try:
        refused = await asyncio.to_thread(send, listener.port, raw)
    finally:
        await listener.stop(grace_seconds=1)

    assert refused == {}
    [outcome] = await asyncio.to_thread(drain, app.engine, app.desk)
    assert outcome.outcome == "created"
    with unit_of_work(app.engine) as session:
        ticket = session.exec(select(Ticket)).one()
        [attachment] = session.exec(select(Attachment)).all()
        assert ticket.subject == "The server log"
    assert (attachment.filename, attachment.size) == ("server.log.gz", len(log))
    assert app.desk.store.get(attachment.sha256) == log


class ParseWatch:
    """Counts how many mails are being parsed at once; each parse waits a moment for company."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_at_once = 0
        self._lock = threading.Lock()
        self._company = threading.Event()

    def parse(self, raw: bytes, **options: Any) -> InboundMail:
        with self._lock:
            self.inside += 1
            self.most_at_once = max(self.most_at_once, self.inside)
            if self.inside > 1:
                self._company.set()
        self._company.wait(timeout=0.5)  # another worker comes in now, if it may
        try:
            return parse_mail(raw, **options)
        finally:
            with self._lock:
                self.inside -= 1


def two_workers_process(app: App, gate: LargeMailGate) -> None:
    """Two threads of one process take the inbox, as the daemon's worker and its tick do, a
    mail at a time (in batches, one worker would take both small mails together)."""

    def work() -> None:
        while waiting(app):
            list(processing(app.engine, app.desk, gate=gate, batch=1))

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not waiting(app)


def waiting(app: App) -> int:
    with unit_of_work(app.engine) as session:
        return len(session.exec(select(InboxItem).where(InboxItem.state == "received")).all())


def two_customers_write(app: App) -> None:
    for name in ("dave", "erin"):
        raw = mail(sender=f"{name}@acme.test", subject=f"{name}'s logs", body="log line\n" * 300)
        accept_raw(app, raw, Origin(transport="smtp", envelope_to=(SUPPORT,)))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_large_mails_are_parsed_one_after_the_other(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = ParseWatch()
    monkeypatch.setattr(parse_stage, "parse_mail", watch.parse)
    two_customers_write(app)

    two_workers_process(app, LargeMailGate(threshold=1000))  # both mails are large here

    assert watch.most_at_once == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_small_mails_are_parsed_side_by_side(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    watch = ParseWatch()
    monkeypatch.setattr(parse_stage, "parse_mail", watch.parse)
    two_customers_write(app)

    two_workers_process(app, LargeMailGate(threshold=10_000_000))  # both mails are small

    assert watch.most_at_once == 2


@pytest.mark.parametrize(
    ("threshold", "read_while_the_first_is_stored"),
    [(1000, 1), (10_000_000, 2)],
    ids=["large mails: one at a time", "small mails: side by side"],
)
async def test_a_second_large_mail_over_smtp_is_read_once_the_first_is_stored(
    threshold: int, read_while_the_first_is_stored: int
) -> None:
    """smtplib declares SIZE in MAIL FROM; a large one's DATA waits for the gate before 354."""
    accepted: list[bytes] = []
    first_storing, stored = asyncio.Event(), asyncio.Event()

    async def accept(raw: bytes, origin: Origin) -> Accepted:
        accepted.append(raw)
        if len(accepted) == 1:
            first_storing.set()
            await stored.wait()  # a slow commit
        return Accepted.STORED

    listener = SmtpListener(
        host="127.0.0.1",
        port=0,
        accept=accept,
        local_addresses=lambda address: address == SUPPORT,
        max_message_bytes=1_000_000,
        hostname="mx.example.com",
        gate=LargeMailGate(threshold=threshold),
    )
    await listener.start()
    try:
        first = asyncio.create_task(asyncio.to_thread(send, listener.port, crlf(2000, "a")))
        await asyncio.wait_for(first_storing.wait(), timeout=30)
        second = asyncio.create_task(asyncio.to_thread(send, listener.port, crlf(2000, "b")))
        await asyncio.wait([second], timeout=0.5)  # read and stored by now, if it may be
        assert len(accepted) == read_while_the_first_is_stored
        stored.set()
        assert await first == {} and await second == {}
    finally:
        stored.set()
        await listener.stop(grace_seconds=1)
    assert len(accepted) == 2


def crlf(lines: int, name: str) -> bytes:
    raw = mail(sender=f"{name}@acme.test", body="log line\n" * lines)
    return raw.replace(b"\n", b"\r\n")


class RawReads:
    """Counts the SELECTs that read the inbox's raw bytes."""

    def __init__(self, app: App) -> None:
        self.count = 0
        event.listen(app.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        columns = statement.upper().partition(" FROM ")[0]
        self.count += columns.lstrip().startswith("SELECT") and "INBOXITEM.RAW" in columns


def test_only_processing_and_asking_for_them_read_a_mails_bytes_back(app: App) -> None:
    raw = mail(subject="once")
    accept_raw(app, raw, Origin(transport="pipe"))
    reads = RawReads(app)

    duplicate = accept_raw(app, raw, Origin(transport="pipe"))  # found by its digest
    with unit_of_work(app.engine) as session:
        list_items(session, states=("received",))
        item = get_item(session, item_id=duplicate.item_id)
    assert duplicate.duplicate and reads.count == 0

    [outcome] = drain(app.engine, app.desk)  # the claim reads them, once
    assert outcome.outcome == "created" and reads.count == 1
    with unit_of_work(app.engine) as session:
        item = get_item(session, item_id=duplicate.item_id)
        assert item.raw == raw and reads.count == 2  # `maildesk inbox show --raw`


def test_a_large_mail_is_stored_once_with_its_bytes_and_again_is_a_duplicate(app: App) -> None:
    """On SQLite the accept then unbinds the bytes from its cached INSERT: it inserts nothing."""
    raw = crlf(150_000, "frank")  # over 1 MiB
    first = accept_raw(app, raw, Origin(transport="pipe"))
    again = accept_raw(app, raw, Origin(transport="pipe"))

    assert not first.duplicate and again.duplicate and again.item_id == first.item_id
    with unit_of_work(app.engine) as session:
        [item] = session.exec(select(InboxItem)).all()
        assert item.raw == raw and item.size == len(raw)
