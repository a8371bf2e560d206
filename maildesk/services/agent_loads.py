"""Each agent's stored load against a count of their tickets: where the two differ (`maildesk
doctor`) and a recount that makes them agree (`maildesk db recount`).

The stored load, `Agent.open_tickets`, is kept by triggers on `ticket` (migration 0006); it can
only drift when something goes around them (a hand-made SQL change, a table restored alone).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, text, update
from sqlmodel import Session, col, select

from maildesk.models import Agent, Ticket, TicketStatus

LOAD_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


@dataclass(frozen=True)
class Drift:
    """An agent whose stored load is not the number of their tickets in work."""

    agent_id: int
    email: str
    stored: int
    counted: int

    def line(self) -> str:
        return f"{self.email} {self.stored} stored, {self.counted} counted"


def load_drift(session: Session) -> list[Drift]:
    """Every agent whose stored load differs from the count (one query over the tickets in
    new/open/pending only), by email."""
    counted = (
        select(col(Ticket.assignee_id).label("agent_id"), func.count().label("tickets"))
        .where(col(Ticket.status).in_(LOAD_STATUSES), col(Ticket.assignee_id).is_not(None))
        .group_by(col(Ticket.assignee_id))
        .subquery()
    )
    tickets = func.coalesce(counted.c.tickets, 0)
    rows = session.exec(
        select(Agent.id, Agent.email, Agent.open_tickets, tickets)
        .outerjoin(counted, counted.c.agent_id == col(Agent.id))
        .where(col(Agent.open_tickets) != tickets)
        .order_by(col(Agent.email))
    ).all()
    return [Drift(agent_id or 0, email, stored, count) for agent_id, email, stored, count in rows]


def recount_loads(session: Session) -> list[Drift]:
    """Set each drifted load to the count; returns what was corrected. On PostgreSQL the
    tickets are locked against writers until the caller commits, so no change of another
    process falls between the count and the correction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE ticket IN SHARE MODE"))
    drift = load_drift(session)
    for found in drift:
        session.execute(
            update(Agent).where(col(Agent.id) == found.agent_id).values(open_tickets=found.counted)
        )
    return drift
