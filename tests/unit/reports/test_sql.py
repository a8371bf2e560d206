"""The SQL the databases spell differently gives the same answer on both."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import literal, select
from sqlmodel import col

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.models import Contact, Ticket
from maildesk.services.reports.sql import minutes_between, utc_day


def test_minutes_between_and_the_utc_day_of_stored_times(app: App) -> None:
    opened = datetime(2026, 11, 2, 23, 50, tzinfo=UTC)
    with unit_of_work(app.engine) as session:
        carol = Contact(email="carol@example.org", created_at=opened)
        session.add(carol)
        session.flush()
        session.add(
            Ticket(
                requester_id=carol.id or 0,
                created_at=opened,
                updated_at=opened,
                first_response_at=datetime(2026, 11, 3, 1, 20, 40, tzinfo=UTC),
            )
        )
    with unit_of_work(app.engine) as session:
        query = select(
            minutes_between(col(Ticket.created_at), col(Ticket.first_response_at)),
            utc_day(col(Ticket.created_at)),
            utc_day(col(Ticket.first_response_at)),
            literal(1),
        )
        minutes, opened_on, answered_on, _ = session.execute(query).one()
    assert (minutes, opened_on, answered_on) == (91, "2026-11-02", "2026-11-03")  # 90 min 40 s
