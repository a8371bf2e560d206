"""history: an imported mail leaves its ticket as history left it — closed, or open.

A ticket an imported mail created is closed (`close_reason` "imported") at the mail's time,
so no SLA clock runs and no timed job will ever write about it; mail at or after the
import's `--open-since` leaves (or puts) its ticket open, the clock running from the
ticket's own time. Live mail passes untouched.
"""

from __future__ import annotations

from maildesk.models import Ticket, TicketStatus
from maildesk.pipeline.disposition import CONTINUE
from maildesk.pipeline.work import Handled, StageEnv, Step, Work
from maildesk.services.ticket_change import change
from maildesk.services.tickets import Actor

NAME = "history"
CLOSE_REASON = "imported"
DONE = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


def _status(work: Work, ticket: Ticket) -> dict[str, object]:
    """The fields that make the ticket what its history says; none when it already is."""
    assert work.history is not None
    if work.history.keeps_open:
        if ticket.status in DONE:
            return {"status": TicketStatus.OPEN, "close_reason": None}
        return {}
    if work.outcome is Handled.CREATED:
        return {"status": TicketStatus.CLOSED, "close_reason": CLOSE_REASON}
    return {}


def run(work: Work, env: StageEnv) -> Step:
    if work.history is None or work.ticket_id is None:
        return CONTINUE, work
    ticket = env.session.get(Ticket, work.ticket_id)
    assert ticket is not None
    fields = _status(work, ticket)
    if fields:
        actor = Actor("maildesk", f"mail:{work.item_id}")
        reopen = fields["status"] == TicketStatus.OPEN
        change(
            env.session,
            desk=env.desk,
            ticket=ticket,
            actor=actor,
            now=env.now,
            status_event="reopen" if reopen else "status",
            **fields,
        )
    return CONTINUE, work
