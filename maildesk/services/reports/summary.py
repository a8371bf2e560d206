"""The summary report: how many tickets came, went and came back, and how fast they were
answered and resolved (median and p90 by nearest rank).

First response and resolution are the tickets' business minutes (pauses left out, the SLA
calendar's hours); next reply is wall-clock minutes from a customer's mail after the first
response to the agent's next public reply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from maildesk.models import Message, MessageRole, Ticket, TicketStatus, Visibility
from maildesk.report_values import ReportScope
from maildesk.services.reports.scope import counted_within, ticket_filters, when_within
from maildesk.services.reports.sql import minutes_between
from maildesk.services.reports.stats import spread

OPEN = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


def counts(session: Session, scope: ReportScope) -> dict[str, int]:
    """created, resolved and closed in the window (each by its own time); reopened: created in
    the window and reopened since; open backlog: created before the window ends, not done.
    One scan of the tickets."""
    created = col(Ticket.created_at)
    before_end = [created < scope.until] if scope.until else []
    still_open = col(Ticket.status).in_(OPEN)
    figures = {
        "created": counted_within(scope, created),
        "resolved": counted_within(scope, col(Ticket.resolved_at)),
        "closed": counted_within(scope, col(Ticket.closed_at)),
        "reopened": counted_within(scope, created, col(Ticket.reopened) > 0),
        "open_backlog": func.coalesce(
            func.sum(case((and_(still_open, *before_end), 1), else_=0)), 0
        ),
    }
    row = session.execute(select(*figures.values()).where(*ticket_filters(scope))).one()
    return {name: int(value) for name, value in zip(figures, row, strict=True)}


def next_reply_minutes(scope: ReportScope) -> Any:
    """Per customer mail after the first response (in the window): minutes to the next
    public agent reply; mails not answered yet are left out. One pass over the messages: the
    earliest public agent message after each one is a window over its ticket's later rows."""
    public_reply = and_(
        col(Message.role) == MessageRole.AGENT, col(Message.visibility) == Visibility.PUBLIC
    )
    replied_at = func.min(case((public_reply, col(Message.created_at)))).over(
        partition_by=col(Message.ticket_id), order_by=col(Message.created_at), rows=(1, None)
    )
    since = [col(Message.created_at) >= scope.since] if scope.since else []
    thread = (
        select(
            col(Message.role).label("role"),
            col(Message.created_at).label("at"),
            replied_at.label("replied_at"),
        )
        .join(Ticket, col(Ticket.id) == Message.ticket_id)
        .where(
            *ticket_filters(scope),
            col(Message.created_at) > col(Ticket.first_response_at),  # only the later talk
            *since,
        )
        .subquery()
    )
    until = [thread.c.at < scope.until] if scope.until else []
    return select(minutes_between(thread.c.at, thread.c.replied_at).label("minutes")).where(
        thread.c.role == MessageRole.CUSTOMER,
        thread.c.replied_at.is_not(None),
        *until,
    )


def times(session: Session, scope: ReportScope) -> list[dict[str, Any]]:
    """One row per measure: count, median and p90 in minutes."""
    first = select(
        when_within(scope, col(Ticket.first_response_at), col(Ticket.first_response_minutes))
    ).where(*ticket_filters(scope))
    resolution = select(
        when_within(scope, col(Ticket.resolved_at), col(Ticket.resolution_minutes))
    ).where(*ticket_filters(scope))
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
