"""Assignment strategies: least-loaded against a reference model, round-robin's turns, `none`."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from maildesk.app import App, open_app
from maildesk.db import unit_of_work
from maildesk.models import Agent, Contact, Ticket, TicketStatus
from maildesk.services.assignment import (
    LEAST_LOADED,
    ROUND_ROBIN,
    assign_agent,
    assign_by_strategy,
    available_agents,
    pick_agent,
)
from maildesk.services.contacts import forget_active_agents
from maildesk.services.tickets import Actor
from tests.conftest import START, make_settings

ACTOR = Actor("maildesk", "system")
EQUAL = ("a1@example.com", "a2@example.com", "a3@example.com")
OUTSIDERS = ("away@example.com", "night@example.com", "second@example.com", "billing@example.com")


def _agent(email: str, **more: Any) -> dict[str, Any]:
    return {"email": email, "queues": ["general"]} | more


AGENTS = [
    *(_agent(email) for email in EQUAL[:2]),
    _agent(EQUAL[2], calendar="24x7"),
    _agent("away@example.com"),
    _agent("night@example.com", calendar="weekend"),  # the tests run on a Monday
    _agent("second@example.com", level=2),
    _agent("billing@example.com", queues=["billing"]),
]
WEEKEND = {"name": "weekend", "timezone": "UTC", "hours": {"sat": ["09:00-17:00"]}}


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[App]:
    settings = make_settings(
        tmp_path,
        database_url,
        queues=[
            {"name": "general", "addresses": ["support@example.com"]},
            {"name": "billing", "addresses": ["billing@example.com"]},
        ],
        agents=AGENTS,
        calendars=[WEEKEND],
    )
    application = open_app(settings)
    with unit_of_work(application.engine) as session:
        away = session.exec(select(Agent).where(Agent.email == "away@example.com")).one()
        away.away = True
        session.add(away)
    yield application
    application.engine.dispose()


def _requester(session: Session) -> Contact:
    contact = Contact(email="carol@acme.test", created_at=START)
    session.add(contact)
    session.flush()
    return contact


def _ticket(
    session: Session, requester: Contact, *, status: TicketStatus = TicketStatus.NEW
) -> Ticket:
    assert requester.id is not None
    ticket = Ticket(requester_id=requester.id, status=status, created_at=START, updated_at=START)
    session.add(ticket)
    session.flush()
    return ticket


def _by_email(session: Session) -> dict[str, Agent]:
    return {a.email: a for a in session.exec(select(Agent))}


class Model:
    """The reference: loads and last assignments kept by hand, the pick by the rule's words."""

    def __init__(self, agents: dict[str, Agent], loads: dict[str, int]) -> None:
        self.ids = {email: agents[email].id or 0 for email in EQUAL}
        self.loads = dict(loads)
        self.last: dict[str, datetime | None] = dict.fromkeys(EQUAL)

    def pick(self) -> str:
        def order(email: str) -> tuple[int, bool, datetime, int]:
            last = self.last[email]
            return (self.loads[email], last is not None, last or START, self.ids[email])

        return min(EQUAL, key=order)


def _seed(session: Session, requester: Contact, agents: dict[str, Agent]) -> list[Ticket]:
    """Unequal loads: a1 four, a2 one, a3 none; resolved tickets and outsiders' count for nobody."""
    live: list[Ticket] = []
    plan = [("a1", TicketStatus.OPEN)] * 4 + [("a2", TicketStatus.PENDING)]
    plan += [("a3", TicketStatus.RESOLVED)] * 3 + [("away", TicketStatus.OPEN)]
    for who, status in plan:
        ticket = _ticket(session, requester, status=status)
        ticket.assignee_id = agents[f"{who}@example.com"].id
        if who != "away" and status != TicketStatus.RESOLVED:
            live.append(ticket)
    return live


