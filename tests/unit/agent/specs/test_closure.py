"""`#reason <text>` and `#kb <reference>`: closure information, on lines of their own or as the
text of `#resolve`/`#close`."""

from __future__ import annotations

from datetime import UTC

import pytest

from maildesk.agent.lines import BadLine, Command
from maildesk.agent.parser import parse_commands, parse_line, read_line
from maildesk.agent.specs import closure
from tests.conftest import START
from tests.unit.agent.acting import apply, trail
from tests.unit.agent.conftest import Planner

REASON, KB = closure.SPECS


def test_a_reason_and_a_reference_are_the_rest_of_their_line_as_written() -> None:
    assert parse_line("#reason Toner Replaced", START) == Command(
        "reason", ("Toner Replaced",), "#reason Toner Replaced"
    )
    assert parse_line("#KB  https://kb.example.com/a/42 ", START) == Command(
        "kb", ("https://kb.example.com/a/42",), "#KB  https://kb.example.com/a/42 "
    )


@pytest.mark.parametrize("line", ["#reason", "#kb", "#reason   "])
def test_without_an_argument_the_line_is_bad(line: str) -> None:
    name = line.split()[0]
    assert parse_line(line, START) == BadLine(line, f"{name} needs an argument")


def test_a_text_longer_than_the_ticket_keeps_is_bad() -> None:
    assert REASON.accepts("x" * 255, START, UTC) and not REASON.accepts("x" * 256, START, UTC)
    parsed = parse_line("#kb " + "k" * 256, START)
    assert isinstance(parsed, BadLine) and parsed.reason.startswith(
        "too long (at most 255 characters)"
    )


def test_reason_and_kb_are_set_on_the_ticket_and_audited(planner: Planner) -> None:
    apply(planner, "#reason toner replaced\n#kb KB-42")

    assert (planner.ticket.close_reason, planner.ticket.kb_reference) == ("toner replaced", "KB-42")
    assert trail(planner) == [
        ("command", {"line": "#reason toner replaced"}),
        ("reason", {"reason": "toner replaced"}),
        ("command", {"line": "#kb KB-42"}),
        ("kb", {"kb": "KB-42"}),
    ]


def test_the_text_after_resolve_is_its_reason() -> None:
    line = "#Resolve toner replaced, works again"

    assert read_line(line, START) == (
        Command("status", ("resolved",), line),
        Command("reason", ("toner replaced, works again",), line, follows=True),
    )


def test_resolving_with_a_reason_records_the_line_once(planner: Planner) -> None:
    effects = apply(planner, "#resolve toner replaced\n#kb KB-42\nAll fixed, Carol.")

    ticket = planner.ticket
    assert (ticket.status, ticket.close_reason, ticket.kb_reference) == (
        "resolved",
        "toner replaced",
        "KB-42",
    )
    assert effects.notify_status is True
    assert [t for t in trail(planner) if t[0] in ("command", "status", "reason")] == [
        ("command", {"line": "#resolve toner replaced"}),
        ("status", {"from": "new", "to": "resolved"}),
        ("reason", {"reason": "toner replaced"}),
        ("command", {"line": "#kb KB-42"}),
    ]


def test_closing_with_a_reason_then_a_reason_line_keeps_the_last(planner: Planner) -> None:
    apply(planner, "#close duplicate\n#reason duplicate of TKT-7")

    assert (planner.ticket.status, planner.ticket.close_reason) == ("closed", "duplicate of TKT-7")


def test_a_bad_reason_after_close_names_the_whole_line_and_nothing_applies(
    planner: Planner,
) -> None:
    line = "#close " + "x" * 300

    actions, errors = planner.plan(line)

    assert actions == []
    assert [e.line for e in errors] == [line]
    assert errors[0].reason.startswith("too long")


def test_only_resolve_and_close_carry_text() -> None:
    parsed = parse_commands("#pending waiting for the logs\n#reopen because\n#resolve", START)

    assert [(e.line, e.reason) for e in parsed.errors] == [
        ("#pending waiting for the logs", "#pending takes no argument"),
        ("#reopen because", "#reopen takes no argument"),
    ]
    assert parsed.commands == (Command("status", ("resolved",), "#resolve"),)
