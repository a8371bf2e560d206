"""The agent command language (`#status resolved`), shared by mail and `maildesk ticket do`.

Parsing is pure: text → commands or errors naming the line. Effects live in services/actions.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from maildesk.durations import parse_duration
from maildesk.models import PRIORITIES, STATUSES

SHORTHANDS = {"#resolve": "resolved", "#close": "closed", "#reopen": "open", "#pending": "pending"}
NO_ARGS = ("note", "escalate", "watch", "unwatch")
ONE_ARG = (
    "status",
    "assign",
    "priority",
    "queue",
    "cc",
    "uncc",
    "snooze",
    "time",
    "macro",
    "merge",
    "to",
)
MANY_ARGS = ("tag", "untag")
_WORD = re.compile(r"^#([a-z]+)\b\s*(.*)$", re.IGNORECASE)
_TAG = re.compile(r"^[\w.\-]{1,64}$", re.UNICODE)
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_MACRO = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


@dataclass(frozen=True)
class Command:
    name: str  # status, assign, priority, … (shorthands expanded)
    args: tuple[str, ...]
    line: str  # as written, for audit and error messages


@dataclass(frozen=True)
class BadLine:
    line: str
    reason: str


@dataclass(frozen=True)
class Parsed:
    commands: tuple[Command, ...]
    errors: tuple[BadLine, ...]
    text: str  # what follows the command block


def split_block(text: str) -> tuple[list[str], str]:
    """The leading `#` lines (blank lines between them allowed) and the text after them."""
    lines = text.replace("\r\n", "\n").split("\n")
    block: list[str] = []
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if stripped.startswith("#") and len(stripped) > 1 and stripped[1].isalpha():
            block.append(stripped)
        elif stripped:
            break
        index += 1
    return block, "\n".join(lines[index:]).strip("\n")


def _check_arg(name: str, arg: str, now: datetime, zone: tzinfo) -> str | None:
    """Why this argument is wrong for this command, or None."""
    checks = {
        "status": (lambda a: a in STATUSES, f"unknown status (use {', '.join(STATUSES)})"),
        "priority": (lambda a: a in PRIORITIES, f"unknown priority (use {', '.join(PRIORITIES)})"),
        "cc": (lambda a: bool(_ADDRESS.match(a)), "not an email address"),
        "uncc": (lambda a: bool(_ADDRESS.match(a)), "not an email address"),
        "to": (lambda a: bool(_ADDRESS.match(a)), "not an email address"),
        "time": (lambda a: _duration_ok(a), "not a duration (use e.g. 90m, 2h)"),
        "snooze": (
            lambda a: snooze_until(a, now, zone) is not None,
            "not a future duration or date",
        ),
        "macro": (lambda a: bool(_MACRO.match(a)), "not a macro name"),
        "merge": (lambda a: bool(re.match(r"^[A-Za-z][A-Za-z0-9]*-\d+$", a)), "not a ticket ref"),
    }
    check = checks.get(name)
    if check and not check[0](arg.lower() if name in ("status", "priority") else arg):
        return f"{check[1]}: {arg!r}"
    return None


def _duration_ok(text: str) -> bool:
    try:
        return parse_duration(text) > timedelta(0)
    except ValueError:
        return False


def snooze_until(text: str, now: datetime, zone: tzinfo = UTC) -> datetime | None:
    """`2h` → now + 2 h; an ISO 8601 date or time → that moment, in UTC; else None.

    A date or time that names no offset is read in `zone` (the desk's time zone).
    """
    try:
        return now + parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)
    return moment if moment > now else None


def parse_line(line: str, now: datetime, zone: tzinfo = UTC) -> Command | BadLine:
    lowered = line.strip().lower()
    if lowered in SHORTHANDS:
        return Command("status", (SHORTHANDS[lowered],), line)
    match = _WORD.match(line.strip())
    if not match:
        return BadLine(line, "not a command")
    name, rest = match.group(1).lower(), match.group(2).strip()
    args = tuple(rest.split()) if rest else ()
    if name in NO_ARGS:
        return Command(name, (), line) if not args else BadLine(line, f"#{name} takes no argument")
    if name in MANY_ARGS:
        bad = [a for a in args if not _TAG.match(a)]
        if not args or bad:
            return BadLine(line, f"#{name} needs tags (letters, digits, . _ -)")
        return Command(name, args, line)
    if name not in ONE_ARG:
        return BadLine(line, f"unknown command #{name}")
    if name == "assign" and rest:
        args = (rest,)  # a name may have spaces
    if len(args) != 1:
        return BadLine(line, f"#{name} takes exactly one argument")
    problem = _check_arg(name, args[0], now, zone)
    if problem:
        return BadLine(line, problem)
    value = args[0].lower() if name in ("status", "priority", "cc", "uncc", "to") else args[0]
    return Command(name, (value,), line)


def parse_commands(text: str, now: datetime, zone: tzinfo = UTC) -> Parsed:
    """Read the leading command block of an agent's own text (dates without offset in `zone`)."""
    block, rest = split_block(text)
    commands: list[Command] = []
    errors: list[BadLine] = []
    for line in block:
        parsed = parse_line(line, now, zone)
        (commands if isinstance(parsed, Command) else errors).append(parsed)  # type: ignore[arg-type]
    return Parsed(tuple(commands), tuple(errors), rest)
