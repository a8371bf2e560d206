"""`#snooze <duration or date>`: pending until then (the snooze job opens it again)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from maildesk.agent.spec import Arity, CommandSpec, Context, Run
from maildesk.models import TicketStatus
from maildesk.timing.durations import parse_duration


def snooze_until(text: str, now: datetime, zone: tzinfo = UTC) -> datetime | None:
    """`2h` → now + 2 h; an ISO 8601 date or time → that moment, in UTC; else None.

    A date or time that names no offset is read in `zone` (the desk's time zone).
    """
    try:
        return now + parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)
    return moment if moment > now else None


def _in_future(arg: str, now: datetime, zone: tzinfo) -> bool:
    return snooze_until(arg, now, zone) is not None


def _until(ctx: Context, args: tuple[str, ...]) -> datetime | None:
    return snooze_until(args[0], ctx.now, ctx.desk.settings.desk.zone)


def _snooze(run: Run, until: datetime) -> None:
    run.change(status=TicketStatus.PENDING, snoozed_until=until)


SPECS = (
    CommandSpec(
        "snooze",
        Arity.ONE,
        _until,
        _snooze,
        check=_in_future,
        problem="not a future duration or date",
        once=True,
    ),
)
