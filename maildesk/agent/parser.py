"""Read command lines against the registry: each becomes a `Command` or a `BadLine` saying why.

Pure: only the spelling and the arguments' form are checked here (planning checks the rest).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, tzinfo

from maildesk.agent.lines import BadLine, Command, Parsed, split_block
from maildesk.agent.registry import CARRIES, COMMANDS, SHORTHANDS
from maildesk.agent.spec import Arity, CommandSpec

_WORD = re.compile(r"^#([a-z]+)\b\s*(.*)$", re.IGNORECASE)


def read_line(line: str, now: datetime, zone: tzinfo = UTC) -> tuple[Command | BadLine, ...]:
    """One line as the commands it says: one, or a shorthand and the command its text is for
    (`#resolve printer replaced` is `#resolve` and `#reason printer replaced`)."""
    match = _WORD.match(line.strip())
    word, text = (f"#{match.group(1)}", match.group(2).strip()) if match else ("", "")
    carried = CARRIES.get(word.lower())
    if carried is None or not text:
        return (parse_line(line, now, zone),)
    first = parse_line(word, now, zone)
    second = parse_line(f"#{carried} {text}", now, zone)
    if isinstance(second, Command):
        return replace(first, line=line), replace(second, line=line, follows=True)
    return (replace(second, line=line),)


def parse_line(line: str, now: datetime, zone: tzinfo = UTC) -> Command | BadLine:
    """One line as one command; a date without offset (`#snooze 2026-12-01T09:00`) is read in
    `zone`. A shorthand may go on with text only where `read_line` reads it."""
    shorthand = SHORTHANDS.get(line.strip().lower())
    if shorthand is not None:
        return Command(shorthand[0], (shorthand[1],), line)
    match = _WORD.match(line.strip())
    if not match:
        return BadLine(line, "not a command")
    name, rest = match.group(1).lower(), match.group(2).strip()
    if f"#{name}" in SHORTHANDS:
        return BadLine(line, f"#{name} takes no argument")
    spec = COMMANDS.get(name)
    if spec is None:
        return BadLine(line, f"unknown command #{name}")
    return _read_args(spec, line, rest, now, zone)


def _read_args(
    spec: CommandSpec, line: str, rest: str, now: datetime, zone: tzinfo
) -> Command | BadLine:
    name = spec.name
    args = tuple(rest.split()) if rest else ()
    if spec.arity is Arity.NONE:
        return Command(name, (), line) if not args else BadLine(line, f"#{name} takes no argument")
    if spec.arity is Arity.MANY:
        if not args or not all(spec.accepts(a, now, zone) for a in args):
            return BadLine(line, f"#{name} {spec.problem}")
        return Command(name, args, line)
    if spec.arity is Arity.REST:
        if not rest:
            return BadLine(line, f"#{name} needs an argument")
        args = (rest,)
    if len(args) != 1:
        return BadLine(line, f"#{name} takes exactly one argument")
    arg = args[0].lower() if spec.lower else args[0]
    if not spec.accepts(arg, now, zone):
        return BadLine(line, f"{spec.problem}: {args[0]!r}")
    return Command(name, (arg,), line)


def parse_lines(lines: Sequence[str], text: str, now: datetime, zone: tzinfo = UTC) -> Parsed:
    """These command lines, and `text` as the message that follows them."""
    results = [result for line in lines for result in read_line(line, now, zone)]
    return Parsed(
        commands=tuple(r for r in results if isinstance(r, Command)),
        errors=tuple(r for r in results if isinstance(r, BadLine)),
        text=text,
    )


def parse_commands(text: str, now: datetime, zone: tzinfo = UTC) -> Parsed:
    """Read the leading command block of an agent's own text (dates without offset in `zone`)."""
    block, rest = split_block(text)
    return parse_lines(block, rest, now, zone)
