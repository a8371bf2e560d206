"""Merge one ticket into another: its messages, participants and trail move; it closes."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select, update

from maildesk.desk import Desk
from maildesk.models import (
    Contact,
    Event,
    Message,
    Participant,
    ParticipantRole,
    Ticket,
    TicketStatus,
)
from maildesk.services.ticket_change import change
from maildesk.services.tickets import Actor, add_participant, link_tickets, record_event


def merge_tickets(
    session: Session,
    *,
    desk: Desk,
    source: Ticket,
    target: Ticket,
    actor: Actor,
    now: datetime,
) -> None:
    """Move messages, participants and events into `target`; close `source` with a pointer.

    The source keeps its `created` event: its trail still says how it began.
    """
    assert source.id is not None and target.id is not None
    session.execute(
        update(Message).where(col(Message.ticket_id) == source.id).values(ticket_id=target.id)
    )
    session.execute(
        update(Event)
        .where(col(Event.ticket_id) == source.id, col(Event.type) != "created")
        .values(ticket_id=target.id)
    )
    for row in session.exec(select(Participant).where(Participant.ticket_id == source.id)).all():
        contact = session.get(Contact, row.contact_id)
        assert contact is not None
        add_participant(session, ticket=target, contact=contact, role=ParticipantRole.CC)
        session.delete(row)
    link_tickets(session, ticket=source, other=target, kind="merged-into")
    change(
        session,
        desk=desk,
        ticket=source,
        actor=actor,
        now=now,
        status=TicketStatus.CLOSED,
        merged_into_id=target.id,
    )
    record_event(
        session, ticket=target, actor=actor, type="merged", now=now, data={"from": source.ref}
    )
