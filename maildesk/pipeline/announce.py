"""After a mail changed a ticket: acknowledge the requester, notify the agents."""

from __future__ import annotations

from maildesk.models import Ticket
from maildesk.pipeline.work import StageEnv, Work
from maildesk.services.notices import acknowledge, notify_agents, reply_recipients
from maildesk.services.tickets import Actor, record_event


def _unwanted(work: Work) -> str:
    """Why no ack when a handler said none: the rules that hit, if any did."""
    return f"suppressed by {', '.join(work.rule_hits)}" if work.rule_hits else "suppressed"


def new_ticket(env: StageEnv, work: Work, ticket: Ticket, text: str) -> None:
    """Ack the requester (unless a rule says no); tell the assignee, else the queue's agents."""
    actor = Actor("maildesk", f"mail:{work.item_id}")
    message_id = work.parsed().message_id  # a new ticket's one public message
    thread = (message_id, (message_id,)) if message_id else (None, ())
    skipped = (
        acknowledge(env.session, desk=env.desk, ticket=ticket, now=env.now, thread=thread)
        if work.acknowledge
        else _unwanted(work)
    )
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
        agents=reply_recipients(env.session, ticket=ticket),
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
