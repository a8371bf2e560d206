"""Delivery of due outbox rows over several relay connections at once; `maildesk tick`'s share.

Each connection claims its own chunks of rows under a lease, composes them off the event
loop and sends them; the results of all connections are written together (`recorder`). A
failed mail is only marked failed: nothing is ever sent about it.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from maildesk.app import App
from maildesk.db import first_line, unit_of_work
from maildesk.observe import NO_OBSERVER, Observer
from maildesk.outbound.claims import Claimed, claim_rows, compose_claimed
from maildesk.outbound.outbox import DEFAULT_BACKOFF, MAX_ERROR_CHARS, Backoff, release
from maildesk.sender.recorder import DeliveryReport, Recorder, Tried
from maildesk.sender.transports import (
    Envelope,
    Outcome,
    SendResult,
    Transport,
    make_transports,
    transport_settings,
)
from maildesk.timing.clock import Clock

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=15)  # a claimed row is due again this long after a crash
CLAIM_CHUNK = 10  # rows claimed per transaction
SEND_LIMIT = LEASE / (CLAIM_CHUNK + 2)  # per mail, so that a whole chunk ends within its lease


@dataclass(frozen=True)
class _Job:
    item_id: int
    kind: str
    envelope: Envelope
    leased_until: datetime  # the row is ours until then; another worker may take it after
    composed: bytes | None  # composed now: stored with the result (a retry sends the same)


def _with_traceback(headline: str) -> str:
    """The headline, then as much of the traceback's end (where it failed) as a row keeps."""
    room = MAX_ERROR_CHARS - len(headline) - 1
    return f"{headline}\n{traceback.format_exc()[-room:]}" if room > 0 else headline


def _composed(claimed: Claimed) -> _Job | Tried:
    """The row ready to send, or, if its draft cannot be rendered (a broken override
    template), its failure: the log gets one line, the row the traceback (`outbox show ID`)."""
    try:
        raw = compose_claimed(claimed)
    except Exception as exc:  # an operator's template may fail in any way
        headline = f"composing failed: {type(exc).__name__}: {first_line(exc)}"
        log.error("outbox %s: %s", claimed.id, headline)
        result = SendResult(Outcome.PERMANENT, _with_traceback(headline))
        return Tried(claimed.id, claimed.kind, len(claimed.recipients), result, unsendable=True)
    envelope = Envelope(claimed.envelope_from, claimed.recipients, raw)
    composed = raw if claimed.raw is None else None
    return _Job(claimed.id, claimed.kind, envelope, claimed.leased_until, composed)


def _compose_all(claimed: list[Claimed]) -> list[_Job | Tried]:
    return [_composed(each) for each in claimed]


def _claim_rows(engine: Engine, now: datetime, limit: int) -> list[Claimed]:
    with unit_of_work(engine) as session:
        return claim_rows(session, now=now, limit=limit, lease=LEASE)


def _release(engine: Engine, ids: list[int], leased_until: datetime, now: datetime) -> None:
    """Unsent rows due again now, those whose lease is still ours (one claim: one lease)."""
    if ids:
        with unit_of_work(engine) as session:
            release(session, item_ids=ids, leased_until=leased_until, now=now)


def _release_jobs(engine: Engine, jobs: list[_Job], now: datetime) -> None:
    if jobs:
        _release(engine, [job.item_id for job in jobs], jobs[0].leased_until, now)


