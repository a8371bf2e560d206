"""Who gets which mail when a ticket changes, through the one entry point `notify`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from maildesk.addresses import agent_role, parse_signed, verify
from maildesk.app import App, open_app
from maildesk.db import unit_of_work
from maildesk.desk import Desk
from maildesk.models import Agent, OutboxItem, Ticket, Watcher
from maildesk.notices import send
from maildesk.notices.addressing import sender_identity, signed_reply_to, ticket_thread
from maildesk.notices.contexts import public_history
from maildesk.notices.events import NoticeEvent
from maildesk.notices.occasion import Occasion, Reader
from maildesk.notices.quiet import quiet, why_quiet
from maildesk.notices.recipients import customers, handlers, requester
from maildesk.notices.send import Notified, notify
from maildesk.notices.table import Audience, Row, rows_for
from maildesk.services.contacts import find_agent, get_or_create_contact, queue_agents
from maildesk.services.tickets import Actor, add_message, add_participant, create_ticket
from maildesk.timing.clock import FixedClock
from tests.conftest import BASE_CONFIG, START, make_settings


def open_ticket(
    session: Session, *, email: str = "carol@acme.test", queue: str = "general"
) -> Ticket:
    """A ticket with the requester's first mail <m1@acme.test> and Dan on Cc."""
    requester = get_or_create_contact(session, email=email, name="Carol", free_mail=(), now=START)
    ticket = create_ticket(
        session,
        prefix="TKT",
        requester=requester,
        subject="Printer on fire",
        queue=queue,
        actor=Actor(email, "test"),
        now=START,
    )
    dan = get_or_create_contact(session, email="dan@acme.test", name="Dan", free_mail=(), now=START)
    add_participant(session, ticket=ticket, contact=dan, role="cc")
    write(session, ticket, "Help, it burns.", message_id="m1@acme.test")
    return ticket


def write(session: Session, ticket: Ticket, text: str, **fields: Any) -> None:
    fields = {"direction": "in", "role": "customer", "author": "carol@acme.test"} | fields
    add_message(session, ticket=ticket, now=START, text=text, **fields)


def agent(session: Session, email: str) -> Agent:
    found = find_agent(session, email=email)
    assert found is not None
    return found


def acknowledge(session: Session, *, desk: Desk, ticket: Ticket, now: Any) -> str | None:
    """The new-ticket notice's acknowledgement: None when queued, else why it was withheld."""
    done = notify(session, desk=desk, event=NoticeEvent.NEW_TICKET, ticket=ticket, now=now)
    withheld = [w.reason for w in done.withheld if w.template == "ack"]
    return withheld[0] if withheld else None


def kinds(done: Notified, kind: str) -> list[OutboxItem]:
    return [item for item in done.queued if item.kind == kind]


# --- the acknowledgement -----------------------------------------------------------------------


def test_a_new_tickets_ack_goes_to_the_requester_alone_threaded_on_their_mail(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session)

        assert acknowledge(session, desk=app.desk, ticket=ticket, now=START) is None

        [ack] = [i for i in session.exec(select(OutboxItem)) if i.kind == "ack"]
    assert (ack.recipients, ack.automatic, ack.ticket_id) == (["carol@acme.test"], True, ticket.id)
    assert ack.spec["in_reply_to"] == "m1@acme.test"
    assert ack.spec["context"]["requester_name"] == "Carol"


def test_a_quiet_transaction_queues_no_mail_and_says_why_for_each_row(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session)

        with quiet(session, "quiet: imported history"):
            hushed = notify(
                session, desk=app.desk, event=NoticeEvent.NEW_TICKET, ticket=ticket, now=START
            )
        assert session.exec(select(OutboxItem)).all() == []
        loud = notify(
            session, desk=app.desk, event=NoticeEvent.NEW_TICKET, ticket=ticket, now=START
        )

        assert why_quiet(session) is None
        assert hushed.queued == []
        assert {w.reason for w in hushed.withheld} == {"quiet: imported history"}
        rows = [row.template for row in rows_for(NoticeEvent.NEW_TICKET)]
        assert [w.template for w in hushed.withheld] == rows and "ack" in rows
        assert len(session.exec(select(OutboxItem)).all()) == len(loud.queued) > 0


