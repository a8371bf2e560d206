"""`#tag <t>…` and `#untag <t>…`."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from maildesk.agent.spec import Arity, CommandSpec, Context, Run
from maildesk.models import TicketTag

_TAG = re.compile(r"^[\w.\-]{1,64}$", re.UNICODE)


def _well_formed(arg: str, now: datetime, zone: tzinfo) -> bool:
    return bool(_TAG.match(arg))


def _tags(ctx: Context, args: tuple[str, ...]) -> tuple[str, ...]:
    return args


def _tag(run: Run, tags: tuple[str, ...]) -> None:
    assert run.ticket.id is not None
    lowered = [t.lower() for t in tags]
    for tag in lowered:
        if run.session.get(TicketTag, (run.ticket.id, tag)) is None:
            run.session.add(TicketTag(ticket_id=run.ticket.id, tag=tag))
    run.event("tag", {"tags": lowered})


def _untag(run: Run, tags: tuple[str, ...]) -> None:
    assert run.ticket.id is not None
    lowered = [t.lower() for t in tags]
    for tag in lowered:
        existing = run.session.get(TicketTag, (run.ticket.id, tag))
        if existing is not None:
            run.session.delete(existing)
    run.event("untag", {"tags": lowered})


_PROBLEM = "needs tags (letters, digits, . _ -)"
SPECS = (
    CommandSpec("tag", Arity.MANY, _tags, _tag, check=_well_formed, problem=_PROBLEM),
    CommandSpec("untag", Arity.MANY, _tags, _untag, check=_well_formed, problem=_PROBLEM),
)
