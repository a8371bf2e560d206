"""`#merge <REF>`: this ticket goes into another one (after the message's other commands)."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from maildesk.agent.rights import may_act
from maildesk.agent.spec import Arity, CommandSpec, Context, Refusal, Run
from maildesk.models import Ticket
from maildesk.services.merge import merge_tickets
from maildesk.services.tickets import find_ticket, follow_merges

_REF = re.compile(r"^[A-Za-z][A-Za-z0-9]*-\d+$")


def _is_ref(arg: str, now: datetime, zone: tzinfo) -> bool:
    return bool(_REF.match(arg))


def _target(ctx: Context, args: tuple[str, ...]) -> int | Refusal:
    """The ticket the other now lives in; the agent must be allowed to act there too."""
    other = find_ticket(ctx.session, ref=args[0])
    other = follow_merges(ctx.session, other) if other is not None else None
    if other is None or other.id == ctx.ticket.id:
        return Refusal(f"no other ticket {args[0].upper()} (or it was merged into this)")
    if not may_act(ctx.agent, other):
        return Refusal(f"you may not act on {other.ref} (queue {other.queue})")
    assert other.id is not None
    return other.id


def _merge(run: Run, target_id: int) -> None:
    target = run.session.get(Ticket, target_id)
    assert target is not None
    merge_tickets(
        run.session, desk=run.desk, source=run.ticket, target=target, actor=run.actor, now=run.now
    )


SPECS = (
    CommandSpec(
        "merge",
        Arity.ONE,
        _target,
        _merge,
        check=_is_ref,
        problem="not a ticket ref",
        once=True,
        last=True,
    ),
)
