"""A premium customer reports an outage: rules route it, the least-loaded agent has it, and it
is escalated to level 2 and reassigned there.

Rules sort the mail into the right service and level, type it as an incident and raise its
priority; the queue's least-loaded agent at that level is assigned and is the only agent
told; an escalation then moves it up a level, to that level's agent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from maildesk.app import open_app
from maildesk.db import unit_of_work
from maildesk.models import Agent, Contact, Ticket, TicketStatus
from maildesk.timing.clock import FixedClock
from tests.conftest import START, Desk, make_settings
from tests.conversations.helpers import agent_replies, body_of, customer_writes, to_of

QUEUES = [
    {"name": "general", "addresses": ["support@example.com"], "assignment": "least-loaded"},
    {"name": "sysadmins", "addresses": ["ops@example.com"], "assignment": "least-loaded"},
]
AGENTS: list[dict[str, Any]] = [
    {"email": "alice@example.com", "name": "Alice", "role": "supervisor", "level": 3},
    {"email": "bob@example.com", "name": "Bob", "queues": ["general"]},
    {"email": "erin@example.com", "name": "Erin", "queues": ["sysadmins"]},
    {"email": "gus@example.com", "name": "Gus", "queues": ["sysadmins"]},
    {"email": "dana@example.com", "name": "Dana", "queues": ["sysadmins"], "level": 2},
]
SERVICES = [
    {"name": "email", "queue": "sysadmins", "type": "incident", "priority": "high"},
    {"name": "printing", "queue": "general", "type": "request"},
]
CATEGORIES = [{"name": "premium", "domains": ["bigcorp.example"]}]
RULES = [
    {
        "name": "premium outage",
        "when": {"category": "premium", "subject_regex": {"regex": "outage|down"}},
        "then": {
            "service": "email",
            "queue": "sysadmins",
            "type": "incident",
            "priority": "urgent",
            "tags": ["outage"],
        },
    },
    {"name": "never", "when": {"subject_contains": "invoice"}, "then": {"queue": "general"}},
]


@pytest.fixture
def desk(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    settings = make_settings(
        tmp_path,
        database_url,
        queues=QUEUES,
        agents=AGENTS,
        services=SERVICES,
        categories=CATEGORIES,
        rules=RULES,
    )
    clock = FixedClock(START)
    app = open_app(settings, clock=clock)
    with unit_of_work(app.engine) as session:  # Erin already has an open ticket
        erin = session.exec(select(Agent).where(Agent.email == "erin@example.com")).one()
        dave = Contact(email="dave@acme.test", created_at=START)
        session.add(dave)
        session.flush()
        assert dave.id is not None
        session.add(
            Ticket(
                requester_id=dave.id,
                assignee_id=erin.id,
                queue="sysadmins",
                status=TicketStatus.OPEN,
                created_at=START,
                updated_at=START,
            )
        )
    yield Desk(app, clock)
    app.engine.dispose()


def test_a_premium_outage_is_routed_typed_prioritised_assigned_then_escalated(
    desk: Desk,
) -> None:
    ref, notices = customer_writes(
        desk,
        sender="Pat Premium <pat@bigcorp.example>",
        subject="Mail server down since 9:00",
        body="Nobody here can send mail.",
    )

    shown = desk.ticket(ref)
    assert (shown["service"], shown["type"], shown["queue"]) == ("email", "incident", "sysadmins")
    assert (shown["priority"], shown["category"], shown["level"]) == ("urgent", "premium", 1)
    assert shown["tags"] == ["outage"] and shown["assignee"] == "gus@example.com"
    assert sorted(notices) == ["gus@example.com", "pat@bigcorp.example"]  # Gus alone, and the ack
    assert "It is assigned to you." in body_of(notices["gus@example.com"])
    hits = [e["data"]["rule"] for e in shown["events"] if e["type"] == "rule"]
    assert hits == ["premium outage"]

    agent_replies(
        desk,
        notices["gus@example.com"],
        "#escalate\n\nNeeds the mail cluster people.",
        sender="Gus <gus@example.com>",
    )

    shown = desk.ticket(ref)
    assert (shown["level"], shown["assignee"]) == (2, "dana@example.com")
    sent = [m for m in desk.sent() if "Escalated" in str(m["Subject"])]
    assert [to_of(m) for m in sent] == [["dana@example.com"]]  # Gus escalated: he is spared
    assert "Needs the mail cluster people." in body_of(sent[0])


def test_a_standard_customers_outage_mail_is_not_touched_by_the_premium_rule(desk: Desk) -> None:
    ref, notices = customer_writes(desk, subject="Mail server down")

    shown = desk.ticket(ref)
    assert (shown["service"], shown["queue"], shown["priority"]) == (None, "general", "normal")
    assert (shown["category"], shown["assignee"]) == ("standard", "bob@example.com")
    assert sorted(notices) == ["bob@example.com", "carol@acme.test"]
