"""The desk at a glance, from the database only: what `maildesk status` prints.

Inbox and outbox counts by state, open tickets whose SLA is at risk (warned, not breached)
or breached, and how long the oldest waiting mail has waited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_
from sqlmodel import Session, col, select

from maildesk.models import InboxItem, OutboxItem, Ticket, TicketNotice
from maildesk.services.sla import breached, due_before
from maildesk.ticket_hooks.clock import DONE, WARNING
from maildesk.timing.clock import aware, iso

INBOX_STATES = ("received", "processed", "held", "failed", "dropped", "rejected")
OUTBOX_STATES = ("queued", "sent", "failed")


@dataclass(frozen=True)
class Waiting:
    since: datetime
    age_seconds: int

    def view(self) -> dict[str, Any]:
        return {"since": iso(self.since), "age_seconds": self.age_seconds}


@dataclass(frozen=True)
class DeskStatus:
    at: datetime
    inbox: dict[str, int]
    outbox: dict[str, int]
    sla_at_risk: int
    sla_breached: int
    oldest_waiting_inbox: Waiting | None
    oldest_queued_outbox: Waiting | None

    def view(self) -> dict[str, Any]:
        """The JSON of `maildesk status --json` (stable keys)."""
        return {
            "at": iso(self.at),
            "inbox": self.inbox,
            "outbox": self.outbox,
            "held": self.inbox["held"],
            "failed": self.inbox["failed"] + self.outbox["failed"],
            "sla": {"at_risk": self.sla_at_risk, "breached": self.sla_breached},
            "oldest_waiting_inbox": _view(self.oldest_waiting_inbox),
            "oldest_queued_outbox": _view(self.oldest_queued_outbox),
        }


def _view(waiting: Waiting | None) -> dict[str, Any] | None:
    return waiting.view() if waiting else None


def desk_status(session: Session, *, now: datetime) -> DeskStatus:
    inbox = _counts(session, col(InboxItem.state), INBOX_STATES)
    outbox = _counts(session, col(OutboxItem.state), OUTBOX_STATES)
    late = _open_tickets(session, _breached_now(now))
    return DeskStatus(
        at=now,
        inbox=inbox,
        outbox=outbox,
        sla_at_risk=len(_open_tickets(session, _warned()) - late),
        sla_breached=len(late),
        oldest_waiting_inbox=_oldest(
            session, col(InboxItem.received_at), col(InboxItem.state) == "received", now
        ),
        oldest_queued_outbox=_oldest(
            session, col(OutboxItem.created_at), col(OutboxItem.state) == "queued", now
        ),
    )


def _counts(session: Session, state: Any, states: tuple[str, ...]) -> dict[str, int]:
    found = dict(session.exec(select(state, func.count()).group_by(state)).all())
    return {name: int(found.get(name, 0)) for name in states}


def _warned() -> ColumnElement[bool]:
    return exists().where(
        col(TicketNotice.ticket_id) == col(Ticket.id), col(TicketNotice.kind) == WARNING
    )


def _breached_now(now: datetime) -> ColumnElement[bool]:
    """Breached already, or a running target past its due that the sweep has not seen yet."""
    return or_(breached(), due_before(now))


def _open_tickets(session: Session, condition: ColumnElement[bool]) -> set[int]:
    """The ids of open tickets that meet `condition` (compared in Python: a NULL due makes
    SQL's NOT unknown, and "warned and not late" would drop the tickets it is about)."""
    query = select(Ticket.id).where(col(Ticket.status).not_in(DONE), condition)
    return {ticket_id for ticket_id in session.exec(query) if ticket_id is not None}


def _oldest(
    session: Session, moment: Any, condition: ColumnElement[bool], now: datetime
) -> Waiting | None:
    first = session.exec(select(func.min(moment)).where(condition)).one()
    if first is None:
        return None
    since = aware(first)
    return Waiting(since, max(int((now - since).total_seconds()), 0))
