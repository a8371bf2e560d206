"""Business calendars: weekly working hours, holidays and a time zone, or 24x7; the arithmetic
SLA deadlines and agents' working hours are counted with, in real elapsed minutes.

`calendar_config.py` reads the `[[calendars]]` tables of the config into these values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import ParamSpec, TypeVar
from zoneinfo import ZoneInfo

Interval = tuple[time, time]  # local start, local end; an end of 00:00 is 24:00 (end of the day)
Hours = tuple[tuple[Interval, ...], ...]  # seven entries, Monday first
Span = tuple[datetime, datetime]  # an open stretch of real time, in UTC

MIDNIGHT = time(0)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOSED: Hours = ((),) * 7
ALWAYS = "24x7"  # the name of the built-in calendar
ZERO, MINUTE, ONE_DAY, WEEK = timedelta(0), timedelta(minutes=1), timedelta(days=1), timedelta(7)
HORIZON = timedelta(days=366 * 100)  # a search forward gives up this far ahead


@dataclass(frozen=True)
class Calendar:
    """When a desk (or an agent) works: per weekday, sorted non-overlapping local intervals in
    `zone`, closed on `holidays` (local dates); or `always` open (24x7: no hours, no holidays).
    """

    name: str
    zone: ZoneInfo
    hours: Hours = CLOSED
    holidays: frozenset[date] = frozenset()
    always: bool = False

    def __post_init__(self) -> None:
        if len(self.hours) != 7:
            raise ValueError(f"calendar {self.name!r}: hours need seven days, Monday first")
        if self.always and (any(self.hours) or self.holidays):
            raise ValueError(f"calendar {self.name!r}: a 24x7 calendar has no hours or holidays")
        for day, intervals in zip(DAYS, self.hours, strict=True):
            reached = 0
            for start, end in intervals:
                if not (_whole_minute(start) and _whole_minute(end)):
                    raise ValueError(f"calendar {self.name!r}: {day} times must be whole minutes")
                if not reached <= _minutes(start) < _end_minutes(end):
                    raise ValueError(
                        f"calendar {self.name!r}: {day} intervals must be well-formed, sorted "
                        "and not overlap"
                    )
                reached = _end_minutes(end)

    @property
    def has_hours(self) -> bool:
        """Whether the calendar is ever open (a calendar closed all week is not)."""
        return self.always or any(self.hours)


TWENTY_FOUR_SEVEN = Calendar(ALWAYS, ZoneInfo("UTC"), always=True)


def _whole_minute(at: time) -> bool:
    return at.second == at.microsecond == 0 and at.tzinfo is None


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def _end_minutes(at: time) -> int:
    return 1440 if at == MIDNIGHT else _minutes(at)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _within_the_years(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Dates past 9999 (or before year 1) are a ValueError saying so, not an OverflowError."""

    @functools.wraps(func)
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return func(*args, **kwargs)
        except OverflowError as exc:
            raise ValueError("the answer lies outside the years 1 to 9999") from exc

    return checked


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"a calendar needs a time with its zone (aware), not {t.isoformat()}")
    return t.astimezone(UTC)


def _resolve(zone: ZoneInfo, day: date, at: time) -> datetime:
    """The instant a local wall time on `day` means: the first at which the clock shows it or
    later. A time skipped by a spring-forward gap becomes the gap's end; a time a fall-back fold
    repeats is its first occurrence (fold=0).
    """
    wall = datetime.combine(day, at, tzinfo=zone)
    instant = wall.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return instant
    return _gap_end(zone, wall.replace(fold=1).astimezone(UTC), instant)


