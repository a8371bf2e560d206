"""The SLA report: tickets under a policy, created in the window, met or breached — per
policy, service, queue and category — and the newest breaching tickets (LISTED of them).

Breached is `services.sla.breached()`: a breach reported, or a target met late. A ticket
whose targets still run and are not late counts as met.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from maildesk.models import Ticket, TicketNotice
from maildesk.report_values import ReportScope
from maildesk.services.reports.scope import in_scope, percent
from maildesk.services.sla import breached
from maildesk.ticket_hooks.clock import BREACH
from maildesk.timing.clock import aware, iso
from maildesk.timing.sla import FIRST_RESPONSE, RESOLUTION, TARGETS

LISTED = 200  # breaching tickets listed, the newest
DIMENSIONS = {
    "policy": col(Ticket.sla_policy),
    "service": col(Ticket.service),
    "queue": col(Ticket.queue),
    "category": col(Ticket.category),
}


def _covered(scope: ReportScope) -> list[Any]:
    return [*in_scope(scope, col(Ticket.created_at)), col(Ticket.sla_policy).is_not(None)]


def _groups(session: Session, scope: ReportScope) -> list[tuple[tuple[Any, ...], int, int]]:
    """(policy, service, queue, category), tickets, breached: one scan, grouped four ways."""
    late = func.coalesce(func.sum(case((breached(), 1), else_=0)), 0)
    columns = list(DIMENSIONS.values())
    query = select_columns(*columns, func.count(), late).where(*_covered(scope)).group_by(*columns)
    return [(tuple(row[:4]), int(row[4]), int(row[5])) for row in session.execute(query)]


def _sorted(names: dict[Any, list[int]]) -> list[Any]:
    """Names in order; no name (NULL) last."""
    return sorted(names, key=lambda name: (name is None, name or ""))


def compliance(session: Session, scope: ReportScope) -> list[dict[str, Any]]:
    """One row per dimension and value: tickets, met, breached, met %."""
    groups = _groups(session, scope)
    rows: list[dict[str, Any]] = []
    for index, dimension in enumerate(DIMENSIONS):
        totals: dict[Any, list[int]] = {}
        for key, total, missed in groups:
            figures = totals.setdefault(key[index], [0, 0])
            figures[0] += total
            figures[1] += missed
        for name in _sorted(totals):
            total, missed = totals[name]
            rows.append(
                {
                    "dimension": dimension,
                    "name": name,
                    "tickets": total,
                    "met": total - missed,
                    "breached": missed,
                    "met_percent": percent(total - missed, total),
                }
            )
    return rows


def _reported(session: Session, breaching_ids: Any) -> dict[int, set[str]]:
    """The targets a breach notice was sent for, per breaching ticket."""
    found: dict[int, set[str]] = {}
    query = select(TicketNotice.ticket_id, TicketNotice.target).where(
        TicketNotice.kind == BREACH, col(TicketNotice.ticket_id).in_(breaching_ids)
    )
    for ticket_id, target in session.execute(query):
        found.setdefault(ticket_id, set()).add(target)
    return found


def _late(met: datetime | None, due: datetime | None) -> bool:
    return met is not None and due is not None and aware(met) > aware(due)


_LISTED = (
    col(Ticket.id),
    col(Ticket.ref),
    col(Ticket.subject),
    col(Ticket.sla_policy),
    col(Ticket.queue),
    col(Ticket.created_at),
    col(Ticket.first_response_at),
    col(Ticket.first_response_due),
    col(Ticket.resolved_at),
    col(Ticket.resolution_due),
)


def breaching(session: Session, scope: ReportScope) -> list[dict[str, Any]]:
    """The newest LISTED breaching tickets, newest first, with the targets each missed (the
    compliance rows count them all)."""
    where = [*_covered(scope), breached()]
    newest = col(Ticket.id).desc()
    reported = _reported(session, select(Ticket.id).where(*where).order_by(newest).limit(LISTED))
    rows = []
    query = select_columns(*_LISTED).where(*where).order_by(newest).limit(LISTED)
    for row in session.execute(query):
        missed = set(reported.get(row.id, set()))
        if _late(row.first_response_at, row.first_response_due):
            missed.add(FIRST_RESPONSE)
        if _late(row.resolved_at, row.resolution_due):
            missed.add(RESOLUTION)
        rows.append(
            {
                "ticket": row.ref,
                "subject": row.subject,
                "policy": row.sla_policy,
                "queue": row.queue,
                "created_at": iso(row.created_at),
                "breached": ",".join(t for t in TARGETS if t in missed),
            }
        )
    return rows


def sla(session: Session, scope: ReportScope, *, now: datetime) -> dict[str, Any]:
    return {"compliance": compliance(session, scope), "breaching": breaching(session, scope)}
