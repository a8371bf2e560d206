"""SLA facts of tickets: which targets a ticket breached, and the filters that
`ticket list --breached` and `--due-before` are.

The deadlines themselves are kept true by the clock hook (`maildesk.ticket_hooks.clock`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlmodel import Session, col, select

from maildesk.models import Ticket, TicketNotice, TicketStatus
from maildesk.ticket_hooks.clock import BREACH, DONE
from maildesk.timing.clock import aware, iso
from maildesk.timing.sla import FIRST_RESPONSE, NEXT_REPLY, RESOLUTION, TARGETS


def breached_targets(session: Session, ticket: Ticket) -> list[str]:
    """The targets the ticket missed: a breach was reported, or it was met after its due."""
    query = select(TicketNotice.target).where(
        TicketNotice.ticket_id == ticket.id, TicketNotice.kind == BREACH
    )
    found = set(session.exec(query))
    late = {
        FIRST_RESPONSE: (ticket.first_response_at, ticket.first_response_due),
        RESOLUTION: (ticket.resolved_at, ticket.resolution_due),
    }
    found |= {
        target for target, (met, due) in late.items() if met and due and aware(met) > aware(due)
    }
    return [target for target in TARGETS if target in found]


def breached() -> ColumnElement[bool]:
    """Tickets with a breach reported, or a first response or resolution made late."""
    reported = exists().where(
        col(TicketNotice.ticket_id) == col(Ticket.id), col(TicketNotice.kind) == BREACH
    )
    return or_(
        reported,
        col(Ticket.first_response_at) > col(Ticket.first_response_due),
        col(Ticket.resolved_at) > col(Ticket.resolution_due),
    )


def due_before(moment: datetime) -> ColumnElement[bool]:
    """Tickets whose clock runs with a target still to meet that is due before `moment`."""
    running: list[Any] = [
        and_(col(Ticket.first_response_at).is_(None), col(Ticket.first_response_due) < moment),
        and_(col(Ticket.status).not_in(DONE), col(Ticket.resolution_due) < moment),
        col(Ticket.next_reply_due) < moment,
    ]
    return and_(col(Ticket.paused_since).is_(None), or_(*running))


def sla_view(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The `sla` of a ticket's JSON."""
    return {
        "policy": ticket.sla_policy,
        "first_response_due": iso(ticket.first_response_due),
        "resolution_due": iso(ticket.resolution_due),
        NEXT_REPLY + "_due": iso(ticket.next_reply_due),
        "paused": ticket.paused_since is not None and ticket.status == TicketStatus.PENDING,
        "paused_minutes": ticket.paused_minutes,
        "breached": breached_targets(session, ticket),
    }
