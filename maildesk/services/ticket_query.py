"""Finding tickets: the filters and sort keys of `maildesk ticket list`, checked against the desk.

A name that names nothing (a queue, a service, an agent, a category, an organisation) is an
error naming it, not an empty list: an operator's typo must not look like "no tickets".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func
from sqlmodel import Session, col, or_, select

from maildesk.config import Settings
from maildesk.errors import InvalidInput
from maildesk.models import (
    PRIORITIES,
    STANDARD_CATEGORY,
    STATUSES,
    TICKET_TYPES,
    Contact,
    Organisation,
    Ticket,
    TicketTag,
)
from maildesk.services.contacts import find_agent_by
from maildesk.services.sla import breached, due_before

DEFAULT_LIMIT = 100
_SEVERITY = {name: rank for rank, name in enumerate(PRIORITIES)}  # low 0 … urgent 3
SORT_KEYS: dict[str, Any] = {
    "ref": col(Ticket.id),
    "created": col(Ticket.created_at),
    "updated": col(Ticket.updated_at),
    "status": col(Ticket.status),
    "priority": case(_SEVERITY, value=col(Ticket.priority), else_=-1),
    "queue": col(Ticket.queue),
    "service": col(Ticket.service),
    "category": col(Ticket.category),
    "level": col(Ticket.level),
    "first-response-due": col(Ticket.first_response_due),
    "resolution-due": col(Ticket.resolution_due),
}


@dataclass(frozen=True)
class TicketFilter:
    """What `ticket list` asks for; None (or False) leaves a field unfiltered."""

    status: str | None = None
    queue: str | None = None
    assignee: str | None = None  # an email or a name, as `#assign` takes it; "none"
    priority: str | None = None
    requester: str | None = None
    organisation: str | None = None  # a name or a domain
    tag: str | None = None
    service: str | None = None
    type: str | None = None
    category: str | None = None
    level: int | None = None
    breached: bool = False
    due_before: datetime | None = None
    created_since: datetime | None = None
    updated_since: datetime | None = None


def _one_of(kind: str, value: str | None, known: Sequence[str]) -> None:
    if value is not None and value not in known:
        raise InvalidInput(f"unknown {kind} {value!r} (use {', '.join(known) or 'none'})")


def check_names(settings: Settings, wanted: TicketFilter) -> None:
    """Each value names something that exists, or InvalidInput says which does not."""
    _one_of("status", wanted.status, STATUSES)
    _one_of("priority", wanted.priority, PRIORITIES)
    _one_of("type", wanted.type, TICKET_TYPES)
    _one_of("queue", wanted.queue, settings.queue_names())
    _one_of("service", wanted.service, [s.name for s in settings.services])
    categories = [STANDARD_CATEGORY, *(c.name for c in settings.categories)]
    _one_of("category", wanted.category, categories)


def _assignee(session: Session, who: str) -> ColumnElement[bool]:
    if who.lower() in ("none", "-"):
        return col(Ticket.assignee_id).is_(None)
    agent = find_agent_by(session, who)
    if agent is None:
        raise InvalidInput(f"no such agent: {who!r} (an active agent's email or unique name)")
    return col(Ticket.assignee_id) == agent.id


def _requester(session: Session, email: str) -> ColumnElement[bool]:
    contact = session.exec(select(Contact).where(Contact.email == email.lower())).first()
    if contact is None:
        raise InvalidInput(f"no such contact: {email!r}")
    return col(Ticket.requester_id) == contact.id


def _organisation(session: Session, name: str) -> ColumnElement[bool]:
    folded = name.strip().lower()
    found = session.exec(
        select(Organisation.id).where(
            or_(func.lower(Organisation.name) == folded, col(Organisation.domain) == folded)
        )
    ).all()
    if not found:
        raise InvalidInput(f"no such organisation: {name!r}")
    members = select(Contact.id).where(col(Contact.organisation_id).in_(found))
    return col(Ticket.requester_id).in_(members)


def _plain(wanted: TicketFilter) -> list[ColumnElement[bool]]:
    """The conditions that need no lookup."""
    pairs = [
        (col(Ticket.status), wanted.status),
        (col(Ticket.queue), wanted.queue),
        (col(Ticket.priority), wanted.priority),
        (col(Ticket.service), wanted.service),
        (col(Ticket.type), wanted.type),
        (col(Ticket.category), wanted.category),
        (col(Ticket.level), wanted.level),
    ]
    found = [column == value for column, value in pairs if value is not None]
    if wanted.tag is not None:
        tagged = select(TicketTag.ticket_id).where(TicketTag.tag == wanted.tag.lower())
        found.append(col(Ticket.id).in_(tagged))
    if wanted.created_since is not None:
        found.append(col(Ticket.created_at) >= wanted.created_since)
    if wanted.updated_since is not None:
        found.append(col(Ticket.updated_at) >= wanted.updated_since)
    return found


def conditions(session: Session, wanted: TicketFilter) -> list[ColumnElement[bool]]:
    """The WHERE of a filter; names that name nothing raise InvalidInput."""
    found = [col(Ticket.merged_into_id).is_(None), *_plain(wanted)]
    if wanted.assignee is not None:
        found.append(_assignee(session, wanted.assignee))
    if wanted.requester is not None:
        found.append(_requester(session, wanted.requester))
    if wanted.organisation is not None:
        found.append(_organisation(session, wanted.organisation))
    if wanted.breached:
        found.append(breached())
    if wanted.due_before is not None:
        found.append(due_before(wanted.due_before))
    return found


def order_by(sort: str) -> list[Any]:
    """`created`, `-priority,created`: keys in order, `-` for descending; the ref breaks ties."""
    keys: list[Any] = []
    for part in (p.strip() for p in sort.split(",")):
        name = part.removeprefix("-")
        if name not in SORT_KEYS:
            raise InvalidInput(f"cannot sort by {name!r} (use {', '.join(SORT_KEYS)})")
        key = SORT_KEYS[name]
        keys.append(key.desc() if part.startswith("-") else key.asc())
    return [*keys, col(Ticket.id).desc()]


@dataclass(frozen=True)
class Found:
    tickets: list[Ticket]
    total: int  # how many match, all of them


def find_tickets(
    session: Session,
    *,
    settings: Settings,
    wanted: TicketFilter,
    sort: str = "-created",
    limit: int = DEFAULT_LIMIT,
) -> Found:
    """The matching tickets in order, at most `limit` (0: all), and how many match in all."""
    if limit < 0:
        raise InvalidInput(f"--limit must be 0 (all) or more, not {limit}")
    check_names(settings, wanted)
    where = conditions(session, wanted)
    query = select(Ticket).where(*where).order_by(*order_by(sort))
    tickets = list(session.exec(query.limit(limit + 1) if limit else query))
    if not limit or len(tickets) <= limit:
        return Found(tickets, len(tickets))
    total = session.exec(select(func.count()).select_from(Ticket).where(*where)).one()
    return Found(tickets[:limit], total)
