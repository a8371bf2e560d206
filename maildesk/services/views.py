"""Tickets and contacts as plain dicts with the stable keys of the CLI's JSON (DESIGN.md §6)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from maildesk.config import Settings
from maildesk.models import (
    Agent,
    Attachment,
    Contact,
    Event,
    Message,
    Organisation,
    Ticket,
    TicketTag,
)
from maildesk.services.categories import contact_category
from maildesk.services.lifecycle import next_contact, time_spent_minutes
from maildesk.services.sla import sla_view
from maildesk.services.tickets import participant_emails
from maildesk.timing.clock import iso


def ticket_tags(session: Session, *, ticket_id: int) -> list[str]:
    query = select(TicketTag.tag).where(TicketTag.ticket_id == ticket_id).order_by(TicketTag.tag)
    return list(session.exec(query))


def ticket_summary(session: Session, ticket: Ticket) -> dict[str, Any]:
    assert ticket.id is not None
    requester = session.get(Contact, ticket.requester_id)
    assignee = session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    return {
        "ref": ticket.ref,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "queue": ticket.queue,
        "service": ticket.service,
        "type": ticket.type,
        "category": ticket.category,
        "level": ticket.level,
        "assignee": assignee.email if assignee else None,
        "requester": requester.email if requester else None,
        "tags": ticket_tags(session, ticket_id=ticket.id),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
    }


def _attachments(session: Session, message_id: int) -> list[dict[str, Any]]:
    rows = session.exec(select(Attachment).where(Attachment.message_id == message_id))
    return [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256}
        for a in rows
    ]


def message_view(session: Session, message: Message) -> dict[str, Any]:
    assert message.id is not None
    return {
        "direction": message.direction,
        "visibility": message.visibility,
        "role": message.role,
        "author": message.author,
        "subject": message.subject,
        "text": message.text,
        "message_id": message.message_id,
        "created_at": iso(message.created_at),
        "attachments": _attachments(session, message.id),
    }


def lifecycle_view(session: Session, ticket: Ticket, *, settings: Settings) -> dict[str, Any]:
    """The ticket's life so far: first answered, resolved, closed; how often it came back; the
    business minutes to the first response and to the last resolution; the time agents logged;
    when the desk next turns to it by itself (None while it is in work); how it was closed."""
    return {
        "first_response_at": iso(ticket.first_response_at),
        "resolved_at": iso(ticket.resolved_at),
        "closed_at": iso(ticket.closed_at),
        "reopened": ticket.reopened,
        "first_response_minutes": ticket.first_response_minutes,
        "resolution_minutes": ticket.resolution_minutes,
        "time_spent_minutes": time_spent_minutes(session, ticket=ticket),
        "next_contact_at": iso(next_contact(session, settings=settings, ticket=ticket)),
        "close_reason": ticket.close_reason,
        "kb": ticket.kb_reference,
    }


def ticket_detail(session: Session, ticket: Ticket, *, settings: Settings) -> dict[str, Any]:
    """Everything about a ticket; the settings say when the desk next turns to it."""
    assert ticket.id is not None
    messages = session.exec(
        select(Message).where(Message.ticket_id == ticket.id).order_by(col(Message.id))
    )
    events = session.exec(select(Event).where(Event.ticket_id == ticket.id).order_by(col(Event.id)))
    return {
        **ticket_summary(session, ticket),
        "participants": participant_emails(session, ticket_id=ticket.id),
        "lifecycle": lifecycle_view(session, ticket, settings=settings),
        "messages": [message_view(session, m) for m in messages],
        "events": [
            {"at": iso(e.at), "actor": e.actor, "type": e.type, "data": e.data, "source": e.source}
            for e in events
        ],
        "sla": sla_view(session, ticket),
        "rating": rating_view(ticket),
    }


def rating_view(ticket: Ticket) -> dict[str, Any] | None:
    """The customer's rating: score 1-5, comment ("" when none) and when; None: not rated."""
    if ticket.rating is None:
        return None
    return {
        "score": ticket.rating,
        "comment": ticket.rating_comment or "",
        "at": iso(ticket.rated_at),
    }


def contact_view(session: Session, contact: Contact, *, settings: Settings) -> dict[str, Any]:
    """A contact; `category_source` says whether an operator set the category or the config."""
    organisation = (
        session.get(Organisation, contact.organisation_id) if contact.organisation_id else None
    )
    return {
        "email": contact.email,
        "name": contact.name,
        "organisation": organisation.name if organisation else None,
        "category": contact_category(session, settings=settings, contact=contact),
        "category_source": "set" if contact.category else "config",
        "created_at": iso(contact.created_at),
    }


def contact_detail(session: Session, contact: Contact, *, settings: Settings) -> dict[str, Any]:
    """A contact and the tickets they asked for, oldest first."""
    tickets = session.exec(
        select(Ticket).where(Ticket.requester_id == contact.id).order_by(col(Ticket.id))
    )
    return {
        **contact_view(session, contact, settings=settings),
        "tickets": [
            {"ref": t.ref, "status": t.status, "category": t.category, "subject": t.subject}
            for t in tickets
        ],
    }
