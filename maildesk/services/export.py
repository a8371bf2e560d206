"""Exporting tickets with their original mails: which tickets, which mails, in what order.

A ticket's mails are the inbound mails its messages were stored from (`InboxItem.raw`, the
bytes as received; an agent's mail too) and the mails the desk sent about it (`OutboxItem`
rows in state `sent`, the bytes as sent: acks, notices, replies, status mails). Mail that is
still queued or failed was never delivered and is left out; so are messages typed at the
CLI, which have no mail of their own (the outbox row that relayed one is there).
Raw bytes are read one mail at a time (`raw_bytes`), so an export of the whole desk does not
hold every mail in memory.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from maildesk.config import Settings
from maildesk.errors import InvalidInput
from maildesk.models import InboxItem, Message, OutboxItem, Ticket
from maildesk.services.tickets import get_ticket
from maildesk.services.views import ticket_detail
from maildesk.timing.clock import aware

FORMATS = ("json", "eml", "mbox")
_INBOX = InboxItem.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxItem.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MailRef:
    """One mail of a ticket's history; its bytes are fetched by `raw_bytes`."""

    at: datetime
    direction: str  # in | out
    row_id: int  # InboxItem.id (in) or OutboxItem.id (out)
    sender: str  # the envelope sender (else the author), for the mbox separator line


def chosen_tickets(
    session: Session, *, ref: str | None, every: bool, since: datetime | None
) -> list[Ticket]:
    """REF's ticket, or with `every` all tickets (oldest first), those updated since `since`."""
    if (ref is None) == (not every):
        raise InvalidInput("give a ticket REF or --all, not both" if ref else "give REF or --all")
    if ref is not None:
        if since is not None:
            raise InvalidInput("--since goes with --all")
        return [get_ticket(session, ref=ref)]
    query = select(Ticket).order_by(col(Ticket.id))
    if since is not None:
        query = query.where(col(Ticket.updated_at) >= since)
    return list(session.exec(query))


def ticket_mails(session: Session, ticket_ids: Sequence[int]) -> list[MailRef]:
    """Every mail of these tickets, in the order it came or went (ties: inbound first)."""
    if not ticket_ids:
        return []
    inbound = session.exec(
        select(InboxItem.id, InboxItem.received_at, InboxItem.envelope_from, Message.author)
        .join(Message, col(Message.inbox_item_id) == col(InboxItem.id))
        .where(col(Message.ticket_id).in_(ticket_ids))
        .distinct()
    )
    outbound = session.exec(
        select(OutboxItem.id, OutboxItem.sent_at, OutboxItem.envelope_from).where(
            col(OutboxItem.ticket_id).in_(ticket_ids), OutboxItem.state == "sent"
        )
    )
    mails = [MailRef(aware(at), "in", i, sender or by) for i, at, sender, by in inbound if i]
    mails += [MailRef(aware(at), "out", i, sender) for i, at, sender in outbound if i and at]
    mails.sort(key=lambda m: (m.at, m.direction != "in", m.row_id))
    return mails


def raw_bytes(session: Session, mail: MailRef) -> bytes:
    """The mail's bytes as received or sent."""
    table = _INBOX if mail.direction == "in" else _OUTBOX
    query = core_select(table.c.raw).where(table.c.id == mail.row_id)
    return bytes(session.connection().execute(query).scalar_one())


def iter_raw(session: Session, mails: Sequence[MailRef]) -> Iterator[tuple[MailRef, bytes]]:
    for mail in mails:
        yield mail, raw_bytes(session, mail)


def ticket_document(session: Session, ticket: Ticket, *, settings: Settings) -> dict[str, Any]:
    """`ticket show --json`, each message with `raw_base64`: the mail it was stored from (an
    inbound one), or the mail the desk sent under its Message-ID; null when it had none."""
    detail = ticket_detail(session, ticket, settings=settings)
    rows = session.exec(
        select(Message.inbox_item_id, Message.message_id)
        .where(Message.ticket_id == ticket.id)
        .order_by(col(Message.id))
    )
    for message, (item_id, message_id) in zip(detail["messages"], list(rows), strict=True):
        raw = _message_raw(session, item_id, message_id)
        message["raw_base64"] = base64.b64encode(raw).decode("ascii") if raw else None
    return detail


def _message_raw(session: Session, item_id: int | None, message_id: str | None) -> bytes | None:
    if item_id is not None:
        return raw_bytes(session, MailRef(datetime.min, "in", item_id, ""))
    if message_id is None:
        return None
    query = core_select(_OUTBOX.c.raw).where(
        _OUTBOX.c.message_id == message_id, _OUTBOX.c.state == "sent"
    )
    found = session.connection().execute(query).scalars().first()
    return bytes(found) if found is not None else None
