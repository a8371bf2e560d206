"""`maildesk ticket do REF "#…" --as AGENT`: the agent's message, typed into a shell.

The same checks, effects and events as agent mail; the named agent is trusted, and bad
lines are returned to be printed instead of mailed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from maildesk.agent.lines import BadLine
from maildesk.agent.run import Said, StoreFn, Via, run_agent_message
from maildesk.desk import Desk
from maildesk.errors import NotFound
from maildesk.models import Agent, Message, MessageRole, Ticket, Visibility
from maildesk.services.contacts import find_agent
from maildesk.services.tickets import Actor, add_message, get_ticket


@dataclass(frozen=True)
class DoResult:
    ticket: Ticket
    errors: tuple[BadLine, ...]
    relayed: bool


def do_commands(
    session: Session,
    *,
    desk: Desk,
    ref: str,
    agent_email: str,
    lines: Sequence[str],
    text: str,
    now: datetime,
) -> DoResult:
    """Run the lines as `agent_email` on ticket `ref`; `text` is the message, even after "#".

    Nothing changes when a line is bad (we raise nothing: the caller's transaction holds
    no change then).
    """
    ticket = get_ticket(session, ref=ref)
    agent = find_agent(session, email=agent_email)
    if agent is None:
        raise NotFound(f"no agent {agent_email}")
    result = run_agent_message(
        session,
        desk=desk,
        ticket=ticket,
        agent=agent,
        said=Said.by_hand(lines, text),
        via=Via(_store_typed(session, agent, now), mail_errors=False),
        actor=Actor(agent.email, "cli"),
        now=now,
    )
    relayed = result.message is not None and result.message.visibility == Visibility.PUBLIC
    return DoResult(result.ticket, result.errors, relayed=relayed)


def _store_typed(session: Session, agent: Agent, now: datetime) -> StoreFn:
    """A typed message is stored as it was typed, under the ticket's subject."""

    def store(ticket: Ticket, visibility: Visibility, body: str) -> Message:
        return add_message(
            session,
            ticket=ticket,
            now=now,
            direction="out",
            visibility=visibility,
            role=MessageRole.AGENT,
            author=agent.email,
            author_name=agent.name,
            subject=ticket.subject,
            text=body,
            original=body,
        )

    return store
