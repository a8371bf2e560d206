"""Support levels: an escalation moves a ticket up its queue's levels and assigns it there.

Used by `#escalate` and by the rules' `level` action; the escalation notice goes to the
previous assignee and the new one (or, with nobody assigned, the new level's agents) and the
watchers, never to the agent who escalated.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from maildesk.desk import Desk
from maildesk.models import Agent, Ticket
from maildesk.notices import NoticeEvent, notify
from maildesk.services.assignment import assign_by_strategy
from maildesk.services.contacts import queue_agents
from maildesk.services.ticket_change import change
from maildesk.services.tickets import Actor


def next_level(session: Session, *, ticket: Ticket) -> int:
    """The lowest level above the ticket's that an available agent of its queue works at."""
    above = [a.level for a in queue_agents(session, queue=ticket.queue) if a.level > ticket.level]
    return min(above, default=ticket.level + 1)


def escalate(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    by: Agent | None,
    reason: str,
    to_level: int | None = None,
) -> Agent | None:
    """Move `ticket` to `to_level` (None: the next level of its queue) and assign it there by
    its queue's strategy; returns the new assignee. With the strategy `none`, or nobody
    available at that level, the ticket is left unassigned for the level to pick up.
    """
    before, previous = ticket.level, _agent(session, ticket.assignee_id)
    level = to_level if to_level is not None else next_level(session, ticket=ticket)
    change(session, desk=desk, ticket=ticket, actor=actor, now=now, level=level, assignee_id=None)
    agent = assign_by_strategy(session, desk=desk, ticket=ticket, actor=actor, now=now)
    facts = {
        "escalated_by": (by.name or by.email) if by else actor.name,
        "from_level": before,
        "to_level": ticket.level,
        "reason": reason,
        "assignee_name": (agent.name or agent.email) if agent else "",
        "previous_assignee": previous.email if previous else "",
    }
    notify(
        session,
        desk=desk,
        event=NoticeEvent.ESCALATED,
        ticket=ticket,
        now=now,
        actor_agent=by,
        facts=facts,
    )
    return agent


def _agent(session: Session, agent_id: int | None) -> Agent | None:
    return session.get(Agent, agent_id) if agent_id is not None else None
