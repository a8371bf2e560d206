"""Conversations about a ticket's life: how it was closed (#reason, #kb), the desk closing what
the customer left waiting, a pending customer reminded once, and what `ticket show` tells.

The clock is the desk's FixedClock; `tick` runs the timed jobs as the daemon does each minute.
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
from maildesk.db import unit_of_work
from maildesk.services.tickets import get_ticket
from maildesk.timing.clock import FixedClock, iso
from tests.conftest import Desk, make_settings
from tests.conversations.helpers import (
    CAROL,
    agent_replies,
    body_of,
    customer_writes,
    mails_to,
    one_to,
    reply_to_of,
)
from tests.mails import mail

WAIT = timedelta(hours=72)  # [ratings] wait, the default
REMIND, CLOSE = timedelta(days=5), timedelta(days=10)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def patient_desk(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Desk]:
    """A desk that reminds a pending customer after 5 days and closes after 10."""
    lifecycle = {"pending_reminder": "5d", "pending_close": "10d"}
    settings = make_settings(tmp_path, database_url, lifecycle=lifecycle)
    app = open_app(settings, clock=clock)
    yield Desk(app, clock)
    app.engine.dispose()


def events_of(ticket: dict[str, Any], type: str) -> list[dict[str, Any]]:
    return [e for e in ticket["events"] if e["type"] == type]


def later(desk: Desk, delta: timedelta) -> list[EmailMessage]:
    """Time passes, the timed jobs run; what the desk sent meanwhile."""
    desk.clock.advance(delta)
    tick(desk.app)
    return desk.sent()


def customer_answers(desk: Desk, told: EmailMessage, body: str) -> str | None:
    """Carol replies to a mail the desk sent her, to its Reply-To; returns the outcome."""
    outcome = desk.receives(
        mail(
            to=reply_to_of(told),
            subject=f"Re: {told['Subject']}",
            in_reply_to=str(told["Message-ID"]).strip("<>"),
            body=body,
        )
    )
    return outcome.outcome


def asked_for_details(desk: Desk) -> tuple[str, EmailMessage]:
    """Carol writes; Alice answers with a question and sets the ticket pending."""
    ref, notices = customer_writes(desk)
    agent_replies(
        desk, notices["alice@example.com"], "#pending\n\nWhich printer model is it, Carol?"
    )
    return ref, one_to(desk.sent(), CAROL)


# --- how a ticket was closed -------------------------------------------------------------------


def test_an_agent_resolves_with_a_reason_and_an_article_and_show_tells_it(desk: Desk) -> None:
    ref, notices = customer_writes(desk)
    desk.clock.advance(timedelta(minutes=30))

    agent_replies(
        desk,
        notices["alice@example.com"],
        "#time 45m\n#resolve toner cartridge replaced\n#kb KB-1042\n\nThe new toner is in.",
    )

    told = one_to(desk.sent(), CAROL)
    assert body_of(told).startswith("The new toner is in.")
    assert "toner cartridge replaced" not in body_of(told)  # commands never reach the customer
    ticket = desk.ticket(ref)
    now = desk.clock.now()
    assert ticket["status"] == "resolved"
    assert ticket["lifecycle"] == {
        "first_response_at": iso(now),
        "resolved_at": iso(now),
        "closed_at": None,
        "reopened": 0,
        "first_response_minutes": 30,
        "resolution_minutes": 30,
        "time_spent_minutes": 45,
        "next_contact_at": iso(now + WAIT),  # the close, if nobody rates it
        "close_reason": "toner cartridge replaced",
        "kb": "KB-1042",
    }
    assert [e["data"] for e in events_of(ticket, "reason")] == [
        {"reason": "toner cartridge replaced"}
    ]
    assert [e["data"] for e in events_of(ticket, "command")] == [
        {"line": "#time 45m"},
        {"line": "#resolve toner cartridge replaced"},
        {"line": "#kb KB-1042"},
    ]


def test_reason_and_kb_on_lines_of_their_own_after_close(desk: Desk) -> None:
    ref, notices = customer_writes(desk)

    agent_replies(
        desk,
        notices["bob@example.com"],
        "#close\n#reason duplicate of TKT-7\n#kb KB-7",
        sender="Bob <bob@example.com>",
    )

    lifecycle = desk.ticket(ref)["lifecycle"]
    assert (lifecycle["close_reason"], lifecycle["kb"]) == ("duplicate of TKT-7", "KB-7")
    assert lifecycle["closed_at"] == iso(desk.clock.now())
    assert lifecycle["next_contact_at"] is None
    assert str(one_to(desk.sent(), CAROL)["Subject"]) == f"[{ref}] Closed: Printer on fire"


@pytest.mark.parametrize("bad_line", ["#reason", "#kb   "])
def test_a_reason_or_kb_without_text_changes_nothing_and_the_agent_hears_why(
    desk: Desk, bad_line: str
) -> None:
    ref, notices = customer_writes(desk)

    outcome = agent_replies(
        desk, notices["alice@example.com"], f"#resolve\n{bad_line}\n\nAll done, Carol."
    )

    assert outcome.outcome == "rejected"
    sent = desk.sent()
    assert mails_to(sent, CAROL) == []
    error = body_of(one_to(sent, "alice@example.com"))
    assert bad_line.strip() in error and "needs an argument" in error
    ticket = desk.ticket(ref)
    assert (ticket["status"], ticket["lifecycle"]["close_reason"]) == ("new", None)


# --- resolved, and nobody rates it -------------------------------------------------------------


def test_a_resolved_ticket_nobody_rated_closes_after_the_wait_and_the_customer_is_told(
    desk: Desk,
) -> None:
    ref, notices = customer_writes(desk)
    agent_replies(desk, notices["alice@example.com"], "#resolve\n\nThe printer works again.")
    resolved_at = desk.clock.now()
    desk.sent()

    assert later(desk, WAIT - MINUTE) == []
    assert desk.ticket(ref)["status"] == "resolved"

    told = one_to(later(desk, MINUTE), CAROL)

    assert str(told["Subject"]) == f"[{ref}] Closed: Printer on fire"
    text = " ".join(body_of(told).split())
    assert f'we resolved your request {ref} ("Printer on fire") 3 days ago' in text
    assert "reply to this mail and we will pick it up again" in text
    assert told["Auto-Submitted"] == "auto-replied"
    assert reply_to_of(told).startswith(f"support+{ref}.")  # the customer's signed address
    ticket = desk.ticket(ref)
    assert ticket["status"] == "closed"
    [closed] = events_of(ticket, "auto-close")
    assert (closed["actor"], closed["data"]) == ("maildesk", {"from": "resolved", "to": "closed"})
    assert ticket["lifecycle"]["resolved_at"] == iso(resolved_at)
    assert ticket["lifecycle"]["closed_at"] == iso(desk.clock.now())
    assert ticket["lifecycle"]["next_contact_at"] is None
    assert later(desk, timedelta(days=1)) == []  # once


def test_a_reply_to_the_closing_mail_reopens_the_ticket(desk: Desk) -> None:
    ref, notices = customer_writes(desk)
    agent_replies(desk, notices["alice@example.com"], "#resolve\n\nThe printer works again.")
    desk.sent()
    told = one_to(later(desk, WAIT), CAROL)

    assert customer_answers(desk, told, "It is burning again, sorry!") == "reopened"

    ticket = desk.ticket(ref)
    assert ticket["status"] == "open"
    assert ticket["lifecycle"]["reopened"] == 1
    assert ticket["lifecycle"]["closed_at"] is None


def test_a_rated_resolved_ticket_is_not_closed_by_the_wait(desk: Desk) -> None:
    ref, notices = customer_writes(desk)
    agent_replies(desk, notices["alice@example.com"], "#resolve\n\nThe printer works again.")
    desk.sent()
    with unit_of_work(desk.app.engine) as session:  # as a rating would: no field change of ours
        get_ticket(session, ref=ref).rating = 5

    assert later(desk, WAIT + timedelta(days=1)) == []

    ticket = desk.ticket(ref)
    assert ticket["status"] == "resolved"
    assert ticket["lifecycle"]["next_contact_at"] is None


# --- pending: waiting for the customer's answer ------------------------------------------------


def test_a_pending_customer_is_reminded_once_and_told_when_it_will_close(
    patient_desk: Desk,
) -> None:
    desk = patient_desk
    ref, _question = asked_for_details(desk)
    asked_at = desk.clock.now()
    assert desk.ticket(ref)["lifecycle"]["next_contact_at"] == iso(asked_at + REMIND)

    assert later(desk, REMIND - MINUTE) == []
    reminder = one_to(later(desk, MINUTE), CAROL)

    assert str(reminder["Subject"]) == f"[{ref}] Waiting for your answer: Printer on fire"
    text = " ".join(body_of(reminder).split())
    assert f'we are waiting for your answer about your request {ref} ("Printer on fire")' in text
    assert "we asked you 5 days ago" in text
    assert "we will close the request in 5 days" in text
    assert reminder["In-Reply-To"] is not None  # in the ticket's thread
    assert reply_to_of(reminder).startswith(f"support+{ref}.")
    assert desk.ticket(ref)["status"] == "pending"
    assert desk.ticket(ref)["lifecycle"]["next_contact_at"] == iso(asked_at + CLOSE)
    assert later(desk, MINUTE) == [] and later(desk, timedelta(days=1)) == []  # one reminder


def test_a_pending_ticket_nobody_answered_closes_and_the_customer_is_told(
    patient_desk: Desk,
) -> None:
    desk = patient_desk
    ref, _question = asked_for_details(desk)
    one_to(later(desk, REMIND), CAROL)

    assert later(desk, CLOSE - REMIND - MINUTE) == []
    told = one_to(later(desk, MINUTE), CAROL)

    assert str(told["Subject"]) == f"[{ref}] Closed: Printer on fire"
    text = " ".join(body_of(told).split())
    assert "have been waiting for your answer for 10 days, so we have closed it now" in text
    ticket = desk.ticket(ref)
    assert ticket["status"] == "closed"
    [closed] = events_of(ticket, "pending-close")
    assert (closed["actor"], closed["data"]) == ("maildesk", {"from": "pending", "to": "closed"})
    assert later(desk, timedelta(days=1)) == []


def test_when_reminder_and_close_are_both_due_only_the_close_is_sent(patient_desk: Desk) -> None:
    desk = patient_desk  # no tick ran for ten days
    ref, _question = asked_for_details(desk)

    told = one_to(later(desk, CLOSE), CAROL)

    assert "Closed:" in str(told["Subject"])
    assert desk.ticket(ref)["status"] == "closed"


def test_a_snoozed_ticket_gets_no_reminder_and_is_not_closed(patient_desk: Desk) -> None:
    desk = patient_desk
    ref, notices = customer_writes(desk)
    agent_replies(desk, notices["alice@example.com"], "#snooze 7d\n\nWe will look again next week.")
    desk.sent()
    until = desk.clock.now() + timedelta(days=7)
    assert desk.ticket(ref)["lifecycle"]["next_contact_at"] == iso(until)

    assert mails_to(later(desk, timedelta(days=6)), CAROL) == []
    woken = later(desk, timedelta(days=1))

    assert mails_to(woken, CAROL) == [] and mails_to(woken, "alice@example.com")
    assert desk.ticket(ref)["status"] == "open"
    assert mails_to(later(desk, CLOSE), CAROL) == []
    assert desk.ticket(ref)["lifecycle"]["next_contact_at"] is None


def test_a_ticket_that_went_pending_again_gets_a_new_reminder(patient_desk: Desk) -> None:
    desk = patient_desk
    ref, _question = asked_for_details(desk)
    first = one_to(later(desk, REMIND), CAROL)
    assert customer_answers(desk, first, "It is the LaserJet 4000.") == "reopened"
    notices = {m["To"].addresses[0].addr_spec: m for m in desk.sent()}
    agent_replies(desk, notices["alice@example.com"], "#pending\n\nAnd its serial number?")
    desk.sent()

    assert later(desk, REMIND - MINUTE) == []
    second = one_to(later(desk, MINUTE), CAROL)

    assert "Waiting for your answer" in str(second["Subject"])
    assert desk.ticket(ref)["status"] == "pending"
    assert later(desk, timedelta(days=1)) == []


def test_without_lifecycle_settings_a_pending_ticket_waits(desk: Desk) -> None:
    ref, _question = asked_for_details(desk)

    assert later(desk, timedelta(days=60)) == []
    ticket = desk.ticket(ref)
    assert ticket["status"] == "pending" and ticket["lifecycle"]["next_contact_at"] is None


# --- the lifecycle after a reopen --------------------------------------------------------------


def test_after_a_reopen_the_lifecycle_counts_it_and_the_last_resolution(desk: Desk) -> None:
    ref, notices = customer_writes(desk)
    created: datetime = desk.clock.now()
    notice = notices["alice@example.com"]
    desk.clock.advance(timedelta(minutes=30))
    agent_replies(desk, notice, "#time 20m\n\nPlease switch it off and on again.")
    desk.sent()
    desk.clock.advance(timedelta(hours=1))
    agent_replies(desk, notice, "#resolve switched off and on\n\nIt works again.")
    told = one_to(desk.sent(), CAROL)
    assert desk.ticket(ref)["lifecycle"]["resolution_minutes"] == 90

    desk.clock.advance(timedelta(days=1))
    assert customer_answers(desk, told, "It is burning again.") == "reopened"
    reopened = desk.ticket(ref)["lifecycle"]
    assert (reopened["reopened"], reopened["resolved_at"]) == (1, None)
    assert reopened["next_contact_at"] is None  # in work again

    desk.clock.advance(timedelta(hours=2))
    agent_replies(desk, notice, "#time 1h\n#resolve fuser replaced\n\nThe new fuser is in.")

    lifecycle = desk.ticket(ref)["lifecycle"]
    assert lifecycle == {
        "first_response_at": iso(created + timedelta(minutes=30)),
        "resolved_at": iso(desk.clock.now()),
        "closed_at": None,
        "reopened": 1,
        "first_response_minutes": 30,
        "resolution_minutes": 90 + 120,  # the day it waited resolved does not count
        "time_spent_minutes": 80,
        "next_contact_at": iso(desk.clock.now() + WAIT),
        "close_reason": "fuser replaced",
        "kb": None,
    }
