"""The handler table run in a test's own session, and what it did as one comparable value."""

from __future__ import annotations

from dataclasses import dataclass

from maildesk.models import Ticket
from maildesk.pipeline.runner import STOPPED, Handlers, run_handlers
from maildesk.pipeline.table import HANDLERS
from maildesk.pipeline.work import StageEnv, Work


@dataclass(frozen=True)
class Done:
    """The ticket a mail landed on (a stopped one: the ticket it located), the outcome, why.

    A stop's reason is the handler's own, without the handler's name the runner puts before it.
    """

    ticket: Ticket | None
    outcome: str
    reason: str | None = None


def carry_out(env: StageEnv, work: Work, handlers: Handlers = HANDLERS) -> Done:
    stop, work = run_handlers(handlers, work, env)
    if stop is not None:
        located = env.session.get(Ticket, work.thread.ticket_id) if work.thread else None
        return Done(located, STOPPED[stop.disposition.verdict], stop.disposition.reason)
    assert work.outcome is not None
    ticket = env.session.get(Ticket, work.ticket_id) if work.ticket_id else None
    return Done(ticket, work.outcome, work.summary)
