"""After a mail changed a ticket: acknowledge, notify agents, relay agent replies, note bounces."""

from __future__ import annotations

from maildesk.models import OutboxItem, Ticket
from maildesk.pipeline.work import MatchBounce, StageEnv, Work
from maildesk.services.notices import acknowledge, notify_agents, reply_recipients
from maildesk.services.outbox import match_bounce
from maildesk.services.tickets import Actor, record_event


def new_ticket(env: StageEnv, work: Work, ticket: Ticket, text: str) -> None:
    """Ack the requester (unless a rule says no); tell the assignee, else the queue's agents."""
    actor = Actor("maildesk", f"mail:{work.item_id}")
    message_id = work.parsed().message_id  # a new ticket's one public message
    thread = (message_id, (message_id,)) if message_id else (None, ())
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


def system_mail(env: StageEnv, work: Work) -> OutboxItem | None:
    """A bounce marks the outbox row it reports on as failed (never answered, never noticed)."""
    return match_bounce(env.session, bounce=work.bounce)


def ticketless_bounce(env: StageEnv, work: Work, plan: MatchBounce) -> str:
    """A bounce of mail that belongs to no ticket (a notice to an agent): fail its row; why."""
    item = system_mail(env, work)
    if item is None:
        return f"automatic mail ({plan.automatic}) matching no ticket and no mail we sent"
    if item.state == "failed":
        return f"bounce of <{item.message_id}>: outbox item {item.id} failed"
    return f"delivery report on <{item.message_id}> (outbox item {item.id}): no failure"
