"""What a command is: `CommandSpec`, and what its resolution and its effect are handed.

A spec is data: its name, how many arguments it takes and how each is checked (pure, when
the line is read), how it resolves against the ticket and the desk (reads only; a `Refusal`
makes it a bad line), and its effect (writes, through `Run`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import Enum
from typing import Any

from sqlmodel import Session

from maildesk.desk import Desk
from maildesk.models import Agent, Ticket
from maildesk.services import ticket_change
from maildesk.services.tickets import Actor, record_event


class Arity(Enum):
    NONE = "none"
    ONE = "one"  # one word
    REST = "rest"  # the rest of the line as one argument (a name may have spaces)
    MANY = "many"  # one or more words, each checked


@dataclass(frozen=True)
class Refusal:
    """Why a well-formed command cannot be carried out on this ticket."""

    reason: str


@dataclass(frozen=True)
class Context:
    """What a command is resolved against: the ticket as it stands, who acts, and when."""

    session: Session
    desk: Desk
    ticket: Ticket
    agent: Agent
    now: datetime


@dataclass
class Effects:
    """What the commands mean for the message that carried them."""

    note: bool = False  # the message is internal
    macro_texts: list[str] = field(default_factory=list)  # inserted where the commands stood
    notify_status: bool = False  # resolved or closed: the customer hears of it

    def body(self, text: str) -> str:
        """What the customer reads: macro texts, then the agent's own text."""
        return "\n\n".join([*self.macro_texts, text]).strip()


@dataclass
class Run:
    """What an effect is handed: who acts on which ticket, when, and what was done so far."""

    session: Session
    desk: Desk
    ticket: Ticket
    agent: Agent
    actor: Actor
    now: datetime
    effects: Effects
    text: str = ""  # the agent's own text after the command lines

    def event(self, type: str, data: dict[str, Any]) -> None:
        """An audit event for what is no field of the ticket (tags, participants, time)."""
        record_event(
            self.session, ticket=self.ticket, actor=self.actor, type=type, data=data, now=self.now
        )

    def change(self, **fields: Any) -> frozenset[str]:
        """Change fields of the ticket, audited (the one way: services/ticket_change)."""
        return ticket_change.change(
            self.session,
            desk=self.desk,
            ticket=self.ticket,
            actor=self.actor,
            now=self.now,
            **fields,
        )


Check = Callable[[str, datetime, tzinfo], bool]  # (argument, now, desk zone) → well formed?
Resolve = Callable[[Context, tuple[str, ...]], Any]  # → the value the effect gets, or a Refusal
Effect = Callable[[Run, Any], None]


def no_value(ctx: Context, args: tuple[str, ...]) -> None:
    """The resolution of a command that takes no argument and needs nothing looked up."""
    return None


@dataclass(frozen=True)
class CommandSpec:
    """One `#command`: everything about it in one place (registry.py collects them)."""

    name: str
    arity: Arity
    resolve: Resolve
    effect: Effect | None  # None: it acts on no ticket (#to starts one: agent/start.py)
    check: Check | None = None
    problem: str = ""  # why an argument fails `check`
    lower: bool = False  # the argument is read in lower case
    once: bool = False  # resolved against the ticket as it was, so a second one would be wrong
    last: bool = False  # runs after the others (a merge moves what they did)
    shorthands: Mapping[str, str] = field(default_factory=dict)  # "#resolve" → "resolved"
    # a shorthand whose line may go on with text, and the command that text is the argument
    # of: {"#resolve": "reason"} reads `#resolve fixed` as `#resolve` and `#reason fixed`
    carries: Mapping[str, str] = field(default_factory=dict)

    def accepts(self, arg: str, now: datetime, zone: tzinfo) -> bool:
        return self.check is None or self.check(arg, now, zone)
