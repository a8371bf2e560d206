"""Every mail the agent commands cause, one function per occasion (all through services/notices).

Queued in the caller's transaction, like every notice: nothing here commits or sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from maildesk.agent.lines import BadLine
from maildesk.desk import Desk
from maildesk.models import Agent, Ticket
from maildesk.services.notices import (
    notify_agents,
    notify_status,
    relay_agent_reply,
    tell_agent,
    watchers,
)


def _notice(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    *,
    template: str,
    agents: list[Agent],
    now: datetime,
    extra: dict[str, Any],
    text: str = "",
    kind: str = "notify",
) -> None:
    notify_agents(
        session,
        desk=desk,
        ticket=ticket,
        template=template,
        agents=agents,
        text=text,
        now=now,
        extra=extra,
        kind=kind,
    )


def assigned(
    session: Session, *, desk: Desk, ticket: Ticket, by: Agent, to: Agent | None, now: datetime
) -> None:
    """The new assignee (unless they took it themselves) and the watchers hear who has it."""
    extra = {
        "assigned_by": by.name or by.email,
        "assignee_name": (to.name or to.email) if to else "nobody",
    }
    if to is not None and to.id != by.id:
        _notice(
            session,
            desk,
            ticket,
            template="notify_assigned",
            agents=[to],
            now=now,
            extra=extra | {"to_you": True},
        )
    others = watchers(session, ticket=ticket, besides={by.id, to.id if to else None})
    _notice(
        session,
        desk,
        ticket,
        template="notify_assigned",
        agents=others,
        now=now,
        extra=extra | {"to_you": False},
    )


def escalated(
    session: Session, *, desk: Desk, ticket: Ticket, by: Agent, to: list[Agent], now: datetime
) -> None:
    """The agents of the new level, and the watchers (never the agent who escalated)."""
    besides = {by.id, *(agent.id for agent in to)}
    agents = to + watchers(session, ticket=ticket, besides=besides)
    extra = {"target": "escalation", "due": "now", "overdue": "-", "level": ticket.level}
    _notice(session, desk, ticket, template="sla_breach", agents=agents, now=now, extra=extra)


def status_changed(session: Session, *, desk: Desk, ticket: Ticket, now: datetime) -> None:
    """Resolved or closed without a reply: the customer gets the status mail."""
    notify_status(session, desk=desk, ticket=ticket, now=now)


def reply_published(
    session: Session, *, desk: Desk, ticket: Ticket, agent: Agent, text: str, now: datetime
) -> None:
    """The agent's public reply goes to the customer; watchers read a copy (not the author)."""
    relay_agent_reply(session, desk=desk, ticket=ticket, agent=agent, text=text, now=now)
    extra = {"author_name": agent.name or agent.email, "author_email": agent.email}
    others = watchers(session, ticket=ticket, besides={agent.id})
    _notice(
        session,
        desk,
        ticket,
        template="notify_reply",
        agents=others,
        now=now,
        extra=extra,
        text=text,
    )


def command_errors(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    errors: Sequence[BadLine],
    now: datetime,
    kind: str = "notify",
) -> None:
    """The agent hears, on the ticket's thread, which lines were bad and why."""
    listed = [{"line": e.line, "reason": e.reason} for e in errors]
    _notice(
        session,
        desk,
        ticket,
        template="command_error",
        agents=[agent],
        now=now,
        extra={"errors": listed},
        kind=kind,
    )


def errors_without_ticket(
    session: Session,
    *,
    desk: Desk,
    agent: Agent,
    errors: Sequence[BadLine],
    subject: str,
    now: datetime,
    kind: str = "notify",
) -> None:
    """The same, about a mail that is on no ticket (a refused `#to`, a mail held in their name)."""
    tell_agent(
        session, desk=desk, agent=agent, errors=list(errors), subject=subject, now=now, kind=kind
    )
