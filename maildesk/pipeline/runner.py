"""Run inbox items through the stage and handler tables; `process_one` takes one in its own
transaction (`pipeline/batch.py` takes several in one).

A stop from either table settles the item from its disposition; a crash marks it failed.
An imported item (its origin says so) carries `Work.history`: its handlers run at the mail's
own time, in a quiet transaction that queues no mail.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from maildesk.db import after_commit_mark, first_line, forget_after_commit, unit_of_work
from maildesk.desk import Desk
from maildesk.errors import TransientError
from maildesk.models import InboxItem, Ticket
from maildesk.notices.quiet import quiet
from maildesk.observe import Processed, source_of
from maildesk.pipeline.disposition import Disposition, Verdict
from maildesk.pipeline.parse_pool import Parsed
from maildesk.pipeline.table import HANDLERS, STAGES, Handler, StageFn
from maildesk.pipeline.work import Handled, History, StageEnv, Work
from maildesk.services.inbox import NO_RAW, claim_item, settle
from maildesk.services.origin import IMPORT

log = logging.getLogger(__name__)

Stages = Sequence[tuple[str, StageFn]]
Handlers = Sequence[Handler]

STOPPED = {
    Verdict.DROP: "dropped",
    Verdict.HOLD: "held",
    Verdict.REJECT: "rejected",
}  # state = outcome


@dataclass(frozen=True)
class Outcome:
    """What processing one inbox item did, as `ingest --json` reports it."""

    item_id: int
    outcome: str  # created | appended | reopened | rejected | dropped | held | failed
    ticket: str | None
    reason: str | None
    message_id: str | None
    source: str = ""  # smtp | imap | ingest | import | lmtp (`observe.source_of`)

    def as_json(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "ticket": self.ticket,
            "reason": self.reason,
            "message_id": self.message_id,
        }


@dataclass(frozen=True)
class Stop:
    """The stage or handler that stopped a mail, and its disposition."""

    by: str
    disposition: Disposition

    @property
    def reason(self) -> str:
        return f"{self.by}: {self.disposition.reason}"


def run_stages(stages: Stages, work: Work, env: StageEnv) -> tuple[Stop | None, Work]:
    """Decide: each stage in order, until one stops the mail. Stages write nothing."""
    for name, stage in stages:
        disposition, work = stage(work, env)
        if disposition.verdict is not Verdict.CONTINUE:
            return Stop(name, disposition), work
    return None, work


class Savepoint:
    """The savepoint one mail writes in. A batch begins it before the mail's stages (they
    write nothing) and its handlers write in the same one: a savepoint a mail, not two."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.transaction = session.begin_nested()

    def again(self) -> None:
        """Take back all it holds and begin afresh, for what a stop keeps."""
        self.transaction.rollback()
        self.transaction = self.session.begin_nested()


def run_handlers(
    handlers: Handlers, work: Work, env: StageEnv, savepoint: Savepoint | None = None
) -> tuple[Stop | None, Work]:
    """Do: each handler in order, all inside one savepoint (`savepoint`: the mail's own,
    which its caller ends; None: one of their own).

    A stop rolls the savepoint back, so nothing this mail wrote stays (a requeued item runs
    as if for the first time); then the stopping handler's `on_stop` writes what the stop
    keeps, such as the warning to an agent.
    """
    own = savepoint is None
    writing = Savepoint(env.session) if savepoint is None else savepoint
    mark = after_commit_mark(env.session)
    for handler in handlers:
        disposition, work = handler.run(work, env)
        if disposition.verdict is not Verdict.CONTINUE:
            if own:
                writing.transaction.rollback()
            else:
                writing.again()
            forget_after_commit(env.session, mark)
            if handler.on_stop is not None:
                handler.on_stop(work, env)
            return Stop(handler.name, disposition), work
    if own:
        writing.transaction.commit()
    return None, work


def _settle_stop(
    session: Session, item: InboxItem, env: StageEnv, stop: Stop, work: Work
) -> Outcome:
    """A stopped mail is filed under the ticket it located, if any (whatever it wrote is gone)."""
    assert item.id is not None
    ticket = session.get(Ticket, work.thread.ticket_id) if work.thread else None
    outcome = STOPPED[stop.disposition.verdict]
    ticket_id = ticket.id if ticket else None
    settle(
        session,
        item=item,
        state=outcome,
        outcome=outcome,
        reason=stop.reason,
        ticket_id=ticket_id,
        now=env.now,
        at_commit=True,
    )
    ref = ticket.ref if ticket else None
    return Outcome(item.id, outcome, ref, stop.reason, item.message_id, source_of(item.transport))


def _settle_done(session: Session, item: InboxItem, env: StageEnv, work: Work) -> Outcome:
    assert item.id is not None and work.outcome is not None, "a handler says what it did"
    ticket = session.get(Ticket, work.ticket_id) if work.ticket_id else None
    state = "dropped" if work.outcome is Handled.DROPPED else "processed"
    settle(
        session,
        item=item,
        state=state,
        outcome=work.outcome.value,
        reason=work.summary,
        ticket_id=work.ticket_id,
        now=env.now,
        at_commit=True,
    )
    ref = ticket.ref if ticket else None
    source = source_of(item.transport)
    return Outcome(item.id, work.outcome.value, ref, work.summary, item.message_id, source)


def _work(item: InboxItem, open_since: datetime | None, parsed: Parsed | None) -> Work:
    """The item as the stages first see it; an imported one is history."""
    assert item.id is not None
    imported = item.transport == IMPORT
    return Work(
        item_id=item.id,
        raw=item.raw,
        parsed_ahead=parsed,
        envelope_to=tuple(item.envelope_to),
        envelope_from=item.envelope_from,
        mailbox=item.imap_mailbox,
        history=History(open_since=open_since) if imported else None,
    )


