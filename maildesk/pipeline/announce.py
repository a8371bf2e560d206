"""After a mail changed a ticket: name the event to the notice table; record a withheld ack."""

from __future__ import annotations

from maildesk.mail import Address
from maildesk.models import Ticket
from maildesk.notices import NoticeEvent, Thread, notify
from maildesk.pipeline.work import StageEnv, Work
from maildesk.services.tickets import Actor, record_event


def _unwanted(work: Work) -> str:
    """Why no ack when a handler said none: the rules that hit, if any did."""
    return f"suppressed by {', '.join(work.rule_hits)}" if work.rule_hits else "suppressed"


def new_ticket(env: StageEnv, work: Work, ticket: Ticket, text: str) -> None:
    """The new-ticket notices, threaded on the mail that opened it; a withheld ack is recorded.

    A handler before `announce` may have said no ack (`work.acknowledge`): then the agents are
    still told, and the ticket records why the requester was not.
    """
    done = notify(
        env.session,
        desk=env.desk,
        event=NoticeEvent.NEW_TICKET,
        ticket=ticket,
        now=env.now,
        facts={"text": text},
        thread=Thread.answering(work.parsed().message_id),  # the ticket's one public message
        skip=() if work.acknowledge else ("ack",),
    )
    reasons = [w.reason for w in done.withheld if w.template == "ack"]
    if not work.acknowledge:
        reasons = [_unwanted(work)]
    for reason in reasons:
        record_event(
            env.session,
            ticket=ticket,
            actor=Actor("maildesk", f"mail:{work.item_id}"),
            type="ack-skipped",
            data={"reason": reason},
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


def auto_reply(env: StageEnv, work: Work, ticket: Ticket, template: str) -> None:
    """A rule's reply to the requester: automatic, within the ack limit (the ack counts)."""
    done = notify(
        env.session,
        desk=env.desk,
        event=NoticeEvent.AUTO_REPLY,
        ticket=ticket,
        now=env.now,
        facts={"auto_reply_template": template},
        thread=Thread.answering(work.parsed().message_id),
    )
    actor = Actor("maildesk", f"mail:{work.item_id}")
    for withheld in done.withheld:
        data = {"template": template, "reason": withheld.reason}
        record_event(
            env.session,
            ticket=ticket,
            actor=actor,
            type="auto-reply-skipped",
            data=data,
            now=env.now,
        )
