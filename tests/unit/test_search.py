"""Search: tickets whose subject or messages contain every word, case-insensitive, newest first."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from maildesk.db import unit_of_work
from maildesk.services.search import search_tickets
from maildesk.services.tickets import get_ticket
from tests.conftest import Desk
from tests.mails import mail


@pytest.fixture
def refs(desk: Desk) -> list[str]:
    """Three tickets: TKT-1 printer (fire in the body), TKT-2 invoice 100%, TKT-3 printer toner."""
    sent = [
        mail(subject="Printer broken", body="It is on FIRE."),
        mail(sender="dan@acme.test", subject="Invoice", body="Refund 100% of my_order please"),
        mail(sender="eve@acme.test", subject="Printer toner", body="Empty again."),
    ]
    return [desk.receives(raw).ticket or "" for raw in sent]


def found(session: Session, text: str) -> list[str | None]:
    return [t.ref for t in search_tickets(session, text=text)]


def test_a_word_in_subjects_finds_every_such_ticket_newest_first(
    desk: Desk, refs: list[str]
) -> None:
    with unit_of_work(desk.app.engine) as session:
        assert found(session, "printer") == ["TKT-3", "TKT-1"]


def test_a_word_from_a_message_finds_its_ticket_whatever_the_case(
    desk: Desk, refs: list[str]
) -> None:
    with unit_of_work(desk.app.engine) as session:
        assert found(session, "fire") == ["TKT-1"]


def test_every_word_must_occur_somewhere_in_the_ticket(desk: Desk, refs: list[str]) -> None:
    with unit_of_work(desk.app.engine) as session:
        assert found(session, "printer fire") == ["TKT-1"]
        assert found(session, "printer refund") == []


def test_percent_and_underscore_are_plain_characters(desk: Desk, refs: list[str]) -> None:
    with unit_of_work(desk.app.engine) as session:
        assert found(session, "100%") == ["TKT-2"]
        assert found(session, "my_order") == ["TKT-2"]
        assert found(session, "my%order") == []
        assert found(session, "1_0") == []


def test_blank_text_finds_nothing(desk: Desk, refs: list[str]) -> None:
    with unit_of_work(desk.app.engine) as session:
        assert found(session, "   ") == []


def test_a_ticket_merged_into_another_is_not_found_again(desk: Desk, refs: list[str]) -> None:
    with unit_of_work(desk.app.engine) as session:
        get_ticket(session, ref="TKT-3").merged_into_id = get_ticket(session, ref="TKT-1").id

    with unit_of_work(desk.app.engine) as session:
        assert found(session, "printer") == ["TKT-1"]
