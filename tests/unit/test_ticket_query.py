"""Finding tickets: the sort keys and the filters, as `ticket list` uses them."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.models import Priority, Ticket
from maildesk.services.contacts import get_or_create_contact
from maildesk.services.ticket_query import TicketFilter, find_tickets, order_by
from maildesk.services.tickets import Actor, create_ticket
from tests.conftest import START


def three(session: Session) -> list[Ticket]:
    carol = get_or_create_contact(
        session, email="carol@acme.test", name="", free_mail=(), now=START
    )
    made = []
    for n, priority in enumerate((Priority.LOW, Priority.URGENT, Priority.NORMAL)):
        ticket = create_ticket(
            session,
            prefix="TKT",
            requester=carol,
            subject=f"Case {n}",
            queue="general",
            actor=Actor("carol@acme.test", "mail:1"),
            now=START,
        )
        ticket.priority = priority
        session.add(ticket)
        made.append(ticket)
    session.flush()
    return made


def test_priority_sorts_by_severity_not_by_name(app: App) -> None:
    with unit_of_work(app.engine) as session:
        three(session)
        found = find_tickets(
            session, settings=app.settings, wanted=TicketFilter(), sort="-priority"
        )
        assert [t.ref for t in found.tickets] == ["TKT-2", "TKT-3", "TKT-1"]


def test_a_cut_list_still_counts_everything_that_matched(app: App) -> None:
    with unit_of_work(app.engine) as session:
        three(session)
        found = find_tickets(session, settings=app.settings, wanted=TicketFilter(), limit=1)
        assert ([t.ref for t in found.tickets], found.total) == (["TKT-3"], 3)


def test_an_unknown_sort_key_is_refused() -> None:
    with pytest.raises(InvalidInput, match="cannot sort by 'size'"):
        order_by("ref,-size")
