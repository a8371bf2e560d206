"""After a mail changed a ticket: acknowledge, notify agents, relay agent replies, note bounces."""

from __future__ import annotations

from maildesk.models import Ticket
from maildesk.pipeline.work import StageEnv, Work
from maildesk.services.notices import (
    acknowledge,
    notify_agents,
    queue_agents,
    reply_recipients,
    thread_ids,
)
from maildesk.services.outbox import match_bounce
from maildesk.services.tickets import Actor, record_event


def new_ticket(env: StageEnv, work: Work, ticket: Ticket, text: str) -> None:
    """Ack the requester (unless a rule says no) and tell the queue's agents."""
    actor = Actor("maildesk", f"mail:{work.item_id}")
    thread = thread_ids(env.session, ticket)
    skipped = acknowledge(env.session, desk=env.desk, ticket=ticket, now=env.now, thread=thread)
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
        thread=thread,
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


def system_mail(env: StageEnv, work: Work) -> None:
    """A bounce marks the outbox row it reports on as failed (never answered)."""
    match_bounce(env.session, raw=work.raw)
