"""What a command spec is handed: the message's effects, and a run that audits what it does."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from sqlmodel import col, select

from maildesk.agent.spec import Arity, CommandSpec, Effects, no_value
from maildesk.models import Event
from tests.conftest import START
from tests.unit.agent.acting import run
from tests.unit.agent.conftest import Planner


def test_the_body_is_the_macro_texts_then_the_agents_own_text() -> None:
    assert Effects(macro_texts=["Hello.", "Sorry."]).body("Fixed.") == "Hello.\n\nSorry.\n\nFixed."
    assert Effects(macro_texts=["Hello."]).body("") == "Hello."
    assert Effects().body("\n  Fixed.  \n") == "Fixed."
    assert Effects().body("") == ""


def test_a_fresh_message_is_public_with_nothing_inserted_and_no_status_news() -> None:
    assert (Effects().note, Effects().macro_texts, Effects().notify_status) == (False, [], False)
    assert Effects().macro_texts is not Effects().macro_texts  # no list shared between messages


def test_a_spec_without_a_check_accepts_any_argument() -> None:
    def yes_only(arg: str, now: datetime, zone: tzinfo) -> bool:
        return arg == "yes" and now == START and zone is UTC

    unchecked = CommandSpec("free", Arity.REST, no_value, None)
    checked = CommandSpec("strict", Arity.ONE, no_value, None, check=yes_only)

    assert unchecked.accepts("any thing at all", START, UTC)
    assert (checked.accepts("yes", START, UTC), checked.accepts("no", START, UTC)) == (True, False)


def test_a_run_audits_its_events_and_changes_on_its_ticket_as_its_actor(
    planner: Planner,
) -> None:
    acting = run(planner)

    acting.event("tag", {"tags": ["vip"]})
    changed = acting.change(priority="high", queue="general")

    assert changed == {"priority"}
    assert planner.ticket.priority == "high"
    planner.session.flush()
    rows = planner.session.exec(
        select(Event)
        .where(Event.ticket_id == planner.ticket.id, Event.type != "created")
        .order_by(col(Event.id))
    )
    assert [(e.type, e.data, e.actor, e.source) for e in rows] == [
        ("tag", {"tags": ["vip"]}, "bob@example.com", "mail:1"),
        ("priority", {"from": "normal", "to": "high"}, "bob@example.com", "mail:1"),
    ]
