"""`#status` and its shorthands `#resolve`, `#close`, `#reopen`, `#pending`.

`#resolve <text>` and `#close <text>` give the reason too (`#reason`, in `closure.py`).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from maildesk.agent.spec import Arity, CommandSpec, Context, Run
from maildesk.models import STATUSES, TicketStatus


def _known(arg: str, now: datetime, zone: tzinfo) -> bool:
    return arg in STATUSES


def _resolve(ctx: Context, args: tuple[str, ...]) -> TicketStatus:
    return TicketStatus(args[0])


def _set(run: Run, status: TicketStatus) -> None:
    """A status set by hand ends any snooze; resolved or closed, the customer hears of it."""
    run.change(status=status, snoozed_until=None)
    run.effects.notify_status = status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)


SPECS = (
    CommandSpec(
        "status",
        Arity.ONE,
        _resolve,
        _set,
        check=_known,
        problem=f"unknown status (use {', '.join(STATUSES)})",
        lower=True,
        once=True,
        shorthands={
            "#resolve": TicketStatus.RESOLVED,
            "#close": TicketStatus.CLOSED,
            "#reopen": TicketStatus.OPEN,
            "#pending": TicketStatus.PENDING,
        },
        carries={"#resolve": "reason", "#close": "reason"},
    ),
)
