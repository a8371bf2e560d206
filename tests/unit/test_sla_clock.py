"""The SLA clock on the ticket: its deadlines, its pauses, the business minutes a target took,
and the notice rows that make each timed notice happen once, also between two processes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from maildesk.app import App, open_app
from maildesk.db import unit_of_work
from maildesk.models import Ticket, TicketStatus
from maildesk.services.contacts import get_or_create_contact
from maildesk.services.notice_claims import claim_notice
from maildesk.services.sla import breached_targets
from maildesk.services.ticket_change import begin, change
from maildesk.services.tickets import Actor, create_ticket
from maildesk.timed.sla_sweep import sweep_sla, sweep_ticket
from maildesk.timing.clock import FixedClock
from tests.conftest import START, make_settings

SLA = [{"name": "all", "first_response": "1h", "resolution": "4h", "next_reply": "2h"}]
ALICE = Actor("alice@example.com", "cli")


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[App]:
    application = open_app(make_settings(tmp_path, database_url, sla=SLA), clock=FixedClock(START))
    yield application
    application.engine.dispose()


def new_ticket(session: Session, app: App) -> Ticket:
    carol = get_or_create_contact(
        session, email="carol@acme.test", name="", free_mail=(), now=START
    )
    ticket = create_ticket(
        session,
        prefix="TKT",
        requester=carol,
        subject="Jam",
        queue="general",
        actor=ALICE,
        now=START,
    )
    begin(session, desk=app.desk, ticket=ticket, now=START)
    return ticket


def test_a_new_ticket_gets_its_policy_deadlines_and_the_sweeps_first_moment(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = new_ticket(session, app)
        assert ticket.sla_policy == "all"
        assert ticket.first_response_due == START + timedelta(hours=1)
        assert ticket.resolution_due == START + timedelta(hours=4)
        assert ticket.next_reply_due is None  # no customer reply waits yet
        assert ticket.sla_next_at == START + timedelta(minutes=48)  # the first warning


def test_pauses_reopens_and_the_minutes_each_target_took(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = new_ticket(session, app)

        def to(status: TicketStatus, minutes: int, **more: object) -> None:
            now = START + timedelta(minutes=minutes)
            change(
                session, desk=app.desk, ticket=ticket, actor=ALICE, now=now, status=status, **more
            )

        to(TicketStatus.OPEN, 20, first_response_at=START + timedelta(minutes=20))
        to(TicketStatus.PENDING, 30)
        assert ticket.sla_next_at is None  # nothing runs while it waits on the customer
        to(TicketStatus.OPEN, 90)  # paused an hour
        assert (ticket.paused_minutes, ticket.resolution_due) == (60, START + timedelta(hours=5))
        to(TicketStatus.RESOLVED, 150)
        assert (ticket.first_response_minutes, ticket.resolution_minutes) == (20, 90)
        to(TicketStatus.OPEN, 200)  # the customer was not happy: reopened
        to(TicketStatus.RESOLVED, 230)
        assert ticket.reopened == 1
        assert ticket.paused_minutes == 110 and ticket.resolution_minutes == 120


def test_each_notice_is_claimed_once_and_a_moved_deadline_is_a_new_claim(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = new_ticket(session, app)
        due, now = START + timedelta(hours=1), START + timedelta(minutes=50)
        args = {"ticket": ticket, "kind": "sla-warning", "target": "first_response", "now": now}
        assert claim_notice(session, due=due, **args) is True
        assert claim_notice(session, due=due, **args) is False
        assert claim_notice(session, due=due + timedelta(minutes=30), **args) is True


def test_sweeping_a_ticket_twice_sends_its_warning_once(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = new_ticket(session, app)
        now = START + timedelta(minutes=50)
        assert sweep_ticket(session, desk=app.desk, ticket=ticket, now=now) == 1
        ticket.sla_next_at = START  # as if a flag had been lost: the claim still holds
        assert sweep_ticket(session, desk=app.desk, ticket=ticket, now=now) == 0
        assert ticket.sla_next_at == START + timedelta(hours=1)  # next: the breach


def test_the_sweep_finds_due_tickets_by_their_next_moment(app: App) -> None:
    with unit_of_work(app.engine) as session:
        new_ticket(session, app)
    assert sweep_sla(app) == 0  # 09:00: nothing due
    assert isinstance(app.desk.clock, FixedClock)
    app.desk.clock.advance(timedelta(hours=2))
    assert sweep_sla(app) == 1  # the breach; the warning it overtook is not sent late
    assert sweep_sla(app) == 0
    with unit_of_work(app.engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert breached_targets(session, ticket) == ["first_response"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_processes_claiming_one_notice_at_once_send_it_once(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket_id = new_ticket(session, app).id
    due, now = START + timedelta(hours=1), START + timedelta(minutes=50)
    results: list[bool] = []
    first_claimed = threading.Event()

    def claim(hold: threading.Event | None) -> None:
        with unit_of_work(app.engine) as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            results.append(
                claim_notice(session, ticket=ticket, kind="sla-breach", due=due, now=now)
            )
            if hold is not None:
                first_claimed.set()
                hold.wait(timeout=30)  # commit only once the other has tried

    release = threading.Event()
    one = threading.Thread(target=claim, args=(release,))
    one.start()
    assert first_claimed.wait(timeout=30)
    other = threading.Thread(target=claim, args=(None,))
    other.start()  # its insert waits on the first one's uncommitted row
    other.join(timeout=0.5)
    release.set()
    one.join(timeout=30)
    other.join(timeout=30)
    assert results == [True, False]
