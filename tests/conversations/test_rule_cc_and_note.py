"""A rule's `cc` and `note` actions end to end: who joins the ticket, and what stays internal."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest

from maildesk.app import open_app
from maildesk.timing.clock import FixedClock
from tests.conftest import Desk, make_settings
from tests.conversations.helpers import CAROL, agent_replies, body_of, customer_writes, mails_to

ONCALL = "oncall@acme.test"
NOTE = "premium customer"
RULES: list[dict[str, Any]] = [
    {
        "name": "premium",
        "when": {"subject_contains": "premium"},
        "then": {"cc": [ONCALL], "note": NOTE},
    },
]


@pytest.fixture
def desk(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Desk]:
    app = open_app(make_settings(tmp_path, database_url, rules=RULES), clock=clock)
    yield Desk(app, clock)
    app.engine.dispose()


def _recipients(message: EmailMessage) -> set[str]:
    fields = [str(message.get(h, "")) for h in ("To", "Cc")]
    return {a.lower() for _, a in getaddresses(fields) if a}


def _rule_events(ticket: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in ticket["events"] if e["type"] == "rule"]


def test_a_cc_rule_makes_the_address_a_participant_who_gets_the_agents_reply(desk: Desk) -> None:
    ref, got = customer_writes(desk, subject="premium: portal down")
    assert ONCALL in desk.ticket(ref)["participants"]
    assert CAROL in desk.ticket(ref)["participants"]
    outcome = agent_replies(desk, got["alice@example.com"], "We are on it.")
    assert (outcome.outcome, outcome.ticket) == ("appended", ref)
    relayed = [m for m in desk.sent() if CAROL in _recipients(m)]
    assert len(relayed) == 1
    assert _recipients(relayed[0]) >= {CAROL, ONCALL}
    assert "We are on it." in body_of(relayed[0])


def test_a_note_rule_adds_an_internal_system_message_the_customer_never_sees(desk: Desk) -> None:
    ref, got = customer_writes(desk, subject="premium: invoices missing")
    notes = [m for m in desk.ticket(ref)["messages"] if m["text"] == NOTE]
    assert len(notes) == 1
    assert (notes[0]["visibility"], notes[0]["role"]) == ("internal", "system")
    assert notes[0]["subject"] == "Rule premium"
    ack = got[CAROL]
    assert NOTE not in body_of(ack)
    agent_replies(desk, got["alice@example.com"], "Looking into it.")
    to_customer = mails_to(desk.sent(), CAROL)
    assert len(to_customer) == 1
    assert NOTE not in body_of(to_customer[0])
    assert NOTE not in str(to_customer[0]["Subject"])


def test_the_rule_event_names_the_rule_and_the_cc_and_note_it_set(desk: Desk) -> None:
    ref, _ = customer_writes(desk, subject="premium plan question")
    ticket = desk.ticket(ref)
    events = _rule_events(ticket)
    assert len(events) == 1
    assert events[0]["actor"] == "rule:premium"
    assert events[0]["data"] == {"rule": "premium", "set": {"cc": [ONCALL], "notes": [NOTE]}}


def test_a_mail_the_rule_does_not_match_gets_neither_cc_nor_note(desk: Desk) -> None:
    ref, _ = customer_writes(desk, subject="ordinary question")
    ticket = desk.ticket(ref)
    assert ONCALL not in ticket["participants"]
    assert all(m["text"] != NOTE for m in ticket["messages"])
    assert _rule_events(ticket) == []
