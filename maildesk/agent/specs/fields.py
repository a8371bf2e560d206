"""`#priority` and `#queue`: one field of the ticket each."""

from __future__ import annotations

from datetime import datetime, tzinfo

from maildesk.agent.spec import Arity, CommandSpec, Context, Refusal, Run
from maildesk.models import PRIORITIES, Priority


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


def _set_queue(run: Run, queue: str) -> None:
    run.change(queue=queue)


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