def test_least_loaded_picks_as_the_reference_model_over_a_thousand_tickets(app: App) -> None:
    rng = random.Random(10)
    settings = app.desk.settings
    with unit_of_work(app.engine) as session:
        requester, agents = _requester(session), _by_email(session)
        live = _seed(session, requester, agents)
        model = Model(agents, {EQUAL[0]: 4, EQUAL[1]: 1, EQUAL[2]: 0})
        picked: list[str] = []
        for i in range(1000):
            now = START + timedelta(seconds=i)
            if i < 900 and live and rng.random() < 0.4:
                done = live.pop(rng.randrange(len(live)))
                done.status = TicketStatus.RESOLVED
                model.loads[next(e for e in EQUAL if agents[e].id == done.assignee_id)] -= 1
            ticket = _ticket(session, requester, status=rng.choice(list(TicketStatus)[:3]))
            agent = pick_agent(
                session, settings=settings, queue="general", level=1, strategy=LEAST_LOADED, now=now
            )
            assert agent is not None and agent.email == model.pick(), f"pick {i}"
            assign_agent(session, desk=app.desk, ticket=ticket, agent=agent, actor=ACTOR, now=now)
            model.loads[agent.email] += 1
            model.last[agent.email] = now
            picked.append(agent.email)
            live.append(ticket)
        assert max(model.loads.values()) - min(model.loads.values()) <= 1
        assert not set(picked) & set(OUTSIDERS)


def test_round_robin_gives_each_available_agent_a_turn_in_order(app: App) -> None:
    with unit_of_work(app.engine) as session:
        requester = _requester(session)
        order = []
        for _ in range(7):  # one moment for all: the stamps still take turns
            ticket = _ticket(session, requester)
            agent = assign_by_strategy(
                session, desk=app.desk, ticket=ticket, actor=ACTOR, now=START, strategy=ROUND_ROBIN
            )
            assert agent is not None and ticket.assignee_id == agent.id
            order.append(agent.email)
    assert order == [*EQUAL, *EQUAL, EQUAL[0]]


def test_the_strategy_none_assigns_nobody(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = _ticket(session, _requester(session))
        # general's configured strategy is the default, none
        assert (
            assign_by_strategy(session, desk=app.desk, ticket=ticket, actor=ACTOR, now=START)
            is None
        )
    with unit_of_work(app.engine) as session:
        stored = session.get(Ticket, ticket.id)
        assert stored is not None and stored.assignee_id is None


def test_with_nobody_available_the_ticket_stays_unassigned_and_says_why(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = _ticket(session, _requester(session))
        ticket.level = 3
        agent = assign_by_strategy(
            session, desk=app.desk, ticket=ticket, actor=ACTOR, now=START, strategy=LEAST_LOADED
        )
        assert agent is None and ticket.assignee_id is None


def test_away_and_off_hours_agents_are_no_candidates_until_back(app: App) -> None:
    settings = app.desk.settings
    with unit_of_work(app.engine) as session:
        found = available_agents(session, settings=settings, queue="general", level=1, now=START)
        assert [a.email for a in found] == sorted(EQUAL)
        saturday = START + timedelta(days=5, hours=1)
        found = available_agents(session, settings=settings, queue="general", level=1, now=saturday)
        assert "night@example.com" in [a.email for a in found]
        forget_active_agents(session)


@pytest.mark.parametrize("tickets", [0, 200])
def test_picking_the_least_loaded_agent_is_one_query(app: App, tickets: int) -> None:
    settings = app.desk.settings
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    with unit_of_work(app.engine) as session:
        requester, agents = _requester(session), _by_email(session)
        for i in range(tickets):
            _ticket(session, requester).assignee_id = agents[EQUAL[i % 3]].id
        available_agents(session, settings=settings, queue="general", level=1, now=START)
        session.flush()
        event.listen(app.engine, "before_cursor_execute", count)
        try:
            pick_agent(
                session,
                settings=settings,
                queue="general",
                level=1,
                strategy=LEAST_LOADED,
                now=START,
            )
        finally:
            event.remove(app.engine, "before_cursor_execute", count)
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")
