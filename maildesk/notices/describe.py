"""The notice table in words, as the README shows it (a test keeps the two equal)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from maildesk.notices.events import TO_COME
from maildesk.notices.table import NOTICES, Audience, Row


def _said(function: Callable[..., Any]) -> str:
    """The first line of a function's docstring, as a table cell."""
    line = (function.__doc__ or function.__name__).strip().splitlines()[0].rstrip(".")
    return (line[:1].lower() + line[1:]).replace("|", "\\|")


def _rules(row: Row) -> str:
    each = "one mail each, Reply-To signed for that agent"
    rules = [each if row.audience is Audience.AGENTS else "one mail to all, the customer Reply-To"]
    rules.append("automatic" if row.automatic else "not automatic")
    if row.spare_actor and row.audience is Audience.AGENTS:
        rules.append("never to the agent who caused it")
    if row.gate is not None:
        rules.append(_said(row.gate))
    return "; ".join(rules)


def markdown() -> str:
    """One line per row: event, who gets it, template, rules; then the templates to come."""
    lines = ["| event | who gets it | template | rules |", "| --- | --- | --- | --- |"]
    for row in NOTICES:
        who = _said(row.readers)
        lines.append(f"| `{row.event}` | {who} | `{row.template}` | {_rules(row)} |")
    to_come = ", ".join(f"`{template}` ({event})" for event, template in TO_COME.items())
    if to_come:
        lines += ["", f"Templates written, sent by nothing yet: {to_come}."]
    return "\n".join(lines)
