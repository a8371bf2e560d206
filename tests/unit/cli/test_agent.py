"""`maildesk agent list|add|set|remove`: agents beside the config file, and their own address."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import col, select

from maildesk.addresses import agent_role, parse_signed, verify
from maildesk.cli import agent, ticket
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.models import Event, Ticket
from tests.mails import mail
from tests.unit.cli.conftest import SECRET, Shell


def agents(shell: Shell) -> dict[str, dict[str, Any]]:
    result = shell.run(agent, "agent", "list", "--json")
    assert result.exit_code == 0, result.output
    return {row["email"]: row for row in json.loads(result.stdout)}


def test_each_agents_compose_address_is_signed_for_them_with_ref_zero(shell: Shell) -> None:
    listed = agents(shell)

    assert sorted(listed) == ["alice@example.com", "bob@example.com"]
    for email, row in listed.items():
        signed = parse_signed(row["compose_address"])
        assert signed is not None and signed.ref == "TKT-0"
        assert verify(signed, secrets_=(SECRET,), role=agent_role(email))
        assert not verify(signed, secrets_=(SECRET,), role="customer")


def test_the_table_shows_the_signed_address_its_help_promises(shell: Shell) -> None:
    helped = shell.run(agent, "agent", "list", "--help").stdout
    table = shell.run(agent, "agent", "list").stdout

    assert "signed address" in helped
    for row in agents(shell).values():
        assert row["compose_address"] in table


def test_each_agent_is_listed_with_the_calendar_of_their_working_hours(shell: Shell) -> None:
    text = shell.config.read_text().replace('name = "Bob"\n', 'name = "Bob"\ncalendar = "24x7"\n')
    shell.config.write_text(text)

    listed = agents(shell)

    assert (listed["alice@example.com"]["calendar"], listed["bob@example.com"]["calendar"]) == (
        None,
        "24x7",
    )


def test_an_added_agent_can_be_changed_and_removed(shell: Shell) -> None:
    added = shell.run(agent, "agent", "add", "Dora@Example.com", "--name", "Dora", "--level", "2")
    changed = shell.run(agent, "agent", "set", "dora@example.com", "--queue", "billing", "--away")

    assert (added.stdout, changed.stdout) == (
        "added agent dora@example.com\n",
        "updated agent dora@example.com\n",
    )
    dora = agents(shell)["dora@example.com"]
    assert (dora["name"], dora["level"], dora["queues"], dora["away"]) == (
        "Dora",
        2,
        ["billing"],
        True,
    )

    removed = shell.run(agent, "agent", "remove", "dora@example.com")

    assert removed.stdout == "removed agent dora@example.com\n"
    assert agents(shell)["dora@example.com"]["active"] is False


def test_a_configured_agent_is_changed_in_the_config_but_may_go_away(shell: Shell) -> None:
    refused = shell.run(agent, "agent", "set", "bob@example.com", "--level", "3")
    away = shell.run(agent, "agent", "set", "bob@example.com", "--away")

    assert isinstance(refused.exception, InvalidInput)
    assert "is configured in the config file ([[agents]]); change it there" in str(
        refused.exception
    )
    assert away.exit_code == 0
    assert (
        agents(shell)["bob@example.com"]["level"],
        agents(shell)["bob@example.com"]["away"],
    ) == (
        1,
        True,
    )
    assert isinstance(
        shell.run(agent, "agent", "remove", "BOB@example.com").exception, InvalidInput
    )


def assign_events(shell: Shell) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """Each ticket's assign events: actor, source, data."""
    app = shell.app()
    with unit_of_work(app.engine) as session:
        rows = session.exec(
            select(Ticket.ref, Event)
            .join(Event, col(Event.ticket_id) == col(Ticket.id))
            .where(Event.type == "assign")
            .order_by(col(Event.id))
        ).all()
        found: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        for ref, event in rows:
            found.setdefault(ref or "", []).append((event.actor, event.source, event.data))
    app.engine.dispose()
    return found


def test_removing_an_agent_unassigns_each_of_their_tickets_with_an_event(shell: Shell) -> None:
    added = shell.run(agent, "agent", "add", "dana@example.com", "--queue", "general")
    assert added.exit_code == 0, added.output
    refs = [
        shell.receives(mail(message_id=f"m{n}@acme.test", subject=f"Fire {n}")).ticket or ""
        for n in (1, 2)
    ]
    for ref in refs:
        done = shell.run(ticket, "ticket", "do", ref, "#assign me", "--as", "dana@example.com")
        assert done.exit_code == 0, done.output

    removed = shell.run(agent, "agent", "remove", "dana@example.com")

    assert removed.exit_code == 0, removed.output
    dana = ("dana@example.com", "cli", {"to": "dana@example.com"})
    unassigned = ("maildesk", "cli", {"to": None})
    assert assign_events(shell) == {ref: [dana, unassigned] for ref in refs}
