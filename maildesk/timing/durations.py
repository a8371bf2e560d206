"""Durations as people write them in config and commands: 90m, 2h, 3d, 1w."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`"90m"` → 90 minutes; raises ValueError naming the accepted forms."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90m, 2h, 3d, 1w)")
    amount, unit = int(match.group(1)), match.group(2).lower()
    return timedelta(**{_UNITS[unit]: amount})


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling of a duration, the inverse of `parse_duration`."""
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def spoken_minutes(minutes: int) -> str:
    """A number of minutes as a person says it: "1 day 2 hours", "45 minutes" (two units)."""
    if minutes <= 0:
        return "less than a minute"
    parts = []
    for unit, size in (("day", 1440), ("hour", 60), ("minute", 1)):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count} {unit}" + ("s" if count != 1 else ""))
    return " ".join(parts[:2])
