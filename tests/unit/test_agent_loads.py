"""Each agent's stored load (`Agent.open_tickets`) is the number of their tickets in new, open
or pending, whatever changes the tickets and in whatever order: the desk's own changes, timed
jobs, merges, an agent leaving, hand-made SQL, and two processes changing one ticket at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from maildesk.app import App, open_app
from maildesk.db import read_only_unit, unit_of_work
from maildesk.models import Agent, Ticket, TicketStatus
from maildesk.rules.levels import escalate
from maildesk.services.agent_loads import recount_loads
from maildesk.services.agents import add_agent, remove_agent
from maildesk.services.assignment import LEAST_LOADED, assign_agent, assign_by_strategy
from maildesk.services.contacts import find_agent, get_or_create_contact
from maildesk.services.lifecycle import close_pending, close_unrated
from maildesk.services.merge import merge_tickets
from maildesk.services.snoozes import wake_snoozed
from maildesk.services.ticket_change import begin, change
from maildesk.services.tickets import Actor
from tests.conftest import START, _truncate_all, make_settings
from tests.unit.agent.conftest import new_ticket

ACTOR = Actor("maildesk", "system")
EMAILS = ("alice@example.com", "bob@example.com", "erin@example.com", "dana@example.com")
AGENTS: list[dict[str, Any]] = [
    {"email": "alice@example.com", "name": "Alice", "queues": ["general"]},
    {"email": "bob@example.com", "name": "Bob", "queues": ["general"]},
    {"email": "erin@example.com", "name": "Erin", "queues": ["general"]},
    {"email": "dana@example.com", "name": "Dana", "queues": ["general"], "level": 2},
]
QUEUES = [{"name": "general", "addresses": ["support@example.com"], "assignment": LEAST_LOADED}]
LOAD = ("new", "open", "pending")


def desk_app(tmp_path: Path, url: str) -> App:
    lifecycle = {"pending_close": "10d"}
    found = make_settings(tmp_path, url, queues=QUEUES, agents=AGENTS, lifecycle=lifecycle)
    return open_app(found)


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[App]:
    application = desk_app(tmp_path, database_url)
    yield application
    application.engine.dispose()


def loads(engine: Engine) -> tuple[dict[str, int], dict[str, int]]:
    """(stored, counted) per agent: the agent rows, and a COUNT over the tickets."""
    with read_only_unit(engine) as session:
        stored = session.execute(text("SELECT email, open_tickets FROM agent")).all()
        rows = session.execute(
            text(
                "SELECT agent.email, count(ticket.id) FROM agent LEFT JOIN ticket"
                " ON ticket.assignee_id = agent.id AND ticket.status IN ('new', 'open', 'pending')"
                " GROUP BY agent.email"
            )
        ).all()
        return {e: n for e, n in stored}, {e: n for e, n in rows}


def assert_loads_agree(engine: Engine) -> dict[str, int]:
    stored, counted = loads(engine)
    assert stored == counted
    return stored


def agent_id(session: Session, email: str) -> int:
    agent = session.exec(select(Agent).where(Agent.email == email)).one()
    assert agent.id is not None
    return agent.id


class Loads(RuleBasedStateMachine):
    """Tickets made, assigned and changed every way the desk knows, each step its own unit of
    work; after every step each agent's stored load is their counted tickets."""

    app: App  # set by the test
    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.now = START + timedelta(days=400)  # after every earlier example's moments
        with unit_of_work(self.app.engine) as session:  # an example fails by its own steps
            recount_loads(session)

    def unit(self) -> Any:
        self.now += timedelta(minutes=1)
        return unit_of_work(self.app.engine)

    def ticket(self, session: Session, ticket_id: int) -> Ticket:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        return found

    def set(self, ticket_id: int, **fields: Any) -> None:
        with self.unit() as session:
            ticket = self.ticket(session, ticket_id)
            change(session, desk=self.app.desk, ticket=ticket, actor=ACTOR, now=self.now, **fields)

    @rule(target=tickets)
    def a_customer_writes(self) -> int:
        with self.unit() as session:
            ticket = new_ticket(session)
            begin(session, desk=self.app.desk, ticket=ticket, now=self.now)
            assert ticket.id is not None
            return ticket.id

    @rule(target=tickets, email=st.sampled_from(EMAILS), status=st.sampled_from(TicketStatus))
    def a_ticket_is_written_already_assigned(self, email: str, status: TicketStatus) -> int:
        with self.unit() as session:
            carol = get_or_create_contact(
                session, email="carol@acme.test", name="", free_mail=(), now=START
            )
            assert carol.id is not None
            row = Ticket(
                requester_id=carol.id,
                assignee_id=agent_id(session, email),
                status=status,
                created_at=self.now,
                updated_at=self.now,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id

    @rule(ticket_id=tickets)
    def least_loaded_assigns(self, ticket_id: int) -> None:
        with self.unit() as session:
            ticket = self.ticket(session, ticket_id)
            assign_by_strategy(
                session, desk=self.app.desk, ticket=ticket, actor=ACTOR, now=self.now
            )

    @rule(ticket_id=tickets, email=st.sampled_from(EMAILS))
    def an_agent_takes_it(self, ticket_id: int, email: str) -> None:
        with self.unit() as session:
            ticket, agent = self.ticket(session, ticket_id), find_agent(session, email=email)
            if agent is not None:  # an agent who left takes nothing
                desk = self.app.desk
                assign_agent(
                    session, desk=desk, ticket=ticket, agent=agent, actor=ACTOR, now=self.now
                )

    @rule(ticket_id=tickets)
    def it_is_unassigned(self, ticket_id: int) -> None:
        self.set(ticket_id, assignee_id=None)

    @rule(ticket_id=tickets, status=st.sampled_from(TicketStatus))
    def an_agent_sets_the_status(self, ticket_id: int, status: TicketStatus) -> None:
        self.set(ticket_id, status=status, snoozed_until=None)

    @rule(ticket_id=tickets)
    def the_customer_replies(self, ticket_id: int) -> None:
        with self.unit() as session:
            ticket = self.ticket(session, ticket_id)
            if ticket.status in (TicketStatus.PENDING, TicketStatus.RESOLVED, TicketStatus.CLOSED):
                desk, now = self.app.desk, self.now
                fields = {"status": TicketStatus.OPEN, "snoozed_until": None}
                change(session, desk=desk, ticket=ticket, actor=ACTOR, now=now, **fields)

    @rule(ticket_id=tickets)
    def it_is_snoozed_and_wakes(self, ticket_id: int) -> None:
        self.set(ticket_id, status=TicketStatus.PENDING, snoozed_until=self.now)
        with self.unit() as session:
            wake_snoozed(session, desk=self.app.desk, now=self.now)

    @rule(source=tickets, other=tickets)
    def one_is_merged_into_another(self, source: int, other: int) -> None:
        with self.unit() as session:
            merged, into = self.ticket(session, source), self.ticket(session, other)
            if source != other and merged.merged_into_id is None:
                desk, now = self.app.desk, self.now
                merge_tickets(session, desk=desk, source=merged, target=into, actor=ACTOR, now=now)

    @rule()
    def the_timed_jobs_close_what_waited(self) -> None:
        self.now += timedelta(days=30)
        with self.unit() as session:
            close_unrated(session, desk=self.app.desk, now=self.now)
            close_pending(session, desk=self.app.desk, now=self.now)

    @rule(ticket_id=tickets)
    def it_is_escalated(self, ticket_id: int) -> None:
        with self.unit() as session:
            ticket = self.ticket(session, ticket_id)
            desk, now = self.app.desk, self.now
            escalate(session, desk=desk, ticket=ticket, actor=ACTOR, now=now, by=None, reason="")

    @rule(email=st.sampled_from(EMAILS))
    def an_agent_leaves_and_comes_back(self, email: str) -> None:
        with self.unit() as session:
            remove_agent(session, desk=self.app.desk, email=email, actor=ACTOR, now=self.now)
        with self.unit() as session:
            queues = ["general"]
            add_agent(
                session, email=email, name="", role="agent", level=1, queues=queues,
                known_queues=queues,
            )  # fmt: skip

    @rule(ticket_id=tickets, status=st.sampled_from(TicketStatus), email=st.sampled_from(EMAILS))
    def a_hand_made_statement_writes_it(self, ticket_id: int, status: str, email: str) -> None:
        with self.unit() as session:
            values = {"status": status, "assignee_id": agent_id(session, email)}
            session.execute(update(Ticket).where(col(Ticket.id) == ticket_id).values(**values))

    @invariant()
    def each_stored_load_is_the_count(self) -> None:
        assert_loads_agree(self.app.engine)


def test_every_sequence_of_changes_keeps_each_stored_load_the_count(app: App) -> None:
    machine = type("LoadsOfThisDesk", (Loads,), {"app": app})
    run_state_machine_as_test(machine, settings=settings(max_examples=15, stateful_step_count=20))


def test_a_ticket_written_and_deleted_by_hand_leaves_the_load_as_it_was(app: App) -> None:
    with unit_of_work(app.engine) as session:
        carol = get_or_create_contact(
            session, email="carol@acme.test", name="", free_mail=(), now=START
        )
        assert carol.id is not None
        bob = agent_id(session, "bob@example.com")
        rows = [
            Ticket(
                requester_id=carol.id,
                assignee_id=bob,
                status=status,
                created_at=START,
                updated_at=START,
            )
            for status in (TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.CLOSED)
        ]
        session.add_all(rows)
    assert assert_loads_agree(app.engine)["bob@example.com"] == 2

    with unit_of_work(app.engine) as session:
        for row in rows:
            session.delete(session.get(Ticket, row.id))

    assert assert_loads_agree(app.engine)["bob@example.com"] == 0


def race(app: App, ticket_id: int, first: dict[str, Any], second: dict[str, Any]) -> Ticket:
    """Two processes change one ticket at once: the second read it before the first committed
    (its copy is stale), and writes after. Returns the ticket as it ends."""
    loaded, done = threading.Event(), threading.Event()

    def the_second() -> None:
        with unit_of_work(app.engine) as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            loaded.set()
            change(session, desk=app.desk, ticket=ticket, actor=ACTOR, now=START, **second)
            session.flush()  # waits for the first's row lock, then replaces what it wrote
        done.set()

    with unit_of_work(app.engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        change(session, desk=app.desk, ticket=ticket, actor=ACTOR, now=START, **first)
        session.flush()  # the row is locked until this commits
        thread = threading.Thread(target=the_second)
        thread.start()
        assert loaded.wait(10)
        assert not done.wait(0.3)  # the second waits for this transaction
    thread.join(10)
    with unit_of_work(app.engine) as session:
        final = session.get(Ticket, ticket_id)
        assert final is not None
        return final


@pytest.fixture
def postgres_app(tmp_path: Path, postgres_url: str) -> Iterator[App]:
    """PostgreSQL only: SQLite lets one writer begin at a time, so two never overlap."""
    _truncate_all(postgres_url)
    application = desk_app(tmp_path, postgres_url)
    yield application
    application.engine.dispose()


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ({"status": TicketStatus.CLOSED}, {"status": TicketStatus.RESOLVED}, {}),
        (
            {"assignee": "bob@example.com"},
            {"assignee": "erin@example.com"},
            {"erin@example.com": 1},
        ),
        ({"status": TicketStatus.CLOSED}, {"assignee": "erin@example.com"}, {}),
    ],
)
def test_two_processes_changing_one_ticket_at_once_count_it_once(
    postgres_app: App, first: dict[str, Any], second: dict[str, Any], expected: dict[str, int]
) -> None:
    app = postgres_app
    with unit_of_work(app.engine) as session:
        ticket = new_ticket(session)
        ids = {email: agent_id(session, email) for email in EMAILS}
        alice = session.get(Agent, ids["alice@example.com"])
        assert alice is not None
        assign_agent(session, desk=app.desk, ticket=ticket, agent=alice, actor=ACTOR, now=START)
    assert ticket.id is not None

    def fields(wanted: dict[str, Any]) -> dict[str, Any]:
        if "assignee" in wanted:
            return {"assignee_id": ids[wanted["assignee"]]}
        return wanted

    race(app, ticket.id, fields(first), fields(second))

    stored = assert_loads_agree(app.engine)
    assert {email: n for email, n in stored.items() if n} == expected
