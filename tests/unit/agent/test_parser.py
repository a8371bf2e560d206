"""The command language: what an agent writes at the top of a reply, and what it means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from maildesk.agent.lines import BadLine, Command, split_block
from maildesk.agent.parser import parse_commands, parse_line
from maildesk.agent.registry import COMMANDS

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_commands_are_read_only_from_the_leading_block() -> None:
    parsed = parse_commands("#assign me\n\n#status pending\nThanks!\n#close\n> #note", NOW)
    assert [c.name for c in parsed.commands] == ["assign", "status"]
    assert parsed.text == "Thanks!\n#close\n> #note"


def test_a_quoted_command_is_not_a_command() -> None:
    block, rest = split_block("> #status closed\n#status closed")
    assert block == [] and rest.startswith("> #status")


def test_hashtags_in_prose_are_text() -> None:
    parsed = parse_commands("Our #1 issue is the printer", NOW)
    assert parsed.commands == () and parsed.errors == ()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("#resolve", Command("status", ("resolved",), "#resolve")),
        ("#close", Command("status", ("closed",), "#close")),
        ("#reopen", Command("status", ("open",), "#reopen")),
        ("#pending", Command("status", ("pending",), "#pending")),
        ("#Status RESOLVED", Command("status", ("resolved",), "#Status RESOLVED")),
        ("#assign Bob Builder", Command("assign", ("Bob Builder",), "#assign Bob Builder")),
        ("#tag vip billing", Command("tag", ("vip", "billing"), "#tag vip billing")),
        ("#time 90m", Command("time", ("90m",), "#time 90m")),
        ("#note", Command("note", (), "#note")),
    ],
)
def test_well_formed_lines(line: str, expected: Command) -> None:
    assert parse_line(line, NOW) == expected


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("#priority extreme", "unknown priority"),
        ("#status done", "unknown status"),
        ("#frobnicate", "unknown command #frobnicate"),
        ("#note please", "takes no argument"),
        ("#cc not-an-address", "not an email address"),
        ("#time forever", "not a duration"),
        ("#snooze 2020-01-01", "not a future duration or date"),
        ("#merge 42", "not a ticket ref"),
        ("#tag", "needs tags"),
    ],
)
def test_bad_lines_say_why(line: str, reason: str) -> None:
    parsed = parse_line(line, NOW)
    assert isinstance(parsed, BadLine) and reason in parsed.reason


def test_snooze_takes_a_duration_or_a_future_date() -> None:
    from maildesk.agent.specs.snooze import snooze_until

    assert snooze_until("2h", NOW) == NOW + timedelta(hours=2)
    assert snooze_until("2026-11-24T10:00", NOW) == datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert snooze_until("yesterday", NOW) is None


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30", datetime(2026, 11, 29, 23, 0, tzinfo=UTC)),  # midnight in Berlin (CET)
        ("2026-11-30T09:00", datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
        ("2026-07-01T09:00", datetime(2026, 7, 1, 7, 0, tzinfo=UTC)),  # summer time (CEST)
        ("2026-11-30T09:00+05:00", datetime(2026, 11, 30, 4, 0, tzinfo=UTC)),  # offset wins
    ],
)
def test_a_snooze_date_without_offset_is_read_in_the_desks_time_zone(
    text: str, expected: datetime
) -> None:
    from maildesk.agent.specs.snooze import snooze_until

    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

    assert snooze_until(text, now, BERLIN) == expected
    assert parse_line(f"#snooze {text}", now, BERLIN) == Command(
        "snooze", (text,), f"#snooze {text}"
    )


def test_a_snooze_time_already_past_in_the_desks_zone_is_a_bad_line() -> None:
    nine_utc = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Berlin

    assert parse_line("#snooze 2026-11-23T09:30", nine_utc) == Command(
        "snooze", ("2026-11-23T09:30",), "#snooze 2026-11-23T09:30"
    )
    parsed = parse_line("#snooze 2026-11-23T09:30", nine_utc, BERLIN)
    assert isinstance(parsed, BadLine) and "not a future duration or date" in parsed.reason


def test_every_command_but_to_has_an_effect() -> None:
    assert {name for name, spec in COMMANDS.items() if spec.effect is not None} == set(COMMANDS) - {
        "to"
    }
