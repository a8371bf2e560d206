"""Who gets which mail when a ticket changes: acks, agent notices, relayed agent replies.

Each function queues a draft (template + context) in the caller's transaction (never commits);
the sender renders and composes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from maildesk.addresses import local_part_matches
from maildesk.desk import Desk
from maildesk.mail import Address
from maildesk.models import Agent, Contact, Message, OutboxItem, Participant, Ticket, Watcher
from maildesk.outbound.compose import reply_address
from maildesk.outbound.draft import Draft
from maildesk.services.contacts import active_agents
from maildesk.services.outbox import auto_reply_allowed, enqueue_draft


def _base_context(desk: Desk, ticket: Ticket, requester: Contact) -> dict[str, Any]:
    return {
        "desk_name": desk.settings.desk.name,
        "ref": ticket.ref,
        "subject": ticket.subject,
        "requester_name": requester.name or requester.email,
        "requester_email": requester.email,
        "priority": ticket.priority,
    }


def _templates_dir(desk: Desk) -> str | None:
    override = desk.renderer.override_dir
    return str(override) if override is not None else None


_PUBLIC_IDS = (
    select(Message.message_id)
    .where(Message.ticket_id == bindparam("ticket_id"), Message.visibility == "public")
    .order_by(col(Message.id))
)


Thread = tuple[str | None, tuple[str, ...]]


def _thread_ids(session: Session, ticket: Ticket) -> Thread:
    """In-Reply-To (the latest public message) and References (all public ones, oldest first)."""
    ids = [m for m in session.exec(_PUBLIC_IDS, params={"ticket_id": ticket.id}) if m]
    return (ids[-1] if ids else None), tuple(ids)


def _queue(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    *,
    template: str,
    kind: str,
    context: dict[str, Any],
    to: tuple[Address, ...],
    now: datetime,
    automatic: bool,
    agent_email: str | None = None,
    thread: Thread | None = None,
) -> OutboxItem:
    assert ticket.ref is not None
    in_reply_to, references = thread or _thread_ids(session, ticket)
    draft = Draft(
        template=template,
        context=context,
        templates_dir=_templates_dir(desk),
        desk=desk.identity,
        kind=kind,
        ticket_ref=ticket.ref,
        recipients=to,
        date=now,
        in_reply_to=in_reply_to,
        references=references,
        reply_to=reply_address(
            desk_address=desk.settings.desk.address,
            ref=ticket.ref,
            secret=desk.secret,
            agent_email=agent_email,
        ),
        automatic=automatic,
    )
    return enqueue_draft(session, draft=draft, ticket_id=ticket.id, now=now)


def acknowledge(
    session: Session, *, desk: Desk, ticket: Ticket, now: datetime, thread: Thread | None = None
) -> str | None:
    """Acknowledge a new ticket to its requester; returns why not, or None when queued."""
    requester = session.get(Contact, ticket.requester_id)
    assert requester is not None
    queues = {q.name: q for q in desk.settings.effective_queues()}
    if ticket.queue in queues and not queues[ticket.queue].acknowledge:
        return f"queue {ticket.queue} sends no acknowledgements"
    if local_part_matches(requester.email, desk.settings.desk_addresses()):
        return "the requester is one of the desk's own addresses"
    limit = desk.settings.outbound.ack_limit
    if not auto_reply_allowed(session, recipient=requester.email, now=now, limit_per_hour=limit):
        return f"{requester.email} already had {limit} automatic mails this hour"
    _queue(
        session,
        desk,
        ticket,
        template="ack",
        kind="ack",
        automatic=True,
        now=now,
        context=_base_context(desk, ticket, requester),
        to=(Address(requester.email, requester.name),),
        thread=thread,
    )
    return None


def queue_agents(session: Session, *, queue: str) -> list[Agent]:
    """Agents who are not away and work this queue (a supervisor with no queues works all)."""
    return [
        agent
        for agent in active_agents(session)
        if not agent.away
        and (queue in agent.queues or (agent.role == "supervisor" and not agent.queues))
    ]


def notify_agents(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    template: str,
    agents: list[Agent],
    text: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
    thread: Thread | None = None,
    kind: str = "notify",
) -> int:
    """One notice per agent, each with that agent's own signed Reply-To."""
    if not agents:
        return 0
    requester = session.get(Contact, ticket.requester_id)
    assert requester is not None
    thread = thread or _thread_ids(session, ticket)
    sent = 0
    for agent in agents:
        context = _base_context(desk, ticket, requester) | {
            "agent_name": agent.name or agent.email,
            "text": text,
            "queue": ticket.queue,
            "status": ticket.status,
            **(extra or {}),
        }
        _queue(
            session,
            desk,
            ticket,
            template=template,
            kind=kind,
            automatic=True,
            now=now,
            context=context,
            to=(Address(agent.email, agent.name),),
            agent_email=agent.email,
            thread=thread,
        )
        sent += 1
    return sent