@contextmanager
def _acting(work: Work, env: StageEnv) -> Iterator[StageEnv]:
    """Where the handlers act: live mail now; history at its own time, sending nothing."""
    if work.history is None:
        yield env
        return
    with quiet(env.session, "quiet: imported history"):
        yield replace(env, now=work.history.written_at or env.now)


def run_item(
    session: Session,
    item: InboxItem,
    desk: Desk,
    *,
    stages: Stages,
    handlers: Handlers,
    open_since: datetime | None = None,
    parsed: Parsed | None = None,
    savepoint: Savepoint | None = None,
) -> Outcome:
    """Take one claimed item through both tables and settle it; never commits.

    `open_since`: an imported item's mail before it leaves its ticket closed (None: all).
    `parsed`: what a parse pool made of its bytes (None: the parse stage parses them).
    `savepoint`: the mail's own, begun before `item` was read, for its handlers to write in.
    """
    env = StageEnv(session=session, desk=desk, now=desk.clock.now())
    stop, work = run_stages(stages, _work(item, open_since, parsed), env)
    if stop is None:
        with _acting(work, env) as acting:
            stop, work = run_handlers(handlers, work, acting, savepoint)
    if stop is not None:
        return _settle_stop(session, item, env, stop, work)
    return _settle_done(session, item, env, work)


def settle_failed(
    session: Session, item: InboxItem, desk: Desk, reason: str, error: str
) -> Outcome:
    """Settle a crashed item as failed, its traceback kept (its own writes are rolled back)."""
    assert item.id is not None
    settle(
        session,
        item=item,
        state="failed",
        outcome="failed",
        reason=reason,
        ticket_id=None,
        now=desk.clock.now(),
        error=error,
    )
    return Outcome(item.id, "failed", None, reason, item.message_id, source_of(item.transport))


def _mark_failed(engine: Engine, item_id: int, desk: Desk, reason: str, error: str) -> Outcome:
    with unit_of_work(engine) as session:
        item = session.get(InboxItem, item_id, options=[NO_RAW])
        assert item is not None
        return settle_failed(session, item, desk, reason, error)


def failure(exc: BaseException) -> tuple[str, str]:
    """The reason an item failed (one line) and its traceback; called while handling `exc`."""
    return f"{type(exc).__name__}: {first_line(exc)}"[:500], traceback.format_exc()


def tables(stages: Stages | None, handlers: Handlers | None) -> tuple[Stages, Handlers]:
    """The declared tables, unless a test passes its own (looked up here, where tests patch)."""
    return STAGES if stages is None else stages, HANDLERS if handlers is None else handlers


def process_one(
    engine: Engine,
    desk: Desk,
    *,
    item_id: int | None = None,
    stages: Stages | None = None,
    handlers: Handlers | None = None,
    open_since: datetime | None = None,
) -> Outcome | None:
    """Process the given received item (else the oldest); None when there is nothing to do.

    `open_since` is the import's (see `run_item`). `stages` and `handlers` default to the
    declared tables (tests pass their own).
    A database outage propagates as TransientError and leaves the item received for a retry;
    any other exception marks the item failed with its traceback and returns.
    Once the item is settled, one log line says how, and the desk's observer is told.
    """
    started = time.perf_counter()  # a duration to report, not a time to decide by
    outcome = _process(engine, desk, item_id, stages, handlers, open_since)
    if outcome is not None:
        report(desk, outcome, time.perf_counter() - started)
    return outcome


def report(desk: Desk, outcome: Outcome, seconds: float) -> None:
    """One log line for a settled item, and the desk's observer told (after its commit)."""
    mail = Processed(
        item_id=outcome.item_id,
        source=outcome.source,
        outcome=outcome.outcome,
        ticket=outcome.ticket,
        reason=outcome.reason,
        seconds=seconds,
    )
    fields = {
        "source": mail.source,
        "inbox_id": mail.item_id,
        "outcome": mail.outcome,
        "ticket": mail.ticket,
        "duration_ms": round(seconds * 1000, 1),
        "reason": mail.reason,
    }
    log.info(
        "inbox item %s from %s: %s %s in %.1f ms (%s)",
        mail.item_id, mail.source, mail.outcome, mail.ticket or "-", fields["duration_ms"],
        mail.reason or "",
        extra={"fields": fields},
    )  # fmt: skip
    desk.observer.processed(mail)


def _process(
    engine: Engine,
    desk: Desk,
    item_id: int | None,
    stages: Stages | None,
    handlers: Handlers | None,
    open_since: datetime | None,
) -> Outcome | None:
    claimed: int | None = None
    try:
        with unit_of_work(engine) as session:
            item = claim_item(session, item_id=item_id)
            if item is None:
                return None
            claimed = item.id
            stages, handlers = tables(stages, handlers)
            return run_item(
                session, item, desk, stages=stages, handlers=handlers, open_since=open_since
            )
    except TransientError:
        raise
    except Exception as exc:
        if claimed is None:
            raise
        reason, error = failure(exc)
        log_failure(claimed, reason, error)
        return _mark_failed(engine, claimed, desk, reason, error)


def log_failure(item_id: int, reason: str, error: str) -> None:
    """One line for the operator; the traceback only at DEBUG (it is kept on the item)."""
    log.error("inbox item %s failed: %s (see: maildesk inbox show %s)", item_id, reason, item_id)
    log.debug("inbox item %s failed with\n%s", item_id, error)
