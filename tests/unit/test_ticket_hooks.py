"""The hooks of `maildesk.ticket_hooks`: run by every ticket change, with the fields it changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from maildesk import ticket_hooks
from maildesk.agent.apply import apply_actions
from maildesk.agent.parser import parse_commands
from maildesk.agent.plan import plan_commands
from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.models import Ticket
from maildesk.services import ticket_change
from maildesk.services.contacts import find_agent, get_or_create_contact
from maildesk.services.tickets import Actor, create_ticket
from maildesk.ticket_hooks import ChangeHook
from maildesk.ticket_hooks.clock import follow_clock
from maildesk.timing.sla import SlaBook
from tests.conftest import START

LATER = START + timedelta(hours=1)
BOB = Actor("bob@example.com", "mail:1")
Names, At = frozenset[str], datetime
Heard = tuple[int | None, frozenset[str], str, datetime | None, datetime]


class Ear:
    """A hook that remembers what it heard, and the ticket as the hook saw it."""

    def __init__(self) -> None:
        self.heard: list[Heard] = []

    def __call__(
        self,
        session: Session,
        book: SlaBook,
        ticket: Ticket,
        changed: frozenset[str],
        now: datetime,
    ) -> None:
        self.heard.append((ticket.id, changed, str(ticket.status), ticket.resolved_at, now))


@pytest.fixture
def session(app: App) -> Iterator[Session]:
    with unit_of_work(app.engine) as session:
        yield session


@pytest.fixture
def ticket(session: Session) -> Ticket:
    carol = get_or_create_contact(
        session, email="carol@acme.test", name="", free_mail=(), now=START
    )
    return create_ticket(
        session,
        prefix="TKT",
        requester=carol,
        subject="Printer on fire",
        queue="general",
        actor=Actor("carol@acme.test", "mail:1"),
        now=START,
    )


def hooked(monkeypatch: pytest.MonkeyPatch, *hooks: ChangeHook) -> None:
    """These hooks after the declared ones, where `change` reads the table."""
    monkeypatch.setattr(ticket_change, "HOOKS", (*ticket_hooks.HOOKS, *hooks))


def test_change_runs_the_declared_table() -> None:
    assert ticket_change.HOOKS is ticket_hooks.HOOKS
    assert all(callable(hook) for hook in ticket_hooks.HOOKS)
    assert follow_clock in ticket_hooks.HOOKS  # the SLA clock follows every change


def test_a_hook_sees_the_ticket_once_changed_with_the_derived_fields_named(
    app: App, session: Session, ticket: Ticket, monkeypatch: pytest.MonkeyPatch
) -> None:
    ear = Ear()
    hooked(monkeypatch, ear)

    ticket_change.change(
        session, desk=app.desk, ticket=ticket, actor=BOB, now=LATER, status="resolved"
    )

    assert ear.heard == [
        (ticket.id, frozenset({"status", "resolved_at"}), "resolved", LATER, LATER)
    ]


def test_every_hook_runs_in_order_and_none_when_nothing_changed(
    app: App, session: Session, ticket: Ticket, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []

    def first(session: Session, book: SlaBook, ticket: Ticket, changed: Names, now: At) -> None:
        order.append("first")

    def second(session: Session, book: SlaBook, ticket: Ticket, changed: Names, now: At) -> None:
        order.append("second")

    hooked(monkeypatch, first, second)

    ticket_change.change(
        session, desk=app.desk, ticket=ticket, actor=BOB, now=LATER, priority="normal"
    )
    assert order == []
    ticket_change.change(
        session, desk=app.desk, ticket=ticket, actor=BOB, now=LATER, priority="high"
    )
    assert order == ["first", "second"]


def test_what_a_hook_writes_is_part_of_the_change(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    def deadline(session: Session, book: SlaBook, ticket: Ticket, changed: Names, now: At) -> None:
        if "priority" in changed:
            ticket.resolution_due = now + timedelta(hours=4)
            session.add(ticket)

    hooked(monkeypatch, deadline)
    with unit_of_work(app.engine) as session:
        carol = get_or_create_contact(
            session, email="carol@acme.test", name="", free_mail=(), now=START
        )
        made = create_ticket(
            session,
            prefix="TKT",
            requester=carol,
            subject="Printer on fire",
            queue="general",
            actor=BOB,
            now=START,
        )
        ticket_change.change(
            session, desk=app.desk, ticket=made, actor=BOB, now=LATER, priority="urgent"
        )

    with unit_of_work(app.engine) as session:
        stored = session.get(Ticket, made.id)
        assert stored is not None
        assert stored.resolution_due == LATER + timedelta(hours=4)


def test_agent_commands_reach_the_hooks_too(
    app: App, session: Session, ticket: Ticket, monkeypatch: pytest.MonkeyPatch
) -> None:
    ear = Ear()
    hooked(monkeypatch, ear)
    bob = find_agent(session, email="bob@example.com")
    assert bob is not None
    parsed = parse_commands("#priority high\n#close", START)
    actions, errors = plan_commands(
        session, desk=app.desk, ticket=ticket, agent=bob, parsed=parsed, now=LATER
    )
    assert errors == []

    apply_actions(
        session,
        desk=app.desk,
        ticket=ticket,
        agent=bob,
        actions=actions,
        actor=BOB,
        now=LATER,
        text="",
    )

    assert [changed for _, changed, *_ in ear.heard] == [
        {"priority"},
        {"status", "closed_at"},  # the snooze it ends was none: unchanged, unnamed
    ]
