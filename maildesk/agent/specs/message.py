"""`#note` (the message stays internal) and `#macro <name>` (a canned text goes first)."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from sqlmodel import Session

from maildesk.agent.spec import Arity, CommandSpec, Context, Refusal, Run, no_value
from maildesk.desk import Desk
from maildesk.models import Contact, Ticket

_MACRO = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


def _note(run: Run, value: None) -> None:
    run.effects.note = True


def _macro_name(arg: str, now: datetime, zone: tzinfo) -> bool:
    return bool(_MACRO.match(arg))


def macro_exists(desk: Desk, name: str) -> bool:
    return desk.renderer.origin(f"macros/{name}.txt") is not None


def _resolve_macro(ctx: Context, args: tuple[str, ...]) -> str | Refusal:
    if not macro_exists(ctx.desk, args[0]):
        return Refusal(f"no macro named {args[0]!r}")
    return args[0]


def render_macro(session: Session, desk: Desk, ticket: Ticket, name: str) -> str:
    """The macro `templates/macros/<name>.txt`, filled in for this ticket."""
    requester = session.get(Contact, ticket.requester_id)
    context = {
        "ref": ticket.ref,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "queue": ticket.queue,
        "requester_name": (requester.name or requester.email) if requester else "",
        "requester_email": requester.email if requester else "",
        "desk_name": desk.settings.desk.name,
    }
    return desk.renderer.render_file(f"macros/{name}.txt", context)


def _insert_macro(run: Run, name: str) -> None:
    run.effects.macro_texts.append(render_macro(run.session, run.desk, run.ticket, name))


SPECS = (
    CommandSpec("note", Arity.NONE, no_value, _note),
    CommandSpec(
        "macro",
        Arity.ONE,
        _resolve_macro,
        _insert_macro,
        check=_macro_name,
        problem="not a macro name",
    ),
)
