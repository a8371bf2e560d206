"""`#time <duration>`: time the agent spent, in whole minutes (at least one)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from maildesk.agent.spec import Arity, CommandSpec, Context, Run
from maildesk.models import TimeEntry
from maildesk.timing.durations import parse_duration


def _positive(arg: str, now: datetime, zone: tzinfo) -> bool:
    try:
        return parse_duration(arg) > timedelta(0)
    except ValueError:
        return False


def _minutes(ctx: Context, args: tuple[str, ...]) -> int:
    return int(parse_duration(args[0]).total_seconds() // 60) or 1


def _log(run: Run, minutes: int) -> None:
    assert run.ticket.id is not None and run.agent.id is not None
    run.session.add(
        TimeEntry(ticket_id=run.ticket.id, agent_id=run.agent.id, minutes=minutes, at=run.now)
    )
    run.event("time", {"minutes": minutes})


SPECS = (
    CommandSpec(
        "time",
        Arity.ONE,
        _minutes,
        _log,
        check=_positive,
        problem="not a duration (use e.g. 90m, 2h)",
    ),
)
