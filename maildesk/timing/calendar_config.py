"""The `[[calendars]]` tables of the config read into Calendar values, every problem named by
its key (`calendars[office].hours.mon[1]: …`) so that `config check` reports them all at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from maildesk.timing.calendars import (
    ALWAYS,
    CLOSED,
    DAYS,
    MIDNIGHT,
    TWENTY_FOUR_SEVEN,
    Calendar,
    Hours,
    Interval,
)


class CalendarProblems(ValueError):
    """Everything wrong with a `[[calendars]]` table, one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


KEYS = ("name", "timezone", "holidays", "hours")
MAX_RANGE_DAYS = 366
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _shown(value: object) -> str:
    """A config value as the problem line quotes it: strings in double quotes."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def calendars_from_config(
    tables: list[dict[str, Any]], *, default_timezone: str = "UTC"
) -> tuple[dict[str, Calendar], list[str]]:
    """Every `[[calendars]]` table read: the calendars by name (the built-in "24x7" included)
    and every problem found, one line each, naming its key; a table with a problem is left out.
    A calendar without `timezone` is in `default_timezone` (the desk's).
    """
    found: dict[str, Calendar] = {ALWAYS: TWENTY_FOUR_SEVEN}
    if not isinstance(tables, list):
        return found, ["calendars: not a list of tables (write [[calendars]])"]
    problems: list[str] = []
    first: dict[str, int] = {}
    for index, table in enumerate(tables):
        label = f"calendars[{index}]"
        if not isinstance(table, dict):
            problems.append(f"{label}: not a table")
            continue
        name = table.get("name")
        if name is None:
            problems.append(f"{label}.name: missing")
        elif isinstance(name, str) and name in first:
            problems.append(f"{label}.name: {_shown(name)} already names calendars[{first[name]}]")
        elif isinstance(name, str) and _valid_name(name):
            first[name], label = index, f"calendars[{name}]"
        calendar, more = _read(label, name, table, default_timezone)
        problems += more
        if calendar is not None and first.get(calendar.name) == index:
            found[calendar.name] = calendar
    return found, problems


def calendar_from_toml(
    name: str, table: Mapping[str, Any], *, default_timezone: str = "UTC"
) -> Calendar:
    """One `[[calendars]]` table as a Calendar; CalendarProblems lists everything wrong."""
    calendar, problems = _read(f"calendars[{name}]", name, table, default_timezone)
    if calendar is None:
        raise CalendarProblems(problems)
    return calendar


def _valid_name(name: str) -> bool:
    return 0 < len(name) <= 64 and set(name) <= _NAME_CHARS and name != ALWAYS


def _read(
    label: str, name: object, table: Mapping[str, Any], default_timezone: str
) -> tuple[Calendar | None, list[str]]:
    problems = [f"{label}.{key}: unknown key" for key in table if key not in KEYS]
    if name == ALWAYS:
        problems.append(f"{label}.name: {_shown(ALWAYS)} is built in (always open); pick another")
    elif name is not None and not (isinstance(name, str) and _valid_name(name)):
        problems.append(f"{label}.name: {_shown(name)} is not a name (letters, digits, . _ -)")
    zone = _zone(label, table, default_timezone, problems)
    holidays = _holidays(f"{label}.holidays", table.get("holidays", []), problems)
    hours = _hours(f"{label}.hours", table.get("hours", {}), problems)
    if problems or zone is None or not isinstance(name, str):
        return None, problems
    return Calendar(name, zone, hours, holidays), problems


def _zone(
    label: str, table: Mapping[str, Any], default: str, problems: list[str]
) -> ZoneInfo | None:
    value = table.get("timezone", default)
    where = f"{label}.timezone" if "timezone" in table else f"{label}.timezone (default)"
    if isinstance(value, str):
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    problems.append(f'{where}: unknown time zone {_shown(value)} (an IANA name: "Europe/Berlin")')
    return None


def _holidays(key: str, value: object, problems: list[str]) -> frozenset[date]:
    if not isinstance(value, list):
        problems.append(f'{key}: not a list of dates ("2026-12-24", "2026-12-25..2026-12-26")')
        return frozenset()
    days: set[date] = set()
    for index, item in enumerate(value):
        days.update(_holiday(f"{key}[{index}]", item, problems))
    return frozenset(days)


def _holiday(key: str, item: object, problems: list[str]) -> list[date]:
    """One entry: a date or a range `first..last` (both included)."""
    if isinstance(item, date) and not isinstance(item, datetime):
        return [item]
    first_text, dots, last_text = item.partition("..") if isinstance(item, str) else ("", "", "")
    first = _date(first_text)
    last = _date(last_text) if dots else first
    if first is None or last is None:
        problems.append(f"{key}: {_shown(item)} is not a date (YYYY-MM-DD) or a range (A..B)")
        return []
    count = (last - first).days + 1
    if count < 1:
        problems.append(f"{key}: {_shown(item)} ends before it starts")
    elif count > MAX_RANGE_DAYS:
        problems.append(f"{key}: {_shown(item)} spans {count} days; a range has at most 366")
    else:
        return [first + timedelta(days=offset) for offset in range(count)]
    return []


def _date(text: str) -> date | None:
    text = text.strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-":  # fromisoformat takes more forms
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _hours(key: str, value: object, problems: list[str]) -> Hours:
    if not isinstance(value, dict):
        problems.append(f'{key}: not a table of days (mon = ["09:00-17:00"], …)')
        return CLOSED
    problems.extend(
        f"{key}.{day}: unknown day (mon, tue, wed, thu, fri, sat, sun)"
        for day in value
        if day not in DAYS
    )
    return tuple(_day(f"{key}.{day}", value.get(day, []), problems) for day in DAYS)


def _day(key: str, value: object, problems: list[str]) -> tuple[Interval, ...]:
    """One day's intervals, sorted; overlapping ones are named."""
    if not isinstance(value, list):
        problems.append(f'{key}: not a list of intervals ("09:00-13:00")')
        return ()
    read = []
    for index, item in enumerate(value):
        minutes = _interval(f"{key}[{index}]", item, problems)
        if minutes is not None:
            read.append((minutes, index, item))
    read.sort()
    reached, reacher = 0, None
    for (start, end), index, item in read:
        if start < reached:
            problems.append(f"{key}[{index}]: {_shown(item)} overlaps {_shown(reacher)}")
        if end > reached:
            reached, reacher = end, item
    return tuple((_clock_time(start), _clock_time(end)) for (start, end), _, _ in read)


def _interval(key: str, item: object, problems: list[str]) -> tuple[int, int] | None:
    """`"HH:MM-HH:MM"` as minutes of the day; "24:00" may end one."""
    start_text, dash, end_text = item.partition("-") if isinstance(item, str) else ("", "", "")
    start, end = _clock(start_text), _clock(end_text)
    if not dash or start is None or end is None or start == 1440:
        problems.append(f'{key}: {_shown(item)} is not "HH:MM-HH:MM" (24:00 may end a day)')
        return None
    if end < start:
        problems.append(f"{key}: {_shown(item)} ends before it starts")
    elif end == start:
        problems.append(f"{key}: {_shown(item)} is empty: it ends when it starts")
    else:
        return start, end
    return None


def _clock(text: str) -> int | None:
    hours, colon, minutes = text.strip().partition(":")
    digits = (hours + minutes).isascii() and hours.isdigit() and minutes.isdigit()
    if not (colon and digits and len(minutes) == 2):
        return None
    if len(hours) > 2 or int(minutes) > 59 or int(hours) * 60 + int(minutes) > 1440:
        return None
    return int(hours) * 60 + int(minutes)


def _clock_time(minutes: int) -> time:
    return MIDNIGHT if minutes == 1440 else time(minutes // 60, minutes % 60)
