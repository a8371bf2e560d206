"""`maildesk inbox list|show|requeue|discard`: an operator reviews held and failed mail."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import update

from maildesk.cli import inbox
from maildesk.daemon.tick import tick
from maildesk.db import unit_of_work
from maildesk.models import InboxItem
from maildesk.pipeline.runner import process_one
from tests.integration.test_cli import assert_one_line_error, maildesk
from tests.mails import mail, sample
from tests.unit.cli.conftest import Shell

ITEM_KEYS = {
    "id",
    "state",
    "outcome",
    "reason",
    "message_id",
    "transport",
    "size",
    "received_at",
    "processed_at",
}
TWO_FROM = sample("two_from_headers.eml")


def items(shell: Shell, *options: str) -> list[dict[str, Any]]:
    result = shell.run(inbox, "inbox", "list", "--json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def show(shell: Shell, item_id: int) -> dict[str, Any]:
    result = shell.run(inbox, "inbox", "show", str(item_id))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def fail(shell: Shell, item_id: int) -> None:
    """Mark an item failed, as the runner does when a stage raises."""
    app = shell.app()
    with unit_of_work(app.engine) as session:
        failed = {"state": "failed", "error": "Traceback …\nKeyError: 'x'", "reason": "crash"}
        session.execute(update(InboxItem).where(InboxItem.id == item_id).values(**failed))
    app.engine.dispose()


@pytest.fixture
def held(shell: Shell) -> int:
    """A mail with two From headers, held by thread-match: inbox item 1."""
    outcome = shell.receives(TWO_FROM)
    assert outcome.outcome == "held"
    return outcome.item_id


# --- list, show, requeue -----------------------------------------------------------------------


def test_list_shows_held_and_failed_items_with_the_stable_keys(shell: Shell, held: int) -> None:
    processed = shell.receives(mail()).item_id
    fail(shell, shell.accepts(mail(message_id="m2@acme.test")).item_id)

    listed = items(shell)

    assert [(i["id"], i["state"]) for i in listed] == [(held, "held"), (processed + 1, "failed")]
    assert all(set(i) == ITEM_KEYS for i in listed)
    assert [i["id"] for i in items(shell, "--state", "processed")] == [processed]


def test_show_gives_the_reason_and_the_traceback_and_raw_gives_the_mail(shell: Shell) -> None:
    item_id = shell.accepts(mail(subject="Kaputt")).item_id
    fail(shell, item_id)

    shown = show(shell, item_id)
    raw = shell.run(inbox, "inbox", "show", str(item_id), "--raw")

    assert (shown["state"], shown["reason"]) == ("failed", "crash")
    assert shown["error"].endswith("KeyError: 'x'")
    assert "Subject: Kaputt" in raw.stdout


def test_requeue_processes_a_failed_item_again(shell: Shell) -> None:
    item_id = shell.accepts(mail()).item_id
    fail(shell, item_id)

    result = shell.run(inbox, "inbox", "requeue", str(item_id))

    assert (result.exit_code, result.stdout) == (0, f"inbox item {item_id}: created TKT-1\n")
    assert items(shell) == []


# --- discard -----------------------------------------------------------------------------------


def test_discard_drops_a_held_item_with_the_operators_reason_and_keeps_it(
    shell: Shell, held: int
) -> None:
    result = shell.run(inbox, "inbox", "discard", str(held), "--reason", "spam, two senders")

    assert (result.exit_code, result.stdout) == (0, f"inbox item {held}: dropped\n")
    shown = show(shell, held)
    assert (shown["state"], shown["outcome"], shown["reason"]) == (
        "dropped",
        "dropped",
        "spam, two senders",
    )
    assert shown["processed_at"] is not None
    assert items(shell) == []  # nothing left to review
    assert [i["id"] for i in items(shell, "--state", "dropped")] == [held]


def test_discard_gives_up_on_a_failed_item_and_keeps_its_traceback(shell: Shell) -> None:
    item_id = shell.accepts(mail()).item_id
    fail(shell, item_id)

    assert shell.run(inbox, "inbox", "discard", str(item_id)).exit_code == 0

    shown = show(shell, item_id)
    assert (shown["state"], shown["reason"]) == ("dropped", "discarded by operator")
    assert shown["error"].endswith("KeyError: 'x'")  # what went wrong stays on record


def test_a_discarded_item_is_never_processed_again(shell: Shell, held: int) -> None:
    shell.run(inbox, "inbox", "discard", str(held))
    app = shell.app()

    assert process_one(app.engine, app.desk, item_id=held) is None
    assert tick(app).counts["inbox"] == 0
    app.engine.dispose()
    again = shell.accepts(TWO_FROM)  # the MTA delivers the same mail again
    assert (again.item_id, again.duplicate) == (held, True)

    requeued = maildesk("--config", shell.config, "inbox", "requeue", str(held))

    assert assert_one_line_error(requeued) == (
        f"maildesk: inbox item {held} is dropped; only held or failed items requeue"
    )
    assert show(shell, held)["state"] == "dropped"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("processed", "inbox item 1 is processed; only held or failed items discard"),
        ("unknown", "no inbox item 99"),
    ],
)
def test_discarding_a_processed_or_unknown_item_is_one_line_and_exit_1(
    shell: Shell, target: str, message: str
) -> None:
    shell.receives(mail())
    item_id = 1 if target == "processed" else 99

    run = maildesk("--config", shell.config, "inbox", "discard", str(item_id))

    assert assert_one_line_error(run) == f"maildesk: {message}"
    assert run.out == ""


def test_discarding_twice_is_refused_and_keeps_the_first_reason(shell: Shell, held: int) -> None:
    shell.run(inbox, "inbox", "discard", str(held), "--reason", "first")

    run = maildesk("--config", shell.config, "inbox", "discard", str(held), "--reason", "second")

    assert assert_one_line_error(run).endswith("is dropped; only held or failed items discard")
    assert show(shell, held)["reason"] == "first"
