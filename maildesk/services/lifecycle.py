"""Tickets the customer left waiting: resolved and unrated for `[ratings] wait`, or pending
(not snoozed) for `[lifecycle] pending_reminder` (one reminder) or `pending_close` (closed).

Each happens once per ticket and occasion. The occasion is the moment the wait began
(`resolved_at`, `paused_since`): it is the `due` of a `TicketNotice` row that one insert
claims, so of two processes ticking at once only one acts, and a ticket that goes pending
again later waits anew. The due tickets are claimed `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, exists, func, select

from maildesk.config import Settings
from maildesk.desk import Desk
from maildesk.models import Ticket, TicketNotice, TicketStatus, TimeEntry
from maildesk.services.notice_claims import claim_notice
from maildesk.services.ticket_change import change
from maildesk.services.tickets import Actor
from maildesk.timing.clock import aware

AUTO_CLOSE = "auto-close"  # resolved, unrated, and the ratings wait is over
PENDING_REMINDER = "pending-reminder"
PENDING_CLOSE = "pending-close"
SYSTEM = Actor("maildesk", "system")


@dataclass(frozen=True)
class Waited:
    """A ticket acted on, and since when it had waited for the customer."""

    ticket: Ticket
    since: datetime


def close_unrated(session: Session, *, desk: Desk, now: datetime, limit: int = 500) -> list[Waited]:
    """Close the resolved tickets nobody rated within `[ratings] wait` of their resolution."""
    cutoff = now - desk.settings.ratings.wait
    rated = (Ticket.status == TicketStatus.RESOLVED, col(Ticket.rating).is_(None))
    due = _due(session, AUTO_CLOSE, "resolved_at", cutoff, limit, *rated)
    return [w for w in due if _close(session, desk, w, AUTO_CLOSE, now)]


def remind_pending(
    session: Session, *, desk: Desk, now: datetime, limit: int = 500
) -> list[Waited]:
    """The pending tickets that have waited `[lifecycle] pending_reminder` and were not
    reminded since they went pending: each is now (the caller sends the reminder)."""
    after = desk.settings.lifecycle.pending_reminder
    if after is None:
        return []
    due = _pending(session, PENDING_REMINDER, now - after, limit)
    return [w for w in due if claim_notice(session, **_key(w, PENDING_REMINDER, now))]


def close_pending(session: Session, *, desk: Desk, now: datetime, limit: int = 500) -> list[Waited]:
    """Close the pending tickets that have waited `[lifecycle] pending_close`."""
    after = desk.settings.lifecycle.pending_close
    if after is None:
        return []
    due = _pending(session, PENDING_CLOSE, now - after, limit)
    return [w for w in due if _close(session, desk, w, PENDING_CLOSE, now)]


def _pending(session: Session, kind: str, cutoff: datetime, limit: int) -> list[Waited]:
    """Pending, not snoozed (a snooze has its own end), since `cutoff` or longer."""
    waiting = (Ticket.status == TicketStatus.PENDING, col(Ticket.snoozed_until).is_(None))
    return _due(session, kind, "paused_since", cutoff, limit, *waiting)


def _due(
    session: Session, kind: str, since: str, cutoff: datetime, limit: int, *where: Any
) -> list[Waited]:
    """Tickets waiting since `since` (a column) no later than `cutoff`, with no `kind` notice
    for that moment yet; locked, and skipped when another process holds them."""
    moment = col(getattr(Ticket, since))
    done = select(TicketNotice.id).where(
        TicketNotice.ticket_id == Ticket.id, TicketNotice.kind == kind, TicketNotice.due == moment
    )
    tickets = session.exec(
        select(Ticket)
        .where(*where, moment.is_not(None), moment <= cutoff, ~exists(done))
        .order_by(moment)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Ticket)
    ).all()
    return [Waited(ticket, aware(getattr(ticket, since))) for ticket in tickets]


def _key(waited: Waited, kind: str, now: datetime) -> dict[str, Any]:
    return {"ticket": waited.ticket, "kind": kind, "due": waited.since, "now": now}


def _close(session: Session, desk: Desk, waited: Waited, kind: str, now: datetime) -> bool:
    """Close the ticket, its event named `kind`, unless that was done for this moment."""
    if not claim_notice(session, **_key(waited, kind, now)):
        return False
    change(
        session,
        desk=desk,
        ticket=waited.ticket,
        actor=SYSTEM,
        now=now,
        status_event=kind,
        status=TicketStatus.CLOSED,
    )
    return True


def next_contact(session: Session, *, settings: Settings, ticket: Ticket) -> datetime | None:
    """When the desk next turns to this waiting ticket by itself: a snooze's end; for a
    pending ticket the reminder not sent yet or the close, whichever comes first; for a
    resolved, unrated one the close after the ratings wait. None for a ticket in work."""
    if ticket.status == TicketStatus.RESOLVED and ticket.rating is None and ticket.resolved_at:
        return aware(ticket.resolved_at) + settings.ratings.wait
    if ticket.status != TicketStatus.PENDING:
        return None
    if ticket.snoozed_until is not None:
        return aware(ticket.snoozed_until)
    if ticket.paused_since is None:
        return None
    since, lifecycle = aware(ticket.paused_since), settings.lifecycle
    moments = [since + lifecycle.pending_close] if lifecycle.pending_close else []
    if lifecycle.pending_reminder and not _reminded(session, ticket, since):
        moments.append(since + lifecycle.pending_reminder)
    return min(moments, default=None)


def _reminded(session: Session, ticket: Ticket, since: datetime) -> bool:
    sent = select(TicketNotice.id).where(
        TicketNotice.ticket_id == ticket.id,
        TicketNotice.kind == PENDING_REMINDER,
        TicketNotice.due == since,
    )
    return session.exec(sent).first() is not None


def time_spent_minutes(session: Session, *, ticket: Ticket) -> int:
    """The minutes agents logged on the ticket (`#time`)."""
    total = select(func.coalesce(func.sum(TimeEntry.minutes), 0)).where(
        TimeEntry.ticket_id == ticket.id
    )
    return int(session.exec(total).one())
