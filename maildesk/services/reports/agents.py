"""The agents report: each agent's workload — tickets assigned and created in the window by
status (new, open, pending), resolved in the window, breached, and time logged with `#time`
in the window (the TimeEntry rows the command writes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from maildesk.models import Agent, Ticket, TicketStatus, TimeEntry
from maildesk.report_values import ReportScope
from maildesk.services.reports.scope import counted_within, scanned, ticket_filters, within
from maildesk.services.sla import breached

FIGURES = ("new", "open", "pending", "resolved", "breached", "minutes_logged")


def _workload(session: Session, scope: ReportScope) -> dict[int, tuple[int, ...]]:
    """Per assignee: new, open, pending (created in the window), resolved in the window,
    breached (created in the window) — one scan of the tickets."""
    created = col(Ticket.created_at)
    status = col(Ticket.status)
    figures = [
        counted_within(scope, created, status == TicketStatus.NEW),
        counted_within(scope, created, status == TicketStatus.OPEN),
        counted_within(scope, created, status == TicketStatus.PENDING),
        counted_within(scope, col(Ticket.resolved_at)),
        counted_within(scope, created, breached()),
    ]
    assignee = scanned(col(Ticket.assignee_id))
    query = (
        select_columns(assignee, *figures)
        .where(col(Ticket.assignee_id).is_not(None), *ticket_filters(scope))
        .group_by(assignee)
    )
    return {row[0]: tuple(int(n) for n in row[1:]) for row in session.execute(query)}


def _logged(session: Session, scope: ReportScope) -> dict[int, int]:
    query = (
        select(TimeEntry.agent_id, func.sum(TimeEntry.minutes))
        .join(Ticket, col(Ticket.id) == TimeEntry.ticket_id)
        .where(*ticket_filters(scope), *within(scope, col(TimeEntry.at)))
        .group_by(col(TimeEntry.agent_id))
    )
    return {agent: int(n or 0) for agent, n in session.execute(query)}


def agents(session: Session, scope: ReportScope, *, now: datetime) -> dict[str, Any]:
    """One row per agent (by email), busiest first."""
    workload = _workload(session, scope)
    logged = _logged(session, scope)
    rows: list[dict[str, Any]] = []
    for agent in session.exec(select(Agent).order_by(col(Agent.email))):
        key = agent.id or 0
        figures = [*workload.get(key, (0, 0, 0, 0, 0)), logged.get(key, 0)]
        rows.append(
            {"agent": agent.email, "name": agent.name, **dict(zip(FIGURES, figures, strict=True))}
        )
    rows.sort(key=lambda r: -(r["new"] + r["open"] + r["pending"]))
    return {"agents": rows}
