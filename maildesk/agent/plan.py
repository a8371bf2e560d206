"""Check parsed commands against the ticket, the agent's rights and the desk: all or none.

Returns resolved actions (data) or the bad lines with reasons; writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from maildesk.agent.lines import BadLine, Parsed
from maildesk.agent.registry import COMMANDS
from maildesk.agent.rights import may_act
from maildesk.agent.spec import Context, Refusal
from maildesk.desk import Desk
from maildesk.models import Agent, Ticket


@dataclass(frozen=True)
class Action:
    name: str
    value: Any
    line: str
    follows: bool = False  # its line is recorded with the command before it


def plan_commands(
    session: Session, *, desk: Desk, ticket: Ticket, agent: Agent, parsed: Parsed, now: datetime
) -> tuple[list[Action], list[BadLine]]:
    """Every command resolved, or every problem named (then nothing may be applied)."""
    errors = list(parsed.errors)
    if not may_act(agent, ticket):
        errors.insert(
            0, BadLine("(all)", f"you may not act on {ticket.ref} (queue {ticket.queue})")
        )
    context = Context(session, desk, ticket, agent, now)
    actions: list[Action] = []
    seen: set[str] = set()
    for command in parsed.commands:
        spec = COMMANDS[command.name]
        if spec.once and command.name in seen:
            errors.append(BadLine(command.line, f"#{command.name} may be given once per message"))
            continue
        seen.add(command.name)
        value = spec.resolve(context, command.args)
        if isinstance(value, Refusal):
            errors.append(BadLine(command.line, value.reason))
        else:
            actions.append(Action(command.name, value, command.line, command.follows))
    return actions, errors
