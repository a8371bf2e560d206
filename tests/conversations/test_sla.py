"""Conversations against the clock: the desk warns before a target slips, reports the breach to
the assignee and the supervisors, and escalates; a pending ticket's clock stands still.

Time is driven by the test's clock and one tick at a time, as `maildesk tick --at` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from maildesk.app import open_app
from maildesk.daemon.tick import tick
from maildesk.timing.clock import FixedClock
from tests.conftest import START, Desk, make_settings
from tests.conversations.helpers import (
    agent_replies,
    body_of,
    customer_writes,
    one_to,
    reply_to_of,
    to_of,
)
from tests.mails import mail

AGENTS: list[dict[str, Any]] = [
    {"email": "alice@example.com", "name": "Alice", "role": "supervisor", "level": 3},
    {"email": "bob@example.com", "name": "Bob", "queues": ["general"]},
    {"email": "dana@example.com", "name": "Dana", "queues": ["general"], "level": 2},
]
QUEUES = [{"name": "general", "addresses": ["support@example.com"], "assignment": "least-loaded"}]
CALENDARS = [
    {
        "name": "office",
        "timezone": "UTC",
        "holidays": ["2026-11-26"],  # a Thursday
        "hours": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    }
]
CATEGORIES = [{"name": "premium", "domains": ["bigcorp.example"]}]
RULES = [
    {
        "name": "premium outage",
        "when": {"category": "premium", "subject_regex": "down"},
        "then": {"priority": "urgent"},
    }
]
SLA = [
    {
        "name": "standard",
        "calendar": "office",
        "first_response": "2h",
        "resolution": "16h",
        "next_reply": "4h",
    },
    {"name": "urgent", "match": {"priority": "urgent"}, "first_response": "30m"},
    {
        "name": "premium-urgent",
        "match": {"category": "premium", "priority": ["high", "urgent"]},
        "first_response": "1h",
        "resolution": "4h",
        "escalate_on_breach": True,
    },
]
CUSTOMER = "Pat <pat@bigcorp.example>"
MONDAY = START  # 2026-11-23 09:00 UTC


@pytest.fixture
def desk(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    settings = make_settings(
        tmp_path,
        database_url,
        queues=QUEUES,
        agents=AGENTS,
        calendars=CALENDARS,
        categories=CATEGORIES,
        rules=RULES,
        sla=SLA,
    )
    clock = FixedClock(START)
    app = open_app(settings, clock=clock)
    yield Desk(app, clock)
    app.engine.dispose()


def tick_at(desk: Desk, moment: datetime) -> list[EmailMessage]:
    """It is `moment`: one tick runs, and what it sent arrives."""
    desk.clock.advance(moment - desk.clock.now())
    tick(desk.app)
    return desk.sent()


def at(hours: int, minutes: int = 0, day: datetime = MONDAY) -> datetime:
    return day + timedelta(hours=hours, minutes=minutes)


def subjects(sent: list[EmailMessage]) -> list[tuple[str, str]]:
    """(to, what) of each mail: its subject without the ticket tag, up to the colon."""
    return sorted((to_of(m)[0], str(m["Subject"]).split("] ")[-1].split(":")[0]) for m in sent)


def test_warning_then_breach_with_a_pending_pause_between_escalates_and_reassigns(
    desk: Desk,
) -> None:
    ref, _ = customer_writes(desk, sender=CUSTOMER, subject="Mail server down")
    assert desk.ticket(ref)["sla"]["policy"] == "premium-urgent"
    assert desk.ticket(ref)["sla"]["first_response_due"] == "2026-11-23T10:00:00Z"

    assert tick_at(desk, at(0, 47)) == []  # 47 minutes: the warning is due at 48 (80% of 1h)
    [warning] = tick_at(desk, at(0, 48))
    assert to_of(warning) == ["bob@example.com"]
    assert "first response" in body_of(warning) and "12 minutes left" in body_of(warning)
    assert tick_at(desk, at(0, 49)) == []  # each warning once

    desk.clock.advance(timedelta(minutes=1))  # 09:50: Bob answers from the warning mail
    agent_replies(desk, warning, "#pending\nWhich mailbox is it?", sender="Bob <bob@example.com>")
    assert desk.ticket(ref)["status"] == "pending"
    assert desk.ticket(ref)["sla"]["paused"] is True
    desk.sent()

    assert tick_at(desk, at(3, 30)) == []  # the resolution warning (12:12) waits while pending
    desk.receives(mail(sender=CUSTOMER, subject=f"Re: [{ref}] Mail server down", body="Sales."))
    ticket = desk.ticket(ref)
    assert ticket["status"] == "open" and ticket["sla"]["paused"] is False
    # paused 09:50 to 12:30: the resolution due moves from 13:00 by 2h40m
    assert ticket["sla"]["resolution_due"] == "2026-11-23T15:40:00Z"
    desk.sent()

    [resolution_warning] = tick_at(desk, at(5, 52))  # 14:52: 15:40 less 48 minutes
    assert to_of(resolution_warning) == ["bob@example.com"]
    assert "resolution" in body_of(resolution_warning)

    breach = tick_at(desk, at(6, 40))
    assert subjects(breach) == [
        ("alice@example.com", "SLA breached"),
        ("bob@example.com", "Escalated to level 2"),
        ("bob@example.com", "SLA breached"),
        ("dana@example.com", "Escalated to level 2"),
    ]
    alice_breach = one_to(breach, "alice@example.com")
    assert "escalated to support level 2" in body_of(alice_breach)
    ticket = desk.ticket(ref)
    assert (ticket["level"], ticket["assignee"]) == (2, "dana@example.com")
    assert ticket["sla"]["breached"] == ["resolution"]
    assert tick_at(desk, at(7)) == []  # each breach once


def test_business_hours_give_no_warning_at_night_or_on_a_holiday(desk: Desk) -> None:
    wednesday_four_pm = MONDAY + timedelta(days=2, hours=7)
    desk.clock.advance(wednesday_four_pm - MONDAY)
    ref, _ = customer_writes(desk, subject="Printer jams")
    # 2h of office time: Wednesday 16-17, Thursday is a holiday, Friday 09-10
    assert desk.ticket(ref)["sla"]["first_response_due"] == "2026-11-27T10:00:00Z"

    friday = MONDAY + timedelta(days=4)
    for moment in (at(14, day=MONDAY + timedelta(days=2)), at(3, day=friday - timedelta(days=1))):
        assert tick_at(desk, moment) == []  # Wednesday night; the holiday
    assert tick_at(desk, at(0, 35, day=friday)) == []
    [warning] = tick_at(desk, at(0, 36, day=friday))  # 96 office minutes: Friday 09:36
    assert "first response" in body_of(warning) and "24 minutes left" in body_of(warning)


def test_the_first_response_is_met_by_a_public_reply_not_a_note_or_a_status_change(
    desk: Desk,
) -> None:
    ref, notices = customer_writes(desk, subject="Printer jams")
    bob = "Bob <bob@example.com>"
    agent_replies(desk, notices["bob@example.com"], "#note\nLooking into it.", sender=bob)
    agent_replies(desk, notices["bob@example.com"], "#priority high", sender=bob)
    ticket = desk.ticket(ref)
    assert "first-response" not in [e["type"] for e in ticket["events"]]
    assert ticket["sla"]["first_response_due"] is not None  # still running

    desk.clock.advance(timedelta(minutes=30))
    agent_replies(desk, notices["bob@example.com"], "Please try another tray.", sender=bob)
    events = [e["type"] for e in desk.ticket(ref)["events"]]
    assert events.count("first-response") == 1


def test_a_moved_deadline_allows_one_new_warning(desk: Desk) -> None:
    ref, notices = customer_writes(desk, subject="Printer jams")
    [first] = tick_at(desk, at(1, 36))  # 96 of 120 minutes
    assert "24 minutes left" in body_of(first)

    desk.clock.advance(timedelta(minutes=4))  # 10:40: waiting on the customer, no answer yet
    agent_replies(desk, notices["bob@example.com"], "#pending", sender="Bob <bob@example.com>")
    desk.clock.advance(timedelta(hours=1))  # 11:40: the customer writes; paused one hour
    desk.receives(mail(subject=f"Re: [{ref}] Printer jams", body="Still jammed."))
    assert desk.ticket(ref)["sla"]["first_response_due"] == "2026-11-23T12:00:00Z"
    desk.sent()

    [again] = tick_at(desk, at(2, 42))  # the new deadline's warning time has passed: it goes now
    assert "first response" in body_of(again) and "18 minutes left" in body_of(again)
    assert tick_at(desk, at(2, 50)) == []


def test_each_customer_reply_must_be_answered_within_the_next_reply_target(desk: Desk) -> None:
    ref, notices = customer_writes(desk, subject="Printer jams")
    desk.clock.advance(timedelta(minutes=30))
    bob = "Bob <bob@example.com>"
    agent_replies(desk, notices["bob@example.com"], "Try another tray.", sender=bob)
    desk.clock.advance(timedelta(minutes=30))  # 10:00
    desk.receives(mail(subject=f"Re: [{ref}] Printer jams", body="It still jams."))
    assert desk.ticket(ref)["sla"]["next_reply_due"] == "2026-11-23T14:00:00Z"
    news = desk.sent()

    [warning] = tick_at(desk, at(4, 12))  # 13:12: 80% of four hours
    assert "next reply" in body_of(warning)
    desk.clock.advance(timedelta(minutes=10))
    agent_replies(desk, one_to(news, "bob@example.com"), "Replace the roller.", sender=bob)
    assert desk.ticket(ref)["sla"]["next_reply_due"] is None
    desk.sent()
    assert tick_at(desk, at(5)) == []  # answered: no breach
    assert desk.ticket(ref)["sla"]["breached"] == []


def test_warning_and_breach_mails_can_be_acted_on_by_replying(desk: Desk) -> None:
    ref, _ = customer_writes(desk, subject="Printer jams")
    [warning] = tick_at(desk, at(1, 36))
    assert reply_to_of(warning).startswith("support+" + ref)
    agent_replies(desk, warning, "#snooze 2h", sender="Bob <bob@example.com>")
    assert desk.ticket(ref)["status"] == "pending"
    desk.sent()
    # 12:42: the snooze has ended, the clock runs again and the moved deadline (11:00 plus
    # the 126 minutes paused) has its own warning, due at once
    woken = tick_at(desk, at(3, 42))
    assert subjects(woken) == [
        ("bob@example.com", "SLA warning"),
        ("bob@example.com", "Snooze ended"),
    ]
    breach = tick_at(desk, at(4, 42))
    notice = one_to(breach, "alice@example.com")
    agent_replies(desk, notice, "#assign dana@example.com", sender="Alice <alice@example.com>")
    assert desk.ticket(ref)["assignee"] == "dana@example.com"
