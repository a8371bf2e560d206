"""Check parsed agent commands against the ticket, the agent's rights and the desk: all or none.

Returns resolved actions (data) or the bad lines with reasons; writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from maildesk.addresses import local_part_matches
from maildesk.commands import BadLine, Command, Parsed, snooze_until
from maildesk.desk import Desk
from maildesk.durations import parse_duration
from maildesk.models import Agent, Ticket
from maildesk.services.contacts import active_agents, queue_agents
from maildesk.services.tickets import find_ticket, follow_merges


@dataclass(frozen=True)
class Action:
    name: str
    value: Any
    line: str


def may_act(agent: Agent, ticket: Ticket) -> bool:
    """Supervisors may do everything; an agent acts on tickets of their own queues."""
    return agent.role == "supervisor" or ticket.queue in agent.queues


def find_agent_by(session: Session, who: str) -> Agent | None:
    who = who.strip().lower()
    agents = active_agents(session)
    by_email = [a for a in agents if a.email == who]
    if by_email:
        return by_email[0]
    by_name = [a for a in agents if a.name.lower() == who]
    return by_name[0] if len(by_name) == 1 else None  # an ambiguous name names no one


def escalation_agents(session: Session, *, ticket: Ticket) -> list[Agent]:
    """Who an escalation reaches: available agents of the ticket's queue above its level."""
    return [a for a in queue_agents(session, queue=ticket.queue) if a.level > ticket.level]


def macro_exists(desk: Desk, name: str) -> bool:
    return desk.renderer.origin(f"macros/{name}.txt") is not None


def _resolve(
    session: Session, desk: Desk, ticket: Ticket, agent: Agent, command: Command, now: datetime
) -> Action | BadLine:
    name, arg = command.name, (command.args[0] if command.args else "")
    line = command.line
    if name == "assign":
        if arg.lower() in ("me", "none"):
            return Action(name, agent.id if arg.lower() == "me" else None, line)
        target = find_agent_by(session, arg)
        if target is None:
            return BadLine(line, f"no such agent: {arg!r}")
        return Action(name, target.id, line)
    if name == "queue" and arg not in desk.settings.queue_names():
        return BadLine(line, f"no such queue: {arg!r}")
    if name == "merge":
        other = find_ticket(session, ref=arg)
        other = follow_merges(session, other) if other is not None else None
        if other is None or other.id == ticket.id:
            return BadLine(line, "no other ticket " + arg.upper() + " (or it was merged into this)")
        if not may_act(agent, other):
            return BadLine(line, f"you may not act on {other.ref} (queue {other.queue})")
        return Action(name, other.id, line)
    if name == "cc" and local_part_matches(arg, desk.settings.desk_addresses()):
        return BadLine(line, "that is one of the desk's own addresses")
    if name == "macro" and not macro_exists(desk, arg):
        return BadLine(line, f"no macro named {arg!r}")
    if name == "snooze":
        return Action(name, snooze_until(arg, now, desk.settings.desk.zone), line)
    if name == "time":
        return Action(name, int(parse_duration(arg).total_seconds() // 60) or 1, line)
    if name == "escalate" and not escalation_agents(session, ticket=ticket):
        return BadLine(
            line,
            f"no agent at a higher support level than {ticket.level} "
            f"is available in queue {ticket.queue!r}",
        )
    if name == "to":
        return BadLine(line, "#to only starts a new ticket (write to the desk, not a reply)")
    value: Any = command.args if name in ("tag", "untag") else arg
    return Action(name, value, line)


def plan_commands(
    session: Session, *, desk: Desk, ticket: Ticket, agent: Agent, parsed: Parsed, now: datetime
) -> tuple[list[Action], list[BadLine]]:
    """Every command resolved, or every problem named (then nothing may be applied)."""
    errors = list(parsed.errors)
    if not may_act(agent, ticket):
        errors.insert(
            0, BadLine("(all)", f"you may not act on {ticket.ref} (queue {ticket.queue})")
        )
    actions: list[Action] = []
    seen: set[str] = set()
    for command in parsed.commands:
        if command.name in _ONCE and command.name in seen:
            errors.append(BadLine(command.line, f"#{command.name} may be given once per message"))
            continue
        seen.add(command.name)
        resolved = _resolve(session, desk, ticket, agent, command, now)
        (actions if isinstance(resolved, Action) else errors).append(resolved)  # type: ignore[arg-type]
    return actions, errors


# Each is checked against the ticket as it was, so a second one would be checked wrongly.
_ONCE = frozenset({"status", "assign", "priority", "queue", "snooze", "merge", "escalate", "to"})
