"""Builders for the rule tests: facts about a test mail, and rules that must compile."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from maildesk.mail import parse_mail
from maildesk.rules.conditions import CONDITIONS
from maildesk.rules.facts import Facts
from maildesk.rules.spec import Rule, compile_rules
from tests.mails import mail

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def closed(calendar: str, when: datetime) -> bool:
    return False


def facts(raw: bytes | None = None, **fields: Any) -> Facts:
    """Facts about `raw` (a default test mail) on a new ticket; `fields` override any."""
    fields.setdefault("now", NOW)
    fields.setdefault("is_open", closed)
    return Facts(mail=parse_mail(raw if raw is not None else mail()), **fields)


def rules(*tables: dict[str, Any]) -> tuple[Rule, ...]:
    compiled, problems = compile_rules(list(tables))
    assert problems == []
    return compiled


def holds(condition: str, argument: object, on: Facts) -> bool:
    """Compile one condition's argument as the rules would and test it on the facts."""
    entry = CONDITIONS[condition]
    return bool(entry.test(on, entry.compile(argument)))


def problem(condition: str, argument: object) -> str:
    """What compiling a bad argument says."""
    try:
        CONDITIONS[condition].compile(argument)
    except ValueError as exc:
        return str(exc)
    raise AssertionError(f"{condition} = {argument!r} compiled")
