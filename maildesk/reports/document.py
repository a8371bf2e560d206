"""A report's JSON document: its name, title, scope and sections, each a list of rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from maildesk.desk import Desk
from maildesk.errors import InvalidInput
from maildesk.report_values import ReportScope
from maildesk.services.reports.catalogue import REPORTS, compute
from maildesk.services.reports.scope import check_scope, scope_view
from maildesk.timing.clock import iso

META = ("report", "title", "generated_at", "scope")  # the keys of a document that are no section


def check_report(name: str) -> None:
    if name not in REPORTS:
        raise InvalidInput(f"unknown report {name!r} (use {', '.join(REPORTS)})")


def title_of(name: str, scope: ReportScope) -> str:
    """`SLA report 2026-11-01 - 2026-11-30` (an en dash):
    the window's first and last day (until excluded)."""
    first = scope.since.date().isoformat() if scope.since else "start"
    last = (scope.until - timedelta(microseconds=1)).date().isoformat() if scope.until else "now"
    return f"{REPORTS[name][0]} {first} \u2013 {last}"


def build(session: Session, *, desk: Desk, name: str, scope: ReportScope) -> dict[str, Any]:
    """The report's document; an unknown report, queue, service or category is InvalidInput."""
    check_report(name)
    check_scope(desk.settings, scope)
    now: datetime = desk.clock.now()
    sections = compute(session, name=name, scope=scope, now=now)
    return {
        "report": name,
        "title": title_of(name, scope),
        "generated_at": iso(now),
        "scope": scope_view(scope),
        **sections,
    }


def sections(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The document's sections, in order."""
    return {k: v for k, v in document.items() if k not in META}
