"""A snoozed ticket whose time has come is open again, and its agents hear of it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from maildesk.db import unit_of_work
from maildesk.models import Event, OutboxItem, Ticket
from maildesk.services.snoozes import wake_snoozed
from maildesk.services.tickets import get_ticket
from maildesk.timed.jobs import wake_snoozes
from tests.conftest import START, Desk
from tests.mails import mail

UNTIL = START + timedelta(hours=2)


@pytest.fixture
def ref(desk: Desk) -> str:
    """Carol's ticket, snoozed by an agent until two hours after it came in."""
    ref = desk.receives(mail()).ticket or ""
    with unit_of_work(desk.app.engine) as session:
        ticket = get_ticket(session, ref=ref)
        ticket.status, ticket.snoozed_until = "pending", UNTIL
    return ref


def wake(desk: Desk, now: datetime) -> int:
    """The snooze job at `now`: reopen what is due (`wake_snoozed`), tell its agents."""
    desk.clock.advance(now - desk.clock.now())
    return wake_snoozes(desk.app)


def wakeups(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(select(OutboxItem).order_by(col(OutboxItem.id)))
    return [r.spec for r in rows if r.spec and r.spec["template"] == "snooze_wakeup"]


def test_a_snoozed_ticket_sleeps_until_its_time(desk: Desk, ref: str) -> None:
    assert wake(desk, UNTIL - timedelta(seconds=1)) == 0

    with unit_of_work(desk.app.engine) as session:
        ticket = get_ticket(session, ref=ref)
        assert (ticket.status, ticket.snoozed_until) == ("pending", UNTIL)
        assert wakeups(session) == []


def test_at_its_time_the_ticket_is_open_and_the_queues_agents_are_told(
    desk: Desk, ref: str
) -> None:
    assert wake(desk, UNTIL) == 1

    with unit_of_work(desk.app.engine) as session:
        ticket = get_ticket(session, ref=ref)
        assert (ticket.status, ticket.snoozed_until) == ("open", None)
        [event] = session.exec(select(Event).where(Event.type == "snooze-ended")).all()
        assert (event.actor, event.data) == ("maildesk", {"from": "pending", "to": "open"})
        notices = wakeups(session)
    assert sorted(n["recipients"][0][0] for n in notices) == [
        "alice@example.com",
        "bob@example.com",
    ]
    assert {n["context"]["snoozed_until"] for n in notices} == {"2026-11-23 11:00 UTC"}
    assert {n["ticket_ref"] for n in notices} == {ref}


def test_a_woken_ticket_is_not_woken_twice(desk: Desk, ref: str) -> None:
    wake(desk, UNTIL)

    assert wake(desk, UNTIL + timedelta(days=1)) == 0
    with unit_of_work(desk.app.engine) as session:
        assert len(wakeups(session)) == 2


def test_a_ticket_no_longer_pending_is_left_alone(desk: Desk, ref: str) -> None:
    with unit_of_work(desk.app.engine) as session:
        get_ticket(session, ref=ref).status = "resolved"

    assert wake(desk, UNTIL) == 0
    with unit_of_work(desk.app.engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert ticket.status == "resolved"


def test_the_service_reopens_what_is_due_and_says_when_each_snooze_ended(
    desk: Desk, ref: str
) -> None:
    with unit_of_work(desk.app.engine) as session:
        woken = wake_snoozed(session, desk=desk.app.desk, now=UNTIL + timedelta(minutes=5))

        assert [(ticket.ref, ticket.status, until) for ticket, until in woken] == [
            (ref, "open", UNTIL)
        ]
