"""`#tag`/`#untag`: one or more well-formed tags, stored in lower case, each once."""

from __future__ import annotations

from datetime import UTC

from sqlmodel import col, select

from maildesk.agent.lines import BadLine, Command
from maildesk.agent.parser import parse_line
from maildesk.agent.specs import tags
from maildesk.models import TicketTag
from tests.conftest import START
from tests.unit.agent.acting import apply, trail
from tests.unit.agent.conftest import Planner

TAG, UNTAG = tags.SPECS


def tags_of(planner: Planner) -> list[str]:
    planner.session.flush()
    rows = planner.session.exec(
        select(TicketTag.tag)
        .where(TicketTag.ticket_id == planner.ticket.id)
        .order_by(col(TicketTag.tag))
    )
    return list(rows)


def test_a_tag_is_letters_digits_dots_underscores_and_dashes() -> None:
    words = ("vip", "Über-2.0_x", "x" * 64, "x" * 65, "a/b", "#vip", "")
    assert [w for w in words if TAG.accepts(w, START, UTC)] == list(words[:3])


def test_each_tag_of_a_line_is_checked_and_one_bad_one_spoils_the_line() -> None:
    assert parse_line("#tag VIP printer", START) == Command(
        "tag", ("VIP", "printer"), "#tag VIP printer"
    )
    assert parse_line("#untag vip a/b", START) == BadLine(
        "#untag vip a/b", "#untag needs tags (letters, digits, . _ -)"
    )
    assert parse_line("#tag", START) == BadLine("#tag", "#tag needs tags (letters, digits, . _ -)")


def test_tags_are_stored_in_lower_case_each_once(planner: Planner) -> None:
    apply(planner, "#tag VIP printer")
    apply(planner, "#tag printer Vip vip")

    assert tags_of(planner) == ["printer", "vip"]
    assert trail(planner)[1] == ("tag", {"tags": ["vip", "printer"]})


def test_untagging_removes_the_tags_the_ticket_has_and_ignores_the_rest(
    planner: Planner,
) -> None:
    apply(planner, "#tag vip printer")

    apply(planner, "#untag VIP missing")

    assert tags_of(planner) == ["printer"]
    assert trail(planner)[-1] == ("untag", {"tags": ["vip", "missing"]})
