"""The agents report: each agent's workload — tickets assigned and created in the window by
status (new, open, pending), resolved in the window, breached, and time logged with `#time`
in the window (the TimeEntry rows the command writes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from maildesk.models import Agent, Ticket, TicketStatus, TimeEntry
from maildesk.report_values import ReportScope
from maildesk.services.reports.scope import in_scope, ticket_filters, within
from maildesk.services.sla import breached

FIGURES = ("new", "open", "pending", "resolved", "breached", "minutes_logged")


def _by_status(session: Session, scope: ReportScope) -> dict[tuple[int, str], int]:
    statuses = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)
    query = (
        select(Ticket.assignee_id, Ticket.status, func.count())
        .where(*in_scope(scope, col(Ticket.created_at)), col(Ticket.status).in_(statuses))
        .group_by(col(Ticket.assignee_id), col(Ticket.status))
    )
    return {(agent, str(status)): n for agent, status, n in session.execute(query)}


def _per_agent(session: Session, figure: Any, *where: Any) -> dict[int, int]:
    query = (
        select(Ticket.assignee_id, figure)
        .where(col(Ticket.assignee_id).is_not(None), *where)
        .group_by(col(Ticket.assignee_id))
    )
    return {agent: int(n or 0) for agent, n in session.execute(query)}


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
    status = _by_status(session, scope)
    resolved = _per_agent(session, func.count(), *in_scope(scope, col(Ticket.resolved_at)))
    late = _per_agent(
        session, func.sum(case((breached(), 1), else_=0)), *in_scope(scope, col(Ticket.created_at))
    )
    logged = _logged(session, scope)
    rows: list[dict[str, Any]] = []
    for agent in session.exec(select(Agent).order_by(col(Agent.email))):
        key = agent.id or 0
        figures = [status.get((key, s), 0) for s in ("new", "open", "pending")]
        figures += [resolved.get(key, 0), late.get(key, 0), logged.get(key, 0)]
        rows.append(
            {"agent": agent.email, "name": agent.name, **dict(zip(FIGURES, figures, strict=True))}
        )
    rows.sort(key=lambda r: -(r["new"] + r["open"] + r["pending"]))
    return {"agents": rows}
