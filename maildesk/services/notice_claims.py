"""Timed notices that happen once: a `TicketNotice` row claimed before the notice is sent.

The row's unique key is (ticket, kind, target, due); the insert does nothing when the key is
taken, by this process or another one meanwhile, and then nothing may be sent. The SLA sweep
and the lifecycle jobs (auto-close, pending reminders and closes) claim through here.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from maildesk.db import dialect_insert, insert_unless_taken
from maildesk.models import Ticket, TicketNotice
from maildesk.timing.clock import aware

_NOTICE = TicketNotice.__table__  # type: ignore[attr-defined]
Claim = tuple[int, str, str, datetime]  # ticket id, kind, target, due


def claim_notice(
    session: Session, *, ticket: Ticket, kind: str, due: datetime, now: datetime, target: str = ""
) -> bool:
    """Record that `kind` (of `target`, about the moment `due`) is sent for the ticket; False
    when it was already, by this process or another one: then nothing may be sent."""
    row = {"ticket_id": ticket.id, "kind": kind, "target": target, "due": due, "at": now}
    statement = insert_unless_taken(session, _NOTICE, _NOTICE.c.id)
    return session.connection().execute(statement, row).first() is not None


def claim_notices(session: Session, claims: list[Claim], *, now: datetime) -> set[Claim]:
    """`claim_notice` for many at once, in one statement: the claims that are this process's."""
    if not claims:
        return set()
    columns = (_NOTICE.c.ticket_id, _NOTICE.c.kind, _NOTICE.c.target, _NOTICE.c.due)
    statement = dialect_insert(session, _NOTICE).on_conflict_do_nothing().returning(*columns)
    rows = [
        {"ticket_id": ticket_id, "kind": kind, "target": target, "due": due, "at": now}
        for ticket_id, kind, target, due in claims
    ]
    taken = session.connection().execute(statement, rows)
    return {(ticket_id, kind, target, aware(due)) for ticket_id, kind, target, due in taken}
