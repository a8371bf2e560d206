"""An agent's message on a ticket: run its commands (all or none), then publish what remains.

Shared by agent mail and `maildesk ticket do`; the caller stores the message itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from maildesk.commands import BadLine, Command, Parsed, parse_commands, parse_line
from maildesk.desk import Desk
from maildesk.errors import NotFound
from maildesk.models import Agent, Message, MessageRole, Ticket, Visibility
from maildesk.quotes import strip_quoted
from maildesk.services.actions import Effects, apply_actions
from maildesk.services.command_plan import plan_commands
from maildesk.services.contacts import find_agent
from maildesk.services.notices import notify_agents, relay_agent_reply, watchers
from maildesk.services.tickets import (
    Actor,
    add_message,
    follow_merges,
    get_ticket,
    record_event,
    set_status,
)


@dataclass(frozen=True)
class CommandRun:
    errors: tuple[BadLine, ...]
    ticket: Ticket  # where the message belongs (the target after a #merge)
    body: str  # macro texts, then the agent's own text without quoted history
    internal: bool  # #note: stored for agents only, never sent to the customer


def run_commands(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    text: str,
    actor: Actor,
    now: datetime,
) -> CommandRun:
    """Check every command line; apply them only if all are fine, else tell the agent why."""
    parsed = parse_commands(text, now, desk.settings.desk.zone)
    actions, errors = plan_commands(
        session, desk=desk, ticket=ticket, agent=agent, parsed=parsed, now=now
    )
    if errors:
        report_errors(
            session, desk=desk, ticket=ticket, agent=agent, errors=errors, actor=actor, now=now
        )
        return CommandRun(tuple(errors), ticket, "", internal=True)
    own = strip_quoted(parsed.text)
    effects: Effects = apply_actions(
        session,
        desk=desk,
        ticket=ticket,
        agent=agent,
        actions=actions,
        actor=actor,
        now=now,
        text=own,
    )
    body = effects.body(own)
    return CommandRun((), follow_merges(session, ticket), body, internal=effects.note)


def report_errors(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    errors: list[BadLine],
    actor: Actor,
    now: datetime,
    kind: str = "notify",
) -> None:
    listed = [{"line": e.line, "reason": e.reason} for e in errors]
    record_event(
        session,
        ticket=ticket,
        actor=actor,
        type="commands-rejected",
        now=now,
        data={"errors": listed},
    )
    notify_agents(
        session,
        desk=desk,
        ticket=ticket,
        template="command_error",
        agents=[agent],
        text="",
        now=now,
        extra={"errors": listed},
        kind=kind,
    )


def publish(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    message: Message,
    actor: Actor,
    now: datetime,
) -> None:
    """Relay a public agent message to the customer (and watchers); the first response counts."""
    if message.visibility != "public" or not message.text.strip():
        return
    relay_agent_reply(session, desk=desk, ticket=ticket, agent=agent, text=message.text, now=now)
    notify_agents(
        session,
        desk=desk,
        ticket=ticket,
        template="notify_reply",
        agents=watchers(session, ticket=ticket, besides={agent.id}),
        text=message.text,
        now=now,
        extra={"author_name": agent.name or agent.email, "author_email": agent.email},
    )
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        record_event(session, ticket=ticket, actor=actor, type="first-response", data={}, now=now)
    if ticket.status == "new":
        set_status(session, ticket=ticket, status="open", actor=actor, now=now)


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
    lines: list[str],
    text: str,
    now: datetime,
) -> DoResult:
    """`maildesk ticket do`: the same checks and effects as agent mail; the caller is trusted.

    Errors are returned, not mailed: the operator sees them at once. Nothing changes then
    (the caller's transaction must be rolled back or left without changes; we raise nothing).
    """
    ticket = get_ticket(session, ref=ref)
    agent = find_agent(session, email=agent_email)
    if agent is None:
        raise NotFound(f"no agent {agent_email}")
    actor = Actor(agent.email, "cli")
    block = [line if line.lstrip().startswith("#") else f"#{line}" for line in lines]
    results = [parse_line(line, now, desk.settings.desk.zone) for line in block]
    parsed = Parsed(  # the message is text, even when it starts with a "#"
        commands=tuple(r for r in results if isinstance(r, Command)),
        errors=tuple(r for r in results if isinstance(r, BadLine)),
        text=text,
    )
    actions, errors = plan_commands(
        session, desk=desk, ticket=ticket, agent=agent, parsed=parsed, now=now
    )
    if errors:
        return DoResult(ticket, tuple(errors), relayed=False)
    effects = apply_actions(
        session,
        desk=desk,
        ticket=ticket,
        agent=agent,
        actions=actions,
        actor=actor,
        now=now,
        text=parsed.text.strip(),
    )
    target = follow_merges(session, ticket)
    body = effects.body(parsed.text)
    if not body:
        return DoResult(target, (), relayed=False)
    message = add_message(
        session,
        ticket=target,
        now=now,
        direction="out",
        visibility=Visibility.INTERNAL if effects.note else Visibility.PUBLIC,
        role=MessageRole.AGENT,
        author=agent.email,
        author_name=agent.name,
        subject=target.subject,
        text=body,
        original=body,
    )
    record_event(
        session,
        ticket=target,
        actor=actor,
        type="message",
        now=now,
        data={"role": "agent", "visibility": message.visibility},
    )
    publish(session, desk=desk, ticket=target, agent=agent, message=message, actor=actor, now=now)
    return DoResult(target, (), relayed=message.visibility == "public")
