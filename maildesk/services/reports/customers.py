"""The customers report: per organisation and per customer (the requester) — tickets created
in the window, time logged on them in the window, and SLA met % of those under a policy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from maildesk.models import Contact, Organisation, Ticket, TimeEntry
from maildesk.report_values import ReportScope
from maildesk.services.reports.scope import in_scope, percent, ticket_filters, within
from maildesk.services.sla import breached

_UNDER_POLICY = col(Ticket.sla_policy).is_not(None)


def _tickets(session: Session, scope: ReportScope, key: Any) -> dict[Any, tuple[int, int, int]]:
    """Per key: tickets, under a policy, met. The tickets are counted per requester in one
    scan first, then those few rows summed per key (NOT of a NULL comparison is NULL: the
    late ones are counted, and met is the rest)."""
    late = case((_UNDER_POLICY & breached(), 1), else_=0)
    per_requester = (
        select_columns(
            col(Ticket.requester_id).label("requester"),
            func.count().label("tickets"),
            func.sum(case((_UNDER_POLICY, 1), else_=0)).label("covered"),
            func.sum(late).label("late"),
        )
        .where(*in_scope(scope, col(Ticket.created_at)))
        .group_by(col(Ticket.requester_id))
        .subquery()
    )
    figures = [per_requester.c.tickets, per_requester.c.covered, per_requester.c.late]
    query = (
        select_columns(key, *(func.sum(f) for f in figures))
        .select_from(per_requester)
        .join(Contact, col(Contact.id) == per_requester.c.requester)
        .group_by(key)
    )
    found = {}
    for k, total, covered, missed in session.execute(query):
        found[k] = (int(total), int(covered or 0), int(covered or 0) - int(missed or 0))
    return found


def _minutes(session: Session, scope: ReportScope, key: Any) -> dict[Any, int]:
    query = (
        select(key, func.sum(TimeEntry.minutes))
        .select_from(TimeEntry)
        .join(Ticket, col(Ticket.id) == TimeEntry.ticket_id)
        .join(Contact, col(Contact.id) == Ticket.requester_id)
        .where(*ticket_filters(scope), *within(scope, col(TimeEntry.at)))
        .group_by(key)
    )
    return {k: int(m or 0) for k, m in session.execute(query)}


def _rows(
    tickets: dict[Any, tuple[int, int, int]],
    minutes: dict[Any, int],
    names: dict[Any, str],
    label: str,
) -> list[dict[str, Any]]:
    rows = []
    for key in set(tickets) | set(minutes):
        total, covered, met = tickets.get(key, (0, 0, 0))
        rows.append(
            {
                label: names.get(key, ""),
                "tickets": total,
                "minutes_logged": minutes.get(key, 0),
                "sla_tickets": covered,
                "sla_met_percent": percent(met, covered),
            }
        )
    return sorted(rows, key=lambda r: (-r["tickets"], r[label]))


def customers(session: Session, scope: ReportScope, *, now: datetime) -> dict[str, Any]:
    org = col(Contact.organisation_id)
    person = col(Contact.email)
    org_tickets, org_minutes = _tickets(session, scope, org), _minutes(session, scope, org)
    org_ids = [k for k in set(org_tickets) | set(org_minutes) if k is not None]
    org_names = {
        o.id: o.name or o.domain or ""
        for o in session.exec(select(Organisation).where(col(Organisation.id).in_(org_ids)))
    }
    org_names[None] = "(none)"
    people_tickets, people_minutes = (
        _tickets(session, scope, person),
        _minutes(session, scope, person),
    )
    people = {k: k for k in set(people_tickets) | set(people_minutes)}
    return {
        "organisations": _rows(org_tickets, org_minutes, org_names, "organisation"),
        "customers": _rows(people_tickets, people_minutes, people, "customer"),
    }
