"""Export: which tickets, and each ticket's mails as they came and went, in time order."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from maildesk.agent.do import do_commands
from maildesk.db import read_only_unit, unit_of_work
from maildesk.errors import InvalidInput, NotFound
from maildesk.services.export import (
    chosen_tickets,
    iter_raw,
    raw_bytes,
    ticket_document,
    ticket_mails,
)
from maildesk.services.tickets import get_ticket
from tests.conftest import Desk
from tests.mails import mail

FIRST = mail(message_id="p1@acme.test", subject="Printer on fire", body="Help, it burns.")
REPLY = mail(
    message_id="p2@acme.test", in_reply_to="p1@acme.test", subject="Re: Printer", body="Still"
)


@pytest.fixture
def conversation(desk: Desk) -> Desk:
    """Carol writes (the ack goes out), Bob answers at the CLI, Carol replies; then Dan
    writes a ticket of his own whose ack is still queued."""
    desk.receives(FIRST)
    desk.sent()
    desk.clock.advance(timedelta(minutes=5))
    with unit_of_work(desk.app.engine) as session:
        do_commands(
            session,
            desk=desk.app.desk,
            ref="TKT-1",
            agent_email="bob@example.com",
            lines=[],
            text="Switch it off, please.",
            now=desk.clock.now(),
        )
    desk.sent()
    desk.clock.advance(timedelta(minutes=5))
    desk.receives(REPLY)
    desk.clock.advance(timedelta(minutes=5))
    desk.receives(mail(sender="dan@acme.test", subject="Invoice", body="Wrong sum"))
    return desk


def test_a_ticket_s_mails_are_what_came_in_and_what_was_sent_in_time_order(
    conversation: Desk,
) -> None:
    with read_only_unit(conversation.app.engine) as session:
        ticket = get_ticket(session, ref="TKT-1")
        mails = ticket_mails(session, [ticket.id or 0])
        kinds = [(m.direction, m.at) for m in mails]
        raws = [raw for _, raw in iter_raw(session, mails)]

    directions = [d for d, _ in kinds]
    assert directions[0] == directions[-1] == "in" and directions.count("in") == 2
    assert [at for _, at in kinds] == sorted(at for _, at in kinds)
    assert raws[0] == FIRST and raws[-1] == REPLY
    sent = raws[1:-1]  # the ack to Carol, the agents' notices, Bob's answer: as sent
    assert any(b"To: Carol Customer <carol@acme.test>" in r and b"Switch it off" in r for r in sent)
    assert any(b"Auto-Submitted: auto-replied" in r and b"carol@acme.test" in r for r in sent)


def test_mail_not_yet_sent_is_not_part_of_the_history(conversation: Desk) -> None:
    with read_only_unit(conversation.app.engine) as session:
        ticket = get_ticket(session, ref="TKT-2")
        assert [m.direction for m in ticket_mails(session, [ticket.id or 0])] == ["in"]
        assert ticket_mails(session, []) == []


def test_the_document_is_ticket_show_with_each_message_s_raw_mail(conversation: Desk) -> None:
    with read_only_unit(conversation.app.engine) as session:
        ticket = get_ticket(session, ref="TKT-1")
        document = ticket_document(session, ticket, settings=conversation.app.settings)

    shown = conversation.ticket("TKT-1")
    assert {k: v for k, v in document.items() if k != "messages"} == {
        k: v for k, v in shown.items() if k != "messages"
    }
    raws = [m.pop("raw_base64") for m in document["messages"]]
    assert document["messages"] == shown["messages"]
    assert base64.b64decode(raws[0]) == FIRST and base64.b64decode(raws[-1]) == REPLY
    assert raws[1] is None  # typed at the CLI: no mail of its own


def test_one_ticket_or_all_of_them_updated_since_a_moment(conversation: Desk) -> None:
    now = conversation.clock.now()
    with read_only_unit(conversation.app.engine) as session:
        assert [t.ref for t in chosen_tickets(session, ref="tkt-2", every=False, since=None)] == [
            "TKT-2"
        ]
        every = chosen_tickets(session, ref=None, every=True, since=None)
        assert [t.ref for t in every] == ["TKT-1", "TKT-2"]
        recent = chosen_tickets(session, ref=None, every=True, since=now)
        assert [t.ref for t in recent] == ["TKT-2"]


@pytest.mark.parametrize(
    ("ref", "every", "since", "error"),
    [
        ("TKT-1", True, None, "give a ticket REF or --all, not both"),
        (None, False, None, "give REF or --all"),
        ("TKT-1", False, "now", "--since goes with --all"),
    ],
)
def test_choosing_needs_one_ref_or_all(
    conversation: Desk, ref: str | None, every: bool, since: str | None, error: str
) -> None:
    with read_only_unit(conversation.app.engine) as session, pytest.raises(InvalidInput) as raised:
        chosen_tickets(
            session, ref=ref, every=every, since=conversation.clock.now() if since else None
        )
    assert str(raised.value) == error


def test_an_unknown_ticket_is_not_found(conversation: Desk) -> None:
    with read_only_unit(conversation.app.engine) as session, pytest.raises(NotFound):
        chosen_tickets(session, ref="TKT-99", every=False, since=None)


def test_raw_bytes_reads_one_mail(conversation: Desk) -> None:
    with read_only_unit(conversation.app.engine) as session:
        first = ticket_mails(session, [1])[0]
        assert raw_bytes(session, first) == FIRST