_WATCHER_IDS = select(Watcher.agent_id).where(Watcher.ticket_id == bindparam("ticket_id"))


def watchers(session: Session, *, ticket: Ticket, besides: set[int | None]) -> list[Agent]:
    """The ticket's active watchers, except the agents in `besides` (who hear of it anyway)."""
    if ticket.id is None:
        return []
    ids = set(session.execute(_WATCHER_IDS, {"ticket_id": ticket.id}).scalars())  # autoflushed
    return [agent for agent in active_agents(session) if agent.id in ids - besides]


def reply_recipients(session: Session, *, ticket: Ticket) -> list[Agent]:
    """Who hears of news on a ticket: the assignee (else the queue's agents), and watchers.

    The news is a new ticket, a customer reply or a snooze ending: no agent caused it.
    """
    agents: list[Agent] = []
    if ticket.assignee_id is not None:
        assignee = session.get(Agent, ticket.assignee_id)
        if assignee is not None and assignee.active:
            agents = [assignee]
    if not agents:
        agents = queue_agents(session, queue=ticket.queue)
    return agents + watchers(session, ticket=ticket, besides={agent.id for agent in agents})


def public_history(
    session: Session, *, desk: Desk, ticket: Ticket, limit: int = 10
) -> list[dict[str, str]]:
    """The latest public messages, newest first: internal notes never leave the desk."""
    rows = session.exec(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.visibility == "public")
        .order_by(col(Message.id).desc())
        .limit(limit)
    )
    return [
        {
            "author_name": m.author_name or m.author,
            "date": desk.local_time(m.created_at),
            "text": m.text,
        }
        for m in rows
    ]


def customer_recipients(session: Session, *, ticket: Ticket) -> tuple[Address, ...]:
    """The requester, then every Cc'd participant."""
    rows = session.exec(
        select(Contact, Participant.role)
        .join(Participant, col(Participant.contact_id) == col(Contact.id))
        .where(Participant.ticket_id == ticket.id)
        .order_by(col(Participant.role).desc(), col(Contact.email))
    )
    return tuple(Address(contact.email, contact.name) for contact, _role in rows)


def relay_agent_reply(
    session: Session, *, desk: Desk, ticket: Ticket, agent: Agent, text: str, now: datetime
) -> OutboxItem | None:
    """Send an agent's public reply to the requester and Cc'd participants.

    The reply carries the ticket's status: a reply that resolves or closes the ticket is
    the one mail that says so (no separate status mail).
    """
    requester = session.get(Contact, ticket.requester_id)
    assert requester is not None
    to = customer_recipients(session, ticket=ticket)
    if not to:
        return None
    # the reply itself is the newest public message: the history is what came before it
    history = public_history(session, desk=desk, ticket=ticket)[1:]
    context = _base_context(desk, ticket, requester) | {
        "agent_name": agent.name or agent.email,
        "text": text,
        "history": history,
        "status": ticket.status,
    }
    return _queue(
        session,
        desk,
        ticket,
        template="agent_reply",
        kind="agent-reply",
        automatic=False,
        now=now,
        context=context,
        to=to,
    )


def tell_agent(
    session: Session,
    *,
    desk: Desk,
    agent: Agent,
    errors: list[Any],
    subject: str,
    now: datetime,
    kind: str = "notify",
) -> OutboxItem:
    """A command error outside any ticket (a refused `#to`, a mail held in the agent's name)."""
    context = {
        "desk_name": desk.settings.desk.name,
        "ref": None,
        "subject": subject,
        "agent_name": agent.name or agent.email,
        "errors": [{"line": e.line, "reason": e.reason} for e in errors],
    }
    draft = Draft(
        template="command_error",
        context=context,
        templates_dir=_templates_dir(desk),
        desk=desk.identity,
        kind=kind,
        ticket_ref=None,
        recipients=(Address(agent.email, agent.name),),
        date=now,
        automatic=True,
    )
    return enqueue_draft(session, draft=draft, ticket_id=None, now=now)


def notify_status(session: Session, *, desk: Desk, ticket: Ticket, now: datetime) -> OutboxItem:
    requester = session.get(Contact, ticket.requester_id)
    assert requester is not None
    context = _base_context(desk, ticket, requester) | {"status": ticket.status}
    return _queue(
        session,
        desk,
        ticket,
        template="status_changed",
        kind="status",
        automatic=False,
        now=now,
        context=context,
        to=customer_recipients(session, ticket=ticket),
    )
