"""The one way a ticket changes: each changed field is audited, derived times follow, hooks run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.desk import Desk as DeskObject
from maildesk.models import Event, Priority, Ticket, TicketStatus, TicketType
from maildesk.services import ticket_change
from maildesk.services.contacts import find_agent, get_or_create_contact
from maildesk.services.ticket_change import change
from maildesk.services.tickets import Actor, create_ticket
from maildesk.timing.sla import SlaBook
from tests.conftest import START

LATER = START + timedelta(hours=1)
ALICE = Actor("alice@example.com", "mail:7")


@dataclass
class Scene:
    session: Session
    desk: DeskObject
    ticket: Ticket

    def change(self, **fields: object) -> frozenset[str]:
        return change(
            self.session, desk=self.desk, ticket=self.ticket, actor=ALICE, now=LATER, **fields
        )

    def events(self) -> list[tuple[str, dict[str, object], str, str]]:
        rows = self.session.exec(
            select(Event)
            .where(Event.ticket_id == self.ticket.id, Event.type != "created")
            .order_by(col(Event.id))
        )
        return [(e.type, e.data, e.actor, e.source) for e in rows]


@pytest.fixture
def scene(app: App) -> Iterator[Scene]:
    with unit_of_work(app.engine) as session:
        carol = get_or_create_contact(
            session, email="carol@acme.test", name="", free_mail=(), now=START
        )
        ticket = create_ticket(
            session,
            prefix="TKT",
            requester=carol,
            subject="Printer on fire",
            queue="general",
            actor=Actor("carol@acme.test", "mail:1"),
            now=START,
        )
        yield Scene(session, app.desk, ticket)


def test_each_changed_field_is_one_event_with_the_actor_and_its_source(scene: Scene) -> None:
    bob = find_agent(scene.session, email="bob@example.com")
    assert bob is not None

    changed = scene.change(priority="high", queue="billing", assignee_id=bob.id, level=2)

    assert changed == {"priority", "queue", "assignee_id", "level"}
    assert scene.events() == [
        ("priority", {"from": "normal", "to": "high"}, ALICE.name, ALICE.source),
        ("queue", {"from": "general", "to": "billing"}, ALICE.name, ALICE.source),
        ("assign", {"to": "bob@example.com"}, ALICE.name, ALICE.source),
        ("escalate", {"level": 2}, ALICE.name, ALICE.source),
    ]
    assert (scene.ticket.priority, scene.ticket.updated_at) == (Priority.HIGH, LATER)


def test_a_field_set_to_what_it_is_changes_nothing_and_records_nothing(scene: Scene) -> None:
    assert scene.change(priority="normal", queue="general", assignee_id=None) == frozenset()
    assert scene.events() == []
    assert scene.ticket.updated_at == START


def test_resolving_and_closing_stamp_their_moment_and_reopening_clears_both(scene: Scene) -> None:
    assert scene.change(status="resolved") == {"status", "resolved_at"}
    assert (scene.ticket.resolved_at, scene.ticket.closed_at) == (LATER, None)

    scene.change(status=TicketStatus.CLOSED)
    assert (scene.ticket.resolved_at, scene.ticket.closed_at) == (LATER, LATER)

    change(
        scene.session,
        desk=scene.desk,
        ticket=scene.ticket,
        actor=ALICE,
        now=LATER,
        status_event="reopen",
        status="open",
    )

    assert (scene.ticket.resolved_at, scene.ticket.closed_at) == (None, None)
    assert [(type, data) for type, data, *_ in scene.events()] == [
        ("status", {"from": "new", "to": "resolved"}),
        ("status", {"from": "resolved", "to": "closed"}),
        ("reopen", {"from": "closed", "to": "open"}),
    ]


def test_a_snooze_and_a_merge_are_recorded_by_what_they_point_at(scene: Scene) -> None:
    until = datetime(2026, 11, 24, 9, 0, tzinfo=START.tzinfo)
    dave = get_or_create_contact(
        scene.session, email="dave@acme.test", name="", free_mail=(), now=START
    )
    other = create_ticket(
        scene.session,
        prefix="TKT",
        requester=dave,
        subject="Also",
        queue="general",
        actor=ALICE,
        now=START,
    )

    scene.change(snoozed_until=until, merged_into_id=other.id)
    scene.change(snoozed_until=None)

    assert [(type, data) for type, data, *_ in scene.events()] == [
        ("snooze", {"until": until.isoformat()}),
        ("merged", {"into": other.ref}),
        ("snooze", {"until": None}),
    ]


def test_every_hook_hears_which_fields_changed_and_when(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    heard: list[tuple[int | None, frozenset[str], datetime]] = []

    def hook(
        session: Session, book: SlaBook, ticket: Ticket, changed: frozenset[str], now: datetime
    ) -> None:
        heard.append((ticket.id, changed, now))

    monkeypatch.setattr(ticket_change, "HOOKS", (hook,))

    scene.change(priority="urgent", status="pending")
    scene.change(priority="urgent")  # nothing changed: no hook

    assert heard == [(scene.ticket.id, frozenset({"priority", "status"}), LATER)]


def test_a_field_that_is_not_for_changing_is_refused(scene: Scene) -> None:
    with pytest.raises(TypeError, match="cannot set ref, subject"):
        scene.change(subject="New", ref="TKT-9")
    assert scene.events() == []


def test_service_type_and_category_are_one_event_each(scene: Scene) -> None:
    assert (scene.ticket.service, scene.ticket.type, scene.ticket.category) == (
        None,
        TicketType.INCIDENT,
        "standard",
    )

    changed = scene.change(service="email", type="request", category="premium")

    assert changed == {"service", "type", "category"}
    assert scene.ticket.type is TicketType.REQUEST
    assert [(type, data) for type, data, *_ in scene.events()] == [
        ("service", {"from": None, "to": "email"}),
        ("type", {"from": "incident", "to": "request"}),
        ("category", {"from": "standard", "to": "premium"}),
    ]
