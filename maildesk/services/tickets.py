"""Tickets: create, find, append messages and events, link (changes: services/ticket_change)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, String, bindparam, func, insert, literal, union_all, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from maildesk.db import Prepared, adopt, as_loaded, model_row, prepared_insert_unless_taken
from maildesk.errors import NotFound
from maildesk.models import (
    STANDARD_CATEGORY,
    Contact,
    Event,
    Message,
    MessageRole,
    OutboxItem,
    Participant,
    ParticipantRole,
    Priority,
    Ticket,
    TicketLink,
    TicketTag,
    Visibility,
)
from maildesk.services.contacts import get_or_create_contact

# Append-only rows go in with pre-built Core statements: no ORM unit of work to flush.
_INSERT_EVENT = Prepared(insert(Event.__table__), flush=False)  # type: ignore[attr-defined]
_TAG = TicketTag.__table__  # type: ignore[attr-defined]
_TAGS_OF = Prepared(
    select(_TAG.c.tag).where(_TAG.c.ticket_id == bindparam("ticket_id")), flush=False
)
_INSERT_TAG = Prepared(insert(TicketTag.__table__), flush=False)  # type: ignore[attr-defined]
_PARTICIPANT = Participant.__table__  # type: ignore[attr-defined]
_TICKET = Ticket.__table__  # type: ignore[attr-defined]
_INSERT_TICKET = Prepared(insert(_TICKET).returning(_TICKET.c.id))
_SET_REF = Prepared(
    update(_TICKET).where(_TICKET.c.id == bindparam("ticket_id")).values(ref=bindparam("new_ref"))
)


def _insert_with_ref() -> Prepared:
    """PostgreSQL: the row and its ref in one statement (one round trip, not two): the id is
    taken from the table's sequence first, the ref made of it. `prefix` is a value."""
    taken = sa_select(func.nextval(func.pg_get_serial_sequence("ticket", "id")).label("id"))
    new = taken.subquery("new")
    names = [column.name for column in _TICKET.c if column.name not in ("id", "ref")]
    ref = func.concat(bindparam("prefix", type_=String), "-", new.c.id)
    values = [bindparam(name, type_=_TICKET.c[name].type) for name in names]
    rows = sa_select(new.c.id, ref, *values)
    return Prepared(
        insert(_TICKET).from_select(["id", "ref", *names], rows).returning(_TICKET.c.id)
    )


_INSERT_TICKET_WITH_REF = _insert_with_ref()
_MESSAGE = Message.__table__  # type: ignore[attr-defined]
_INSERT_MESSAGE = Prepared(insert(_MESSAGE).returning(_MESSAGE.c.id))


@dataclass(frozen=True)
class Actor:
    """Who caused a change, and through what: `source` is "mail:<item>", "cli" or "system"."""

    name: str
    source: str


