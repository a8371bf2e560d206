"""What the rules read about a customer's reply: the ticket's tags as they stand, and the
reply's own words without the history it quotes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maildesk.app import open_app
from maildesk.pipeline.rule_facts import decision_json
from maildesk.rules.decision import Decision
from maildesk.timing.clock import FixedClock
from tests.conftest import Desk, make_settings
from tests.conversations.helpers import CAROL, customer_writes
from tests.mails import mail

RULES: list[dict[str, Any]] = [
    {"name": "invoices", "when": {"subject_contains": "invoice"}, "then": {"tags": ["money"]}},
    {
        "name": "money reply",
        "on": ["follow-up"],
        "when": {"tags": "money"},
        "then": {"priority": "urgent"},
    },
    {
        "name": "refund asked",
        "on": ["follow-up"],
        "when": {"body_contains": "refund"},
        "then": {"tags": ["refund"]},
    },
]


@pytest.fixture
def desk(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Desk]:
    app = open_app(make_settings(tmp_path, database_url, rules=RULES), clock=clock)
    yield Desk(app, clock)
    app.engine.dispose()


def reply(desk: Desk, ref: str, body: str) -> dict[str, Any]:
    outcome = desk.receives(mail(sender=CAROL, subject=f"Re: [{ref}] Wrong invoice", body=body))
    assert outcome.outcome == "appended" and outcome.ticket == ref
    return desk.ticket(ref)


def hits(ticket: dict[str, Any]) -> list[list[str]]:
    return [e["data"]["decision"]["hits"] for e in ticket["events"] if e["type"] == "rules"]


def test_a_reply_rule_sees_the_tags_an_earlier_mail_gave_the_ticket(desk: Desk) -> None:
    ref, _ = customer_writes(desk, subject="Wrong invoice", message_id="i1@acme.test")

    ticket = reply(desk, ref, "Any news?")

    assert ticket["priority"] == "urgent"
    assert hits(ticket) == [["invoices"], ["money reply"]]


def test_a_body_rule_reads_the_reply_not_the_history_it_quotes(desk: Desk) -> None:
    ref, _ = customer_writes(desk, subject="Wrong invoice", message_id="i1@acme.test")
    quoting = "Any news?\n\nOn Monday Carol wrote:\n> I want a refund.\n"

    assert "refund" not in reply(desk, ref, quoting)["tags"]
    assert "refund" in reply(desk, ref, "So: a refund, please.")["tags"]


def test_a_decision_as_recorded_names_every_field_with_lists_for_tuples() -> None:
    decision = Decision(queue="billing", tags=("a", "b"), level=2, acknowledge=False, hits=("x",))

    recorded = decision_json(decision)

    assert list(recorded) == list(Decision.__dataclass_fields__)
    assert recorded["queue"] == "billing" and recorded["level"] == 2
    assert recorded["tags"] == ["a", "b"] and recorded["hits"] == ["x"] and recorded["cc"] == []
    assert recorded["acknowledge"] is False and recorded["hold"] is None
