"""Conversations: a queue with a strategy assigns new tickets; an escalation reassigns a level up.

The least-loaded agent gets a customer's new ticket and is its only agent to hear of it; an
escalation moves it to the next level, where that level's agent gets it, and both the previous
and the new assignee read the escalation mail.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from maildesk.agent.do import do_commands
from maildesk.app import open_app
from maildesk.daemon.tick import tick
from maildesk.db import unit_of_work
from maildesk.models import Agent, Contact, Ticket, TicketStatus
from maildesk.timing.clock import FixedClock
from tests.conftest import START, Desk, make_settings
from tests.conversations.helpers import BOB, agent_replies, body_of, customer_writes, to_of
from tests.mails import mail
from tests.unit.test_agent_loads import assert_loads_agree

AGENTS: list[dict[str, Any]] = [
    {"email": "alice@example.com", "name": "Alice", "role": "supervisor", "level": 3},
    {"email": "bob@example.com", "name": "Bob", "queues": ["general"]},
    {"email": "erin@example.com", "name": "Erin", "queues": ["general"]},
    {"email": "dana@example.com", "name": "Dana", "queues": ["general"], "level": 2},
    {"email": "finn@example.com", "name": "Finn", "queues": ["billing"]},
]


@pytest.fixture
def desk(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    queues = [
        {"name": "general", "addresses": ["support@example.com"], "assignment": "least-loaded"},
        {"name": "billing", "addresses": ["billing@example.com"], "assignment": "round-robin"},
    ]
    settings = make_settings(tmp_path, database_url, queues=queues, agents=AGENTS)
    clock = FixedClock(START)
    app = open_app(settings, clock=clock)
    with unit_of_work(app.engine) as session:  # Erin is busy with a ticket already
        erin = session.exec(select(Agent).where(Agent.email == "erin@example.com")).one()
        dave = Contact(email="dave@acme.test", created_at=START)
        session.add(dave)
        session.flush()
        assert dave.id is not None
        session.add(
            Ticket(
                requester_id=dave.id,
                assignee_id=erin.id,
                status=TicketStatus.OPEN,
                created_at=START,
                updated_at=START,
            )
        )
    yield Desk(app, clock)
    app.engine.dispose()


def assignee_of(desk: Desk, ref: str) -> str | None:
    assignee = desk.ticket(ref)["assignee"]
    return str(assignee) if assignee else None


def test_the_least_loaded_agent_gets_a_new_ticket_and_alone_hears_of_it(desk: Desk) -> None:
    ref, notices = customer_writes(desk)

    assert assignee_of(desk, ref) == "bob@example.com"
    assert sorted(notices) == ["bob@example.com", "carol@acme.test"]  # the ack, and Bob's
    assert "It is assigned to you." in body_of(notices["bob@example.com"])


def test_the_escalation_assigns_the_next_level_and_tells_both_assignees(desk: Desk) -> None:
    ref, _ = customer_writes(desk)

    with unit_of_work(desk.app.engine) as session:
        done = do_commands(
            session,
            desk=desk.app.desk,
            ref=ref,
            agent_email="alice@example.com",
            lines=["#escalate"],
            text="Needs the contract.",
            now=START,
        )
        assert not done.errors

    shown = desk.ticket(ref)
    assert (shown["level"], assignee_of(desk, ref)) == (2, "dana@example.com")
    sent = {to_of(m)[0]: m for m in desk.sent() if "Escalated" in str(m["Subject"])}
    assert sorted(sent) == ["bob@example.com", "dana@example.com"]
    assert "It is assigned to you now." in body_of(sent["dana@example.com"])
    assert "It is assigned to Dana now." in body_of(sent["bob@example.com"])


def test_the_assignee_who_escalates_is_spared_and_the_new_level_has_it(desk: Desk) -> None:
    ref, notices = customer_writes(desk)

    agent_replies(desk, notices["bob@example.com"], "#escalate", sender=BOB)

    assert assignee_of(desk, ref) == "dana@example.com"
    assert [to_of(m) for m in desk.sent()] == [["dana@example.com"]]


def test_moving_a_ticket_to_another_queue_assigns_it_by_that_queues_strategy(desk: Desk) -> None:
    ref, notices = customer_writes(desk)

    agent_replies(desk, notices["bob@example.com"], "#queue billing", sender=BOB)

    assert assignee_of(desk, ref) == "finn@example.com"
    [notice] = desk.sent()
    assert to_of(notice) == ["finn@example.com"]
    assert "Bob assigned ticket" in body_of(notice) and "to you" in body_of(notice)


def in_work(desk: Desk) -> dict[str, int]:
    """Each agent's stored load, after checking it against a count of their tickets."""
    return {email: n for email, n in assert_loads_agree(desk.app.engine).items() if n}


def test_an_assignee_carries_a_ticket_while_it_is_in_work_by_mail_and_by_the_clock(
    desk: Desk,
) -> None:
    ref, notices = customer_writes(desk)
    assert in_work(desk) == {"bob@example.com": 1, "erin@example.com": 1}

    agent_replies(desk, notices["bob@example.com"], "#resolve\nFixed.", sender=BOB)
    assert in_work(desk) == {"erin@example.com": 1}

    desk.receives(mail(subject=f"Re: [{ref}] Printer on fire", body="It burns again."))
    assert desk.ticket(ref)["status"] == "open"
    assert in_work(desk) == {"bob@example.com": 1, "erin@example.com": 1}

    agent_replies(desk, notices["bob@example.com"], "#pending\nIs it out?", sender=BOB)
    assert in_work(desk) == {"bob@example.com": 1, "erin@example.com": 1}

    agent_replies(desk, notices["bob@example.com"], "#resolve", sender=BOB)
    desk.clock.advance(timedelta(days=4))  # the ratings wait is over: the clock closes it
    tick(desk.app)
    assert desk.ticket(ref)["status"] == "closed"
    assert in_work(desk) == {"erin@example.com": 1}
