"""The one way a ticket changes after it is created: one audit event per changed field.

`FIELDS` declares what may change and how each change is recorded; `change` assigns, keeps
the derived timestamps true, runs the hooks of `maildesk.ticket_hooks`, and writes the ticket
in one UPDATE at once (`db.write_now`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from maildesk.db import write_now
from maildesk.desk import Desk
from maildesk.models import Agent, Priority, Ticket, TicketStatus, TicketType
from maildesk.services.tickets import Actor, record_event
from maildesk.ticket_hooks import HOOKS

EventData = Callable[[Session, Any, Any], dict[str, Any]]


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    return value.isoformat() if isinstance(value, datetime) else value


def _from_to(session: Session, before: Any, after: Any) -> dict[str, Any]:
    return {"from": _plain(before), "to": _plain(after)}


def _assignee(session: Session, before: Any, after: Any) -> dict[str, Any]:
    agent = session.get(Agent, after) if after is not None else None
    return {"to": agent.email if agent else None}


def _merged(session: Session, before: Any, after: Any) -> dict[str, Any]:
    target = session.get(Ticket, after) if after is not None else None
    return {"into": target.ref if target else None}


@dataclass(frozen=True)
class FieldChange:
    """How a change of one field is audited: the event type (None: the field follows what
    another event records, a message), its data, the value's type."""

    event: str | None
    data: EventData
    coerce: Callable[[Any], Any] | None = None


FIELDS: dict[str, FieldChange] = {
    "status": FieldChange("status", _from_to, TicketStatus),
    "priority": FieldChange("priority", _from_to, Priority),
    "queue": FieldChange("queue", _from_to),
    "service": FieldChange("service", _from_to),
    "type": FieldChange("type", _from_to, TicketType),
    "category": FieldChange("category", _from_to),
    "level": FieldChange("escalate", lambda _s, _b, after: {"level": after}),  # the new level
    "assignee_id": FieldChange("assign", _assignee),
    "snoozed_until": FieldChange("snooze", lambda _s, _b, after: {"until": _plain(after)}),
    "merged_into_id": FieldChange("merged", _merged),
    "first_response_at": FieldChange("first-response", lambda _s, _b, _a: {}),
    "customer_waiting_since": FieldChange(None, _from_to),  # follows the messages
    "close_reason": FieldChange("reason", lambda _s, _b, after: {"reason": after}),
    "kb_reference": FieldChange("kb", lambda _s, _b, after: {"kb": after}),
    # a customer's rating: the `rated` event the rate handler records says score and comment
    # once, even when a second rating repeats the first one's score
    "rating": FieldChange(None, _from_to, int),
    "rating_comment": FieldChange(None, _from_to),
    "rated_at": FieldChange(None, _from_to),
}


def change(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    status_event: str = "status",
    **fields: Any,
) -> frozenset[str]:
    """Set these fields; each one that differs is assigned and audited; returns their names.

    `status_event` names the event of a status change ("reopen", "snooze-ended"). The
    derived timestamps follow the status; every recorded event stamps `updated_at`.
    """
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"tickets.change cannot set {', '.join(sorted(unknown))}")
    changed: list[str] = []
    for name, value in fields.items():
        spec = FIELDS[name]
        after = spec.coerce(value) if spec.coerce and value is not None else value
        before = getattr(ticket, name)
        if before == after:
            continue
        setattr(ticket, name, after)
        event = status_event if name == "status" else spec.event
        if event is not None:
            data = spec.data(session, before, after)
            record_event(session, ticket=ticket, actor=actor, type=event, data=data, now=now)
        changed.append(name)
    if "status" in changed:
        changed += _follow_status(ticket, now)
    session.add(ticket)
    names = frozenset(changed)
    _run_hooks(session, desk, ticket, names, now)
    write_now(session, ticket)
    return names


def begin(session: Session, *, desk: Desk, ticket: Ticket, now: datetime) -> None:
    """A new ticket's first change: the hooks see it `created` (its SLA clock starts)."""
    _run_hooks(session, desk, ticket, frozenset({"created"}), now)
    write_now(session, ticket)


def _run_hooks(
    session: Session, desk: Desk, ticket: Ticket, names: frozenset[str], now: datetime
) -> None:
    for hook in HOOKS if names else ():
        hook(session, desk.sla, ticket, names, now)


def _follow_status(ticket: Ticket, now: datetime) -> list[str]:
    """Resolved and closed carry their moment; a ticket back in work carries neither."""
    before = (ticket.resolved_at, ticket.closed_at)
    if ticket.status == TicketStatus.RESOLVED:
        ticket.resolved_at = now
    elif ticket.status == TicketStatus.CLOSED:
        ticket.closed_at = now
    else:
        ticket.resolved_at = ticket.closed_at = None
    after = (ticket.resolved_at, ticket.closed_at)
    names = ("resolved_at", "closed_at")
    return [name for name, b, a in zip(names, before, after, strict=True) if b != a]
