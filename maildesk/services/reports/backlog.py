"""The backlog report: tickets not resolved or closed (created in the window), by age now."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from maildesk.models import Ticket, TicketStatus
from maildesk.report_values import ReportScope
from maildesk.services.reports.scope import in_scope

OPEN = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)
#: (label, the age it starts at); each bucket runs to the next one's start
BUCKETS = (
    ("< 1 day", timedelta(0)),
    ("1-3 days", timedelta(days=1)),
    ("3-7 days", timedelta(days=3)),
    ("7-14 days", timedelta(days=7)),
    ("14-30 days", timedelta(days=14)),
    (">= 30 days", timedelta(days=30)),
)


def backlog(session: Session, scope: ReportScope, *, now: datetime) -> dict[str, Any]:
    created = col(Ticket.created_at)
    oldest_first = list(reversed(range(len(BUCKETS))))
    bucket = case(*[(created <= now - BUCKETS[i][1], i) for i in oldest_first if i], else_=0).label(
        "bucket"
    )
    query = (
        select(bucket, func.count())
        .where(*in_scope(scope, created), col(Ticket.status).in_(OPEN))
        .group_by(bucket)
    )
    found = dict(session.execute(query).all())
    return {
        "backlog": [
            {"age": label, "tickets": found.get(i, 0)} for i, (label, _) in enumerate(BUCKETS)
        ]
    }
