"""Automatic assignment: which available agent of a queue gets a ticket, by the queue's strategy.

Candidates are the queue's agents (`contacts.queue_agents`: active, not away) at exactly the
ticket's support level who are on hours by their calendar (none: always). `least-loaded` picks,
in one SQL query, the fewest tickets in new/open/pending (`Agent.open_tickets`, which the
database keeps as tickets change: no ticket is counted per pick), then who waited longest
since their last assignment (never assigned first), then the lowest id. `round-robin` picks the
candidate whose last assignment is oldest (never assigned first, then the lowest id): every
assignment stamps `Agent.last_assigned_at` with a strictly increasing moment, so the candidates
take turns.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, nulls_first
from sqlmodel import Session, col, select

from maildesk.config import Settings
from maildesk.desk import Desk
from maildesk.models import Agent, Ticket
from maildesk.services.contacts import queue_agents
from maildesk.services.ticket_change import change
from maildesk.services.tickets import Actor, record_event
from maildesk.timing.calendar_config import calendars_from_config
from maildesk.timing.calendars import Calendar, is_open

NONE, LEAST_LOADED, ROUND_ROBIN = "none", "least-loaded", "round-robin"
STRATEGIES = (NONE, LEAST_LOADED, ROUND_ROBIN)
_TICK = timedelta(microseconds=1)


def queue_strategy(settings: Settings, *, queue: str) -> str:
    """The queue's configured `assignment` (an unknown queue assigns nobody)."""
    found = [q.assignment for q in settings.effective_queues() if q.name == queue]
    return found[0] if found else NONE


def _calendars(session: Session, settings: Settings) -> dict[str, Calendar]:
    """The config's calendars, read once per unit of work."""
    if "calendars" not in session.info:
        tables = list(settings.calendars)
        found, _problems = calendars_from_config(tables, default_timezone=settings.desk.timezone)
        session.info["calendars"] = found  # the problems are `config check`'s to name
    calendars: dict[str, Calendar] = session.info["calendars"]
    return calendars


def on_hours(agent: Agent, calendars: dict[str, Calendar], now: datetime) -> bool:
    """Within the agent's working hours; no calendar (or one the config lacks) is always on."""
    calendar = calendars.get(agent.calendar) if agent.calendar else None
    return calendar is None or is_open(calendar, now)


def available_agents(
    session: Session, *, settings: Settings, queue: str, level: int, now: datetime
) -> list[Agent]:
    """Who may be assigned now: the queue's agents at exactly `level`, on hours."""
    calendars = _calendars(session, settings)
    return [
        agent
        for agent in queue_agents(session, queue=queue)
        if agent.level == level and on_hours(agent, calendars, now)
    ]


# Built once: the candidates (their ids bound per pick), in the strategy's order.
_WAITED = (nulls_first(col(Agent.last_assigned_at).asc()), col(Agent.id))
_CANDIDATES = select(Agent).where(col(Agent.id).in_(bindparam("ids", expanding=True))).limit(1)
_PICKS = {
    LEAST_LOADED: _CANDIDATES.order_by(col(Agent.open_tickets), *_WAITED),
    ROUND_ROBIN: _CANDIDATES.order_by(*_WAITED),
}


def pick_agent(
    session: Session,
    *,
    settings: Settings,
    queue: str,
    level: int,
    strategy: str,
    now: datetime,
) -> Agent | None:
    """The agent `strategy` gives a ticket of `queue` at `level`; None: nobody (or `none`)."""
    if strategy not in (LEAST_LOADED, ROUND_ROBIN):
        return None
    ids = [
        a.id
        for a in available_agents(session, settings=settings, queue=queue, level=level, now=now)
    ]
    if not ids:
        return None
    return session.exec(_PICKS[strategy], params={"ids": ids}).first()


def assign_agent(
    session: Session, *, desk: Desk, ticket: Ticket, agent: Agent, actor: Actor, now: datetime
) -> bool:
    """Make `agent` the assignee (audited) and stamp their turn; False if they had it already."""
    if not change(session, desk=desk, ticket=ticket, actor=actor, now=now, assignee_id=agent.id):
        return False
    latest = session.exec(select(func.max(Agent.last_assigned_at))).one()
    agent.last_assigned_at = now if latest is None or latest < now else latest + _TICK
    session.add(agent)
    return True


def assign_by_strategy(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    strategy: str | None = None,
) -> Agent | None:
    """Assign `ticket` by `strategy` (None: its queue's); returns the assignee, None: nobody.

    When the strategy finds nobody available, the ticket stays unassigned, with an event
    saying why (its queue's agents are told of it as of an unassigned ticket).
    """
    settings = desk.settings
    strategy = strategy or queue_strategy(settings, queue=ticket.queue)
    if strategy == NONE:
        return None
    agent = pick_agent(
        session,
        settings=settings,
        queue=ticket.queue,
        level=ticket.level,
        strategy=strategy,
        now=now,
    )
    if agent is None:
        why = f"no agent of queue {ticket.queue} at level {ticket.level} is available"
        data = {"strategy": strategy, "reason": why}
        record_event(session, ticket=ticket, actor=actor, type="unassigned", data=data, now=now)
        return None
    assign_agent(session, desk=desk, ticket=ticket, agent=agent, actor=actor, now=now)
    return agent
