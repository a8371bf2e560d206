"""An agent's message on a ticket, from mail or `maildesk ticket do`: the one way it is handled.

Its commands run all or none; then what remains is stored, recorded and published.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from maildesk.agent import tell
from maildesk.agent.apply import apply_actions
from maildesk.agent.lines import BadLine, split_block
from maildesk.agent.parser import parse_lines
from maildesk.agent.plan import plan_commands
from maildesk.agent.spec import Effects
from maildesk.desk import Desk
from maildesk.mail.quotes import strip_quoted
from maildesk.models import (
    Agent,
    Message,
    MessageRole,
    Relation,
    Ticket,
    TicketStatus,
    Visibility,
)
from maildesk.notices import Thread
from maildesk.services.ticket_change import change
from maildesk.services.tickets import Actor, follow_merges, record_event

StoreFn = Callable[[Ticket, Visibility, str], Message]  # (ticket, visibility, text) → stored


@dataclass(frozen=True)
class Said:
    """What an agent wrote: their command lines, and their own text after them."""

    lines: tuple[str, ...]
    text: str

    @classmethod
    def in_mail(cls, text: str) -> Said:
        """The leading `#` lines of a mail, and its text without the quoted history."""
        lines, rest = split_block(text)
        return cls(tuple(lines), strip_quoted(rest))

    @classmethod
    def by_hand(cls, lines: Sequence[str], text: str) -> Said:
        """`maildesk ticket do`: each argument is a line ("#" optional); the text is all text."""
        return cls(tuple(x if x.lstrip().startswith("#") else f"#{x}" for x in lines), text)


@dataclass(frozen=True)
class Via:
    """The path an agent's message came by, and how that path keeps it."""

    store: StoreFn  # writes the message as the path has it (a mail keeps Message-ID and files)
    threaded_by: str | None = None  # the evidence that put a mail on its ticket
    keep_empty: bool = False  # stored even without text (a mail with files; a `#to` mail)
    mail_errors: bool = True  # the agent hears of bad lines by mail (the CLI prints them)
    answering: Thread | None = None  # the agent's own mail, which an error mail answers
    reply_thread: Thread | None = None  # what the relayed reply answers (None: the ticket's)


@dataclass(frozen=True)
class AgentResult:
    errors: tuple[BadLine, ...]
    ticket: Ticket  # where the message belongs (the target after a #merge)
    body: str  # macro texts, then the agent's own text
    internal: bool  # #note: stored for agents only, never sent to the customer
    message: Message | None = None  # stored: there was a body, or it had to be kept


def run_agent_message(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    said: Said,
    via: Via,
    actor: Actor,
    now: datetime,
) -> AgentResult:
    """Check every line; only if all are fine apply them, then store and publish the message.

    Bad lines change nothing; the agent hears of them (by mail, unless `via` says not).
    """
    done = _commands(
        session, desk=desk, ticket=ticket, agent=agent, said=said, actor=actor, now=now
    )
    if not isinstance(done, Effects):
        if via.mail_errors:
            report_errors(
                session,
                desk=desk,
                ticket=ticket,
                agent=agent,
                errors=done,
                actor=actor,
                now=now,
                answering=via.answering,
            )
        return AgentResult(tuple(done), ticket, "", internal=True)
    target = follow_merges(session, ticket)
    body = done.body(said.text)
    return _keep(session, desk, target, agent, body, done.note, via=via, actor=actor, now=now)


def _keep(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    body: str,
    internal: bool,
    *,
    via: Via,
    actor: Actor,
    now: datetime,
) -> AgentResult:
    """What the commands left of the message: stored, recorded and published, if it is kept."""
    if not body and not via.keep_empty:
        return AgentResult((), ticket, body, internal=internal)
    message = via.store(ticket, Visibility.INTERNAL if internal else Visibility.PUBLIC, body)
    _record_message(session, ticket=ticket, message=message, via=via, actor=actor, now=now)
    publish(
        session,
        desk=desk,
        ticket=ticket,
        agent=agent,
        message=message,
        actor=actor,
        now=now,
        thread=via.reply_thread,
    )
    return AgentResult((), ticket, body, internal=internal, message=message)


def _commands(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    said: Said,
    actor: Actor,
    now: datetime,
) -> Effects | list[BadLine]:
    """What applying every line meant for the message, or every bad line (then none applied)."""
    parsed = parse_lines(said.lines, said.text, now, desk.settings.desk.zone)
    actions, errors = plan_commands(
        session, desk=desk, ticket=ticket, agent=agent, parsed=parsed, now=now
    )
    if errors:
        return errors
    return apply_actions(
        session,
        desk=desk,
        ticket=ticket,
        agent=agent,
        actions=actions,
        actor=actor,
        now=now,
        text=said.text,
    )


def _record_message(
    session: Session, *, ticket: Ticket, message: Message, via: Via, actor: Actor, now: datetime
) -> None:
    """The same `message` event on every path (its source says which)."""
    data = {
        "message_id": message.message_id,
        "role": MessageRole.AGENT.value,
        "relation": Relation.AGENT.value,
        "visibility": str(message.visibility),
        "threaded_by": via.threaded_by,
    }
    record_event(session, ticket=ticket, actor=actor, type="message", data=data, now=now)


def report_errors(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    errors: Sequence[BadLine],
    actor: Actor,
    now: datetime,
    answering: Thread | None = None,
) -> None:
    """The ticket's trail records the bad lines, and the agent hears of them (in answer to
    `answering`, their own mail, when there is one)."""
    listed = [{"line": e.line, "reason": e.reason} for e in errors]
    record_event(
        session,
        ticket=ticket,
        actor=actor,
        type="commands-rejected",
        now=now,
        data={"errors": listed},
    )
    tell.command_errors(
        session, desk=desk, ticket=ticket, agent=agent, errors=errors, now=now, answering=answering
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
    thread: Thread | None = None,
) -> None:
    """Relay a public agent message to the customer (and watchers); the first response counts.

    `thread`: what the relayed reply answers (None: the ticket's public thread).
    """
    if message.visibility != Visibility.PUBLIC or not message.text.strip():
        return
    tell.reply_published(
        session, desk=desk, ticket=ticket, agent=agent, text=message.text, now=now, thread=thread
    )
    fields: dict[str, Any] = {"customer_waiting_since": None}  # answered
    if ticket.first_response_at is None:
        fields["first_response_at"] = now
    if ticket.status == TicketStatus.NEW:
        fields["status"] = TicketStatus.OPEN
    change(session, desk=desk, ticket=ticket, actor=actor, now=now, **fields)
