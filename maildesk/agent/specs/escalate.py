"""`#escalate`: the next support level has the ticket, and its agents hear of it."""

from __future__ import annotations

from sqlmodel import Session

from maildesk.agent import tell
from maildesk.agent.spec import Arity, CommandSpec, Context, Refusal, Run
from maildesk.models import Agent, Ticket
from maildesk.services.contacts import queue_agents


def escalation_agents(session: Session, *, ticket: Ticket) -> list[Agent]:
    """Who an escalation reaches: available agents of the ticket's queue above its level."""
    return [a for a in queue_agents(session, queue=ticket.queue) if a.level > ticket.level]


def _reachable(ctx: Context, args: tuple[str, ...]) -> Refusal | None:
    if escalation_agents(ctx.session, ticket=ctx.ticket):
        return None
    return Refusal(
        f"no agent at a higher support level than {ctx.ticket.level} "
        f"is available in queue {ctx.ticket.queue!r}"
    )


def _escalate(run: Run, value: None) -> None:
    """One level up; its agents (and the watchers) hear who did it and why, if they said."""
    before = run.ticket.level
    run.change(level=before + 1)
    tell.escalated(
        run.session,
        desk=run.desk,
        ticket=run.ticket,
        by=run.agent,
        from_level=before,
        reason=run.text,
        now=run.now,
    )


SPECS = (CommandSpec("escalate", Arity.NONE, _reachable, _escalate, once=True),)
