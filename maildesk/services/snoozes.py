"""Snoozed tickets whose time has come go back to open."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from maildesk.desk import Desk
from maildesk.models import Ticket, TicketStatus
from maildesk.services.ticket_change import change
from maildesk.services.tickets import Actor


def wake_snoozed(
    session: Session, *, desk: Desk, now: datetime, limit: int = 500
) -> list[tuple[Ticket, datetime]]:
    """Reopen the due snoozed tickets; returns each with the time its snooze ended."""
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
    woken: list[tuple[Ticket, datetime]] = []
    for ticket in due:
        assert ticket.snoozed_until is not None
        woken.append((ticket, ticket.snoozed_until))
        change(
            session,
            desk=desk,
            ticket=ticket,
            actor=actor,
            now=now,
            status_event="snooze-ended",
            status=TicketStatus.OPEN,
            snoozed_until=None,
        )
    return woken
