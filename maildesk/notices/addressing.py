"""Where a notice comes from and which thread it continues: From, signed Reply-To, threading."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from maildesk.db import Prepared
from maildesk.desk import Desk
from maildesk.models import Agent, Message, Ticket
from maildesk.outbound.compose import DeskIdentity, reply_address


class Thread(NamedTuple):
    """In-Reply-To (without brackets) and References, oldest first."""

    in_reply_to: str | None
    references: tuple[str, ...]

    @classmethod
    def answering(cls, message_id: str | None, references: tuple[str, ...] = ()) -> Thread:
        """The thread of a reply to the mail with this Message-ID and these References."""
        if not message_id:
            return cls(None, ())
        return cls(message_id, (*references, message_id))


NO_THREAD = Thread(None, ())

_PUBLIC_IDS = Prepared(
    select(Message.message_id)
    .where(Message.ticket_id == bindparam("ticket_id"), Message.visibility == "public")
    .order_by(col(Message.id))
)


THREADS = "prefetched threads"  # session.info key: {ticket id: Thread} (`prefetch.py`)


def ticket_thread(session: Session, ticket: Ticket) -> Thread:
    """In-Reply-To the latest public message, References all public ones: notes never leak."""
    known = session.info.get(THREADS, {}).get(ticket.id)
    if known is not None:
        return known  # type: ignore[no-any-return]
    ids = [m for m in _PUBLIC_IDS.execute(session, {"ticket_id": ticket.id}).scalars() if m]
    return Thread(ids[-1] if ids else None, tuple(ids))


def sender_identity(desk: Desk, ticket: Ticket | None) -> DeskIdentity:
    """From, bounce address and X-Loop: the ticket's queue's own address, else the desk's."""
    if ticket is None:
        return desk.identity
    address = desk.settings.queue_address(ticket.queue)
    return DeskIdentity(name=desk.settings.desk.name, address=address)


def signed_reply_to(desk: Desk, ticket: Ticket | None, agent: Agent | None) -> str | None:
    """The signed Reply-To on the queue's address: the agent's own, else the customer's.

    None outside a ticket.
    """
    if ticket is None or ticket.ref is None:
        return None
    return reply_address(
        desk_address=desk.settings.queue_address(ticket.queue),
        ref=ticket.ref,
        secret=desk.secret,
        agent_email=agent.email if agent else None,
    )
