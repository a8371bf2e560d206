"""Durations as people write them in config and commands: 90m, 2h, 3d, 1w."""

from __future__ import annotations

from datetime import timedelta

import pytest

from maildesk.timing.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("90m", timedelta(minutes=90)),
        ("2h", timedelta(hours=2)),
        (" 3D ", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_a_number_and_a_unit_is_a_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "h", "2 hours", "-1h", "1.5h", "1234567m", "2h30m"])
def test_anything_else_is_refused_naming_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a duration: .*use e\.g\. 90m, 2h, 3d, 1w"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(weeks=2), "2w"),
        (timedelta(days=3), "3d"),
        (timedelta(minutes=90), "90m"),
        (timedelta(hours=1), "1h"),
        (timedelta(seconds=61), "61s"),
        (timedelta(0), "0s"),
    ],
)
def test_a_duration_is_written_in_its_largest_exact_unit(value: timedelta, text: str) -> None:
    assert format_duration(value) == text
    assert parse_duration(text) == value
