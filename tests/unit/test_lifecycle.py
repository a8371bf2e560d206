"""The lifecycle's rules, below the conversations: a notice key is claimed once, the waits are
read from the settings, the oldest waiting ticket goes first, and mail says durations in words.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from maildesk.app import App, open_app
from maildesk.db import unit_of_work
from maildesk.models import Ticket, TicketNotice, TicketStatus
from maildesk.services import lifecycle
from maildesk.services.lifecycle import (
    close_pending,
    close_unrated,
    next_contact,
    remind_pending,
)
from maildesk.services.notice_claims import claim_notice
from maildesk.services.ticket_change import change
from maildesk.timed.lifecycle import (
    close_pending_tickets,
    close_unrated_tickets,
    in_words,
    remind_pending_tickets,
)
from maildesk.timing.clock import FixedClock
from tests.conftest import START, make_settings
from tests.unit.agent.conftest import new_ticket

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("wait", "words"),
    [
        (timedelta(hours=72), "3 days"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=14), "2 weeks"),
        (timedelta(weeks=1), "1 week"),
        (timedelta(hours=36), "36 hours"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(minutes=90), "90 minutes"),
        (timedelta(seconds=30), "1 minute"),
    ],
)
def test_a_wait_is_said_in_the_largest_whole_unit(wait: timedelta, words: str) -> None:
    assert in_words(wait) == words


def _set(session: Session, app: App, ticket: Ticket, status: TicketStatus) -> None:
    actor = lifecycle.SYSTEM
    change(session, desk=app.desk, ticket=ticket, actor=actor, now=START, status=status)


def test_a_notice_key_is_claimed_once_and_a_new_moment_is_a_new_key(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = new_ticket(session)
        key = {"ticket": ticket, "kind": lifecycle.PENDING_REMINDER, "now": START}

        assert claim_notice(session, due=START, **key) is True
        assert claim_notice(session, due=START, **key) is False
        assert claim_notice(session, due=START + DAY, **key) is True
        rows = session.exec(select(TicketNotice).order_by(col(TicketNotice.id))).all()
        assert [(r.kind, r.target, r.due) for r in rows] == [
            ("pending-reminder", "", START),
            ("pending-reminder", "", START + DAY),
        ]


def test_the_oldest_resolved_ticket_is_closed_first_and_each_once(app: App) -> None:
    with unit_of_work(app.engine) as session:
        older, newer = new_ticket(session), new_ticket(session)
        _set(session, app, older, TicketStatus.RESOLVED)
        newer_at = START + timedelta(hours=1)
        change(
            session,
            desk=app.desk,
            ticket=newer,
            actor=lifecycle.SYSTEM,
            now=newer_at,
            status=TicketStatus.RESOLVED,
        )
        late = newer_at + timedelta(hours=72)

        first = close_unrated(session, desk=app.desk, now=late, limit=1)
        second = close_unrated(session, desk=app.desk, now=late, limit=1)
        third = close_unrated(session, desk=app.desk, now=late, limit=1)

        assert [(w.ticket.id, w.since) for w in first] == [(older.id, START)]
        assert [(w.ticket.id, w.since) for w in second] == [(newer.id, newer_at)]
        assert third == []
        assert (older.status, newer.status) == ("closed", "closed")


def test_without_lifecycle_settings_pending_tickets_are_left_alone(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = new_ticket(session)
        _set(session, app, ticket, TicketStatus.PENDING)
        far = START + timedelta(days=365)

        assert remind_pending(session, desk=app.desk, now=far) == []
        assert close_pending(session, desk=app.desk, now=far) == []
        assert next_contact(session, settings=app.settings, ticket=ticket) is None
    assert (close_pending_tickets(app), remind_pending_tickets(app)) == (0, 0)
    assert close_unrated_tickets(app) == 0


@pytest.fixture
def closing_app(tmp_path: Path, database_url: str) -> Iterator[App]:
    """Pending tickets close after 10 days; no reminder is set."""
    settings = make_settings(tmp_path, database_url, lifecycle={"pending_close": "10d"})
    app = open_app(settings, clock=FixedClock(START))
    yield app
    app.engine.dispose()


def test_with_only_a_close_set_the_next_contact_is_the_close(closing_app: App) -> None:
    app = closing_app
    with unit_of_work(app.engine) as session:
        ticket = new_ticket(session)
        assert next_contact(session, settings=app.settings, ticket=ticket) is None  # in work
        _set(session, app, ticket, TicketStatus.PENDING)

        assert next_contact(session, settings=app.settings, ticket=ticket) == START + 10 * DAY
        assert remind_pending(session, desk=app.desk, now=START + 20 * DAY) == []
        closed = close_pending(session, desk=app.desk, now=START + 10 * DAY)
        assert [w.ticket.id for w in closed] == [ticket.id]
        assert next_contact(session, settings=app.settings, ticket=ticket) is None
