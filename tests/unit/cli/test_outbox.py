"""`maildesk outbox list|show|retry`: outbound mail and its delivery state."""

from __future__ import annotations

import json
from typing import Any

from maildesk.cli import outbox
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput, NotFound
from maildesk.models import OutboxItem
from maildesk.outbound.outbox import mark_failed
from tests.mails import mail
from tests.unit.cli.conftest import Shell

KEYS = {
    "id",
    "ticket",
    "kind",
    "state",
    "recipients",
    "message_id",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "sent_at",
}


def listed(shell: Shell, *options: str) -> list[dict[str, Any]]:
    result = shell.run(outbox, "outbox", "list", "--json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_shows_each_mail_oldest_first_with_its_ticket_and_the_stable_keys(
    shell: Shell,
) -> None:
    shell.receives(mail())

    rows = listed(shell)

    assert [(r["kind"], r["recipients"], r["ticket"]) for r in rows] == [
        ("ack", ["carol@acme.test"], "TKT-1"),
        ("notify", ["alice@example.com"], "TKT-1"),
        ("notify", ["bob@example.com"], "TKT-1"),
    ]
    assert all(set(r) == KEYS and r["state"] == "queued" for r in rows)
    assert listed(shell, "--status", "sent") == []


def test_show_raw_composes_a_queued_draft_into_the_mail_it_will_be(shell: Shell) -> None:
    shell.receives(mail())
    [ack] = [r for r in listed(shell) if r["kind"] == "ack"]

    result = shell.run(outbox, "outbox", "show", str(ack["id"]), "--raw")

    assert result.exit_code == 0, result.output
    assert f"Message-ID: <{ack['message_id']}>" in result.stdout
    assert "Subject: Re: [TKT-1] Printer on fire" in result.stdout
    assert json.loads(shell.run(outbox, "outbox", "show", str(ack["id"])).stdout) == ack


def test_retry_queues_a_failed_mail_again(shell: Shell) -> None:
    shell.receives(mail())
    app = shell.app()
    with unit_of_work(app.engine) as session:
        item = session.get(OutboxItem, 1)
        assert item is not None
        mark_failed(item, error="550 5.1.1 no such user", attempt=True)
        session.add(item)
    app.engine.dispose()
    assert [r["last_error"] for r in listed(shell, "--status", "failed")] == [
        "550 5.1.1 no such user"
    ]

    result = shell.run(outbox, "outbox", "retry", "1")

    assert (result.exit_code, result.stdout) == (0, "outbox item 1: queued\n")
    assert [r["id"] for r in listed(shell, "--status", "queued")] == [1, 2, 3]


def test_the_table_lists_mail_in_the_order_its_help_promises(shell: Shell) -> None:
    shell.receives(mail())

    helped = shell.run(outbox, "outbox", "list", "--help").stdout
    table = shell.run(outbox, "outbox", "list").stdout

    assert "oldest first" in helped
    cells = [line.split("│")[1].strip() for line in table.splitlines() if line.startswith("│")]
    assert [cell for cell in cells if cell.isdigit()] == ["1", "2", "3"]


def test_an_unknown_status_or_item_is_a_user_error(shell: Shell) -> None:
    bad_status = shell.run(outbox, "outbox", "list", "--status", "lost")
    unknown = shell.run(outbox, "outbox", "show", "42")

    assert isinstance(bad_status.exception, InvalidInput)
    assert "unknown outbox status 'lost' (use queued, sent, failed)" in str(bad_status.exception)
    assert isinstance(unknown.exception, NotFound) and str(unknown.exception) == "no outbox item 42"