def record_event(
    session: Session,
    *,
    ticket: Ticket,
    actor: Actor,
    type: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Append an audit event, written at once (a plain row: no model object to build)."""
    _INSERT_EVENT.execute(session, event_row(ticket, actor=actor, type=type, data=data, now=now))
    touch(session, ticket=ticket, now=now)


def event_row(
    ticket: Ticket, *, actor: Actor, type: str, data: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """One audit event's row, for `record_event` or `record_events`."""
    return {
        "ticket_id": ticket.id,
        "at": now,
        "actor": actor.name,
        "type": type,
        "data": data,
        "source": actor.source,
    }


def record_events(
    session: Session, *, ticket: Ticket, rows: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Append `event_row`s in one statement, in their order (as many `record_event`s would)."""
    if rows:
        _INSERT_EVENT.execute_many(session, rows)
        touch(session, ticket=ticket, now=now)


def touch(session: Session, *, ticket: Ticket, now: datetime) -> None:
    """Stamp `updated_at`: an event or a message was added (its fields change in ticket_change).
    Written with the ticket's other changes (`ticket_change` writes at once); the same moment
    again leaves the ticket as it was."""
    if ticket.updated_at != now:
        ticket.updated_at = now
        session.add(ticket)


def create_ticket(
    session: Session,
    *,
    prefix: str,
    requester: Contact,
    subject: str,
    queue: str,
    actor: Actor,
    now: datetime,
    priority: Priority = Priority.NORMAL,
    category: str = STANDARD_CATEGORY,
) -> Ticket:
    """A new ticket; `category` is its requester's now (services/categories.contact_category)."""
    assert requester.id is not None
    row = model_row(
        Ticket,
        subject=subject,
        queue=queue,
        priority=priority,
        category=category,
        requester_id=requester.id,
        created_at=now,
        updated_at=now,
    )
    ticket = _insert_ticket(session, prefix, row)
    assert ticket.id is not None
    # a new ticket has no participants yet: no conflict to fear
    _insert_participant(session, ticket.id, requester.id, ParticipantRole.REQUESTER)
    record_event(
        session,
        ticket=ticket,
        actor=actor,
        type="created",
        data={"subject": subject, "queue": queue, "requester": requester.email},
        now=now,
    )
    return ticket


def _insert_ticket(session: Session, prefix: str, row: dict[str, Any]) -> Ticket:
    """The row written, its ref set from its id; the ticket in the session as if loaded."""
    if session.get_bind().dialect.name == "postgresql":
        values = {key: value for key, value in row.items() if key != "ref"} | {"prefix": prefix}
        ticket_id = _INSERT_TICKET_WITH_REF.execute(session, values).scalar_one()
    else:
        ticket_id = _INSERT_TICKET.execute(session, row).scalar_one()
        _SET_REF.execute(session, {"ticket_id": ticket_id, "new_ref": f"{prefix}-{ticket_id}"})
    ref = f"{prefix}-{ticket_id}"
    ticket = as_loaded(Ticket, {**row, "id": ticket_id, "ref": ref})
    make_transient_to_detached(ticket)  # no flush owed
    session.add(ticket)
    return ticket


def add_cc(
    session: Session,
    *,
    ticket: Ticket,
    email: str,
    name: str = "",
    free_mail: Sequence[str],
    now: datetime,
) -> bool:
    """The contact of `email` (made if new) joins the ticket as a Cc'd participant; True when
    this call added it."""
    contact = get_or_create_contact(session, email=email, name=name, free_mail=free_mail, now=now)
    return add_participant(session, ticket=ticket, contact=contact, role=ParticipantRole.CC)


def add_system_note(
    session: Session, *, ticket: Ticket, now: datetime, subject: str, text: str
) -> Message:
    """An internal note written by the desk itself: agents read it, customers never do."""
    return add_message(
        session,
        ticket=ticket,
        now=now,
        direction="in",
        visibility=Visibility.INTERNAL,
        role=MessageRole.SYSTEM,
        author="maildesk",
        subject=subject,
        text=text,
    )


def add_participant(
    session: Session,
    *,
    ticket: Ticket,
    contact: Contact,
    role: ParticipantRole = ParticipantRole.CC,
) -> bool:
    """Add a participant once; True when this call added it (a concurrent add is no error)."""
    assert ticket.id is not None and contact.id is not None
    return _insert_participant(session, ticket.id, contact.id, role)


def _insert_participant(
    session: Session, ticket_id: int, contact_id: int, role: ParticipantRole
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING, autoflushed (a pending #uncc is written first)."""
    statement = prepared_insert_unless_taken(session, _PARTICIPANT, _PARTICIPANT.c.ticket_id)
    values = {"ticket_id": ticket_id, "contact_id": contact_id, "role": role}
    return statement.execute(session, values).first() is not None


def participant_emails(session: Session, *, ticket_id: int) -> list[str]:
    return list(session.exec(_PARTICIPANT_EMAILS, params={"ticket_id": ticket_id}))


_PARTICIPANT_EMAILS = (
    select(Contact.email)
    .join(Participant, col(Participant.contact_id) == col(Contact.id))
    .where(Participant.ticket_id == bindparam("ticket_id"))
    .order_by(col(Participant.role).desc(), col(Contact.email))
)
_TICKET_BY_REF = select(Ticket).where(Ticket.ref == bindparam("ref"))


@cache
def _tickets_by_message_ids(count: int) -> Prepared:
    """Mails we sent (0) and mails we stored (1) naming any of `count` Message-IDs (`id_0`…),
    prepared once for each count; stored ones win a tie."""
    ids: list[BindParameter[str]] = [bindparam(f"id_{n}") for n in range(count)]
    return Prepared(
        union_all(
            select(OutboxItem.message_id, OutboxItem.ticket_id, literal(0).label("stored")).where(
                col(OutboxItem.message_id).in_(ids), col(OutboxItem.ticket_id).is_not(None)
            ),
            select(Message.message_id, Message.ticket_id, literal(1).label("stored")).where(
                col(Message.message_id).in_(ids)
            ),
        )
    )


def add_tags(session: Session, *, ticket: Ticket, tags: Sequence[str]) -> list[str]:
    """Tag the ticket (lowercased, each once); returns the tags it did not have yet. One
    query reads which it has, one statement writes the rest (no model object per tag)."""
    assert ticket.id is not None
    wanted = list(dict.fromkeys(t.lower() for t in tags))
    if not wanted:
        return []
    if any(isinstance(row, TicketTag) for row in (*session.new, *session.deleted)):
        session.flush()  # a tag added or removed in this unit of work and not written yet
    # nothing else pending changes what tags the ticket has: read without flushing
    have = set(_TAGS_OF.execute(session, {"ticket_id": ticket.id}).scalars())
    added = [tag for tag in wanted if tag not in have]
    _INSERT_TAG.execute_many(session, [{"ticket_id": ticket.id, "tag": tag} for tag in added])
    return added


def add_message(
    session: Session,
    *,
    ticket: Ticket,
    now: datetime,
    role: MessageRole,
    visibility: Visibility = Visibility.PUBLIC,
    **fields: Any,
) -> Message:
    """Append a message, written at once; the returned object has its id, outside the session."""
    assert ticket.id is not None
    row = model_row(
        Message,
        ticket_id=ticket.id,
        created_at=now,
        role=MessageRole(role),
        visibility=Visibility(visibility),
        **fields,
    )
    message_id = _INSERT_MESSAGE.execute(session, row).scalar_one()
    message = as_loaded(Message, {**row, "id": message_id})
    touch(session, ticket=ticket, now=now)
    return message


def link_tickets(session: Session, *, ticket: Ticket, other: Ticket, kind: str) -> None:
    assert ticket.id is not None and other.id is not None
    session.add(TicketLink(ticket_id=ticket.id, other_id=other.id, kind=kind))


def get_ticket(session: Session, *, ref: str) -> Ticket:
    ticket = session.exec(select(Ticket).where(Ticket.ref == ref.strip().upper())).first()
    if ticket is None:
        raise NotFound(f"no ticket {ref}")
    return ticket


def find_ticket(session: Session, *, ref: str) -> Ticket | None:
    return session.exec(_TICKET_BY_REF, params={"ref": ref.upper()}).first()


_CONTACT = Contact.__table__  # type: ignore[attr-defined]
_TICKET_WITH_REQUESTER = Prepared(
    sa_select(
        *(column.label(f"t_{column.key}") for column in _TICKET.c),
        *(column.label(f"c_{column.key}") for column in _CONTACT.c),
    )
    .join_from(_TICKET, _CONTACT, _CONTACT.c.id == _TICKET.c.requester_id)
    .where(_TICKET.c.id == bindparam("ticket_id"))
)


def ticket_with_requester(session: Session, ticket_id: int) -> Ticket | None:
    """`session.get(Ticket, …)` that loads the requester's contact in the same statement
    (thread-match asks who the requester is next)."""
    if session.identity_key(Ticket, ticket_id) in session.identity_map:
        return session.get(Ticket, ticket_id)
    row = _TICKET_WITH_REQUESTER.first(session, {"ticket_id": ticket_id})
    if row is None:
        return None
    adopt(session, Contact, {key[2:]: value for key, value in row.items() if key[0] == "c"})
    return adopt(session, Ticket, {key[2:]: value for key, value in row.items() if key[0] == "t"})


def follow_merges(session: Session, ticket: Ticket) -> Ticket:
    """The ticket a merged ticket now lives in (chains followed, cycles cut)."""
    seen = {ticket.id}
    while ticket.merged_into_id is not None and ticket.merged_into_id not in seen:
        target = session.get(Ticket, ticket.merged_into_id)
        if target is None:
            break
        seen.add(target.id)
        ticket = target
    return ticket


def ticket_for_message_ids(session: Session, *, ids: Sequence[str]) -> tuple[int, str] | None:
    """The ticket holding (or sent) the latest-named of these Message-IDs, and that ID."""
    if not ids:
        return None
    params = {f"id_{n}": message_id for n, message_id in enumerate(ids)}
    found_rows = _tickets_by_message_ids(len(ids)).execute(session, params).rows
    rows = sorted(found_rows, key=lambda r: r[2])  # stable: sent ones first, a stored one wins
    found = {message_id: ticket_id for message_id, ticket_id, _ in rows if ticket_id}
    for message_id in reversed(ids):
        if message_id in found:
            return found[message_id], message_id
    return None
