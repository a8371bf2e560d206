"""Notices about many tickets at once: watchers and threads read once, the mail written once."""

from __future__ import annotations

from sqlmodel import Session, col, select

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.models import MessageRole, OutboxItem, Ticket, Visibility, Watcher
from maildesk.notices import NoticeEvent, notify
from maildesk.notices.addressing import ticket_thread
from maildesk.notices.prefetch import prefetched
from maildesk.outbound.outbox import write_together
from maildesk.services.contacts import find_agent, get_or_create_contact
from maildesk.services.tickets import Actor, add_message, create_ticket
from tests.conftest import START


def tickets_with_history(session: Session, count: int) -> list[Ticket]:
    carol = get_or_create_contact(
        session, email="carol@acme.test", name="", free_mail=(), now=START
    )
    bob = find_agent(session, email="bob@example.com")
    assert bob is not None and bob.id is not None
    made = []
    for n in range(count):
        ticket = create_ticket(
            session,
            prefix="TKT",
            requester=carol,
            subject=f"Case {n}",
            queue="general",
            actor=Actor("carol@acme.test", "mail:1"),
            now=START,
        )
        for kind, visibility in (("a", Visibility.PUBLIC), ("n", Visibility.INTERNAL)):
            add_message(
                session,
                ticket=ticket,
                now=START,
                role=MessageRole.CUSTOMER,
                visibility=visibility,
                direction="in",
                message_id=f"{kind}{n}@acme.test",
            )
        if n % 2:
            assert ticket.id is not None
            session.add(Watcher(ticket_id=ticket.id, agent_id=bob.id))
        made.append(ticket)
    session.flush()
    return made


def test_prefetched_threads_are_what_the_query_gives_notes_left_out(app: App) -> None:
    with unit_of_work(app.engine) as session:
        tickets = tickets_with_history(session, 4)
        asked = [ticket_thread(session, t) for t in tickets]
        with prefetched(session, tickets):
            assert [ticket_thread(session, t) for t in tickets] == asked
        assert asked[1].references == ("a1@acme.test",)  # the internal note never threads


def test_a_batch_of_notices_is_written_together_with_the_same_readers(app: App) -> None:
    with unit_of_work(app.engine) as session:
        tickets = tickets_with_history(session, 4)
        with prefetched(session, tickets), write_together(session):
            for ticket in tickets:
                facts = {"snoozed_until": "now"}
                notify(
                    session,
                    desk=app.desk,
                    event=NoticeEvent.SNOOZE_WOKE,
                    ticket=ticket,
                    now=START,
                    facts=facts,
                )
            assert session.exec(select(OutboxItem)).all() == []  # not yet
        rows = session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all()
        readers = [(row.ticket_id, row.recipients[0]) for row in rows]
    ids = [t.id for t in tickets]
    # the queue's agents of each, and Bob once more where he watches: mailed once each
    assert [r for r in readers if r[1] == "bob@example.com"] == [
        (i, "bob@example.com") for i in ids
    ]
    assert len(rows) == len({(r.ticket_id, r.recipients[0]) for r in rows})
