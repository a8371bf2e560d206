"""Delivery of due outbox rows to a transport, with leases and retries; `maildesk tick`'s share.

Rows are claimed in chunks under a lease, each result is recorded in its own transaction, and
a failed mail is only marked failed: nothing is ever sent about it.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.engine import Engine

from maildesk.app import App
from maildesk.db import after_commit, first_line, unit_of_work
from maildesk.models import OutboxItem
from maildesk.observe import NO_OBSERVER, Delivered, Observer
from maildesk.outbound.outbox import (
    DEFAULT_BACKOFF,
    MAX_ERROR_CHARS,
    Backoff,
    claim_due,
    mark_failed,
    mark_retry,
    mark_sent,
    raw_of,
    release,
)
from maildesk.sender.transports import (
    Envelope,
    Outcome,
    SendResult,
    Transport,
    make_transport,
    transport_settings,
)
from maildesk.timing.clock import Clock

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=15)  # a claimed row is due again this long after a crash


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)  # "outbox 7: 451 4.3.0 try later"


@dataclass(frozen=True)
class _Job:
    item_id: int
    kind: str
    envelope: Envelope
    leased_until: datetime  # the row is ours until then; another worker may take it after


def _composed(item: OutboxItem) -> bytes | None:
    """The row's bytes, composing a draft now (and keeping them: a retry sends the same mail).

    A draft that cannot be rendered (a broken override template) fails its row, never the queue:
    the log gets one line, the row keeps the traceback (`maildesk outbox show ID`).
    """
    if item.raw is None:
        try:
            item.raw = raw_of(item)
        except Exception as exc:  # an operator's template may fail in any way
            headline = f"composing failed: {type(exc).__name__}: {first_line(exc)}"
            log.error("outbox %s: %s", item.id, headline)
            mark_failed(item, error=_with_traceback(headline))
            return None
    return item.raw


def _with_traceback(headline: str) -> str:
    """The headline, then as much of the traceback's end (where it failed) as a row keeps."""
    room = MAX_ERROR_CHARS - len(headline) - 1
    return f"{headline}\n{traceback.format_exc()[-room:]}" if room > 0 else headline


def _claim_some(engine: Engine, now: datetime, limit: int, observer: Observer) -> list[_Job]:
    """Up to `limit` due rows, composed and leased so no other worker sends them meanwhile."""
    jobs: list[_Job] = []
    with unit_of_work(engine) as session:
        while len(jobs) < limit:
            items = claim_due(session, now=now, limit=limit - len(jobs), lease=LEASE)
            if not items:
                break
            for item in items:
                raw = _composed(item)
                session.add(item)
                assert item.id is not None
                if raw is None:  # failed: told once the failure is committed
                    recipients, error = len(item.recipients), item.last_error
                    failed = Delivered(item.id, item.kind, recipients, "failed", error)
                    after_commit(session, partial(observer.delivered, failed))
                    continue
                envelope = Envelope(item.envelope_from, tuple(item.recipients), raw)
                jobs.append(_Job(item.id, item.kind, envelope, now + LEASE))
            session.flush()  # rows that failed to compose are no longer due
    return jobs


def _release(engine: Engine, jobs: list[_Job], now: datetime) -> None:
    """Unsent jobs due again now, those whose lease is still ours (one claim: one lease)."""
    if jobs:
        with unit_of_work(engine) as session:
            ids = [job.item_id for job in jobs]
            release(session, item_ids=ids, leased_until=jobs[0].leased_until, now=now)


def _record(
    engine: Engine, item_id: int, result: SendResult, now: datetime, backoff: Backoff
) -> str:
    """Store what happened to one mail in its own transaction; returns the row's new state."""
    with unit_of_work(engine) as session:
        item = session.get(OutboxItem, item_id)
        if item is None:
            return "gone"
        if result.outcome is Outcome.SENT:
            mark_sent(item, now=now, note=result.refused or None)
        elif result.outcome is Outcome.TEMPORARY:
            mark_retry(item, error=result.answer, now=now, backoff=backoff)
        else:
            mark_failed(item, error=result.answer, attempt=True)
        session.add(item)
        return item.state


