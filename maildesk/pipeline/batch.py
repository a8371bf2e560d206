"""Several inbox items in one transaction (group commit), each inside its own savepoint.

A mail that raises rolls back to its savepoint alone and is settled failed, with its traceback,
in the same transaction; a database outage rolls the whole batch back (every item stays
received) and propagates. Log lines and the observer come once the batch has committed.
With `[worker] parse_processes`, a batch's next mails are parsed in the parse pool while the
ones before them are written (`pipeline/parse_pool.py`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from maildesk.db import (
    after_commit_mark,
    first_line,
    forget_after_commit,
    read_only_unit,
    start_afresh,
    turn_due,
    unit_of_work,
    working_error,
)
from maildesk.desk import Desk
from maildesk.errors import TransientError
from maildesk.models import InboxItem
from maildesk.pipeline.large_mail import LARGE_BYTES, LARGE_MAILS, LargeMailGate
from maildesk.pipeline.parse_pool import Ahead, parse_pool
from maildesk.pipeline.runner import (
    Handlers,
    Outcome,
    Savepoint,
    Stages,
    failure,
    log_failure,
    process_one,
    report,
    run_item,
    settle_failed,
    tables,
)
from maildesk.services.inbox import Items, claim_items, load_item, read_items, received_sizes

log = logging.getLogger(__name__)

BATCH_LIMIT = 100  # items one transaction takes at most (`maildesk ingest`, import, drain)
READ_BYTES = 8 * 1024 * 1024  # a transaction's items read in one statement, up to this size


@dataclass(frozen=True)
class Run:
    """What every item of a batch runs through (see `runner.run_item`)."""

    stages: Stages
    handlers: Handlers
    open_since: datetime | None


@dataclass(frozen=True)
class Done:
    """One settled item of a batch, told once the batch commits."""

    outcome: Outcome
    seconds: float  # this mail's own processing, not the batch's
    error: str | None = None  # a failed mail's traceback


class Uncommitted(Exception):
    """The batch did not commit for a reason of its work or a deadlock with another worker:
    its items are taken one by one."""

    def __init__(self, item_ids: list[int]) -> None:
        super().__init__(f"{len(item_ids)} inbox items")
        self.item_ids = item_ids


def process_batch(
    engine: Engine,
    desk: Desk,
    *,
    limit: int = BATCH_LIMIT,
    item_ids: Sequence[int] | None = None,
    stages: Stages | None = None,
    handlers: Handlers | None = None,
    open_since: datetime | None = None,
    commit_now: Callable[[], bool] | None = None,
) -> list[Outcome]:
    """Process up to `limit` received items (among `item_ids`, else the oldest) in one
    transaction, in id order; [] when there is nothing to do. The arguments are `process_one`'s.

    After each mail `commit_now` (by default `db.turn_due`: another writer waits for SQLite's
    lock) may end the transaction early; the items it claimed and left are the next one's.
    A database outage propagates as TransientError and leaves the uncommitted items received.
    """
    run = Run(*tables(stages, handlers), open_since)
    enough = commit_now or turn_due(engine)
    outcomes: list[Outcome] = []
    aheads: list[Ahead] = []  # the first transaction's, kept for the items it leaves
    try:
        while True:
            try:
                done, left = _commit(engine, desk, run, (limit, item_ids), enough, aheads)
            except Uncommitted as failed:
                cause = first_line(failed.__cause__)
                log.warning("a batch of %s did not commit (%s); one by one", failed, cause)
                return outcomes + _one_by_one(engine, desk, failed.item_ids, run)
            outcomes += _told(desk, done)
            if not left:
                return outcomes
            item_ids, limit = left, len(left)
    finally:
        for ahead in aheads:  # also one whose transaction failed
            ahead.cancel()


def _told(desk: Desk, done: list[Done]) -> list[Outcome]:
    """Log and report the items of a committed batch; their outcomes."""
    for each in done:
        if each.error is not None:
            log_failure(each.outcome.item_id, each.outcome.reason or "", each.error)
        report(desk, each.outcome, each.seconds)
    return [each.outcome for each in done]


def _commit(
    engine: Engine,
    desk: Desk,
    run: Run,
    taking: tuple[int, Sequence[int] | None],
    commit_now: Callable[[], bool],
    aheads: list[Ahead],
) -> tuple[list[Done], list[int]]:
    """The items done in one transaction, and those it claimed but left to the next. The
    first transaction of a batch starts parsing ahead into `aheads`; the next ones use it."""
    limit, item_ids = taking
    claimed: list[int] = []
    try:
        with unit_of_work(engine) as session:
            sized = claim_items(session, limit=limit, item_ids=item_ids)
            claimed = [item_id for item_id, _ in sized]
            read = read_items(session, sized, READ_BYTES)
            if not aheads:
                aheads.append(_parse_ahead(desk, claimed, read))
            done: list[Done] = []
            for item_id in claimed:
                done.append(_one(session, desk, item_id, run, (aheads[0], read)))
                if commit_now():
                    break
            return done, claimed[len(done) :]
    except TransientError as exc:
        if claimed and _conflict(exc):
            raise Uncommitted(claimed) from exc
        raise
    except Exception as exc:
        if not claimed:
            raise
        raise Uncommitted(claimed) from exc


def _parse_ahead(desk: Desk, claimed: list[int], read: Items) -> Ahead:
    """The batch's mails after the first handed to the parse pool, to be parsed while the
    ones before them are written; the first is parsed here meanwhile. A mail that is large
    (memory), over the size limit (never parsed) or not read ahead is left out."""
    settings = desk.settings
    pool = parse_pool(settings.worker.parse_processes)
    if not pool.worth(len(claimed)):
        return Ahead()
    under = min(LARGE_BYTES, settings.smtp.max_message_bytes + 1)
    rows = (read[item_id] for item_id in claimed[1:] if item_id in read)
    raws = [(row["id"], row["raw"]) for row in rows if row["size"] < under]
    return pool.ahead(raws, settings.desk.max_mime_depth)


def _conflict(exc: TransientError) -> bool:
    """PostgreSQL gave up on the batch for a deadlock with another worker (40P01) or a
    serialization failure (40001): one mail at a time holds too few locks to meet again."""
    cause = exc.__cause__
    sqlstate = getattr(getattr(cause, "orig", None), "sqlstate", None)
    return str(sqlstate or "").startswith("40")


def _outage(exc: Exception) -> bool:
    """The database is gone (not this mail's fault): the whole batch waits for a retry."""
    if isinstance(exc, TransientError):
        return True
    return isinstance(exc, DBAPIError) and working_error(exc) is not None


def _one(session: Session, desk: Desk, item_id: int, run: Run, ready: tuple[Ahead, Items]) -> Done:
    """One item inside its own savepoint: its effects and its state stay or go together.

    It meets the session as a new unit of work would: no row or cache of the mail before.
    Its row may be read already, its bytes parsed already when the parse pool took them
    (`ready`).
    """
    ahead, read = ready
    started = time.perf_counter()  # a duration to report, not a time to decide by
    start_afresh(session)
    mark = after_commit_mark(session)
    savepoint = Savepoint(session)
    try:
        item = load_item(session, item_id, read)
        assert item is not None, "a claimed item exists"
        outcome = run_item(
            session,
            item,
            desk,
            stages=run.stages,
            handlers=run.handlers,
            open_since=run.open_since,
            parsed=ahead.take(item_id),
            savepoint=savepoint,
        )
        savepoint.transaction.commit()
    except Exception as exc:
        if _outage(exc):
            raise
        reason, error = failure(exc)
        savepoint.transaction.rollback()
        forget_after_commit(session, mark)
        return Done(_failed(session, desk, item_id, reason, error), _since(started), error)
    return Done(outcome, _since(started))


def _failed(session: Session, desk: Desk, item_id: int, reason: str, error: str) -> Outcome:
    """Settle the item failed, as the row is: what the rolled-back savepoint left in memory
    is forgotten first."""
    start_afresh(session)
    item = session.get(InboxItem, item_id)
    assert item is not None
    return settle_failed(session, item, desk, reason, error)


def _since(started: float) -> float:
    return time.perf_counter() - started


def _one_by_one(engine: Engine, desk: Desk, item_ids: list[int], run: Run) -> list[Outcome]:
    found = (
        process_one(
            engine,
            desk,
            item_id=item_id,
            stages=run.stages,
            handlers=run.handlers,
            open_since=run.open_since,
        )
        for item_id in item_ids
    )
    return [outcome for outcome in found if outcome is not None]


LOOK_AHEAD = 4  # batches' worth of waiting items read at a time


def processing(
    engine: Engine,
    desk: Desk,
    *,
    gate: LargeMailGate = LARGE_MAILS,
    batch: int = BATCH_LIMIT,
    commit_now: Callable[[], bool] | None = None,
) -> Iterator[Outcome]:
    """Process received items, oldest first, until none is left: small ones `batch` to a
    transaction, a large one alone through `gate`. The sizes are read before any item is
    claimed, so a large mail waits for the gate before its transaction and its bytes. They are
    read for a few batches ahead: a run another worker claimed meanwhile is passed over.
    `commit_now` is `process_batch`'s."""
    while True:
        with read_only_unit(engine) as session:  # no write lock just to look
            waiting = received_sizes(session, limit=batch * LOOK_AHEAD)
        done = 0
        for run, size in _runs(waiting, gate, batch):
            if size is None:
                outcomes = process_batch(
                    engine, desk, item_ids=run, limit=len(run), commit_now=commit_now
                )
            else:
                with gate.admit(size):
                    one = process_one(engine, desk, item_id=run[0])
                outcomes = [one] if one is not None else []  # None: another worker took it
            done += len(outcomes)
            yield from outcomes
        if done == 0:
            return


def _runs(
    waiting: list[tuple[int, int]], gate: LargeMailGate, batch: int
) -> Iterator[tuple[list[int], int | None]]:
    """Consecutive small items in runs of at most `batch` (size None); each large item alone,
    with its size."""
    run: list[int] = []
    for item_id, size in waiting:
        if not gate.is_large(size):
            run.append(item_id)
            if len(run) == batch:
                yield run, None
                run = []
            continue
        if run:
            yield run, None
            run = []
        yield [item_id], size
    if run:
        yield run, None


def drain(
    engine: Engine, desk: Desk, *, limit: int = 1000, batch: int = BATCH_LIMIT
) -> list[Outcome]:
    """Process received items, `batch` to a transaction, until none is left (or `limit`)."""
    done: list[Outcome] = []
    for outcome in processing(engine, desk, batch=min(batch, limit)):
        done.append(outcome)
        if len(done) >= limit:
            break
    return done
