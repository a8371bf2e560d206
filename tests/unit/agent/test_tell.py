"""The mail agent commands cause: each occasion queues its notice, to its readers, with facts."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from maildesk.addresses import parse_signed
from maildesk.agent import tell
from maildesk.agent.lines import BadLine
from maildesk.models import Agent, OutboxItem, Watcher
from maildesk.notices import Thread
from maildesk.rules.levels import escalate
from maildesk.services.contacts import get_or_create_contact
from maildesk.services.tickets import Actor, add_participant
from tests.conftest import START
from tests.unit.agent.acting import outbox
from tests.unit.agent.conftest import Planner, add

ERRORS = [BadLine("#status done", "unknown status"), BadLine("#frobnicate", "unknown command")]
LISTED = [
    {"line": "#status done", "reason": "unknown status"},
    {"line": "#frobnicate", "reason": "unknown command"},
]
AGENT_MAIL = Thread.answering("agent-mail@example.com")


def watch(planner: Planner, *emails: str) -> None:
    assert planner.ticket.id is not None
    for email in emails:
        agent_id = planner.agent(email).id
        assert agent_id is not None
        planner.session.add(Watcher(ticket_id=planner.ticket.id, agent_id=agent_id))


def has(context: dict[str, Any], **expected: Any) -> bool:
    return {key: context.get(key) for key in expected} == expected


def queued(planner: Planner) -> list[OutboxItem]:
    return list(planner.session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))


def test_the_new_assignee_and_the_watchers_hear_who_has_the_ticket(planner: Planner) -> None:
    bob, alice = planner.agent("bob@example.com"), planner.agent("alice@example.com")
    add(planner.session, "dora@example.com", "Dora")
    watch(planner, "dora@example.com", "bob@example.com")
    planner.ticket.assignee_id = alice.id

    tell.assigned(
        planner.session, desk=planner.app.desk, ticket=planner.ticket, by=bob, to=alice, now=START
    )

    [(to_alice, template, for_alice), (to_dora, again, for_dora)] = outbox(planner)
    assert (to_alice, to_dora, template, again) == (
        ["alice@example.com"],
        ["dora@example.com"],  # bob watches, but he did it
        "notify_assigned",
        "notify_assigned",
    )
    assert has(for_alice, assigned_by="Bob", assignee_name="Alice", to_you=True)
    assert has(for_dora, assigned_by="Bob", assignee_name="Alice", to_you=False)


def test_taking_a_ticket_mails_no_one_and_unassigning_names_nobody(planner: Planner) -> None:
    bob = planner.agent("bob@example.com")
    planner.ticket.assignee_id = bob.id
    tell.assigned(
        planner.session, desk=planner.app.desk, ticket=planner.ticket, by=bob, to=bob, now=START
    )
    assert outbox(planner) == []

    watch(planner, "alice@example.com")
    planner.ticket.assignee_id = None
    tell.assigned(
        planner.session, desk=planner.app.desk, ticket=planner.ticket, by=bob, to=None, now=START
    )

    [(to, _template, context)] = outbox(planner)
    assert to == ["alice@example.com"] and has(context, assignee_name="nobody", to_you=False)


def test_an_escalation_tells_the_next_level_from_where_to_where_and_why(planner: Planner) -> None:
    add(planner.session, "dora@example.com", "Dora", level=2)

    escalate(
        planner.session,
        desk=planner.app.desk,
        ticket=planner.ticket,
        actor=Actor("bob@example.com", "cli"),
        now=START,
        by=planner.agent("bob@example.com"),
        reason="Needs a root shell.",
    )

    [(to, template, context)] = outbox(planner)  # alice and bob are level 1
    assert (to, template) == (["dora@example.com"], "escalated")
    assert has(context, escalated_by="Bob", from_level=1, to_level=2, reason="Needs a root shell.")


def test_a_status_change_goes_to_the_customer_and_everyone_copied(planner: Planner) -> None:
    dan = get_or_create_contact(
        planner.session, email="dan@acme.test", name="Dan", free_mail=(), now=START
    )
    add_participant(planner.session, ticket=planner.ticket, contact=dan)
    planner.ticket.status = "closed"  # type: ignore[assignment]

    tell.status_changed(
        planner.session,
        desk=planner.app.desk,
        ticket=planner.ticket,
        by=planner.agent("bob@example.com"),
        now=START,
    )

    [(to, template, context)] = outbox(planner)
    assert (to, template) == (["carol@acme.test", "dan@acme.test"], "status_changed")
    assert has(context, ref="TKT-1", status="closed", agent_name="Bob")
    assert [(item.kind, item.automatic) for item in queued(planner)] == [("status", False)]


def test_resolved_the_status_mail_is_the_rating_request_with_five_rating_addresses(
    planner: Planner,
) -> None:
    dan = get_or_create_contact(
        planner.session, email="dan@acme.test", name="Dan", free_mail=(), now=START
    )
    add_participant(planner.session, ticket=planner.ticket, contact=dan)
    planner.ticket.status = "resolved"  # type: ignore[assignment]

    tell.status_changed(
        planner.session,
        desk=planner.app.desk,
        ticket=planner.ticket,
        by=planner.agent("bob@example.com"),
        now=START,
    )

    [(to, template, context)] = outbox(planner)
    assert (to, template) == (["carol@acme.test", "dan@acme.test"], "rating_request")
    assert has(context, ref="TKT-1", status="resolved", reply_subject="Re: [TKT-1] Printer on fire")
    scores = [parse_signed(a) for a in context["rating_addresses"]]
    assert [(s.ref, s.score) for s in scores if s] == [("TKT-1", n) for n in range(1, 6)]
    assert [(item.kind, item.automatic) for item in queued(planner)] == [("rating", False)]


def test_a_published_reply_goes_to_the_customer_in_the_thread_given(planner: Planner) -> None:
    watch(planner, "alice@example.com", "bob@example.com")

    tell.reply_published(
        planner.session,
        desk=planner.app.desk,
        ticket=planner.ticket,
        agent=planner.agent("bob@example.com"),
        text="A technician is on the way.",
        now=START,
        thread=AGENT_MAIL,
    )

    mails = outbox(planner)
    assert [(to, template) for to, template, _ in mails] == [
        (["carol@acme.test"], "agent_reply"),
        (["alice@example.com"], "notify_reply"),  # bob watches too, but wrote it
    ]
    assert all(has(context, text="A technician is on the way.") for _, _, context in mails)
    assert queued(planner)[0].spec["in_reply_to"] == "agent-mail@example.com"  # type: ignore[index]


def test_bad_lines_go_back_to_the_agent_who_wrote_them_in_answer_to_their_mail(
    planner: Planner,
) -> None:
    tell.command_errors(
        planner.session,
        desk=planner.app.desk,
        ticket=planner.ticket,
        agent=planner.agent("bob@example.com"),
        errors=ERRORS,
        now=START,
        answering=AGENT_MAIL,
    )

    [(to, template, context)] = outbox(planner)
    assert (to, template) == (["bob@example.com"], "command_error")  # not spared: he must know
    assert has(context, errors=LISTED, ref="TKT-1")
    [item] = queued(planner)
    assert (item.ticket_id, item.spec["in_reply_to"]) == (  # type: ignore[index]
        planner.ticket.id,
        "agent-mail@example.com",
    )


def test_bad_lines_of_a_mail_on_no_ticket_name_its_subject(planner: Planner) -> None:
    alice: Agent = planner.agent("alice@example.com")

    tell.errors_without_ticket(
        planner.session,
        desk=planner.app.desk,
        agent=alice,
        errors=ERRORS,
        subject="Toner",
        now=START,
        answering=AGENT_MAIL,
    )

    [(to, template, context)] = outbox(planner)
    assert (to, template) == (["alice@example.com"], "command_error")
    assert has(context, errors=LISTED, subject="Toner", ref=None)
    [item] = queued(planner)
    assert (item.ticket_id, item.spec["in_reply_to"]) == (  # type: ignore[index]
        None,
        "agent-mail@example.com",
    )
