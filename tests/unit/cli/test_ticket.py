"""`maildesk ticket list|show|search|do`: tickets as operators and scripts see them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from maildesk.cli import ticket
from maildesk.errors import InvalidInput
from tests.mails import mail
from tests.unit.cli.conftest import Shell


@pytest.fixture
def refs(shell: Shell) -> list[str]:
    """TKT-1 Carol's printer (general), TKT-2 Dan's invoice (billing)."""
    first = shell.receives(mail(message_id="m1@acme.test"))
    second = shell.receives(
        mail(sender="dan@acme.test", to="billing@example.com", subject="Invoice", body="Wrong sum")
    )
    return [first.ticket or "", second.ticket or ""]


def listed(shell: Shell, *options: str) -> list[str]:
    result = shell.run(ticket, "ticket", "list", "--json", *options)
    assert result.exit_code == 0, result.output
    return [row["ref"] for row in json.loads(result.stdout)]


def shown(shell: Shell, ref: str) -> dict[str, Any]:
    return json.loads(shell.run(ticket, "ticket", "show", ref, "--json").stdout)


def test_list_is_newest_first_and_filters_by_status_queue_and_assignee(
    shell: Shell, refs: list[str]
) -> None:
    shell.run(
        ticket, "ticket", "do", "TKT-2", "#assign bob", "#pending", "--as", "alice@example.com"
    )

    assert listed(shell) == ["TKT-2", "TKT-1"]
    assert listed(shell, "--status", "new") == ["TKT-1"]
    assert listed(shell, "--queue", "billing") == ["TKT-2"]
    assert listed(shell, "--assignee", "bob@example.com") == ["TKT-2"]
    assert listed(shell, "--assignee", "none") == ["TKT-1"]


def test_show_prints_the_facts_each_message_and_the_audit_trail(
    shell: Shell, refs: list[str]
) -> None:
    result = shell.run(ticket, "ticket", "show", "TKT-1")

    lines = result.stdout.splitlines()
    assert lines[0] == "TKT-1  Printer on fire"
    assert "  status: new" in lines and "  requester: carol@acme.test" in lines
    lifecycle = lines[lines.index("  lifecycle:") + 1 :]
    assert "    reopened: 0" in lifecycle and "    close_reason: -" in lifecycle
    assert "│ Help, it burns." in lines  # the customer's public message, behind a solid bar
    assert any(": created subject=Printer on fire" in line for line in lines)


def test_show_reads_as_a_conversation_notes_apart_and_changes_where_they_happened(
    shell: Shell, refs: list[str]
) -> None:
    for lines, text in ((["#note"], "Toner ordered."), (["#priority high"], "On my way.")):
        done = shell.run(
            ticket, "ticket", "do", "TKT-1", *lines, "--as", "bob@example.com", "--message", text
        )
        assert done.exit_code == 0, done.output

    shown = shell.run(ticket, "ticket", "show", "TKT-1").stdout.splitlines()
    history = shown[shown.index("  lifecycle:") :]
    order = [
        next(i for i, line in enumerate(history) if marker in line)
        for marker in (
            "(customer, in)",
            "│ Help, it burns.",
            "(INTERNAL NOTE)",
            "┆ Toner ordered.",
            ": priority from=normal to=high",
            "(agent, out)",
            "│ On my way.",
        )
    ]
    assert order == sorted(order)


def test_search_finds_tickets_by_the_words_of_their_messages(shell: Shell, refs: list[str]) -> None:
    result = shell.run(ticket, "ticket", "search", "wrong SUM", "--json")

    assert [row["ref"] for row in json.loads(result.stdout)] == ["TKT-2"]


def test_do_runs_the_commands_as_the_agent_and_relays_the_message(
    shell: Shell, refs: list[str]
) -> None:
    result = shell.run(
        ticket,
        "ticket",
        "do",
        "TKT-1",
        "priority high",
        "--as",
        "bob@example.com",
        "--message",
        "A technician is on the way.",
    )

    assert (result.exit_code, result.stdout) == (
        0,
        "TKT-1: 1 command(s) applied, message relayed\n",
    )
    detail = shown(shell, "TKT-1")
    assert (detail["priority"], detail["messages"][-1]["text"]) == (
        "high",
        "A technician is on the way.",
    )


def test_do_with_a_bad_line_names_it_and_changes_nothing(shell: Shell, refs: list[str]) -> None:
    result = shell.run(
        ticket,
        "ticket",
        "do",
        "TKT-1",
        "#priority high",
        "#queue nowhere",
        "--as",
        "bob@example.com",
    )

    assert result.exit_code == 1
    assert result.stderr == "maildesk: #queue nowhere: no such queue: 'nowhere'\n"
    assert shown(shell, "TKT-1")["priority"] == "normal"


def test_an_unknown_status_is_a_user_error(shell: Shell) -> None:
    result = shell.run(ticket, "ticket", "list", "--status", "done")

    assert isinstance(result.exception, InvalidInput)
    assert str(result.exception).startswith("unknown status 'done'")


def test_show_and_list_carry_service_type_category_and_level(shell: Shell, refs: list[str]) -> None:
    shell.config.write_text(
        shell.config.read_text()
        + '\n[[services]]\nname = "invoices"\nqueue = "billing"\ntype = "request"\n'
    )
    fresh = shown(shell, "TKT-1")

    done = shell.run(
        ticket, "ticket", "do", "TKT-1", "#service invoices", "--as", "alice@example.com"
    )

    assert done.exit_code == 0, done.output
    assert {k: fresh[k] for k in ("service", "type", "category", "level")} == {
        "service": None,
        "type": "incident",
        "category": "standard",
        "level": 1,
    }
    after = shown(shell, "TKT-1")
    assert (after["service"], after["type"], after["queue"]) == ("invoices", "request", "billing")
    [row] = [
        r
        for r in json.loads(shell.run(ticket, "ticket", "list", "--json").stdout)
        if r["ref"] == "TKT-1"
    ]
    assert (row["service"], row["type"], row["category"], row["level"]) == (
        "invoices",
        "request",
        "standard",
        1,
    )
    plain = shell.run(ticket, "ticket", "show", "TKT-1").stdout.splitlines()
    assert "  service: invoices" in plain and "  type: request" in plain


def test_show_gives_the_customers_rating_in_text_and_json(shell: Shell, refs: list[str]) -> None:
    unrated = shown(shell, "TKT-1")["rating"]
    shell.run(ticket, "ticket", "do", "TKT-1", "#resolve", "--as", "alice@example.com")

    rated = shell.receives(
        mail(subject="Re: [TKT-1] Printer on fire", body="4. Quick, but\nthe toner is low.")
    )

    assert unrated is None and rated.outcome == "appended"
    rating = shown(shell, "TKT-1")["rating"]
    assert (rating["score"], rating["comment"]) == (4, "Quick, but\nthe toner is low.")
    assert rating["at"].endswith("Z")
    plain = shell.run(ticket, "ticket", "show", "TKT-1").stdout.splitlines()
    assert f"  rating: 4/5 at {rating['at']}: Quick, but / the toner is low." in plain
    assert "  rating: none" in shell.run(ticket, "ticket", "show", "TKT-2").stdout.splitlines()
