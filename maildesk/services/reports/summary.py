"""The summary report: how many tickets came, went and came back, and how fast they were
answered and resolved (median and p90 by nearest rank).

First response and resolution are the tickets' business minutes (pauses left out, the SLA
calendar's hours); next reply is wall-clock minutes from a customer's mail after the first
response to the agent's next public reply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from maildesk.models import Message, MessageRole, Ticket, TicketStatus, Visibility
from maildesk.report_values import ReportScope
from maildesk.services.reports.scope import in_scope, ticket_filters, within
from maildesk.services.reports.sql import minutes_between
from maildesk.services.reports.stats import spread

OPEN = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


def _count(session: Session, *where: Any) -> int:
    query = select(func.count()).select_from(Ticket).where(*where)
    return int(session.exec(query).one())


def counts(session: Session, scope: ReportScope) -> dict[str, int]:
    """created, resolved and closed in the window (each by its own time); reopened: created in
    the window and reopened since; open backlog: created before the window ends, not done."""
    before_end = [col(Ticket.created_at) < scope.until] if scope.until else []
    return {
        "created": _count(session, *in_scope(scope, col(Ticket.created_at))),
        "resolved": _count(session, *in_scope(scope, col(Ticket.resolved_at))),
        "closed": _count(session, *in_scope(scope, col(Ticket.closed_at))),
        "reopened": _count(
            session, *in_scope(scope, col(Ticket.created_at)), col(Ticket.reopened) > 0
        ),
        "open_backlog": _count(
            session, *ticket_filters(scope), *before_end, col(Ticket.status).in_(OPEN)
        ),
    }


def next_reply_minutes(scope: ReportScope) -> Any:
    """Per customer mail after the first response (in the window): minutes to the next
    public agent reply; mails not answered yet are left out."""
    reply = aliased(Message)
    replied_at = (
        select(func.min(reply.created_at))
        .where(
            reply.ticket_id == Message.ticket_id,
            reply.role == MessageRole.AGENT,
            reply.visibility == Visibility.PUBLIC,
            reply.created_at > Message.created_at,
        )
        .correlate(Message)
        .scalar_subquery()
    )
    return (
        select(minutes_between(Message.created_at, replied_at).label("minutes"))
        .join(Ticket, col(Ticket.id) == Message.ticket_id)
        .where(
            Message.role == MessageRole.CUSTOMER,
            col(Message.created_at) > col(Ticket.first_response_at),
            *ticket_filters(scope),
            *within(scope, col(Message.created_at)),
        )
    )


def times(session: Session, scope: ReportScope) -> list[dict[str, Any]]:
    """One row per measure: count, median and p90 in minutes."""
    first = select(Ticket.first_response_minutes).where(
        *in_scope(scope, col(Ticket.first_response_at))
    )
    resolution = select(Ticket.resolution_minutes).where(*in_scope(scope, col(Ticket.resolved_at)))
    measures = {
        "first_response": ("business", first),
        "next_reply": ("wall-clock", next_reply_minutes(scope)),
        "resolution": ("business", resolution),
    }
    return [
        {"measure": name, "clock": clock, **spread(session, query)}
        for name, (clock, query) in measures.items()
    ]


def summary(session: Session, scope: ReportScope, *, now: datetime) -> dict[str, Any]:
    return {
        "counts": [{"figure": k, "tickets": v} for k, v in counts(session, scope).items()],
        "times": times(session, scope),
    }
