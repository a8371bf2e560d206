"""`ticket list --breached|--due-before` and `ticket show`'s `sla`, driven by `tick --at`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from maildesk.cli import run_cmd, ticket
from tests.mails import mail
from tests.unit.cli.conftest import Shell

POLICY = """
[[sla]]
name = "all"
first_response = "1h"
resolution = "4h"
"""


@pytest.fixture
def sla_shell(shell: Shell) -> Shell:
    shell.config.write_text(shell.config.read_text() + POLICY)
    return shell


def listed(shell: Shell, *options: str) -> list[str]:
    result = shell.run(ticket, "ticket", "list", "--json", *options)
    assert result.exit_code == 0, result.output
    return [row["ref"] for row in json.loads(result.stdout)]


def sla_of(shell: Shell, ref: str) -> dict[str, Any]:
    result = shell.run(ticket, "ticket", "show", ref, "--json")
    sla: dict[str, Any] = json.loads(result.stdout)["sla"]
    return sla


def iso(moment: datetime) -> str:
    return moment.isoformat()


def test_a_ticket_due_soon_is_listed_and_after_its_breach_it_is_breached(
    sla_shell: Shell,
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    ref = sla_shell.receives(mail()).ticket or ""
    answered = sla_shell.receives(mail(sender="dan@acme.test", message_id="m2@acme.test")).ticket
    done = sla_shell.run(
        ticket,
        "ticket",
        "do",
        answered or "",
        "#tag seen",
        "--as",
        "bob@example.com",
        "--message",
        "On it.",
    )
    assert done.exit_code == 0, done.output
    sla = sla_of(sla_shell, ref)
    assert sla["policy"] == "all" and sla["breached"] == [] and sla["paused"] is False
    due = datetime.fromisoformat(sla["first_response_due"])
    assert before + timedelta(hours=1) <= due

    assert listed(sla_shell, "--due-before", iso(due + timedelta(minutes=1))) == [ref]
    four_hours = due + timedelta(hours=3, minutes=1)  # both resolutions are due by then
    assert listed(sla_shell, "--due-before", iso(four_hours)) == [answered, ref]
    assert listed(sla_shell, "--due-before", iso(before + timedelta(minutes=30))) == []
    assert listed(sla_shell, "--breached") == []

    result = sla_shell.run(run_cmd, "tick", "--at", iso(due + timedelta(minutes=1)))
    assert "sla: 1" in result.stdout  # one breach: the answered ticket met its first response

    assert listed(sla_shell, "--breached") == [ref]
    assert sla_of(sla_shell, ref)["breached"] == ["first_response"]


def test_a_bad_time_for_due_before_is_one_clear_line(sla_shell: Shell) -> None:
    result = sla_shell.run(ticket, "ticket", "list", "--due-before", "tomorrow")
    assert result.exit_code != 0
    assert "--due-before: not an ISO 8601 time: 'tomorrow'" in str(result.exception)
