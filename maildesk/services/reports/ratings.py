"""The ratings report: customers' scores given in the window — average (CSAT), how many of
each score 1 to 5, the comments, and the low ratings (2 or less) to follow up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from maildesk.models import Ticket
from maildesk.report_values import ReportScope
from maildesk.services.reports.scope import in_scope
from maildesk.timing.clock import iso

SCORES = (1, 2, 3, 4, 5)
LOW = 2


def _rated(scope: ReportScope) -> list[Any]:
    return [*in_scope(scope, col(Ticket.rated_at)), col(Ticket.rating).is_not(None)]


def _listed(session: Session, *where: Any) -> list[dict[str, Any]]:
    query = (
        select_columns(
            col(Ticket.ref),
            col(Ticket.subject),
            col(Ticket.rating),
            col(Ticket.rating_comment),
            col(Ticket.rated_at),
        )
        .where(*where)
        .order_by(col(Ticket.rated_at), col(Ticket.id))
    )
    return [
        {
            "ticket": ref,
            "subject": subject,
            "score": score,
            "comment": comment or "",
            "rated_at": iso(at),
        }
        for ref, subject, score, comment, at in session.execute(query)
    ]


def ratings(session: Session, scope: ReportScope, *, now: datetime) -> dict[str, Any]:
    rated = _rated(scope)
    count, average = session.execute(
        select(func.count(), func.avg(Ticket.rating)).where(*rated)
    ).one()
    per_score = dict(
        session.execute(
            select(Ticket.rating, func.count()).where(*rated).group_by(col(Ticket.rating))
        ).all()
    )
    with_comment = [col(Ticket.rating_comment).is_not(None), col(Ticket.rating_comment) != ""]
    return {
        "csat": [
            {"ratings": count, "average": None if average is None else round(float(average), 2)}
        ],
        "distribution": [{"score": s, "ratings": per_score.get(s, 0)} for s in SCORES],
        "comments": _listed(session, *rated, *with_comment),
        "low": _listed(session, *rated, col(Ticket.rating) <= LOW),
    }
