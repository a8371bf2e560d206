"""The handler table carries out a plan: the ticket created or the message appended, who hears."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlmodel import Session, col, select

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.mail import parse_mail
from maildesk.models import Attachment, Event, Message, OutboxItem, Ticket, TicketLink
from maildesk.outbound.bounces import parse_bounce
from maildesk.pipeline.work import Append, Create, MatchBounce, Plan, StageEnv, ThreadMatch, Work
from maildesk.services.inbox import store_raw
from maildesk.services.origin import Origin
from maildesk.services.tickets import participant_emails
from tests.conftest import START
from tests.handlers import Done, carry_out
from tests.mails import mail, sample

REPLY = "Still burning.\n\nOn Mon, 23 Nov 2026, Support wrote:\n> We sent someone.\n"


@dataclass
class Stage:
    app: App
    session: Session

    def carry_out(self, raw: bytes, plan: Plan, *, thread: ThreadMatch | None = None) -> Done:
        stored = store_raw(self.session, raw=raw, origin=Origin(transport="pipe"), now=START)
        automatic = "Auto-Submitted: auto-replied" if b"Auto-Submitted" in raw else None
        work = Work(
            stored.item_id,
            raw,
            mail=parse_mail(raw),
            automatic=automatic,
            bounce=parse_bounce(raw),  # as the automatic stage finds it
            thread=thread,
            plan=plan,
        )
        return carry_out(StageEnv(self.session, self.app.desk, START), work)

    def created(self, raw: bytes | None = None) -> Ticket:
        done = self.carry_out(raw or mail(message_id="m1@acme.test"), Create())
        assert done.ticket is not None
        return done.ticket

    def outbox(self) -> list[tuple[str, str]]:
        rows = self.session.exec(select(OutboxItem).order_by(col(OutboxItem.id)))
        return [(r.recipients[0], r.spec["template"] if r.spec else "") for r in rows]

    def messages(self, ticket: Ticket) -> list[Message]:
        query = select(Message).where(Message.ticket_id == ticket.id).order_by(col(Message.id))
        return list(self.session.exec(query))

    def events(self, ticket: Ticket) -> list[Event]:
        return list(self.session.exec(select(Event).where(Event.ticket_id == ticket.id)))


@pytest.fixture
def stage(app: App) -> Iterator[Stage]:
    with unit_of_work(app.engine) as session:
        yield Stage(app, session)


def test_a_create_plan_makes_the_ticket_its_message_and_attachment(stage: Stage) -> None:
    raw = mail(
        subject="Printer on fire",
        body=REPLY,
        message_id="m1@acme.test",
        attachments=[("photo.jpg", "image/jpeg", b"\xff\xd8 smoke")],
    )

    done = stage.carry_out(raw, Create())

    assert (done.outcome, done.reason) == ("created", None)
    ticket = done.ticket
    assert ticket is not None and (ticket.ref, ticket.queue, ticket.subject) == (
        "TKT-1",
        "general",
        "Printer on fire",
    )
    [message] = stage.messages(ticket)
    assert (message.role, message.direction, message.visibility) == ("customer", "in", "public")
    assert (message.author, message.text, message.message_id) == (
        "carol@acme.test",
        "Still burning.",
        "m1@acme.test",
    )
    assert "We sent someone." in message.original
    [attachment] = stage.session.exec(select(Attachment)).all()
    assert (attachment.filename, attachment.size) == ("photo.jpg", 8)
    assert stage.app.desk.store.get(attachment.sha256) == b"\xff\xd8 smoke"


def test_a_new_ticket_is_acked_and_announced_to_the_queues_agents(stage: Stage) -> None:
    stage.created()

    assert stage.outbox() == [
        ("carol@acme.test", "ack"),
        ("alice@example.com", "notify_new"),
        ("bob@example.com", "notify_new"),
    ]


def test_only_people_on_to_and_cc_who_are_not_the_desk_or_agents_join(stage: Stage) -> None:
    raw = mail(
        to="support@example.com, Dan <dan@acme.test>",
        cc="Bob <bob@example.com>, billing+x@example.com, carol@acme.test, erin@other.test",
    )

    ticket = stage.created(raw)

    assert participant_emails(stage.session, ticket_id=ticket.id or 0) == [
        "carol@acme.test",
        "dan@acme.test",
        "erin@other.test",
    ]


def test_a_strangers_ticket_is_linked_and_the_ticket_they_named_gets_a_note(stage: Stage) -> None:
    named = stage.created()
    thread = ThreadMatch(named.id or 0, "subject tag [TKT-1]", "stranger")
    plan = Create(linked_to=named.id, link_kind="named-by-stranger")

    done = stage.carry_out(mail(sender="mallory@evil.test"), plan, thread=thread)

    assert done.ticket is not None and done.ticket.ref == "TKT-2"
    link = stage.session.exec(select(TicketLink)).one()
    assert (link.ticket_id, link.other_id, link.kind) == (
        done.ticket.id,
        named.id,
        "named-by-stranger",
    )
    note = stage.messages(named)[-1]
    assert (note.role, note.visibility, note.subject) == (
        "system",
        "internal",
        "Linked ticket TKT-2",
    )
    assert "mallory@evil.test is not a participant" in note.text and "#merge" in note.text
    assert [e.data["to"] for e in stage.events(named) if e.type == "linked"] == ["TKT-2"]


def test_a_customer_reply_to_a_resolved_ticket_reopens_it_and_tells_the_agents(
    stage: Stage,
) -> None:
    ticket = stage.created()
    ticket.status = "resolved"
    thread = ThreadMatch(ticket.id or 0, "In-Reply-To <m1@acme.test>", "requester")

    done = stage.carry_out(
        mail(body=REPLY, message_id="m2@acme.test"),
        Append(ticket.id or 0, "customer", "public", reopen=True),
        thread=thread,
    )

    assert (done.outcome, done.reason, ticket.status) == (
        "reopened",
        "In-Reply-To <m1@acme.test>",
        "open",
    )
    assert stage.messages(ticket)[-1].text == "Still burning."
    [event] = [e for e in stage.events(ticket) if e.type == "message"]
    assert event.data["threaded_by"] == "In-Reply-To <m1@acme.test>"
    assert stage.outbox()[-2:] == [
        ("alice@example.com", "notify_reply"),
        ("bob@example.com", "notify_reply"),
    ]


def test_a_colleague_who_writes_in_joins_the_ticket(stage: Stage) -> None:
    ticket = stage.created()
    thread = ThreadMatch(ticket.id or 0, "subject tag", "colleague")

    done = stage.carry_out(
        mail(sender="Erin <erin@acme.test>"),
        Append(ticket.id or 0, "customer", "public"),
        thread=thread,
    )

    assert done.outcome == "appended"
    assert "erin@acme.test" in participant_emails(stage.session, ticket_id=ticket.id or 0)


def test_automatic_mail_is_stored_whole_as_an_internal_note_and_answered_by_no_one(
    stage: Stage,
) -> None:
    ticket = stage.created()
    before = stage.outbox()
    robot = mail(sender="robot@acme.test", body=REPLY, headers={"Auto-Submitted": "auto-replied"})

    done = stage.carry_out(
        robot,
        Append(ticket.id or 0, "system", "internal"),
        thread=ThreadMatch(ticket.id or 0, "subject tag", "requester"),
    )

    assert done.outcome == "appended"
    note = stage.messages(ticket)[-1]
    assert (note.role, note.visibility) == ("system", "internal")
    assert "We sent someone." in note.text  # not cut like a person's quoted history
    assert stage.outbox() == before


def test_a_bounce_of_mail_we_never_sent_is_dropped_with_the_reason(stage: Stage) -> None:
    done = stage.carry_out(sample("dsn_bounce.eml"), MatchBounce("Auto-Submitted: auto-replied"))

    assert done == Done(
        None,
        "dropped",
        "automatic mail (Auto-Submitted: auto-replied) matching no ticket and no mail we sent",
    )
    assert stage.session.exec(select(Ticket)).all() == []
