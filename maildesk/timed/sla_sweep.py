"""The SLA sweep: warnings before a target is due, breach notices (and escalation) once it is.

One indexed range query finds the tickets whose `sla_next_at` has come; each is locked (SKIP
LOCKED: another process takes the others), each notice is claimed by a unique row before it
is sent, so it goes out once per ticket, target and deadline whoever ticks.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlmodel import Session, col, select

from maildesk.app import App
from maildesk.db import after_commit, unit_of_work
from maildesk.desk import Desk
from maildesk.models import Ticket
from maildesk.notices import NoticeEvent, notify
from maildesk.notices.prefetch import prefetched
from maildesk.outbound.outbox import write_together
from maildesk.rules.levels import escalate, next_level
from maildesk.services.notice_claims import claim_notices
from maildesk.services.tickets import Actor
from maildesk.ticket_hooks.clock import BREACH, WARNING, Moment, moments, next_moment
from maildesk.timing.durations import spoken_minutes
from maildesk.timing.sla import TARGET_NAMES, SlaPolicy

SYSTEM = Actor("maildesk", "system")
BATCH = 500


def due_tickets(session: Session, *, now: datetime, limit: int = BATCH) -> list[Ticket]:
    """The tickets the sweep must look at now, locked for this process."""
    query = (
        select(Ticket)
        .where(col(Ticket.sla_next_at) <= now)
        .order_by(col(Ticket.sla_next_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(query))


def sweep_sla(app: App) -> int:
    """Send every SLA warning and breach notice that is due; returns how many were sent."""
    desk, now, sent = app.desk, app.desk.clock.now(), 0
    while True:
        with unit_of_work(app.engine) as session:
            tickets = due_tickets(session, now=now)
            sent += sweep_tickets(session, desk=desk, tickets=tickets, now=now)
        if len(tickets) < BATCH:
            return sent


def sweep_ticket(session: Session, *, desk: Desk, ticket: Ticket, now: datetime) -> int:
    """What is due for one ticket: per running target its breach if due, else its warning."""
    return sweep_tickets(session, desk=desk, tickets=[ticket], now=now)


def sweep_tickets(session: Session, *, desk: Desk, tickets: list[Ticket], now: datetime) -> int:
    """The due warnings and breaches of these tickets, claimed in one statement; each ticket's
    next moment moves on past `now`. Returns how many were sent."""
    due = {t.id: _due(desk.sla.named(t.sla_policy), t, now) for t in tickets}
    wanted = [(t.id, m.kind, m.target, m.due) for t in tickets for m in due[t.id] if t.id]
    claimed = claim_notices(session, wanted, now=now)
    sent = {WARNING: 0, BREACH: 0}
    with prefetched(session, [t for t in tickets if due[t.id]]), write_together(session):
        for ticket in tickets:
            policy = desk.sla.named(ticket.sla_policy)
            for moment in due[ticket.id]:
                if (ticket.id, moment.kind, moment.target, moment.due) in claimed:
                    assert policy is not None
                    _send(session, desk, policy, ticket, moment, now)
                    sent[moment.kind] += 1
            ticket.sla_next_at = next_moment(policy, ticket, after=now)
            session.add(ticket)
    if any(sent.values()):
        observer = desk.observer
        tell = partial(observer.sla_notices, warnings=sent[WARNING], breaches=sent[BREACH])
        after_commit(session, tell)
    return sum(sent.values())


def _due(policy: SlaPolicy | None, ticket: Ticket, now: datetime) -> list[Moment]:
    """Per target, the breach if its due has come, else the warning if its time has."""
    found: dict[str, Moment] = {}
    for moment in moments(policy, ticket):
        if moment.at <= now and (moment.kind == BREACH or moment.target not in found):
            found[moment.target] = moment
    return list(found.values())


def _send(
    session: Session, desk: Desk, policy: SlaPolicy, ticket: Ticket, moment: Moment, now: datetime
) -> None:
    facts: dict[str, object] = {
        "target": TARGET_NAMES[moment.target],
        "due": desk.local_time(moment.due),
    }
    if moment.kind == WARNING:
        left = policy.minutes_between(now, moment.due)
        facts["remaining"] = spoken_minutes(left)
        _notify(session, desk, NoticeEvent.SLA_WARNING, ticket, now, facts)
        return
    overdue = int((now - moment.due).total_seconds()) // 60
    level = next_level(session, ticket=ticket) if policy.escalate_on_breach else None
    facts |= {"overdue": spoken_minutes(overdue), "level": level}
    _notify(session, desk, NoticeEvent.SLA_BREACH, ticket, now, facts)
    if level is not None:
        reason = f"The {facts['target']} target was due at {facts['due']}."
        escalate(
            session,
            desk=desk,
            ticket=ticket,
            actor=SYSTEM,
            now=now,
            by=None,
            reason=reason,
            to_level=level,
        )


def _notify(
    session: Session,
    desk: Desk,
    event: NoticeEvent,
    ticket: Ticket,
    now: datetime,
    facts: dict[str, object],
) -> None:
    with session.no_autoflush:  # the batch's changed tickets are written together, once
        notify(session, desk=desk, event=event, ticket=ticket, now=now, facts=facts)
