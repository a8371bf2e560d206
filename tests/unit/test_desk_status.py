"""`maildesk status`'s figures from the database: a desk with known mail in every state."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from maildesk.app import accept_raw
from maildesk.cli import status_cmd
from maildesk.db import read_only_unit, unit_of_work
from maildesk.models import InboxItem, OutboxItem, TicketNotice
from maildesk.outbound.outbox import mark_failed, mark_sent
from maildesk.services.desk_status import desk_status
from maildesk.services.origin import Origin
from maildesk.services.tickets import get_ticket
from maildesk.ticket_hooks.clock import BREACH, WARNING
from maildesk.timing.clock import FixedClock
from tests.conftest import START, Desk
from tests.mails import mail


def three_customers_write(desk: Desk) -> None:
    for n in (1, 2, 3):  # each: a ticket, an ack and two agents' notices (9 queued mails)
        desk.receives(mail(sender=f"c{n}@acme.test", subject=f"Problem {n}"))


def two_mails_wait(desk: Desk, clock: FixedClock) -> None:
    """Two mails stored and not yet processed, the first 2 hours ago."""
    clock.advance(timedelta(hours=-2))
    accept_raw(desk.app, mail(sender="d@acme.test", subject="Waiting"), Origin(transport="pipe"))
    clock.advance(timedelta(hours=2))
    accept_raw(desk.app, mail(sender="e@acme.test", subject="Also"), Origin(transport="pipe"))


def the_runner_held_one_and_failed_one(desk: Desk) -> None:
    desk.receives(mail(sender="f@acme.test", subject="Hold me"))
    desk.receives(mail(sender="g@acme.test", subject="Crash"))
    with unit_of_work(desk.app.engine) as session:
        items = session.exec(select(InboxItem).order_by(col(InboxItem.id).desc()).limit(2))
        crashed, held = list(items)
        held.state, crashed.state = "held", "failed"


def the_relay_took_one_and_refused_one(desk: Desk) -> None:
    with unit_of_work(desk.app.engine) as session:
        first, second = session.exec(select(OutboxItem).order_by(col(OutboxItem.id)).limit(2))
        mark_sent(first, now=START)
        mark_failed(second, error="550 no such user", attempt=True)


def slas(desk: Desk) -> None:
    """TKT-1 warned, due in an hour; TKT-2 breached; TKT-3 due a minute ago, unseen by the
    sweep; TKT-4 warned but resolved (not open: not counted)."""
    with unit_of_work(desk.app.engine) as session:
        one, two, three, four = (get_ticket(session, ref=f"TKT-{n}") for n in (1, 2, 3, 4))
        one.first_response_due = START + timedelta(hours=1)
        three.first_response_due = START - timedelta(minutes=1)
        four.status = "resolved"
        for ticket, kind in ((one, WARNING), (two, BREACH), (four, WARNING)):
            assert ticket.id is not None
            notice = TicketNotice(
                ticket_id=ticket.id, kind=kind, target="first_response", due=START, at=START
            )
            session.add(notice)
        session.add_all([one, three, four])


def test_the_figures_of_a_desk_in_every_state(desk: Desk, clock: FixedClock) -> None:
    three_customers_write(desk)
    the_runner_held_one_and_failed_one(desk)  # TKT-4 and TKT-5 before they were undone
    two_mails_wait(desk, clock)
    the_relay_took_one_and_refused_one(desk)
    slas(desk)
    clock.advance(timedelta(minutes=30))

    with read_only_unit(desk.app.engine) as session:
        found = desk_status(session, now=clock.now()).view()

    assert found["inbox"] == {
        "received": 2,
        "processed": 3,
        "held": 1,
        "failed": 1,
        "dropped": 0,
        "rejected": 0,
    }
    assert found["outbox"] == {"queued": 13, "sent": 1, "failed": 1}
    assert (found["held"], found["failed"]) == (1, 2)
    assert found["sla"] == {"at_risk": 1, "breached": 2}
    waited = START - timedelta(hours=2)
    assert found["oldest_waiting_inbox"] == {
        "since": waited.isoformat().replace("+00:00", "Z"),
        "age_seconds": int(timedelta(hours=2, minutes=30).total_seconds()),
    }
    assert found["oldest_queued_outbox"]["age_seconds"] == 30 * 60
    assert found["at"] == (START + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")


def test_an_empty_desk_has_nothing_waiting(desk: Desk) -> None:
    with read_only_unit(desk.app.engine) as session:
        found = desk_status(session, now=START)

    assert found.oldest_waiting_inbox is None and found.oldest_queued_outbox is None
    assert status_cmd.lines(found)[-2:] == [
        "oldest waiting inbox item: none",
        "oldest queued outbox mail: none",
    ]
