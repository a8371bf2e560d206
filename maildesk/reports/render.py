"""One report, rendered: its document, as text and HTML, with its chart — for the CLI and
for reports by mail (`maildesk.outbound.report_mail`)."""

from __future__ import annotations

from sqlmodel import Session

from maildesk.desk import Desk
from maildesk.report_values import RenderedReport, ReportScope
from maildesk.reports.charts import chart
from maildesk.reports.document import build
from maildesk.reports.formats import as_html, as_text

__all__ = ["RenderedReport", "ReportScope", "render_report"]


def render_report(
    session: Session, *, desk: Desk, name: str, scope: ReportScope, chart_format: str | None = "png"
) -> RenderedReport:
    """The report `name` over `scope`; with a chart in `chart_format` unless it is None."""
    document = build(session, desk=desk, name=name, scope=scope)
    drawn = chart(document, chart_format) if chart_format else None
    filename = f"{name}.{chart_format}" if drawn else None
    return RenderedReport(
        name=name,
        title=document["title"],
        text=as_text(document),
        html=as_html(document),
        data=document,
        chart=drawn.data if drawn else None,
        chart_filename=filename,
    )
