"""history handler: the ticket an imported mail created is closed as "imported" at the mail's
time; mail at or after `--open-since` opens its ticket; live mail changes nothing here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.models import Ticket
from maildesk.pipeline.handlers import history
from maildesk.pipeline.work import Handled, History, StageEnv, Work
from maildesk.services.contacts import get_or_create_contact
from maildesk.services.ticket_change import begin, change
from maildesk.services.tickets import Actor, create_ticket

OLD = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
CAROL = Actor("carol@acme.test", "test")


def a_ticket(session: Session, app: App) -> Ticket:
    carol = get_or_create_contact(session, email=CAROL.name, name="Carol", free_mail=(), now=OLD)
    ticket = create_ticket(
        session,
        prefix="TKT",
        requester=carol,
        subject="Printer on fire",
        queue="general",
        actor=CAROL,
        now=OLD,
    )
    begin(session, desk=app.desk, ticket=ticket, now=OLD)
    return ticket


def imported(outcome: Handled, open_since: datetime | None = None) -> Work:
    return Work(
        item_id=1,
        raw=b"",
        outcome=outcome,
        history=History(open_since=open_since, written_at=OLD),
    )


def test_a_ticket_an_imported_mail_created_is_closed_as_imported_then(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = a_ticket(session, app)
        env = StageEnv(session=session, desk=app.desk, now=OLD)
        work = imported(Handled.CREATED)
        history.run(Work(**{**work.__dict__, "ticket_id": ticket.id}), env)

        assert (ticket.status, ticket.close_reason) == ("closed", "imported")
        assert ticket.closed_at == OLD and ticket.paused_since == OLD
        assert ticket.sla_next_at is None


def test_mail_at_open_since_opens_its_closed_ticket(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = a_ticket(session, app)
        change(session, desk=app.desk, ticket=ticket, actor=CAROL, now=OLD, status="closed")
        env = StageEnv(session=session, desk=app.desk, now=OLD + timedelta(days=1))
        work = imported(Handled.APPENDED, open_since=OLD)
        history.run(Work(**{**work.__dict__, "ticket_id": ticket.id}), env)

        assert ticket.status == "open" and ticket.closed_at is None


def test_live_mail_and_an_old_reply_to_an_open_ticket_leave_it_as_it_is(app: App) -> None:
    with unit_of_work(app.engine) as session:
        ticket = a_ticket(session, app)
        env = StageEnv(session=session, desk=app.desk, now=OLD)
        live = Work(item_id=1, raw=b"", ticket_id=ticket.id, outcome=Handled.CREATED)
        old_reply = imported(Handled.APPENDED)
        history.run(live, env)
        history.run(Work(**{**old_reply.__dict__, "ticket_id": ticket.id}), env)

        assert ticket.status == "new" and ticket.close_reason is None
