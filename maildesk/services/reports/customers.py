"""The customers report: per organisation and per customer (the requester) — tickets created
in the window, time logged on them in the window, and SLA met % of those under a policy.

Two scans make the figures per requester (tickets; time logged); the few rows they give are
then added up per customer and per organisation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from maildesk.models import Contact, Organisation, Ticket, TimeEntry
from maildesk.report_values import ReportScope
from maildesk.services.reports.scope import in_scope, percent, scanned, ticket_filters, within
from maildesk.services.sla import breached

_UNDER_POLICY = col(Ticket.sla_policy).is_not(None)
NO_ORGANISATION = "(none)"
Figures = list[int]  # tickets, minutes logged, under a policy, late


def _tickets(session: Session, scope: ReportScope) -> dict[int, Figures]:
    """Per requester: tickets, 0, under a policy, late (NOT of a NULL comparison is NULL: the
    late ones are counted, and met is the rest)."""
    requester = scanned(col(Ticket.requester_id))
    query = (
        select_columns(
            requester,
            func.count(),
            func.sum(case((_UNDER_POLICY, 1), else_=0)),
            func.sum(case((_UNDER_POLICY & breached(), 1), else_=0)),
        )
        .where(*in_scope(scope, col(Ticket.created_at)))
        .group_by(requester)
    )
    return {r: [int(n), 0, int(p or 0), int(x or 0)] for r, n, p, x in session.execute(query)}


def _minutes(session: Session, scope: ReportScope) -> dict[int, int]:
    requester = scanned(col(Ticket.requester_id))
    query = (
        select_columns(requester, func.sum(TimeEntry.minutes))
        .select_from(TimeEntry)
        .join(Ticket, col(Ticket.id) == TimeEntry.ticket_id)
        .where(*ticket_filters(scope), *within(scope, col(TimeEntry.at)))
        .group_by(requester)
    )
    return {requester: int(m or 0) for requester, m in session.execute(query)}


def _per_requester(session: Session, scope: ReportScope) -> dict[int, Figures]:
    found = _tickets(session, scope)
    for requester, minutes in _minutes(session, scope).items():
        found.setdefault(requester, [0, 0, 0, 0])[1] = minutes
    return found


def _who(session: Session, requesters: set[int]) -> dict[int, tuple[str, str]]:
    """Requester id → (email, organisation name), of the contacts who asked for something."""
    asked = select_columns(col(Ticket.requester_id)).distinct()
    query = (
        select_columns(
            col(Contact.id), col(Contact.email), col(Organisation.name), col(Organisation.domain)
        )
        .outerjoin(Organisation, col(Organisation.id) == Contact.organisation_id)
        .where(col(Contact.id).in_(asked))
    )
    return {
        cid: (email, name or domain or NO_ORGANISATION)
        for cid, email, name, domain in session.execute(query)
        if cid in requesters
    }


def _rolled_up(
    figures: dict[int, Figures], key: Callable[[int], str], label: str
) -> list[dict[str, Any]]:
    totals: dict[str, Figures] = {}
    for requester, values in figures.items():
        total = totals.setdefault(key(requester), [0, 0, 0, 0])
        for index, value in enumerate(values):
            total[index] += value
    rows = [
        {
            label: name,
            "tickets": tickets,
            "minutes_logged": minutes,
            "sla_tickets": covered,
            "sla_met_percent": percent(covered - late, covered),
        }
        for name, (tickets, minutes, covered, late) in totals.items()
    ]
    return sorted(rows, key=lambda r: (-r["tickets"], r[label]))


def customers(session: Session, scope: ReportScope, *, now: datetime) -> dict[str, Any]:
    figures = _per_requester(session, scope)
    who = _who(session, set(figures))
    return {
        "organisations": _rolled_up(figures, lambda r: who[r][1], "organisation"),
        "customers": _rolled_up(figures, lambda r: who[r][0], "customer"),
    }
