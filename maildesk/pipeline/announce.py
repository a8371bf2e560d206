"""After a mail changed a ticket: name the event to the notice table; note bounces."""

from __future__ import annotations

from maildesk.mail import Address
from maildesk.models import OutboxItem, Ticket
from maildesk.notices import NoticeEvent, Thread, notify
from maildesk.pipeline.work import MatchBounce, StageEnv, Work
from maildesk.services.outbox import match_bounce
from maildesk.services.tickets import Actor, record_event


def new_ticket(env: StageEnv, work: Work, ticket: Ticket, text: str) -> None:
    """The new-ticket notices, threaded on the mail that opened it; a withheld ack is recorded."""
    done = notify(
        env.session,
        desk=env.desk,
        event=NoticeEvent.NEW_TICKET,
        ticket=ticket,
        now=env.now,
        facts={"text": text},
        thread=Thread.answering(work.parsed().message_id),  # the ticket's one public message
    )
    for withheld in (w for w in done.withheld if w.template == "ack"):
        record_event(
            env.session,
            ticket=ticket,
            actor=Actor("maildesk", f"mail:{work.item_id}"),
            type="ack-skipped",
            data={"reason": withheld.reason},
            now=env.now,
        )


def customer_reply(env: StageEnv, ticket: Ticket, text: str, author: Address | None) -> None:
    """The customer's reply goes to whoever handles the ticket, with the author's name."""
    who = {"author_name": author.name, "author_email": author.email} if author else {}
    notify(
        env.session,
        desk=env.desk,
        event=NoticeEvent.CUSTOMER_REPLY,
        ticket=ticket,
        now=env.now,
        facts={"text": text, "author_name": "", "author_email": ""} | who,
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
