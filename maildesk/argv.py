"""The command named on a `maildesk` command line, found without importing the CLI.

Global options come before the command: `maildesk --config PATH ingest …`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

_WITH_VALUE = ("--config", "-c")


class CommandLine(NamedTuple):  # not a dataclass: `ingest --queue` must not import dataclasses
    config: str | None  # --config, as given
    command: str | None  # the first word that is no global option
    rest: tuple[str, ...]  # what follows the command


class UsageError(Exception):
    """The command line cannot be read; `str()` says why in one line."""


def split_command(argv: Sequence[str]) -> CommandLine:
    """The global --config, the command and its arguments; an option we do not know ends
    the search (the full CLI names that mistake)."""
    config: str | None = None
    index = 0
    while index < len(argv):
        word = argv[index]
        if word.startswith("--config="):
            config = word.removeprefix("--config=")
        elif word.startswith("-c") and len(word) > 2:  # -cPATH, as click reads it
            config = word.removeprefix("-c")
        elif word in _WITH_VALUE:
            if index + 1 >= len(argv):
                raise UsageError(f"option {word} requires an argument")
            config, index = argv[index + 1], index + 1
        elif word.startswith("-"):
            return CommandLine(config, None, tuple(argv[index:]))
        else:
            return CommandLine(config, word, tuple(argv[index + 1 :]))
        index += 1
    return CommandLine(config, None, ())
