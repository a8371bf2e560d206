"""What became of each mail tried, written for all relay connections together (group commit).

Each write takes every result that arrived while the one before ran: sent rows in one
statement, the rare retry or failure row by row, all in one transaction. A result waits
milliseconds for its write, not for the rest of its chunk.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from maildesk.db import unit_of_work
from maildesk.mail.text import clean_text
from maildesk.models import OutboxItem
from maildesk.observe import Delivered, Observer
from maildesk.outbound.claims import Sent, mark_sent_many
from maildesk.outbound.outbox import MAX_ERROR_CHARS, Backoff, mark_failed, mark_retry
from maildesk.sender.transports import Outcome, SendResult
from maildesk.timing.clock import Clock

log = logging.getLogger("maildesk.sender.delivery")  # the logger operators filter on
LINGER = 0.01  # seconds a write waits for more results: a crash may resend what it held
GROUP = 50  # results that are written at once without waiting
RESULTS = {"sent": "sent", "queued": "retrying", "failed": "failed"}  # row state → result


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)  # "outbox 7: 451 4.3.0 try later"
    more_due: bool = False  # a connection stopped at its batch, not for want of due mail


@dataclass(frozen=True)
class Tried:
    """One claimed mail and what became of it."""

    item_id: int
    kind: str
    recipients: int
    result: SendResult
    composed: bytes | None = None  # composed for this attempt: kept on the row with the result
    unsendable: bool = False  # composing failed: `result.answer` says why (with the traceback)


def _write_one(session: Session, tried: Tried, now: datetime, backoff: Backoff) -> str:
    """A retry or a failure, through the row's mark_*; returns the row's new state."""
    item = session.get(OutboxItem, tried.item_id)
    if item is None:
        return "gone"
    if item.raw is None:
        item.raw = tried.composed  # a retry sends these very bytes
    if tried.unsendable:
        mark_failed(item, error=tried.result.answer)
    elif tried.result.outcome is Outcome.TEMPORARY:
        mark_retry(item, error=tried.result.answer, now=now, backoff=backoff)
    else:
        mark_failed(item, error=tried.result.answer, attempt=True)
    session.add(item)
    return item.state


def write_results(
    engine: Engine, tried: list[Tried], now: datetime, backoff: Backoff
) -> dict[int, str]:
    """Each mail's new row state ("gone" if deleted meanwhile), all in one transaction."""
    plain = [t for t in tried if t.result.outcome is Outcome.SENT and not t.unsendable]
    with unit_of_work(engine) as session:
        sent = [Sent(t.item_id, t.composed, t.result.refused or None) for t in plain]
        present = mark_sent_many(session, sent=sent, now=now)
        states = {t.item_id: "sent" if t.item_id in present else "gone" for t in plain}
        for each in tried:
            if each.item_id not in states:
                states[each.item_id] = _write_one(session, each, now, backoff)
    return states


@dataclass
class Recorder:
    """Takes results from every connection and writes them in the background, together."""

    engine: Engine
    clock: Clock
    backoff: Backoff
    observer: Observer
    db: asyncio.Lock  # this run's database writes, one at a time (SQLite has one writer)
    report: DeliveryReport = field(default_factory=DeliveryReport)
    _pending: list[Tried] = field(default_factory=list)
    _writing: asyncio.Task[None] | None = None

    def add(self, tried: Tried) -> None:
        """Queue a result for the next write; raises what made the last write fail."""
        self._raise_failure()
        self._pending.append(tried)
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_pending())

    async def _write_pending(self) -> None:
        while self._pending:
            if len(self._pending) < GROUP:
                await asyncio.sleep(LINGER)  # let the other connections' results join
            batch, self._pending = self._pending, []
            async with self.db:
                now = self.clock.now()
                states = await asyncio.to_thread(
                    write_results, self.engine, batch, now, self.backoff
                )
            for tried in batch:
                self._told(tried, states[tried.item_id])

    async def flush(self) -> None:
        """Until every result added is written; raises what made a write fail. Cancelled
        (the daemon stops), it still waits for the write under way before it gives up: those
        mails are sent, and a result not written would send them again after the lease."""
        try:
            while self._writing is not None and not self._writing.done():
                await asyncio.shield(self._writing)
        except asyncio.CancelledError:
            if self._writing is not None:
                await asyncio.wait([self._writing])
            raise
        self._raise_failure()

    def _raise_failure(self) -> None:
        """A write failed (the database is gone): the run stops, the rows wait out the lease."""
        writing = self._writing
        error = writing.exception() if writing is not None and writing.done() else None
        if error is not None:
            raise error

    def _told(self, tried: Tried, state: str) -> None:
        if tried.unsendable:  # logged when composing failed; the observer hears it now
            error = clean_text(tried.result.answer)[:MAX_ERROR_CHARS]
            failed = Delivered(tried.item_id, tried.kind, tried.recipients, "failed", error)
            self.observer.delivered(failed)
            return
        _tally(self.report, tried.item_id, state, tried.result)
        _tell(self.observer, tried, state)


def _tell(observer: Observer, tried: Tried, state: str) -> None:
    """One log line per mail tried, and the observer told (the result is committed)."""
    if state not in RESULTS:
        return  # the row was deleted meanwhile
    result = tried.result
    answer = None if result.outcome is Outcome.SENT else result.answer
    mail = Delivered(tried.item_id, tried.kind, tried.recipients, RESULTS[state], answer)
    fields = {
        "outbox_id": mail.outbox_id,
        "kind": mail.kind,
        "recipients": mail.recipients,
        "result": mail.result,
    }
    log.info(
        "outbox %s (%s, %d recipients): %s%s",
        mail.outbox_id, mail.kind, mail.recipients, mail.result, f": {answer}" if answer else "",
        extra={"fields": fields},
    )  # fmt: skip
    observer.delivered(mail)


def _tally(report: DeliveryReport, item_id: int, state: str, result: SendResult) -> None:
    if state == "sent":
        report.sent += 1
        return
    if state == "failed":
        report.failed += 1
    elif state == "queued":
        report.retrying += 1
    report.problems.append(f"outbox {item_id}: {result.answer}")
