"""The timed jobs: work that is due by the clock, declared in one table, `JOBS`.

`maildesk.daemon.tick` runs them, with the sender's outbox job, every minute or once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.errors import TransientError
from maildesk.notices import NoticeEvent, notify
from maildesk.pipeline.batch import drain
from maildesk.services.snoozes import wake_snoozed
from maildesk.timed.lifecycle import (
    close_pending_tickets,
    close_unrated_tickets,
    remind_pending_tickets,
)
from maildesk.timed.reports import mail_reports
from maildesk.timed.sla_sweep import sweep_sla

log = logging.getLogger(__name__)


def process_inbox(app: App) -> int:
    """Process received inbox items left by a crash, another process, or a busy database."""
    try:
        return len(drain(app.engine, app.desk))
    except TransientError as exc:
        log.warning("inbox sweep postponed: %s", exc)
        return 0


def wake_snoozes(app: App) -> int:
    """Snoozed tickets whose time has come reopen, and their agents are told."""
    desk, now = app.desk, app.desk.clock.now()
    with unit_of_work(app.engine) as session:
        woken = wake_snoozed(session, desk=desk, now=now)
        for ticket, until in woken:
            facts = {"snoozed_until": desk.local_time(until)}
            notify(
                session,
                desk=desk,
                event=NoticeEvent.SNOOZE_WOKE,
                ticket=ticket,
                now=now,
                facts=facts,
            )
        return len(woken)


Job = Callable[[App], int]  # runs what is due in its own transactions; how many it did

# A ticket due to close is closed before any reminder: closing first, it gets no reminder.
JOBS: tuple[tuple[str, Job], ...] = (
    ("inbox", process_inbox),
    ("snoozes", wake_snoozes),
    ("sla", sweep_sla),
    ("auto-close", close_unrated_tickets),
    ("pending-close", close_pending_tickets),
    ("pending-reminder", remind_pending_tickets),
    ("reports", mail_reports),
)
