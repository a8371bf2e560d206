"""The desk secret: set, long and varied enough that nobody guesses it."""

from __future__ import annotations

from maildesk.config import Settings, secret_problems
from maildesk.doctor.findings import Finding, Probe, error, ok

NAME = "secret"
FIX = "set desk.secret (or its environment variable) to e.g. `openssl rand -base64 32`"


def check(settings: Settings, probe: Probe) -> list[Finding]:
    problems = secret_problems(settings.desk)
    if problems:
        return [error(NAME, problem, FIX) for problem in problems]
    return [ok(NAME, "strong enough")]
