"""Timed work that is due: run by the daemon's scheduler, or once by `maildesk tick`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.errors import TransientError
from maildesk.notices import NoticeEvent, notify
from maildesk.pipeline.runner import drain
from maildesk.sender.delivery import send_outbox
from maildesk.services.snoozes import wake_snoozed

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    """What one tick did, job by job."""

    counts: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return ", ".join(f"{name}: {count}" for name, count in self.counts.items()) or "nothing due"


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
        woken = wake_snoozed(session, now=now)
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


JOBS = (("inbox", process_inbox), ("snoozes", wake_snoozes), ("outbox", send_outbox))


def tick(app: App) -> TickReport:
    """Run every timed job once, each in its own transactions."""
    report = TickReport()
    for name, job in JOBS:
        report.counts[name] = job(app)
    return report
