"""Every mail the agent commands cause, one function per occasion, all through the notice table.

Queued in the caller's transaction, like every notice: nothing here commits or sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from maildesk.agent.lines import BadLine
from maildesk.desk import Desk
from maildesk.models import Agent, Ticket, TicketStatus
from maildesk.notices import NoticeEvent, Thread, notify


def _listed(errors: Sequence[BadLine]) -> list[dict[str, str]]:
    return [{"line": e.line, "reason": e.reason} for e in errors]


def _on_ticket(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    event: NoticeEvent,
    *,
    by: Agent,
    now: datetime,
    facts: dict[str, Any],
    thread: Thread | None = None,
) -> None:
    notify(
        session,
        desk=desk,
        event=event,
        ticket=ticket,
        now=now,
        actor_agent=by,
        facts=facts,
        thread=thread,
    )


def assigned(
    session: Session, *, desk: Desk, ticket: Ticket, by: Agent, to: Agent | None, now: datetime
) -> None:
    """The new assignee (unless they took it themselves) and the watchers hear who has it."""
    facts = {
        "assigned_by": by.name or by.email,
        "assignee_name": (to.name or to.email) if to else "nobody",
    }
    _on_ticket(session, desk, ticket, NoticeEvent.ASSIGNED, by=by, now=now, facts=facts)


def status_changed(
    session: Session, *, desk: Desk, ticket: Ticket, by: Agent, now: datetime
) -> None:
    """Resolved or closed without a reply: the customer gets the status mail. Resolved, that
    mail is the rating request: one mail says it is resolved and asks how it went."""
    resolved = ticket.status == TicketStatus.RESOLVED
    event = NoticeEvent.RATING_REQUEST if resolved else NoticeEvent.STATUS_CHANGED
    _on_ticket(session, desk, ticket, event, by=by, now=now, facts={})


def reply_published(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    text: str,
    now: datetime,
    thread: Thread | None = None,
) -> None:
    """The agent's public reply goes to the customer; watchers read a copy (not the author).

    The reply carries the ticket's status: a reply that resolves or closes the ticket is the
    one mail that says so. `thread` None: the ticket's public thread.
    """
    facts = {"text": text}
    _on_ticket(
        session,
        desk,
        ticket,
        NoticeEvent.AGENT_REPLY,
        by=agent,
        now=now,
        facts=facts,
        thread=thread,
    )


def command_errors(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    errors: Sequence[BadLine],
    now: datetime,
    answering: Thread | None = None,
) -> None:
    """The agent hears which lines were bad and why, in answer to their own mail."""
    facts = {"errors": _listed(errors)}
    _on_ticket(
        session,
        desk,
        ticket,
        NoticeEvent.COMMAND_ERROR,
        by=agent,
        now=now,
        facts=facts,
        thread=answering,
    )


def errors_without_ticket(
    session: Session,
    *,
    desk: Desk,
    agent: Agent,
    errors: Sequence[BadLine],
    subject: str,
    now: datetime,
    answering: Thread | None = None,
) -> None:
    """The same, about a mail that is on no ticket (a refused `#to`)."""
    notify(
        session,
        desk=desk,
        event=NoticeEvent.COMMAND_ERROR,
        ticket=None,
        now=now,
        actor_agent=agent,
        facts={"errors": _listed(errors), "subject": subject},
        thread=answering,
    )
