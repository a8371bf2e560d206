"""When a mailed report is due, and which period each mailing covers.

`every` is written as people say it, in the desk's time zone: `"monday 08:00"` (weekly),
`"1st 08:00"` (monthly, days 1st to 28th so that every month has one) or `"daily 08:00"`.
Each mailing covers the period that ended at its own due moment: the day, week or month before.
Pure functions of the moment and the zone, so two daemons agree on every due moment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ORDINAL = re.compile(r"^(\d{1,2})(st|nd|rd|th)$")
_SUFFIX = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class Cadence(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


@dataclass(frozen=True)
class Every:
    """A repeating moment: a cadence, its day (weekday 0-6 or day of month 1-28) and time."""

    cadence: Cadence
    day: int
    at: time

    def __str__(self) -> str:
        clock = self.at.strftime("%H:%M")
        if self.cadence is Cadence.DAILY:
            return f"daily {clock}"
        if self.cadence is Cadence.WEEKLY:
            return f"{WEEKDAYS[self.day]} {clock}"
        return f"{self.day}{_SUFFIX.get(self.day, 'th')} {clock}"


def parse_every(text: str) -> Every:
    """`"monday 08:00"`, `"1st 08:00"` or `"daily 08:00"`; ValueError saying what is accepted."""
    words = text.strip().lower().split()
    if len(words) != 2 or not _CLOCK.match(words[1]):
        raise ValueError(f"{text!r} is not 'DAY HH:MM' (e.g. 'monday 08:00', '1st 08:00')")
    hours, minutes = (int(part) for part in words[1].split(":"))
    return Every(*_cadence(words[0], text), at=time(hours, minutes))


def _cadence(word: str, text: str) -> tuple[Cadence, int]:
    if word == "daily":
        return Cadence.DAILY, 0
    if word in WEEKDAYS:
        return Cadence.WEEKLY, WEEKDAYS.index(word)
    ordinal = _ORDINAL.match(word)
    if ordinal and 1 <= int(ordinal[1]) <= 28:
        return Cadence.MONTHLY, int(ordinal[1])
    raise ValueError(
        f"{text!r}: the day must be 'daily', a weekday, or a day of the month from 1st to 28th"
    )


def last_due(every: Every, now: datetime, zone: ZoneInfo) -> datetime:
    """The latest due moment at or before `now` (in UTC)."""
    day = _day_on_or_before(every, now.astimezone(zone).date())
    due = _at(every, day, zone)
    return due if due <= now else _at(every, previous_day(every, day), zone)


def period(every: Every, due: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """What the mailing due at `due` covers: from the due moment before it, up to `due` (UTC)."""
    return _at(every, previous_day(every, due.astimezone(zone).date()), zone), due


def previous_day(every: Every, day: date) -> date:
    """The scheduled day one period before `day`."""
    if every.cadence is Cadence.DAILY:
        return day - timedelta(days=1)
    if every.cadence is Cadence.WEEKLY:
        return day - timedelta(days=7)
    last_month = day.replace(day=1) - timedelta(days=1)
    return last_month.replace(day=every.day)


def _day_on_or_before(every: Every, day: date) -> date:
    if every.cadence is Cadence.DAILY:
        return day
    if every.cadence is Cadence.WEEKLY:
        return day - timedelta(days=(day.weekday() - every.day) % 7)
    if day.day >= every.day:
        return day.replace(day=every.day)
    return previous_day(every, day.replace(day=every.day))


def _at(every: Every, day: date, zone: ZoneInfo) -> datetime:
    """The moment, in UTC: arithmetic on zoned datetimes would ignore a change of offset."""
    return datetime.combine(day, every.at, tzinfo=zone).astimezone(UTC)