def test_no_ack_to_the_desks_own_address(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session, email="billing+x@example.com")

        why = acknowledge(session, desk=app.desk, ticket=ticket, now=START)

    assert why == "the requester is one of the desk's own addresses"


def test_no_ack_from_a_queue_that_sends_none(app: App, tmp_path: Any, database_url: str) -> None:
    quiet = [{**BASE_CONFIG["queues"][0], "acknowledge": False}, BASE_CONFIG["queues"][1]]
    desk = open_app(make_settings(tmp_path, database_url, queues=quiet), clock=FixedClock(START))
    with unit_of_work(desk.engine) as session:
        ticket = open_ticket(session)

        assert acknowledge(session, desk=desk.desk, ticket=ticket, now=START) == (
            "queue general sends no acknowledgements"
        )
        assert (
            acknowledge(
                session, desk=desk.desk, ticket=open_ticket(session, queue="billing"), now=START
            )
            is None
        )
    desk.engine.dispose()


def test_acks_to_one_address_stop_at_the_hourly_limit(app: App) -> None:
    limit = app.settings.outbound.ack_limit
    with unit_of_work(app.engine) as session:
        answers = [
            acknowledge(session, desk=app.desk, ticket=open_ticket(session), now=START)
            for _ in range(limit + 1)
        ]
        later = START + timedelta(hours=1, seconds=1)
        after_an_hour = acknowledge(session, desk=app.desk, ticket=open_ticket(session), now=later)

    assert answers == [None] * limit + [
        f"carol@acme.test already had {limit} automatic mails this hour"
    ]
    assert after_an_hour is None


# --- agents ------------------------------------------------------------------------------------


def test_away_agents_hear_nothing_and_a_queueless_supervisor_hears_every_queue(app: App) -> None:
    with unit_of_work(app.engine) as session:
        agent(session, "bob@example.com").away = True
        agent(session, "alice@example.com").queues = []

        assert [a.email for a in queue_agents(session, queue="general")] == ["alice@example.com"]
        assert [a.email for a in queue_agents(session, queue="anything")] == ["alice@example.com"]


def test_each_agent_gets_their_own_notice_with_a_reply_to_signed_for_them(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session)

        done = notify(
            session,
            desk=app.desk,
            event=NoticeEvent.NEW_TICKET,
            ticket=ticket,
            now=START,
            facts={"text": "Help, it burns."},
        )

    notices = kinds(done, "notify")
    assert sorted(n.recipients[0] for n in notices) == ["alice@example.com", "bob@example.com"]
    for notice in notices:
        [email] = notice.recipients
        signed = parse_signed(notice.spec["reply_to"])
        assert signed is not None and signed.ref == ticket.ref
        assert verify(signed, secrets_=app.desk.secrets, role=agent_role(email))
        assert notice.spec["context"]["text"] == "Help, it burns."


def test_a_new_tickets_ack_and_agents_notices_are_written_in_one_statement(app: App) -> None:
    inserts: list[int] = []

    def count(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if statement.startswith("INSERT INTO outboxitem"):
            inserts.append(statement.count("VALUES") + statement.count("), ("))

    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session)
        event.listen(app.engine, "before_cursor_execute", count)
        done = notify(
            session, desk=app.desk, event=NoticeEvent.NEW_TICKET, ticket=ticket, now=START
        )
        event.remove(app.engine, "before_cursor_execute", count)
        stored = session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all()

    assert inserts == [3]  # one statement, three rows: the ack, then one to each agent
    assert [row["kind"] for row in done.rows] == ["ack", "notify", "notify"]
    assert [(i.id, i.message_id) for i in stored] == [(r["id"], r["message_id"]) for r in done.rows]


