"""`#time <duration>`: time an agent spent on the ticket, in whole minutes, at least one."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlmodel import col, select

from maildesk.agent.lines import BadLine
from maildesk.agent.parser import parse_line
from maildesk.agent.specs import time_spent
from maildesk.models import TimeEntry
from tests.conftest import START
from tests.unit.agent.acting import apply, context, trail
from tests.unit.agent.conftest import Planner

[TIME] = time_spent.SPECS


def test_time_is_a_positive_duration() -> None:
    words = ("90m", "2h", "1w", "30s", "0m", "-5m", "forever", "1h30m")
    assert [w for w in words if TIME.accepts(w, START, UTC)] == ["90m", "2h", "1w", "30s"]
    assert parse_line("#time 0m", START) == BadLine(
        "#time 0m", "not a duration (use e.g. 90m, 2h): '0m'"
    )


@pytest.mark.parametrize(
    ("spent", "minutes"), [("90m", 90), ("2h", 120), ("1d", 1440), ("90s", 1), ("30s", 1)]
)
def test_time_is_counted_in_whole_minutes_and_at_least_one(
    planner: Planner, spent: str, minutes: int
) -> None:
    assert TIME.resolve(context(planner), (spent,)) == minutes


def test_each_time_line_logs_an_entry_for_the_agent(planner: Planner) -> None:
    apply(planner, "#time 90m\n#time 15m")

    rows = planner.session.exec(select(TimeEntry).order_by(col(TimeEntry.id))).all()
    bob = planner.agent("bob@example.com")
    assert [(r.ticket_id, r.agent_id, r.minutes) for r in rows] == [
        (planner.ticket.id, bob.id, 90),
        (planner.ticket.id, bob.id, 15),
    ]
    assert [e for e in trail(planner) if e[0] == "time"] == [
        ("time", {"minutes": 90}),
        ("time", {"minutes": 15}),
    ]
