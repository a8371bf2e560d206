"""`#reason <text>` and `#kb <article reference>`: how the ticket was closed, and where the
answer is written down. Lines of their own, or the text after `#resolve`/`#close`, which
carry a reason (`#resolve printer replaced` = `#resolve` and `#reason printer replaced`).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from maildesk.agent.spec import Arity, CommandSpec, Context, Run

LONGEST = 255  # the ticket's close_reason and kb_reference columns hold this many characters
TOO_LONG = f"too long (at most {LONGEST} characters)"


def _fits(arg: str, now: datetime, zone: tzinfo) -> bool:
    return len(arg) <= LONGEST


def _text(ctx: Context, args: tuple[str, ...]) -> str:
    return args[0]


def _set_reason(run: Run, reason: str) -> None:
    run.change(close_reason=reason)


def _set_kb(run: Run, reference: str) -> None:
    run.change(kb_reference=reference)


SPECS = (
    CommandSpec("reason", Arity.REST, _text, _set_reason, check=_fits, problem=TOO_LONG),
    CommandSpec("kb", Arity.REST, _text, _set_kb, check=_fits, problem=TOO_LONG),
)
