"""Agents managed from the CLI (configured ones are synced from the config at start)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from maildesk.desk import Desk
from maildesk.errors import InvalidInput, NotFound
from maildesk.models import Agent, Ticket
from maildesk.services.contacts import forget_active_agents
from maildesk.services.ticket_change import change
from maildesk.services.tickets import Actor

ROLES = ("agent", "supervisor")


def list_agents(session: Session) -> list[Agent]:
    return list(session.exec(select(Agent).order_by(col(Agent.email))))


def get_agent(session: Session, *, email: str) -> Agent:
    agent = session.exec(select(Agent).where(Agent.email == email.lower())).first()
    if agent is None:
        raise NotFound(f"no agent {email}")
    return agent


def _validate(
    *, role: str | None, level: int | None, queues: list[str] | None, known_queues: list[str]
) -> None:
    if role is not None and role not in ROLES:
        raise InvalidInput(f"unknown role {role!r} (use {', '.join(ROLES)})")
    if level is not None and not 1 <= level <= 9:
        raise InvalidInput(f"support level must be 1-9, not {level}")
    unknown = [q for q in queues or [] if q not in known_queues]
    if unknown:
        raise InvalidInput(f"unknown queue {unknown[0]!r} (known: {', '.join(known_queues)})")


def add_agent(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    level: int,
    queues: list[str],
    known_queues: list[str],
) -> Agent:
    email = email.strip().lower()
    if "@" not in email or " " in email:
        raise InvalidInput(f"not an email address: {email!r}")
    _validate(role=role, level=level, queues=queues, known_queues=known_queues)
    agent = session.exec(select(Agent).where(Agent.email == email)).first()
    if agent is not None and agent.active:
        raise InvalidInput(f"agent {email} exists (use `maildesk agent set`)")
    agent = agent or Agent(email=email)
    agent.name, agent.role, agent.level, agent.queues = name, role, level, list(queues)
    agent.active, agent.away = True, False
    session.add(agent)
    forget_active_agents(session)
    return agent


def set_agent(
    session: Session,
    *,
    email: str,
    known_queues: list[str],
    name: str | None = None,
    role: str | None = None,
    level: int | None = None,
    queues: list[str] | None = None,
    away: bool | None = None,
) -> Agent:
    agent = get_agent(session, email=email)
    _validate(role=role, level=level, queues=queues, known_queues=known_queues)
    changes = {
        "name": name,
        "role": role,
        "level": level,
        "away": away,
        "queues": list(queues) if queues is not None else None,
    }
    for field, value in changes.items():
        if value is not None:
            setattr(agent, field, value)
    session.add(agent)
    forget_active_agents(session)
    return agent


def remove_agent(session: Session, *, desk: Desk, email: str, actor: Actor, now: datetime) -> Agent:
    """Deactivate (history keeps naming them); each of their tickets is unassigned, audited."""
    agent = get_agent(session, email=email)
    agent.active = False
    assigned = session.exec(select(Ticket).where(Ticket.assignee_id == agent.id)).all()
    for ticket in assigned:
        change(session, desk=desk, ticket=ticket, actor=actor, now=now, assignee_id=None)
    session.add(agent)
    forget_active_agents(session)
    return agent