def test_a_gate_sees_the_mail_its_event_queued_before_it(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []

    def counting(occasion: Occasion, readers: list[Reader]) -> str | None:
        seen.append([i.kind for i in occasion.session.exec(select(OutboxItem))])
        return None  # send it

    rows = (
        Row(NoticeEvent.NEW_TICKET, Audience.AGENTS, handlers, "notify_new"),
        Row(NoticeEvent.NEW_TICKET, Audience.CUSTOMERS, requester, "ack", gate=counting),
    )
    monkeypatch.setattr(send, "rows_for", lambda event: list(rows))
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session)
        done = notify(
            session, desk=app.desk, event=NoticeEvent.NEW_TICKET, ticket=ticket, now=START
        )

    assert seen == [["notify", "notify"]]
    assert [row["kind"] for row in done.rows] == ["notify", "notify", "notify"]


def reply_readers(session: Session, app: App, ticket: Ticket) -> list[str]:
    facts = {"author_email": "carol@acme.test", "author_name": "Carol", "text": "Still burning."}
    done = notify(
        session,
        desk=app.desk,
        event=NoticeEvent.CUSTOMER_REPLY,
        ticket=ticket,
        now=START,
        facts=facts,
    )
    return [item.recipients[0] for item in done.queued]


def test_news_goes_to_the_assignee_alone_and_to_watchers_besides(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session)
        assert reply_readers(session, app, ticket) == ["alice@example.com", "bob@example.com"]
        ticket.assignee_id = agent(session, "bob@example.com").id
        session.add(Watcher(ticket_id=ticket.id, agent_id=agent(session, "alice@example.com").id))
        session.add(Watcher(ticket_id=ticket.id, agent_id=ticket.assignee_id))

        recipients = reply_readers(session, app, ticket)

    assert recipients == ["bob@example.com", "alice@example.com"]


def test_a_command_error_outside_any_ticket_goes_to_that_agent(app: App) -> None:
    with unit_of_work(app.engine) as session:
        done = notify(
            session,
            desk=app.desk,
            event=NoticeEvent.COMMAND_ERROR,
            ticket=None,
            now=START,
            actor_agent=agent(session, "bob@example.com"),
            facts={
                "subject": "New one",
                "errors": [{"line": "#to nobody", "reason": "not an address"}],
            },
        )

    [item] = done.queued
    assert (item.recipients, item.ticket_id, item.spec["template"]) == (
        ["bob@example.com"],
        None,
        "command_error",
    )
    assert item.spec["context"]["errors"] == [{"line": "#to nobody", "reason": "not an address"}]


# --- customers ---------------------------------------------------------------------------------


def relay(session: Session, app: App, ticket: Ticket, text: str) -> OutboxItem:
    done = notify(
        session,
        desk=app.desk,
        event=NoticeEvent.AGENT_REPLY,
        ticket=ticket,
        now=START,
        actor_agent=agent(session, "bob@example.com"),
        facts={"text": text},
    )
    [item] = kinds(done, "agent-reply")
    return item


def test_the_quoted_history_is_newest_first_and_never_holds_internal_notes(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session)
        write(session, ticket, "Only for agents.", visibility="internal", role="agent")
        write(session, ticket, "Still burning.", author_name="Carol C")
        write(session, ticket, "We sent someone.", direction="out", role="agent")

        history = relay(session, app, ticket, "We sent someone.").spec["context"]["history"]

    assert [h["text"] for h in history] == ["Still burning.", "Help, it burns."]
    assert history[0] == {
        "author_name": "Carol C",
        "date": "2026-11-23 09:00 UTC",
        "text": "Still burning.",
    }
    assert history[1]["author_name"] == "carol@acme.test"


def test_an_agents_reply_goes_to_the_requester_and_cc_quoting_what_came_before(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session)
        write(session, ticket, "We sent someone.", direction="out", role="agent")

        item = relay(session, app, ticket, "We sent someone.")

    assert item.recipients == ["carol@acme.test", "dan@acme.test"]
    assert not item.automatic and item.kind == "agent-reply"
    assert [h["text"] for h in item.spec["context"]["history"]] == ["Help, it burns."]
    assert item.spec["context"]["agent_name"] == "Bob"


