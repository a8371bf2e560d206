"""After a mail changed a ticket: acknowledge, notify agents, relay agent replies, note bounces."""

from __future__ import annotations

from maildesk.models import Ticket
from maildesk.pipeline.work import StageEnv, Work
from maildesk.services.contacts import find_agent
from maildesk.services.notices import (
    acknowledge,
    notify_agents,
    queue_agents,
    relay_agent_reply,
    reply_recipients,
)
from maildesk.services.outbox import match_bounce
from maildesk.services.tickets import Actor, record_event, set_status


def new_ticket(env: StageEnv, work: Work, ticket: Ticket, text: str) -> None:
    """Ack the requester (unless a rule says no) and tell the queue's agents."""
    actor = Actor("maildesk", f"mail:{work.item_id}")
    skipped = acknowledge(env.session, desk=env.desk, ticket=ticket, now=env.now)
    if skipped:
        record_event(
            env.session,
            ticket=ticket,
            actor=actor,
            type="ack-skipped",
            data={"reason": skipped},
            now=env.now,
        )
    notify_agents(
        env.session,
        desk=env.desk,
        ticket=ticket,
        template="notify_new",
        agents=queue_agents(env.session, queue=ticket.queue),
        text=text,
        now=env.now,
    )


def customer_reply(env: StageEnv, ticket: Ticket, text: str, author: str) -> None:
    notify_agents(
        env.session,
        desk=env.desk,
        ticket=ticket,
        template="notify_reply",
        agents=reply_recipients(env.session, ticket=ticket),
        text=text,
        now=env.now,
        extra={"author_name": author, "author_email": author},
    )


def agent_reply(env: StageEnv, work: Work, ticket: Ticket, text: str) -> None:
    """Relay an agent's public reply; the first one is the ticket's first response."""
    mail = work.parsed()
    assert mail.sender is not None
    agent = find_agent(env.session, email=mail.sender.email)
    assert agent is not None
    if not text.strip():
        return
    relay_agent_reply(
        env.session, desk=env.desk, ticket=ticket, agent=agent, text=text, now=env.now
    )
    actor = Actor(agent.email, f"mail:{work.item_id}")
    if ticket.first_response_at is None:
        ticket.first_response_at = env.now
        record_event(
            env.session, ticket=ticket, actor=actor, type="first-response", data={}, now=env.now
        )
    if ticket.status == "new":
        set_status(env.session, ticket=ticket, status="open", actor=actor, now=env.now)


def system_mail(env: StageEnv, work: Work) -> None:
    """A bounce marks the outbox row it reports on as failed (never answered)."""
    match_bounce(env.session, raw=work.raw)
