"""What a check finds: ok, a warning (worth a look) or an error (the desk will not work)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from maildesk.config import Settings


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    check: str  # the table's name of the check, or "imap support" for one mailbox
    level: Level
    message: str
    fix: str = ""  # what to do; empty when nothing is to be done

    def line(self) -> str:
        fix = f" -> {self.fix}" if self.fix else ""
        return f"{self.level.value:<7} {self.check}: {self.message}{fix}"

    def view(self) -> dict[str, str]:
        return {
            "check": self.check,
            "level": self.level.value,
            "message": self.message,
            "fix": self.fix,
        }


def ok(check: str, message: str) -> Finding:
    return Finding(check, Level.OK, message)


def warning(check: str, message: str, fix: str) -> Finding:
    return Finding(check, Level.WARNING, message, fix)


def error(check: str, message: str, fix: str) -> Finding:
    return Finding(check, Level.ERROR, message, fix)


def worst(findings: Sequence[Finding]) -> Level:
    """The worst level found: error over warning over ok."""
    levels = {finding.level for finding in findings}
    for level in (Level.ERROR, Level.WARNING):
        if level in levels:
            return level
    return Level.OK


MxLookup = Callable[[str, float], list[str]]
"""The MX hosts of a domain, within a timeout in seconds; raises TimeoutError or OSError."""


@dataclass(frozen=True)
class Probe:
    """What the checks may use beyond the settings: how to look up MX, how long to wait."""

    lookup_mx: MxLookup
    timeout_seconds: float = 10.0  # the bound on one server's check (connect, login, …)
    mx_timeout_seconds: float = 2.0


Check = Callable[[Settings, Probe], list[Finding]]
