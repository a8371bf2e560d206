"""Merging a ticket into another: what moves, and what stays with the merged ticket."""

from __future__ import annotations

from sqlmodel import Session, col, select

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.models import Event, Ticket, TicketStatus
from maildesk.services.contacts import get_or_create_contact
from maildesk.services.merge import merge_tickets
from maildesk.services.tickets import Actor, create_ticket, record_event
from tests.conftest import START

ALICE = Actor("alice@example.com", "cli")


def new_ticket(session: Session, email: str) -> Ticket:
    contact = get_or_create_contact(session, email=email, name="", free_mail=(), now=START)
    return create_ticket(
        session,
        prefix="TKT",
        requester=contact,
        subject=f"From {email}",
        queue="general",
        actor=Actor(email, "mail:1"),
        now=START,
    )


def trail(session: Session, ticket: Ticket) -> list[tuple[str, dict[str, object]]]:
    rows = session.exec(select(Event).where(Event.ticket_id == ticket.id).order_by(col(Event.id)))
    return [(e.type, e.data) for e in rows]


def test_the_merged_ticket_keeps_its_created_event_and_its_other_events_move(app: App) -> None:
    with unit_of_work(app.engine) as session:
        target = new_ticket(session, "carol@acme.test")
        source = new_ticket(session, "dave@acme.test")
        record_event(
            session, ticket=source, actor=ALICE, type="tag", data={"tags": ["x"]}, now=START
        )

        merge_tickets(session, desk=app.desk, source=source, target=target, actor=ALICE, now=START)

        assert trail(session, source) == [
            (
                "created",
                {
                    "subject": "From dave@acme.test",
                    "queue": "general",
                    "requester": "dave@acme.test",
                },
            ),
            ("status", {"from": "new", "to": "closed"}),
            ("merged", {"into": target.ref}),
        ]
        assert [type for type, _ in trail(session, target)] == ["created", "tag", "merged"]
        assert (source.status, source.merged_into_id) == (TicketStatus.CLOSED, target.id)