async def _send_one(transport: Transport, envelope: Envelope) -> SendResult:
    """One mail, within SEND_LIMIT: a relay that stalls ends the batch, not the lease."""
    try:
        async with asyncio.timeout(SEND_LIMIT.total_seconds()):  # no task per mail, as wait_for
            return await transport.send(envelope)
    except TimeoutError:
        answer = f"the relay took longer than {SEND_LIMIT.total_seconds():g} s"
        return SendResult(Outcome.TEMPORARY, answer, transport_down=True)
    except Exception as exc:  # a transport bug must not stop the queue
        log.exception("transport failed unexpectedly")
        return SendResult(Outcome.TEMPORARY, f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class _Run:
    """What the connections of one delivery run share."""

    engine: Engine
    clock: Clock
    batch: int  # mails tried per connection at most
    recorder: Recorder


async def _claim_chunk(run: _Run, limit: int) -> list[Claimed]:
    """Claim in a thread; if stopped meanwhile, the claim still commits: then release it."""
    async with run.recorder.db:
        now = run.clock.now()
        claiming = asyncio.ensure_future(asyncio.to_thread(_claim_rows, run.engine, now, limit))
        try:
            return await asyncio.shield(claiming)
        except asyncio.CancelledError:  # the daemon stops: due again now, not after the lease
            claimed = await claiming
            if claimed:
                ids = [each.id for each in claimed]
                _release(run.engine, ids, claimed[0].leased_until, run.clock.now())
            raise


async def _claim(run: _Run, limit: int) -> list[_Job]:
    """Up to `limit` due rows, claimed in one transaction and composed outside it, in a thread.

    Rows that fail to compose go to the recorder (failed); if all do, the next ones are claimed.
    """
    while True:
        claimed = await _claim_chunk(run, limit)
        if not claimed:
            return []
        try:
            ready = await asyncio.to_thread(_compose_all, claimed)
        except asyncio.CancelledError:  # the daemon stops: due again now, not after the lease
            ids = [each.id for each in claimed]
            _release(run.engine, ids, claimed[0].leased_until, run.clock.now())
            raise
        jobs = [each for each in ready if isinstance(each, _Job)]
        for failed in (each for each in ready if isinstance(each, Tried)):
            run.recorder.add(failed)
        if jobs:
            return jobs


async def _send_chunk(run: _Run, transport: Transport, jobs: list[_Job]) -> bool:
    """Send claimed jobs in turn; False (the rest released) once the relay cannot be reached."""
    for index, job in enumerate(jobs):
        try:
            result = await _send_one(transport, job.envelope)
        except asyncio.CancelledError:  # the daemon stops: the rest need not wait out the lease
            _release_jobs(run.engine, jobs[index:], run.clock.now())
            raise
        recipients = len(job.envelope.recipients)
        run.recorder.add(Tried(job.item_id, job.kind, recipients, result, job.composed))
        if result.transport_down:
            async with run.recorder.db:
                await asyncio.to_thread(
                    _release_jobs, run.engine, jobs[index + 1 :], run.clock.now()
                )
            return False
    return True


async def _connection(run: _Run, transport: Transport) -> None:
    """One relay connection: claim a chunk and send it, until its batch is tried or none is due."""
    tried = 0
    try:
        while tried < run.batch:
            jobs = await _claim(run, min(CLAIM_CHUNK, run.batch - tried))
            if not jobs or not await _send_chunk(run, transport, jobs):
                return
            tried += len(jobs)
        run.recorder.report.more_due = True
    finally:
        await transport.close()


async def _together(run: _Run, transports: Sequence[Transport]) -> None:
    """Every connection at once; the first error stops the others (their rows released)."""
    tasks = [asyncio.create_task(_connection(run, each)) for each in transports]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def deliver_due(
    engine: Engine,
    transport: Transport | Sequence[Transport],
    clock: Clock,
    *,
    batch: int = 50,
    backoff: Backoff = DEFAULT_BACKOFF,
    observer: Observer = NO_OBSERVER,
) -> DeliveryReport:
    """Send due rows over each transport (a relay connection each), up to `batch` per connection.

    Connections claim `CLAIM_CHUNK` rows at a time, so a slow relay never outlasts a lease;
    when the relay goes down, the rest of a chunk is due again at once. A failed mail is only
    marked failed: nothing is ever sent about it (no notice loops).
    """
    transports = list(transport) if isinstance(transport, Sequence) else [transport]
    recorder = Recorder(engine, clock, backoff, observer, asyncio.Lock())
    try:
        await _together(_Run(engine, clock, batch, recorder), transports)
    finally:
        await recorder.flush()
    return recorder.report


def deliver_due_sync(
    engine: Engine,
    transport: Transport | Sequence[Transport],
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
    report = deliver_due_sync(
        app.engine,
        make_transports(transport_settings(app.settings)),
        app.desk.clock,
        batch=app.settings.outbound.batch_size,
        backoff=app.desk.backoff(),
        observer=app.desk.observer,
    )
    for problem in report.problems:
        log.warning("%s", problem)
    return report.sent
