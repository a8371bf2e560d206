"""`#escalate`: the next support level has the ticket, assigned there by the queue's strategy."""

from __future__ import annotations

from sqlmodel import Session

from maildesk.agent.spec import Arity, CommandSpec, Context, Refusal, Run
from maildesk.models import Agent, Ticket
from maildesk.rules.levels import escalate
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
    """One level up, assigned there; who hears of it, and why, is `rules.levels.escalate`'s."""
    escalate(
        run.session,
        desk=run.desk,
        ticket=run.ticket,
        actor=run.actor,
        now=run.now,
        by=run.agent,
        reason=run.text,
    )


SPECS = (CommandSpec("escalate", Arity.NONE, _reachable, _escalate, once=True),)