def _gap_end(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The instant the offset changes, between `before` (old offset) and `after` (new one)."""
    new = after.astimezone(zone).utcoffset()
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) // 2
        if middle.astimezone(zone).utcoffset() == new:
            after = middle
        else:
            before = middle
    return after


@functools.lru_cache(maxsize=4096)
def _day_spans(cal: Calendar, day: date) -> tuple[Span, ...]:
    """The open stretches of one local day in real time, in order: none on a holiday, and an
    interval inside a spring-forward gap is empty that day.
    """
    if day in cal.holidays:
        return ()
    return tuple(
        (_resolve(cal.zone, day, start), _resolve(cal.zone, day + ONE_DAY, end))
        if end == MIDNIGHT
        else (_resolve(cal.zone, day, start), _resolve(cal.zone, day, end))
        for start, end in cal.hours[day.weekday()]
    )


@functools.lru_cache(maxsize=1024)
def _week_total(cal: Calendar, monday: date) -> timedelta:
    """Open real time from `monday` 00:00 to the next Monday 00:00, holidays and DST included."""
    days = (monday + timedelta(days=offset) for offset in range(7))
    return sum((closes - opens for day in days for opens, closes in _day_spans(cal, day)), ZERO)


def _whole_week_from(cal: Calendar, day: date, start: datetime) -> bool:
    """Whether `day` begins a week lying wholly at or after `start`."""
    return day.weekday() == 0 and _resolve(cal.zone, day, MIDNIGHT) >= start


def _local_day(cal: Calendar, t: datetime) -> date:
    """The local date of `t`. No earlier day's interval reaches `t` (each ends by the next local
    00:00); the next day's may, when a fall-back fold crosses midnight (Goose Bay until 2010).
    """
    return t.astimezone(cal.zone).date()


def _horizon(day: date) -> date:
    """The last local day a search forward from `day` looks at."""
    try:
        return day + HORIZON
    except OverflowError:
        return date.max


def _need_hours(cal: Calendar) -> None:
    if not cal.has_hours:
        raise ValueError(f"calendar {cal.name!r} is never open: it has no working hours")


@_within_the_years
def is_open(cal: Calendar, t: datetime) -> bool:
    """Whether the aware instant `t` lies in one of the calendar's open intervals."""
    moment = _utc(t)
    if cal.always:
        return True
    day = _local_day(cal, moment)  # the next day's too: a fold can cross midnight
    return any(
        opens <= moment < closes
        for each in (day, day + ONE_DAY)
        for opens, closes in _day_spans(cal, each)
    )


@_within_the_years
def next_open(cal: Calendar, t: datetime) -> datetime:
    """`t` (in UTC) if the calendar is open then, else the next opening; ValueError if never."""
    moment = _utc(t)
    if cal.always:
        return moment
    _need_hours(cal)
    day = _local_day(cal, moment)
    limit = _horizon(day)
    while day <= limit:
        for opens, closes in _day_spans(cal, day):
            if closes > moment:
                return max(opens, moment)
        day += ONE_DAY
    raise ValueError(f"calendar {cal.name!r} does not open within {HORIZON.days} days")


@_within_the_years
def add_business(cal: Calendar, t: datetime, minutes: int) -> datetime:
    """The instant (UTC) at which `minutes` business minutes have passed since `t`: the earliest
    one, so a count that ends at a closing time ends there. Outside hours counting starts at
    the next opening; 0 minutes is `t` itself, open or not. ValueError if never open.
    """
    if minutes < 0:
        raise ValueError(f"cannot add a negative number of business minutes ({minutes})")
    moment = _utc(t)
    if minutes == 0 or cal.always:
        return moment + minutes * MINUTE
    _need_hours(cal)
    left, day = minutes * MINUTE, _local_day(cal, moment)
    limit = _horizon(day)
    while day <= limit:
        while day <= limit and _whole_week_from(cal, day, moment) and _week_total(cal, day) < left:
            left -= _week_total(cal, day)
            day += WEEK
        for opens, closes in _day_spans(cal, day):
            start = max(opens, moment)
            if closes - start >= left:
                return start + left
            left -= max(closes - start, ZERO)
        day += ONE_DAY
    raise ValueError(f"{minutes} business minutes of calendar {cal.name!r} take over a century")


@_within_the_years
def business_between(cal: Calendar, a: datetime, b: datetime) -> int:
    """Whole business minutes (open real time, rounded down) from `a` to `b`; 0 if b <= a."""
    start, end = _utc(a), _utc(b)
    if end <= start:
        return 0
    if cal.always:
        return (end - start) // MINUTE
    total, day, last = ZERO, _local_day(cal, start), _local_day(cal, end) + ONE_DAY
    while day <= last:
        if _whole_week_from(cal, day, start) and _resolve(cal.zone, day + WEEK, MIDNIGHT) <= end:
            total += _week_total(cal, day)
            day += WEEK
            continue
        for opens, closes in _day_spans(cal, day):
            total += max(min(closes, end) - max(opens, start), ZERO)
        day += ONE_DAY
    return total // MINUTE
