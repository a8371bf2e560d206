"""A mailed report claimed before it is sent: a `ReportRun` row per mailing and period.

The insert does nothing when the key is taken, by this process or another one meanwhile; then
nothing may be sent. The claim commits with the queued mail, so a crash in between sends again.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from maildesk.db import insert_unless_taken
from maildesk.models import ReportRun

_RUN = ReportRun.__table__  # type: ignore[attr-defined]


def claim_report_run(session: Session, *, key: str, due: datetime, now: datetime) -> bool:
    """Record that the mailing `key` of the period due at `due` is sent; False when it was."""
    statement = insert_unless_taken(session, _RUN, _RUN.c.id)
    row = {"key": key, "due": due, "at": now}
    return session.connection().execute(statement, row).first() is not None