async def _send_one(transport: Transport, envelope: Envelope) -> SendResult:
    """One mail, within SEND_LIMIT: a relay that stalls ends the batch, not the lease."""
    try:
        return await asyncio.wait_for(transport.send(envelope), SEND_LIMIT.total_seconds())
    except TimeoutError:
        answer = f"the relay took longer than {SEND_LIMIT.total_seconds():g} s"
        return SendResult(Outcome.TEMPORARY, answer, transport_down=True)
    except Exception as exc:  # a transport bug must not stop the queue
        log.exception("transport failed unexpectedly")
        return SendResult(Outcome.TEMPORARY, f"{type(exc).__name__}: {exc}")


RESULTS = {"sent": "sent", "queued": "retrying", "failed": "failed"}  # row state → result


def _tell(observer: Observer, job: _Job, state: str, result: SendResult) -> None:
    """One log line per mail tried, and the observer told (the result is committed)."""
    if state not in RESULTS:
        return  # the row was deleted meanwhile
    answer = None if result.outcome is Outcome.SENT else result.answer
    mail = Delivered(job.item_id, job.kind, len(job.envelope.recipients), RESULTS[state], answer)
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


CLAIM_CHUNK = 10  # rows claimed per transaction
SEND_LIMIT = LEASE / (CLAIM_CHUNK + 2)  # per mail, so that a whole chunk ends within its lease


async def deliver_due(
    engine: Engine,
    transport: Transport,
    clock: Clock,
    *,
    batch: int = 50,
    backoff: Backoff = DEFAULT_BACKOFF,
    observer: Observer = NO_OBSERVER,
) -> DeliveryReport:
    """Send up to `batch` due rows over one transport session; record each result at once.

    Rows are claimed `CLAIM_CHUNK` at a time, so a slow relay never outlasts a lease; when
    the relay goes down, the rest of a chunk is due again at once. A failed mail is only
    marked failed: nothing is ever sent about it (no notice loops).
    """
    report = DeliveryReport()
    try:
        while report.sent + report.retrying + report.failed < batch:
            wanted = min(CLAIM_CHUNK, batch - report.sent - report.retrying - report.failed)
            jobs = await asyncio.to_thread(_claim_some, engine, clock.now(), wanted, observer)
            sending = _Chunk(engine, transport, clock, backoff, observer)
            if not jobs or not await _send_chunk(sending, jobs, report):
                break
    finally:
        await transport.close()
    return report


@dataclass(frozen=True)
class _Chunk:
    """What sending a chunk of claimed jobs works with."""

    engine: Engine
    transport: Transport
    clock: Clock
    backoff: Backoff
    observer: Observer


async def _send_chunk(chunk: _Chunk, jobs: list[_Job], report: DeliveryReport) -> bool:
    """Send claimed jobs in turn; False (the rest released) once the relay cannot be reached."""
    engine, clock = chunk.engine, chunk.clock
    for index, job in enumerate(jobs):
        try:
            result = await _send_one(chunk.transport, job.envelope)
        except asyncio.CancelledError:  # the daemon stops: the rest need not wait out the lease
            _release(engine, jobs[index:], clock.now())
            raise
        state = await asyncio.to_thread(
            _record, engine, job.item_id, result, clock.now(), chunk.backoff
        )
        _tally(report, job.item_id, state, result)
        _tell(chunk.observer, job, state, result)
        if result.transport_down:
            await asyncio.to_thread(_release, engine, jobs[index + 1 :], clock.now())
            return False
    return True


def deliver_due_sync(
    engine: Engine,
    transport: Transport,
    clock: Clock,
    *,
    batch: int = 50,
    backoff: Backoff = DEFAULT_BACKOFF,
    observer: Observer = NO_OBSERVER,
) -> DeliveryReport:
    """`deliver_due` for `maildesk tick`: runs its own event loop."""
    sending = deliver_due(engine, transport, clock, batch=batch, backoff=backoff, observer=observer)
    return asyncio.run(sending)


def send_outbox(app: App) -> int:
    """Deliver due outbound mail once (the daemon's sender does this continuously)."""
    transport = make_transport(transport_settings(app.settings))
    report = deliver_due_sync(
        app.engine,
        transport,
        app.desk.clock,
        batch=app.settings.outbound.batch_size,
        backoff=app.desk.backoff(),
        observer=app.desk.observer,
    )
    for problem in report.problems:
        log.warning("%s", problem)
    return report.sent
