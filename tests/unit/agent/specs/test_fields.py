"""`#priority` and `#queue`: one field of the ticket each, checked and audited."""

from __future__ import annotations

from datetime import UTC

from maildesk.agent.lines import BadLine, Command
from maildesk.agent.parser import parse_line
from maildesk.agent.spec import Refusal
from maildesk.agent.specs import fields
from maildesk.models import Priority
from tests.conftest import START
from tests.unit.agent.acting import apply, context, trail
from tests.unit.agent.conftest import Planner

PRIORITY, QUEUE = fields.SPECS


def test_a_priority_is_one_of_the_four_read_in_lower_case() -> None:
    words = ("low", "normal", "high", "urgent", "extreme", "")
    assert [w for w in words if PRIORITY.accepts(w, START, UTC)] == list(words[:4])
    assert parse_line("#priority URGENT", START) == Command(
        "priority", ("urgent",), "#priority URGENT"
    )
    assert parse_line("#priority extreme", START) == BadLine(
        "#priority extreme", "unknown priority (use low, normal, high, urgent): 'extreme'"
    )
    assert parse_line("#priority high low", START) == BadLine(
        "#priority high low", "#priority takes exactly one argument"
    )


def test_a_priority_resolves_to_its_enum_member(planner: Planner) -> None:
    assert PRIORITY.resolve(context(planner), ("high",)) is Priority.HIGH


def test_a_new_priority_is_set_and_audited_from_and_to(planner: Planner) -> None:
    apply(planner, "#priority urgent")

    assert planner.ticket.priority == "urgent"
    assert trail(planner) == [
        ("command", {"line": "#priority urgent"}),
        ("priority", {"from": "normal", "to": "urgent"}),
    ]


def test_the_priority_a_ticket_already_has_records_only_the_command(planner: Planner) -> None:
    apply(planner, "#priority normal")

    assert trail(planner) == [("command", {"line": "#priority normal"})]


def test_the_queue_must_be_one_of_the_desks_queues(planner: Planner) -> None:
    assert QUEUE.resolve(context(planner), ("billing",)) == "billing"
    assert QUEUE.resolve(context(planner), ("nowhere",)) == Refusal("no such queue: 'nowhere'")


def test_moving_to_another_queue_is_audited(planner: Planner) -> None:
    apply(planner, "#queue billing")

    assert planner.ticket.queue == "billing"
    assert trail(planner)[-1] == ("queue", {"from": "general", "to": "billing"})


def test_a_priority_and_a_queue_may_each_be_given_once(planner: Planner) -> None:
    _actions, errors = planner.plan("#priority high\n#priority low\n#queue billing\n#queue general")

    assert errors == [
        BadLine("#priority low", "#priority may be given once per message"),
        BadLine("#queue general", "#queue may be given once per message"),
    ]
