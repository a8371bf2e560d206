"""The SLA clock of a ticket, kept true after every change: its policy, its deadlines, when it
stands still, and the next moment the SLA sweep must look at it.

The clock stops while the ticket is pending, resolved or closed; the business minutes it
stood still are added to its targets when it runs again, so every deadline moves on by them.
The first response is met by the first public agent reply, the resolution by `resolved`,
the next reply (a customer's reply answered) by a public agent reply.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from maildesk.models import Ticket, TicketStatus
from maildesk.timing.calendars import TWENTY_FOUR_SEVEN, Calendar, business_between
from maildesk.timing.clock import aware
from maildesk.timing.sla import FIRST_RESPONSE, NEXT_REPLY, RESOLUTION, SlaBook, SlaPolicy

STOPPED = frozenset({TicketStatus.PENDING, TicketStatus.RESOLVED, TicketStatus.CLOSED})
DONE = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})
POLICY_FIELDS = frozenset({"created", "priority", "queue", "service", "category"})
CLOCK_FIELDS = POLICY_FIELDS | {"status", "first_response_at", "customer_waiting_since"}
WARNING, BREACH = "sla-warning", "sla-breach"


@dataclass(frozen=True)
class Moment:
    """A moment the sweep acts on: `kind` (warning or breach) of `target`, due at `due`."""

    target: str
    kind: str
    at: datetime
    due: datetime


def policy_facts(ticket: Ticket) -> dict[str, str | None]:
    """What a policy's `match` is compared with."""
    return {
        "service": ticket.service,
        "queue": ticket.queue,
        "priority": str(ticket.priority),
        "category": ticket.category,
    }


def follow_clock(
    session: Session, book: SlaBook, ticket: Ticket, changed: frozenset[str], now: datetime
) -> None:
    """After a change: pick the policy again if what it matches changed, stop or restart the
    clock with the status, count the business minutes a target took, and set the deadlines."""
    if not changed & CLOCK_FIELDS:
        return
    policy = book.named(ticket.sla_policy)
    if changed & POLICY_FIELDS:
        policy = book.pick(policy_facts(ticket))
        ticket.sla_policy = policy.name if policy else None
    calendar = policy.calendar if policy else TWENTY_FOUR_SEVEN
    if "status" in changed:
        _stop_or_start(ticket, changed, calendar, now)
    if "first_response_at" in changed and ticket.first_response_at is not None:
        ticket.first_response_minutes = elapsed(ticket, calendar, ticket.first_response_at)
    _set_deadlines(ticket, policy, changed)
    ticket.sla_next_at = next_moment(policy, ticket, after=None)
    session.add(ticket)


def elapsed(ticket: Ticket, calendar: Calendar, at: datetime) -> int:
    """Business minutes the clock has run from the ticket's creation to `at`."""
    total = business_between(calendar, aware(ticket.created_at), at) - ticket.paused_minutes
    if ticket.paused_since is not None:
        total -= business_between(calendar, aware(ticket.paused_since), at)
    return max(total, 0)


def _stop_or_start(
    ticket: Ticket, changed: frozenset[str], calendar: Calendar, now: datetime
) -> None:
    if ticket.status == TicketStatus.RESOLVED and "resolved_at" in changed:
        ticket.resolution_minutes = elapsed(ticket, calendar, now)
    stopped = ticket.status in STOPPED
    if stopped and ticket.paused_since is None:
        ticket.paused_since = now
    elif not stopped and ticket.paused_since is not None:
        ticket.paused_minutes += business_between(calendar, aware(ticket.paused_since), now)
        ticket.paused_since = None
        if changed & {"resolved_at", "closed_at"}:
            ticket.reopened += 1


def _set_deadlines(ticket: Ticket, policy: SlaPolicy | None, changed: frozenset[str]) -> None:
    """Deadlines from the policy; a met first response and a resolved ticket keep theirs."""
    if policy is None:
        ticket.first_response_due = ticket.resolution_due = ticket.next_reply_due = None
        return
    created, paused = aware(ticket.created_at), ticket.paused_minutes
    if ticket.first_response_at is None or "first_response_at" in changed:
        ticket.first_response_due = policy.due(FIRST_RESPONSE, created, paused)
    if ticket.status not in DONE:
        ticket.resolution_due = policy.due(RESOLUTION, created, paused)
    waiting = ticket.customer_waiting_since
    answered_before = ticket.first_response_at is not None
    ticket.next_reply_due = (
        policy.due(NEXT_REPLY, aware(waiting)) if waiting and answered_before else None
    )


def _running(ticket: Ticket) -> Iterator[tuple[str, datetime, datetime]]:
    """The targets whose clock runs now: (target, origin, due)."""
    if ticket.paused_since is not None or ticket.status in STOPPED:
        return
    created = aware(ticket.created_at)
    if ticket.first_response_at is None and ticket.first_response_due is not None:
        yield FIRST_RESPONSE, created, aware(ticket.first_response_due)
    if ticket.resolution_due is not None:
        yield RESOLUTION, created, aware(ticket.resolution_due)
    waiting = ticket.customer_waiting_since
    if ticket.next_reply_due is not None and waiting is not None:
        yield NEXT_REPLY, aware(waiting), aware(ticket.next_reply_due)


def moments(policy: SlaPolicy | None, ticket: Ticket) -> list[Moment]:
    """The warning and the breach of every running target, in time order."""
    if policy is None:
        return []
    found = []
    for target, origin, due in _running(ticket):
        found.append(Moment(target, WARNING, policy.warning(target, origin, due), due))
        found.append(Moment(target, BREACH, due, due))
    return sorted(found, key=lambda m: m.at)


def next_moment(
    policy: SlaPolicy | None, ticket: Ticket, *, after: datetime | None
) -> datetime | None:
    """The first moment (after `after`, if given) the sweep must act at; None if there is none.

    Without `after`, past moments count: the sweep then sends what was not sent (its notice
    rows make a second sending impossible).
    """
    return next((m.at for m in moments(policy, ticket) if after is None or m.at > after), None)
