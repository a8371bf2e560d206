"""Snoozed tickets whose time has come go back to open, and their agents hear of it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from maildesk.desk import Desk
from maildesk.models import Ticket, TicketStatus
from maildesk.services.notices import notify_agents, reply_recipients
from maildesk.services.ticket_change import change
from maildesk.services.tickets import Actor


def wake_snoozed(session: Session, *, desk: Desk, now: datetime, limit: int = 500) -> int:
    due = session.exec(
        select(Ticket)
        .where(
            Ticket.status == TicketStatus.PENDING,
            col(Ticket.snoozed_until).is_not(None),
            col(Ticket.snoozed_until) <= now,
        )
        .order_by(col(Ticket.snoozed_until))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    actor = Actor("maildesk", "system")
    for ticket in due:
        until = ticket.snoozed_until
        change(
            session,
            ticket=ticket,
            actor=actor,
            now=now,
            status_event="snooze-ended",
            status=TicketStatus.OPEN,
            snoozed_until=None,
        )
        notify_agents(
            session,
            desk=desk,
            ticket=ticket,
            template="snooze_wakeup",
            agents=reply_recipients(session, ticket=ticket),
            text="",
            now=now,
            extra={"snoozed_until": desk.local_time(until) if until else ""},
        )
    return len(due)
