"""One tick: every timed job, then the sender's outbox job; `maildesk tick` runs it once.

Composed here, above both, because the timed jobs and the sender never import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from maildesk.app import App
from maildesk.sender.delivery import send_outbox
from maildesk.timed.jobs import JOBS, Job

TICK: tuple[tuple[str, Job], ...] = (*JOBS, ("outbox", send_outbox))


@dataclass
class TickReport:
    """What one tick did, job by job."""

    counts: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return ", ".join(f"{name}: {count}" for name, count in self.counts.items()) or "nothing due"


def tick(app: App) -> TickReport:
    """Run every timed job once, each in its own transactions, then send what is due."""
    report = TickReport()
    for name, job in TICK:
        report.counts[name] = job(app)
    return report
