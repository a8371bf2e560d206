"""`maildesk agent …`: what removing an agent does to the tickets they had."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from maildesk.cli import agent, ticket
from maildesk.db import unit_of_work
from maildesk.models import Event, Ticket
from tests.mails import mail
from tests.unit.cli.conftest import Shell


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
