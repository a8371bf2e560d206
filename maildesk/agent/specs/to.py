"""`#to <address>`: an agent's new mail to the desk opens a ticket for that customer.

It acts on no ticket: agent/start.py reads it before the ticket exists; on a reply it is a
bad line.
"""

from __future__ import annotations

from maildesk.agent.spec import Arity, CommandSpec, Context, Refusal
from maildesk.agent.specs.people import ADDRESS_PROBLEM, is_address


def _on_a_ticket(ctx: Context, args: tuple[str, ...]) -> Refusal:
    return Refusal("#to only starts a new ticket (write to the desk, not a reply)")


SPECS = (
    CommandSpec(
        "to",
        Arity.ONE,
        _on_a_ticket,
        None,
        check=is_address,
        problem=ADDRESS_PROBLEM,
        lower=True,
        once=True,
    ),
)