def test_a_status_mail_goes_to_every_customer_on_the_ticket(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session)
        ticket.status = "resolved"

        done = notify(
            session, desk=app.desk, event=NoticeEvent.STATUS_CHANGED, ticket=ticket, now=START
        )

    [item] = done.queued
    assert (item.recipients, item.kind, item.spec["context"]["status"]) == (
        ["carol@acme.test", "dan@acme.test"],
        "status",
        "resolved",
    )


# --- the table's parts, one at a time ------------------------------------------------------------


def occasion(session: Session, app: App, ticket: Ticket) -> Occasion:
    return Occasion(session, app.desk, NoticeEvent.CUSTOMER_REPLY, ticket, START, None, {})


def test_readers_are_the_handlers_of_the_queue_and_the_customers_of_the_ticket(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session, queue="billing")
        seen = occasion(session, app, ticket)

        assert [r.address.email for r in handlers(seen)] == ["alice@example.com"]
        assert [r.address.email for r in customers(seen)] == ["carol@acme.test", "dan@acme.test"]


def test_mail_about_a_billing_ticket_is_addressed_from_the_billing_queue(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session, queue="billing")

        assert sender_identity(app.desk, ticket).address == "billing@example.com"
        reply_to = signed_reply_to(app.desk, ticket, None)
        assert reply_to is not None and reply_to.startswith(f"billing+{ticket.ref}.")
        assert ticket_thread(session, ticket) == ("m1@acme.test", ("m1@acme.test",))


def test_the_public_history_leaves_internal_notes_out(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session)
        write(session, ticket, "Only for agents.", visibility="internal", role="agent")

        texts = [h["text"] for h in public_history(occasion(session, app, ticket))]

    assert texts == ["Help, it burns."]


# --- a customer's rating -----------------------------------------------------------------------


def rate(session: Session, app: App, ticket: Ticket, score: int, **facts: Any) -> Notified:
    facts = {"score": score, "comment": "Slow.", "rater_email": "dan@acme.test"} | facts
    return notify(
        session, desk=app.desk, event=NoticeEvent.RATED, ticket=ticket, now=START, facts=facts
    )


def test_a_rating_thanks_the_one_who_rated_by_the_name_the_desk_knows(app: App) -> None:
    with unit_of_work(app.engine) as session:
        done = rate(session, app, open_ticket(session), 4)

    [thanks] = done.queued
    assert (thanks.recipients, thanks.kind, thanks.automatic) == (
        ["dan@acme.test"],
        "rating-thanks",
        True,
    )
    assert thanks.spec["context"]["rater_name"] == "Dan"
    assert [w.template for w in done.withheld] == ["rating_alert"]


def test_a_poor_rating_reaches_the_assignee_and_each_supervisor_once(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session)
        ticket.assignee_id = agent(session, "alice@example.com").id  # a supervisor herself
        done = rate(session, app, ticket, 2, rater_name="Dan D.")

    alerts = [item for item in done.queued if item.spec["template"] == "rating_alert"]
    assert [item.recipients for item in alerts] == [["alice@example.com"]]
    context = alerts[0].spec["context"]
    assert (context["score"], context["comment"], context["rater_name"]) == (2, "Slow.", "Dan D.")
    signed = parse_signed(alerts[0].spec["reply_to"])
    assert signed is not None
    assert verify(signed, secrets_=app.desk.secrets, role=agent_role("alice@example.com"))


def test_a_poor_rating_of_bobs_ticket_reaches_bob_and_the_supervisor(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = open_ticket(session)
        ticket.assignee_id = agent(session, "bob@example.com").id
        done = rate(session, app, ticket, 1)

    alerts = [item.recipients for item in done.queued if item.spec["template"] == "rating_alert"]
    assert alerts == [["bob@example.com"], ["alice@example.com"]]
