"""Fixtures for the command language: a desk with Carol's new ticket, and a planner on it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlmodel import Session, select

from maildesk.agent.lines import BadLine
from maildesk.agent.parser import parse_commands
from maildesk.agent.plan import Action, plan_commands
from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.models import Agent, Event, Ticket
from maildesk.services.agents import add_agent
from maildesk.services.contacts import find_agent, get_or_create_contact
from maildesk.services.tickets import Actor, create_ticket
from tests.conftest import START


@dataclass
class Planner:
    app: App
    session: Session
    ticket: Ticket  # TKT-1 in general

    def agent(self, email: str) -> Agent:
        found = find_agent(self.session, email=email)
        assert found is not None
        return found

    def events(self) -> int:
        self.session.flush()
        return len(self.session.exec(select(Event)).all())

    def plan(self, text: str, *, by: str = "bob@example.com") -> tuple[list[Action], list[BadLine]]:
        return plan_commands(
            self.session,
            desk=self.app.desk,
            ticket=self.ticket,
            agent=self.agent(by),
            parsed=parse_commands(text, START),
            now=START,
        )


def new_ticket(session: Session, queue: str = "general") -> Ticket:
    carol = get_or_create_contact(
        session, email="carol@acme.test", name="", free_mail=(), now=START
    )
    return create_ticket(
        session,
        prefix="TKT",
        requester=carol,
        subject="Printer on fire",
        queue=queue,
        actor=Actor("carol@acme.test", "test"),
        now=START,
    )


def add(session: Session, email: str, name: str, *, level: int = 1) -> None:
    add_agent(
        session,
        email=email,
        name=name,
        role="agent",
        level=level,
        queues=["general"],
        known_queues=["general", "billing"],
    )


@pytest.fixture
def planner(app: App) -> Iterator[Planner]:
    with unit_of_work(app.engine) as session:
        yield Planner(app, session, new_ticket(session))
