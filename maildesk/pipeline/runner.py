"""Run inbox items through the stage table, one transaction each; a crash marks the item failed."""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from maildesk.db import first_line, unit_of_work
from maildesk.errors import TransientError
from maildesk.models import InboxItem, Ticket
from maildesk.pipeline.apply import carry_out
from maildesk.pipeline.disposition import Verdict
from maildesk.pipeline.table import STAGES
from maildesk.pipeline.work import Desk, StageEnv, Work
from maildesk.services.inbox import claim_item, settle

log = logging.getLogger(__name__)

_STOPS = {
    Verdict.DROP: ("dropped", "dropped"),
    Verdict.HOLD: ("held", "held"),
    Verdict.REJECT: ("rejected", "rejected"),
}


@dataclass(frozen=True)
class Outcome:
    """What processing one inbox item did, as `ingest --json` reports it."""

    item_id: int
    outcome: str  # created | appended | reopened | rejected | dropped | held | failed
    ticket: str | None
    reason: str | None
    message_id: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "ticket": self.ticket,
            "reason": self.reason,
            "message_id": self.message_id,
        }


def run_stages(session: Session, item: InboxItem, desk: Desk) -> Outcome:
    """Take one claimed item through every stage and settle it; never commits."""
    assert item.id is not None
    env = StageEnv(session=session, desk=desk, now=desk.clock.now())
    work = Work(
        item_id=item.id,
        raw=item.raw,
        envelope_to=tuple(item.envelope_to),
        envelope_from=item.envelope_from,
    )
    for name, stage in STAGES:
        disposition, work = stage(work, env)
        if disposition.verdict is not Verdict.CONTINUE:
            state, outcome = _STOPS[disposition.verdict]
            reason = f"{name}: {disposition.reason}"
            ticket = session.get(Ticket, work.thread.ticket_id) if work.thread else None
            settle(
                session,
                item=item,
                state=state,
                outcome=outcome,
                reason=reason,
                ticket_id=ticket.id if ticket else None,
                now=env.now,
            )
            return Outcome(
                item.id, outcome, ticket.ref if ticket else None, reason, item.message_id
            )
    done = carry_out(env, work)
    state = done.outcome if done.outcome in ("held", "rejected", "dropped") else "processed"
    ticket_id = done.ticket.id if done.ticket else None
    settle(
        session,
        item=item,
        state=state,
        outcome=done.outcome,
        reason=done.reason,
        ticket_id=ticket_id,
        now=env.now,
    )
    ref = done.ticket.ref if done.ticket else None
    return Outcome(item.id, done.outcome, ref, done.reason, item.message_id)


def _mark_failed(engine: Engine, item_id: int, desk: Desk, reason: str, error: str) -> Outcome:
    with unit_of_work(engine) as session:
        item = session.get(InboxItem, item_id)
        assert item is not None
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
        return Outcome(item_id, "failed", None, reason, item.message_id)


def process_one(engine: Engine, desk: Desk, *, item_id: int | None = None) -> Outcome | None:
    """Process the given received item (else the oldest); None when there is nothing to do.

    A database outage propagates as TransientError and leaves the item received for a retry;
    any other exception marks the item failed with its traceback and returns.
    """
    claimed: int | None = None
    try:
        with unit_of_work(engine) as session:
            item = claim_item(session, item_id=item_id)
            if item is None:
                return None
            claimed = item.id
            return run_stages(session, item, desk)
    except TransientError:
        raise
    except Exception as exc:
        if claimed is None:
            raise
        reason = f"{type(exc).__name__}: {first_line(exc)}"[:500]
        error = traceback.format_exc()
        _log_failure(claimed, reason, error)
        return _mark_failed(engine, claimed, desk, reason, error)


def _log_failure(item_id: int, reason: str, error: str) -> None:
    """One line for the operator; the traceback only at DEBUG (it is kept on the item)."""
    log.error("inbox item %s failed: %s (see: maildesk inbox show %s)", item_id, reason, item_id)
    log.debug("inbox item %s failed with\n%s", item_id, error)


def drain(engine: Engine, desk: Desk, *, limit: int = 1000) -> list[Outcome]:
    """Process received items until none is left (or `limit` were done)."""
    done: list[Outcome] = []
    while len(done) < limit:
        outcome = process_one(engine, desk)
        if outcome is None:
            break
        done.append(outcome)
    return done
