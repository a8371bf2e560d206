"""`#priority` and `#queue`: one field of the ticket each; a moved ticket nobody of its new
queue has is assigned by that queue's strategy."""

from __future__ import annotations

from datetime import datetime, tzinfo

from maildesk.agent import tell
from maildesk.agent.spec import Arity, CommandSpec, Context, Refusal, Run
from maildesk.models import PRIORITIES, Agent, Priority
from maildesk.services.assignment import assign_by_strategy


def _known_priority(arg: str, now: datetime, zone: tzinfo) -> bool:
    return arg in PRIORITIES


def _priority(ctx: Context, args: tuple[str, ...]) -> Priority:
    return Priority(args[0])


def _set_priority(run: Run, priority: Priority) -> None:
    run.change(priority=priority)


def _queue(ctx: Context, args: tuple[str, ...]) -> str | Refusal:
    if args[0] not in ctx.desk.settings.queue_names():
        return Refusal(f"no such queue: {args[0]!r}")
    return args[0]


def works(agent: Agent | None, queue: str) -> bool:
    """Whether the agent works this queue (a supervisor with no queues works all)."""
    if agent is None:
        return False
    return queue in agent.queues or (agent.role == "supervisor" and not agent.queues)


def _set_queue(run: Run, queue: str) -> None:
    """Move; unless the assignee works the new queue, its strategy picks one, who is told."""
    if not run.change(queue=queue):
        return
    ticket = run.ticket
    current = run.session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    if works(current, queue):
        return
    agent = assign_by_strategy(
        run.session, desk=run.desk, ticket=ticket, actor=run.actor, now=run.now
    )
    if agent is not None:
        tell.assigned(
            run.session, desk=run.desk, ticket=ticket, by=run.agent, to=agent, now=run.now
        )


SPECS = (
    CommandSpec(
        "priority",
        Arity.ONE,
        _priority,
        _set_priority,
        check=_known_priority,
        problem=f"unknown priority (use {', '.join(PRIORITIES)})",
        lower=True,
        once=True,
    ),
    CommandSpec("queue", Arity.ONE, _queue, _set_queue, once=True),
)
