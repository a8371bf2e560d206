"""The volume report: tickets created per UTC day and queue in the window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from maildesk.models import Ticket
from maildesk.report_values import ReportScope
from maildesk.services.reports.scope import in_scope
from maildesk.services.reports.sql import utc_day


def volume(session: Session, scope: ReportScope, *, now: datetime) -> dict[str, Any]:
    day = utc_day(col(Ticket.created_at)).label("day")
    query = (
        select(day, Ticket.queue, func.count())
        .where(*in_scope(scope, col(Ticket.created_at)))
        .group_by(day, col(Ticket.queue))
        .order_by(day, col(Ticket.queue))
    )
    rows = [{"day": d, "queue": q, "created": n} for d, q, n in session.execute(query)]
    return {"volume": rows}
