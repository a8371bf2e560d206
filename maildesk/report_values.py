"""What a report is about and what it became: plain values the layers above share.

`maildesk.reports.render` makes them and `maildesk.outbound.report_mail` mails them; they
live here, low in the chain, so the outbox can take a rendered report without importing up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ReportScope:
    """The tickets a report covers: a time window [since, until) and the names to match."""

    since: datetime | None
    until: datetime | None
    queue: str | None = None
    service: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class RenderedReport:
    name: str  # summary | sla | agents | …
    title: str  # "SLA report 2026-11-01 - 2026-11-30", an en dash between
    text: str  # plain-text tables
    html: str  # the same tables as HTML
    data: dict[str, Any]  # the report's JSON
    chart: bytes | None  # the chart's file, if one was asked for
    chart_filename: str | None  # "sla.png"
