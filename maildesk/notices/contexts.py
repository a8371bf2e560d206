"""What a notice's template is rendered with: the ticket, the event's facts, the reader.

`SAMPLE_CONTEXTS` in `maildesk.outbound.render` lists every key each template may use.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col, select

from maildesk.addresses import SCORES, rating_address
from maildesk.mail.quotes import signs_off
from maildesk.models import Contact, Message, TicketStatus
from maildesk.notices.occasion import Occasion
from maildesk.outbound.subjects import tagged_subject


def ticket_context(occasion: Occasion) -> dict[str, Any]:
    """The keys every notice has; for mail outside any ticket `ref` is None."""
    desk, ticket = occasion.desk, occasion.ticket
    base: dict[str, Any] = {"desk_name": desk.settings.desk.name, "ref": None, "subject": ""}
    if ticket is None:
        return base | {"text": ""}
    requester = occasion.session.get(Contact, ticket.requester_id)
    assert requester is not None
    return base | {
        "ref": ticket.ref,
        "subject": ticket.subject,
        "requester_name": requester.name or requester.email,
        "requester_email": requester.email,
        "priority": ticket.priority,
        "queue": ticket.queue,
        "status": ticket.status,
        "text": "",
    }


def public_history(occasion: Occasion, *, limit: int = 10) -> list[dict[str, str]]:
    """The latest public messages, newest first: internal notes never leave the desk."""
    assert occasion.ticket is not None
    rows = occasion.session.exec(
        select(Message)
        .where(Message.ticket_id == occasion.ticket.id, Message.visibility == "public")
        .order_by(col(Message.id).desc())
        .limit(limit)
    )
    return [
        {
            "author_name": m.author_name or m.author,
            "date": occasion.desk.local_time(m.created_at),
            "text": m.text,
        }
        for m in rows
    ]


def rating_links(occasion: Occasion) -> dict[str, Any]:
    """The ticket's five rating addresses (`rating_addresses[score - 1]`, signed on its queue's
    address) and the subject a mail to one carries: a mailto link needs no web page, and a
    link scanner that follows web links cannot rate."""
    desk, ticket = occasion.desk, occasion.ticket
    assert ticket is not None and ticket.ref is not None
    address = desk.settings.queue_address(ticket.queue)
    return {
        "rating_addresses": [
            rating_address(desk_address=address, ref=ticket.ref, secret=desk.secret, score=score)
            for score in SCORES
        ],
        "reply_subject": tagged_subject(f"Re: {ticket.subject}", ref=ticket.ref),
    }


def agent_reply(occasion: Occasion) -> dict[str, Any]:
    """What the customer reads around an agent's reply: whether it answers a mail (the first
    mail of a ticket an agent started does not), the history before it, whether the agent
    signed off themselves (then the desk does not sign with their name again), and, when the
    reply resolves the ticket, the rating links (it is the one mail that says so)."""
    agent, ticket = occasion.actor_agent, occasion.ticket
    assert agent is not None and ticket is not None
    text = str(occasion.facts.get("text", ""))
    history = public_history(occasion)[1:]  # the reply is the newest public message
    resolved = ticket.status == TicketStatus.RESOLVED
    links = rating_links(occasion) if resolved else {"rating_addresses": [], "reply_subject": ""}
    return links | {
        "reply": bool(history) or occasion.thread.in_reply_to is not None,
        "history": history,
        "signed_off": signs_off(text, agent.name),
    }


_CONTACT_NAME = select(Contact.name).where(Contact.email == bindparam("email"))


def _known_name(occasion: Occasion, email: str, name: str) -> str:
    """The name a mail gave, else the name the desk knows for that address."""
    if name:
        return name
    return occasion.session.exec(_CONTACT_NAME, params={"email": email.lower()}).first() or ""


def customer_author(occasion: Occasion) -> dict[str, Any]:
    """The customer who wrote, by the name their mail gave, else the name the desk knows."""
    email = str(occasion.facts["author_email"])
    name = _known_name(occasion, email, str(occasion.facts.get("author_name") or ""))
    return {"author_name": name, "author_email": email}


def rater(occasion: Occasion) -> dict[str, Any]:
    """The customer who rated, by the name their mail gave, else the name the desk knows."""
    email = str(occasion.facts["rater_email"])
    name = _known_name(occasion, email, str(occasion.facts.get("rater_name") or ""))
    return {"rater_name": name, "rater_email": email}


def agent_author(occasion: Occasion) -> dict[str, Any]:
    """The agent who wrote: for colleagues' copies of a public reply."""
    agent = occasion.actor_agent
    assert agent is not None
    return {"author_name": agent.name or agent.email, "author_email": agent.email}
