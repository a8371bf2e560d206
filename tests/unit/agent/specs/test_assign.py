"""`#assign`: whom a line names — an email, a unique name, `me` or `none` — and who not."""

from __future__ import annotations

from maildesk.agent.lines import BadLine
from maildesk.agent.specs import assign
from tests.unit.agent.conftest import Planner

[ASSIGN] = assign.SPECS


def test_an_agent_is_named_by_email_or_name_and_me_and_none_need_no_lookup(
    planner: Planner,
) -> None:
    bob = planner.agent("bob@example.com")
    for line, expected in (("#assign Bob", bob.id), ("#assign BOB@example.com", bob.id)):
        actions, errors = planner.plan(line)
        assert errors == [] and [(a.name, a.value) for a in actions] == [("assign", expected)]
    [none], _ = planner.plan("#assign none")
    assert none.value is None
    assert ASSIGN.once


def test_a_name_that_is_no_agent_is_refused(planner: Planner) -> None:
    _actions, errors = planner.plan("#assign zed")
    assert errors == [BadLine("#assign zed", "no such agent: 'zed'")]
