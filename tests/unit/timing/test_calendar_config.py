"""Reading `[[calendars]]`: DESIGN.md §8's shape becomes a Calendar, and everything wrong with
the tables is reported at once, each problem naming its key.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from maildesk.timing.calendar_config import (
    KEYS,
    CalendarProblems,
    calendar_from_toml,
    calendars_from_config,
)
from maildesk.timing.calendars import DAYS, MIDNIGHT, TWENTY_FOUR_SEVEN

EXAMPLE = Path(__file__).parents[3] / "config.example.toml"

DESIGN_EXAMPLE = """
[[calendars]]                          # "24x7" exists without being declared
name = "office"
timezone = "Europe/Berlin"
holidays = ["2026-12-24", "2026-12-25..2026-12-26"]
[calendars.hours]                      # of the calendar above; days not named are closed
mon = ["09:00-13:00", "14:00-18:00"]
tue = ["09:00-18:00"]
wed = ["09:00-18:00"]
thu = ["09:00-18:00"]
fri = ["09:00-16:00"]
"""


def problems_of(table: dict[str, Any], name: str = "office") -> list[str]:
    with pytest.raises(CalendarProblems) as raised:
        calendar_from_toml(name, table)
    return raised.value.problems


def test_the_design_example_reads_into_a_calendar() -> None:
    tables = tomllib.loads(DESIGN_EXAMPLE)["calendars"]

    found, problems = calendars_from_config(tables)

    assert problems == []
    office = found["office"]
    assert office.zone == ZoneInfo("Europe/Berlin")
    assert office.holidays == {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)}
    assert office.hours[0] == ((time(9), time(13)), (time(14), time(18)))
    assert office.hours[4] == ((time(9), time(16)),)
    assert office.hours[5] == office.hours[6] == ()  # days not named are closed
    assert not office.always


def test_24x7_exists_without_being_declared() -> None:
    found, problems = calendars_from_config([])

    assert found == {"24x7": TWENTY_FOUR_SEVEN}
    assert problems == []


def test_intervals_are_sorted_and_24_00_may_end_a_day() -> None:
    cal = calendar_from_toml("late", {"hours": {"sat": ["20:00-24:00", "00:00-02:00"]}})

    assert cal.hours[5] == ((MIDNIGHT, time(2)), (time(20), MIDNIGHT))


def test_touching_intervals_do_not_overlap() -> None:
    cal = calendar_from_toml("x", {"hours": {"mon": ["09:00-12:00", "12:00-13:00"]}})

    assert cal.hours[0] == ((time(9), time(12)), (time(12), time(13)))


def test_a_calendar_without_a_zone_is_in_the_default_one() -> None:
    assert calendar_from_toml("x", {}).zone == ZoneInfo("UTC")
    found, _ = calendars_from_config([{"name": "x"}], default_timezone="Asia/Tokyo")
    assert found["x"].zone == ZoneInfo("Asia/Tokyo")


def test_a_calendar_without_hours_is_closed_all_week() -> None:
    cal = calendar_from_toml("never", {"timezone": "UTC"})

    assert not cal.has_hours


def test_toml_dates_are_holidays_too() -> None:
    tables = tomllib.loads('[[calendars]]\nname = "x"\nholidays = [2026-05-01]\n')["calendars"]

    found, problems = calendars_from_config(tables)

    assert (found["x"].holidays, problems) == ({date(2026, 5, 1)}, [])


def test_every_problem_of_a_calendar_is_reported_at_once_naming_its_key() -> None:
    table = {
        "timezone": "Mars/Olympus",
        "colour": "blue",
        "holidays": ["2026-13-01", "2026-12-26..2026-12-25", 5, "2026-01-01..2027-01-02"],
        "hours": {
            "mon": ["14:00-13:00", "09:00-12:00", "10:00-11:00", "11:30-24:00"],
            "tue": ["24:00-24:00", "9-10", "09:00-09:00", "09:60-10:00", 9],
            "sun": "09:00-12:00",
            "mo": [],
        },
    }

    assert problems_of(table) == [
        "calendars[office].colour: unknown key",
        'calendars[office].timezone: unknown time zone "Mars/Olympus" (an IANA name: '
        '"Europe/Berlin")',
        'calendars[office].holidays[0]: "2026-13-01" is not a date (YYYY-MM-DD) or a range (A..B)',
        'calendars[office].holidays[1]: "2026-12-26..2026-12-25" ends before it starts',
        "calendars[office].holidays[2]: 5 is not a date (YYYY-MM-DD) or a range (A..B)",
        'calendars[office].holidays[3]: "2026-01-01..2027-01-02" spans 367 days; a range has '
        "at most 366",
        "calendars[office].hours.mo: unknown day (mon, tue, wed, thu, fri, sat, sun)",
        'calendars[office].hours.mon[0]: "14:00-13:00" ends before it starts',
        'calendars[office].hours.mon[2]: "10:00-11:00" overlaps "09:00-12:00"',
        'calendars[office].hours.mon[3]: "11:30-24:00" overlaps "09:00-12:00"',
        'calendars[office].hours.tue[0]: "24:00-24:00" is not "HH:MM-HH:MM" (24:00 may end a day)',
        'calendars[office].hours.tue[1]: "9-10" is not "HH:MM-HH:MM" (24:00 may end a day)',
        'calendars[office].hours.tue[2]: "09:00-09:00" is empty: it ends when it starts',
        'calendars[office].hours.tue[3]: "09:60-10:00" is not "HH:MM-HH:MM" (24:00 may end a day)',
        'calendars[office].hours.tue[4]: 9 is not "HH:MM-HH:MM" (24:00 may end a day)',
        'calendars[office].hours.sun: not a list of intervals ("09:00-13:00")',
    ]


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            {"timezone": 1},
            'calendars[x].timezone: unknown time zone 1 (an IANA name: "Europe/Berlin")',
        ),
        ({"holidays": "2026-12-24"}, "calendars[x].holidays: not a list of dates"),
        ({"hours": ["09:00-17:00"]}, "calendars[x].hours: not a table of days"),
        ({"hours": {"mon": ["09:00-25:00"]}}, 'calendars[x].hours.mon[0]: "09:00-25:00" is not'),
        ({"hours": {"mon": ["٠٩:00-10:00"]}}, 'calendars[x].hours.mon[0]: "٠٩:00-10:00" is not'),
        ({"holidays": ["2026-W52-4"]}, 'calendars[x].holidays[0]: "2026-W52-4" is not a date'),
    ],
)
def test_a_wrong_shape_is_named(table: dict[str, Any], problem: str) -> None:
    (reported,) = problems_of(table, name="x")

    assert reported.startswith(problem)


def test_the_error_is_a_value_error_whose_text_is_every_problem() -> None:
    with pytest.raises(ValueError, match=r"colour: unknown key; calendars\[x\]\.timezone"):
        calendar_from_toml("x", {"colour": 1, "timezone": "Nowhere"})


def problems_of_config(tables: Any, default_timezone: str = "UTC") -> list[str]:
    found, problems = calendars_from_config(tables, default_timezone=default_timezone)
    assert list(found) == ["24x7"]
    return problems


def test_a_bad_default_zone_is_named_as_the_default() -> None:
    (problem,) = problems_of_config([{"name": "x"}], default_timezone="Nowhere")

    assert problem.startswith('calendars[x].timezone (default): unknown time zone "Nowhere"')


def test_the_config_names_missing_duplicate_reserved_and_bad_names_and_keeps_the_good() -> None:
    tables: list[Any] = [
        {"name": "office"},
        {"name": "office", "timezone": "Europe/Berlin"},
        {"name": "24x7"},
        {"timezone": "UTC"},
        "office",
        {"name": "my office"},
        {"name": 7},
        {"name": "home", "hours": {"mon": ["09:00-17:00"]}},
    ]

    found, problems = calendars_from_config(tables)

    assert problems == [
        'calendars[1].name: "office" already names calendars[0]',
        'calendars[2].name: "24x7" is built in (always open); pick another',
        "calendars[3].name: missing",
        "calendars[4]: not a table",
        'calendars[5].name: "my office" is not a name (letters, digits, . _ -)',
        "calendars[6].name: 7 is not a name (letters, digits, . _ -)",
    ]
    assert sorted(found) == ["24x7", "home", "office"]
    assert found["office"].zone == ZoneInfo("UTC")  # the first one


def test_a_calendar_with_a_problem_is_left_out_and_its_problems_name_it() -> None:
    found, problems = calendars_from_config([{"name": "office", "hours": {"mon": ["x"]}}])

    assert sorted(found) == ["24x7"]
    assert problems == [
        'calendars[office].hours.mon[0]: "x" is not "HH:MM-HH:MM" (24:00 may end a day)'
    ]


def test_calendars_that_are_not_a_list_of_tables_are_one_problem() -> None:
    assert problems_of_config({"name": "office"}) == [
        "calendars: not a list of tables (write [[calendars]])"
    ]


def test_the_example_config_documents_every_key_and_its_example_reads_cleanly() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    block = text[text.index("# [[calendars]]") : text.index("\n\n", text.index("# [[calendars]]"))]
    uncommented = re.sub(r"^# ?", "", block, flags=re.M)

    found, problems = calendars_from_config(tomllib.loads(uncommented)["calendars"])

    assert problems == []
    assert found["office"].hours[0] == ((time(9), time(13)), (time(14), time(18)))
    assert [k for k in (*KEYS, *DAYS) if not re.search(rf"^# {k} =", block, re.M)] == ["hours"]
    assert "# [calendars.hours]" in block
