"""`#service` and `#type`: a service brings its queue and its type; later lines override."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from maildesk.agent.apply import apply_actions
from maildesk.agent.lines import BadLine
from maildesk.agent.registry import COMMANDS
from maildesk.agent.specs.catalogue import SPECS
from maildesk.config import Settings
from maildesk.models import Event, TicketType
from maildesk.services.tickets import Actor
from tests.conftest import START, make_settings
from tests.unit.agent.conftest import Planner

SERVICES = [
    {"name": "email", "queue": "general"},
    {"name": "Invoices", "queue": "billing", "type": "request", "priority": "high"},
]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, services=SERVICES)


def run(planner: Planner, text: str, *, by: str = "alice@example.com") -> list[BadLine]:
    """Plan the lines and, if all are good, apply them as the agent would by mail."""
    actions, errors = planner.plan(text, by=by)
    if not errors:
        apply_actions(
            planner.session,
            desk=planner.app.desk,
            ticket=planner.ticket,
            agent=planner.agent(by),
            actions=actions,
            actor=Actor(by, "mail:1"),
            now=START,
            text="",
        )
    return errors


def changes(planner: Planner) -> list[tuple[str, dict[str, object]]]:
    planner.session.flush()
    rows = planner.session.exec(
        select(Event)
        .where(Event.ticket_id == planner.ticket.id, col(Event.type).not_in(["created", "command"]))
        .order_by(col(Event.id))
    )
    return [(e.type, e.data) for e in rows]


def test_a_service_moves_the_ticket_to_its_queue_and_gives_it_its_type(planner: Planner) -> None:
    assert run(planner, "#service invoices") == []  # any case

    ticket = planner.ticket
    assert (ticket.service, ticket.queue, ticket.type) == ("Invoices", "billing", "request")
    assert ticket.priority == "normal"  # an existing ticket keeps the priority it has
    assert changes(planner) == [
        ("service", {"from": None, "to": "Invoices"}),
        ("queue", {"from": "general", "to": "billing"}),
        ("type", {"from": "incident", "to": "request"}),
    ]


def test_lines_after_service_override_what_it_brought(planner: Planner) -> None:
    assert run(planner, "#service Invoices\n#type incident\n#queue general") == []

    ticket = planner.ticket
    assert (ticket.service, ticket.queue, ticket.type) == ("Invoices", "general", "incident")


def test_a_service_already_in_its_queue_changes_only_the_service(planner: Planner) -> None:
    assert run(planner, "#service email") == []

    assert changes(planner) == [("service", {"from": None, "to": "email"})]


def test_type_sets_the_ticket_type(planner: Planner) -> None:
    assert run(planner, "#type Request", by="bob@example.com") == []

    assert planner.ticket.type is TicketType.REQUEST
    assert changes(planner) == [("type", {"from": "incident", "to": "request"})]


def test_an_unknown_service_or_type_is_a_bad_line_naming_it_and_nothing_changes(
    planner: Planner,
) -> None:
    errors = run(planner, "#service fax\n#type question\n#priority high")

    assert errors == [
        BadLine("#type question", "unknown ticket type (use incident, request): 'question'"),
        BadLine("#service fax", "no such service: 'fax' (services: email, Invoices)"),
    ]
    assert changes(planner) == []


def test_service_and_type_may_be_given_once_per_message(planner: Planner) -> None:
    errors = run(planner, "#service email\n#service invoices")

    assert errors == [BadLine("#service invoices", "#service may be given once per message")]


def test_service_and_type_are_registered_commands_once_per_message() -> None:
    assert [COMMANDS[spec.name] for spec in SPECS] == list(SPECS)
    assert [(spec.name, spec.once) for spec in SPECS] == [("service", True), ("type", True)]
