"""`#status` and its shorthands: the status, its derived times, and news for the customer."""

from __future__ import annotations

from datetime import UTC, timedelta

from maildesk.agent.lines import BadLine, Command
from maildesk.agent.parser import parse_line
from maildesk.agent.specs import status
from maildesk.models import TicketStatus
from tests.conftest import START
from tests.unit.agent.acting import apply, context, run, trail
from tests.unit.agent.conftest import Planner

[STATUS] = status.SPECS


def test_the_shorthands_stand_for_a_status_line() -> None:
    assert dict(STATUS.shorthands) == {
        "#resolve": "resolved",
        "#close": "closed",
        "#reopen": "open",
        "#pending": "pending",
    }
    assert parse_line(" #Close ", START) == Command("status", ("closed",), " #Close ")


def test_only_the_five_statuses_are_accepted_in_any_case() -> None:
    words = ("new", "open", "pending", "resolved", "closed", "done", "")
    assert [w for w in words if STATUS.accepts(w, START, UTC)] == list(words[:5])
    assert parse_line("#status OPEN", START) == Command("status", ("open",), "#status OPEN")
    assert parse_line("#status Done", START) == BadLine(
        "#status Done", "unknown status (use new, open, pending, resolved, closed): 'Done'"
    )


def test_a_status_resolves_to_its_enum_member(planner: Planner) -> None:
    assert STATUS.resolve(context(planner), ("pending",)) is TicketStatus.PENDING


def test_resolving_sets_the_status_and_its_moment_and_is_news_for_the_customer(
    planner: Planner,
) -> None:
    effects = apply(planner, "#resolve")

    assert (planner.ticket.status, planner.ticket.resolved_at) == ("resolved", START)
    assert effects.notify_status is True
    assert trail(planner) == [
        ("command", {"line": "#resolve"}),
        ("status", {"from": "new", "to": "resolved"}),
    ]


def test_closing_directly_carries_the_closing_moment(planner: Planner) -> None:
    acting = run(planner)

    assert STATUS.effect is not None
    STATUS.effect(acting, TicketStatus.CLOSED)

    assert (planner.ticket.status, planner.ticket.closed_at) == ("closed", START)
    assert acting.effects.notify_status is True


def test_reopening_clears_the_resolved_moment_and_is_no_news(planner: Planner) -> None:
    apply(planner, "#resolve")

    effects = apply(planner, "#reopen")

    assert (planner.ticket.status, planner.ticket.resolved_at) == ("open", None)
    assert effects.notify_status is False


def test_a_status_set_by_hand_ends_a_snooze(planner: Planner) -> None:
    apply(planner, "#snooze 2h")
    assert planner.ticket.snoozed_until == START + timedelta(hours=2)

    apply(planner, "#status open")

    assert (planner.ticket.status, planner.ticket.snoozed_until) == ("open", None)
    assert trail(planner)[-2:] == [
        ("status", {"from": "pending", "to": "open"}),
        ("snooze", {"until": None}),
    ]


def test_a_status_may_be_given_once_per_message(planner: Planner) -> None:
    _actions, errors = planner.plan("#resolve\n#status open")

    assert errors == [BadLine("#status open", "#status may be given once per message")]
