"""A small November of a desk whose report figures are worked out by hand in the tests.

Thirteen tickets written as rows (the figures are what matters here, not how mail made them):
T1-T10 and T13 created in November 2026, T11 in October (outside the window), T12 merged
into T1 (never counted). First responses T1-T10 took 5, 10, 15, 20, 30, 45, 60, 90, 120 and
240 business minutes; T1-T6 were resolved in 100, 200, 300, 400, 500 and 900.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from maildesk.models import (
    Agent,
    Contact,
    Message,
    MessageRole,
    Organisation,
    Ticket,
    TicketNotice,
    TicketStatus,
    TimeEntry,
    Visibility,
)
from maildesk.report_values import ReportScope

NOVEMBER = ReportScope(
    since=datetime(2026, 11, 1, tzinfo=UTC), until=datetime(2026, 12, 1, tzinfo=UTC)
)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the clock fixture's START


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    """One ticket of the history: (day created, queue, status, requester, assignee, policy, …)."""

    n: int
    created: datetime
    queue: str
    status: TicketStatus
    requester: str
    assignee: str | None
    policy: str | None
    first_response: int | None  # business minutes, reached that many wall minutes after creation
    resolution: int | None
    rating: int | None = None
    comment: str | None = None
    service: str | None = None


OPEN, P, R, C, N = (
    TicketStatus.OPEN,
    TicketStatus.PENDING,
    TicketStatus.RESOLVED,
    TicketStatus.CLOSED,
    TicketStatus.NEW,
)
CAROL, DAVE, ERIN = "carol@acme.example", "dave@acme.example", "erin@gmail.example"
ALICE, BOB = "alice@example.com", "bob@example.com"

ROWS = (
    Row(1, at(2), "general", C, CAROL, ALICE, "standard", 5, 100, 5, "Great", "mail"),
    Row(2, at(2), "general", C, CAROL, ALICE, "standard", 10, 200, 5, None, "mail"),
    Row(3, at(2), "billing", R, CAROL, ALICE, "standard", 15, 300, 1, "Too slow", "mail"),
    Row(4, at(3), "general", R, CAROL, BOB, "standard", 20, 400, 2, "Meh", "mail"),
    Row(5, at(3), "general", R, DAVE, BOB, "standard", 30, 500, None, None, "mail"),
    Row(6, at(10), "general", R, DAVE, BOB, "standard", 45, 900, 3),
    Row(7, at(10), "billing", P, DAVE, ALICE, "premium", 60, None),
    Row(8, at(10), "general", OPEN, ERIN, BOB, "premium", 90, None),
    Row(9, at(20), "general", OPEN, ERIN, ALICE, "standard", 120, None),
    Row(10, at(22), "general", OPEN, ERIN, None, "premium", 240, None),
    Row(11, at(15, month=10), "general", R, CAROL, ALICE, "standard", 1000, 5000, 1, "October"),
    Row(13, at(22, 12), "general", N, ERIN, BOB, None, None, None),
)


def _contacts(session: Session) -> dict[str, int]:
    acme = Organisation(domain="acme.example", name="Acme")
    session.add(acme)
    session.flush()
    found = {}
    for email, org in ((CAROL, acme.id), (DAVE, acme.id), (ERIN, None)):
        contact = Contact(email=email, organisation_id=org, created_at=at(1, month=10))
        session.add(contact)
        session.flush()
        found[email] = contact.id or 0
    return found


def _ticket(row: Row, contacts: dict[str, int], agents: dict[str, int]) -> Ticket:
    first = row.created + timedelta(minutes=row.first_response) if row.first_response else None
    resolved = row.created + timedelta(minutes=row.resolution) if row.resolution else None
    return Ticket(
        id=row.n,
        ref=f"TKT-{row.n}",
        subject=f"Ticket {row.n}",
        status=row.status,
        queue=row.queue,
        service=row.service,
        requester_id=contacts[row.requester],
        assignee_id=agents[row.assignee] if row.assignee else None,
        sla_policy=row.policy,
        created_at=row.created,
        updated_at=row.created,
        first_response_at=first,
        first_response_minutes=row.first_response,
        # due an hour after creation, an hour and a half for a resolution: T3 answered late
        first_response_due=row.created + timedelta(minutes=12 if row.n == 3 else 600),
        resolved_at=resolved,
        resolution_minutes=row.resolution,
        resolution_due=row.created + timedelta(minutes=800 if row.n == 6 else 9000),
        closed_at=resolved + timedelta(days=1) if resolved and row.status == C else None,
        reopened=1 if row.n == 6 else 0,
        rating=row.rating,
        rating_comment=row.comment,
        rated_at=resolved + timedelta(hours=2) if row.rating and resolved else None,
    )


def _message(ticket: int, role: MessageRole, minute: int, *, public: bool = True) -> Message:
    created = next(r.created for r in ROWS if r.n == ticket)
    return Message(
        ticket_id=ticket,
        direction="in" if role == MessageRole.CUSTOMER else "out",
        role=role,
        visibility=Visibility.PUBLIC if public else Visibility.INTERNAL,
        created_at=created + timedelta(minutes=minute),
    )


CUSTOMER, AGENT = MessageRole.CUSTOMER, MessageRole.AGENT
#: after the first response: T1's customer waited 40 minutes for the next reply, T2's 80 (an
#: internal note is no reply), T5's 10; T4's is not answered yet. Openings count for nothing.
MESSAGES = (
    (1, CUSTOMER, 0, True), (1, AGENT, 5, True), (1, CUSTOMER, 60, True), (1, AGENT, 100, True),
    (2, CUSTOMER, 0, True), (2, CUSTOMER, 120, True), (2, AGENT, 130, False), (2, AGENT, 200, True),
    (4, CUSTOMER, 100, True), (5, CUSTOMER, 300, True), (5, AGENT, 310, True),
)  # fmt: skip
#: (ticket, agent, minutes, when): Alice's hour on T11 was in October
TIME = ((1, ALICE, 30, at(2)), (3, ALICE, 15, at(4)), (4, BOB, 45, at(3)), (8, BOB, 20, at(11)),
        (11, ALICE, 60, at(15, month=10)))  # fmt: skip


def write_history(session: Session) -> None:
    """The tickets, their messages, breach notices and time logged; agents come from the config."""
    agents = {a.email: a.id or 0 for a in session.exec(select(Agent))}
    contacts = _contacts(session)
    for row in ROWS:
        session.add(_ticket(row, contacts, agents))
    merged = _ticket(Row(12, at(2), "general", C, CAROL, ALICE, "standard", 7, 7), contacts, agents)
    merged.merged_into_id = 1
    session.add(merged)
    session.flush()
    for ticket, role, minute, public in MESSAGES:
        session.add(_message(ticket, role, minute, public=public))
    for ticket, target in ((8, "next_reply"), (10, "first_response")):
        due = at(11)
        session.add(
            TicketNotice(ticket_id=ticket, kind="sla-breach", target=target, due=due, at=due)
        )
    for ticket, agent, minutes, when in TIME:
        session.add(TimeEntry(ticket_id=ticket, agent_id=agents[agent], minutes=minutes, at=when))
    session.flush()
