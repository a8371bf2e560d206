"""Helpers for the command tests: apply an agent's lines to the planner's ticket, and look."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from maildesk.agent.apply import apply_actions
from maildesk.agent.parser import parse_commands
from maildesk.agent.spec import Context, Effects, Run
from maildesk.models import Event, OutboxItem, Ticket
from maildesk.services.tickets import Actor
from tests.conftest import START
from tests.unit.agent.conftest import Planner

BOB = "bob@example.com"


def actor(email: str = BOB) -> Actor:
    return Actor(email, "mail:1")


def apply(planner: Planner, text: str, *, by: str = BOB) -> Effects:
    """Plan the lines of `text` on the planner's ticket (all must be good) and apply them."""
    actions, errors = planner.plan(text, by=by)
    assert errors == []
    return apply_actions(
        planner.session,
        desk=planner.app.desk,
        ticket=planner.ticket,
        agent=planner.agent(by),
        actions=actions,
        actor=actor(by),
        now=START,
        text=parse_commands(text, START).text,
    )


def context(planner: Planner, *, by: str = BOB) -> Context:
    """What a spec resolves against: the planner's ticket, as `by` acts on it."""
    return Context(planner.session, planner.app.desk, planner.ticket, planner.agent(by), START)


def run(planner: Planner, *, by: str = BOB, text: str = "") -> Run:
    """What a spec's effect is handed on the planner's ticket."""
    agent = planner.agent(by)
    desk, ticket = planner.app.desk, planner.ticket
    return Run(planner.session, desk, ticket, agent, actor(by), START, Effects(), text)


def trail(planner: Planner, ticket: Ticket | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The ticket's audit events after `created`, oldest first: (type, data)."""
    planner.session.flush()
    ticket_id = (ticket or planner.ticket).id
    rows = planner.session.exec(
        select(Event)
        .where(Event.ticket_id == ticket_id, Event.type != "created")
        .order_by(col(Event.id))
    )
    return [(e.type, e.data) for e in rows]


def outbox(planner: Planner) -> list[tuple[list[str], str, dict[str, Any]]]:
    """Every queued mail, oldest first: (recipients, template, template context)."""
    rows = planner.session.exec(select(OutboxItem).order_by(col(OutboxItem.id)))
    return [(r.recipients, (r.spec or {})["template"], (r.spec or {})["context"]) for r in rows]
