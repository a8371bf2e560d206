"""Command lines as read: the leading `#` block of an agent's text, a command, a bad line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str  # status, assign, priority, … (shorthands expanded)
    args: tuple[str, ...]
    line: str  # as written, for audit and error messages
    follows: bool = False  # the line said it after another command (`#resolve <reason>`)


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
