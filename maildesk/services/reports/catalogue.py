"""The reports by name: what each covers and the function that computes its sections."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from maildesk.report_values import ReportScope
from maildesk.services.reports.agents import agents
from maildesk.services.reports.backlog import backlog
from maildesk.services.reports.customers import customers
from maildesk.services.reports.ratings import ratings
from maildesk.services.reports.sla import sla
from maildesk.services.reports.summary import summary
from maildesk.services.reports.volume import volume

Compute = Callable[..., dict[str, list[dict[str, Any]]]]

REPORTS: dict[str, tuple[str, Compute]] = {
    "summary": ("Summary report", summary),
    "sla": ("SLA report", sla),
    "agents": ("Agents report", agents),
    "customers": ("Customers report", customers),
    "ratings": ("Ratings report", ratings),
    "volume": ("Volume report", volume),
    "backlog": ("Backlog report", backlog),
}


def compute(
    session: Session, *, name: str, scope: ReportScope, now: datetime
) -> dict[str, list[dict[str, Any]]]:
    """The report's sections: each a list of rows with the same keys."""
    _, function = REPORTS[name]
    return function(session, scope, now=now)
