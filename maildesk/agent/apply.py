"""Carry out planned actions, each by its spec's effect; every change is an audit event.

Never commits; the caller's unit of work makes all of it happen, or none.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from maildesk.agent import tell
from maildesk.agent.plan import Action
from maildesk.agent.registry import COMMANDS
from maildesk.agent.spec import Effects, Run
from maildesk.desk import Desk
from maildesk.models import Agent, Ticket
from maildesk.services.tickets import Actor


def apply_actions(
    session: Session,
    *,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    actions: list[Action],
    actor: Actor,
    now: datetime,
    text: str,
) -> Effects:
    """Apply every action in order, those marked `last` (a merge) after the others.

    `text` is the agent's own text after the commands: when the customer is sent a reply,
    that reply tells them the ticket is resolved or closed, otherwise a status mail does
    (a #note tells the customer nothing).
    """
    run = Run(session, desk, ticket, agent, actor, now, Effects(), text)
    for action in sorted(actions, key=lambda a: COMMANDS[a.name].last):
        if not action.follows:  # a line that says two commands is recorded once
            run.event("command", {"line": action.line})
        effect = COMMANDS[action.name].effect
        assert effect is not None, f"#{action.name} is refused on a ticket when planned"
        effect(run, action.value)
    effects = run.effects
    if effects.notify_status and not effects.note and not effects.body(text):
        tell.status_changed(session, desk=desk, ticket=ticket, by=agent, now=now)
    return effects
