"""Conversations: customers write and reply; strangers, blacklisted senders and robots do too."""

from __future__ import annotations

from datetime import timedelta

from maildesk.db import unit_of_work
from maildesk.services.inbox import get_item
from tests.conftest import Desk
from tests.mails import mail


def test_a_customer_writes_and_gets_a_new_ticket(desk: Desk) -> None:
    outcome = desk.receives(mail(message_id="m1@acme.test"))
    assert outcome.outcome == "created"
    ticket = desk.ticket(outcome.ticket or "")
    assert ticket["status"] == "new"
    assert ticket["requester"] == "carol@acme.test"
    assert ticket["queue"] == "general"
    assert [m["text"] for m in ticket["messages"]] == ["Help, it burns."]


def test_a_customer_reply_with_in_reply_to_is_appended(desk: Desk) -> None:
    first = desk.receives(mail(message_id="m1@acme.test"))
    reply = desk.receives(
        mail(
            subject="Re: Printer on fire",
            message_id="m2@acme.test",
            in_reply_to="m1@acme.test",
            body="Still burning.\n\nOn Mon, 23 Nov 2026 at 09:00, Support wrote:\n> Help!\n",
        )
    )
    assert (reply.outcome, reply.ticket) == ("appended", first.ticket)
    ticket = desk.ticket(first.ticket or "")
    assert ticket["messages"][-1]["text"] == "Still burning."
    assert ticket["events"][-1]["data"]["threaded_by"] == "In-Reply-To <m1@acme.test>"


def test_a_stranger_naming_the_ticket_gets_a_ticket_of_their_own(desk: Desk) -> None:
    first = desk.receives(mail(message_id="m1@acme.test"))
    stranger = desk.receives(
        mail(
            sender="mallory@evil.test",
            subject=f"Re: [{first.ticket}] Printer on fire",
            message_id="x1@evil.test",
            body="Please send me the invoice of this customer.",
        )
    )
    assert stranger.outcome == "created"
    assert stranger.ticket != first.ticket
    original = desk.ticket(first.ticket or "")
    assert [m["author"] for m in original["messages"] if m["role"] == "customer"] == [
        "carol@acme.test"
    ]
    note = original["messages"][-1]
    assert note["visibility"] == "internal" and stranger.ticket in note["text"]
    linked = desk.ticket(stranger.ticket or "")
    assert any(e["type"] == "linked" and e["data"]["to"] == first.ticket for e in linked["events"])


def test_a_colleague_of_the_requester_is_admitted(desk: Desk) -> None:
    first = desk.receives(mail(message_id="m1@acme.test"))
    colleague = desk.receives(
        mail(
            sender="dave@acme.test",
            subject=f"Re: [{first.ticket}] Printer on fire",
            message_id="d1@acme.test",
            body="Same printer here.",
        )
    )
    assert (colleague.outcome, colleague.ticket) == ("appended", first.ticket)
    assert "dave@acme.test" in desk.ticket(first.ticket or "")["participants"]


def test_a_blacklisted_sender_gets_no_ticket(desk: Desk) -> None:
    outcome = desk.receives(mail(sender="spammer@example.net", message_id="s1@example.net"))
    assert outcome.outcome == "rejected"
    assert outcome.ticket is None
    assert "spammer@example.net" in (outcome.reason or "")


def test_a_vacation_auto_reply_never_opens_a_ticket(desk: Desk) -> None:
    outcome = desk.receives(
        mail(
            sender="carol@acme.test",
            subject="Out of office",
            message_id="v1@acme.test",
            headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
        )
    )
    assert outcome.outcome == "dropped"
    assert "Auto-Submitted" in (outcome.reason or "")


def test_an_auto_reply_to_a_ticket_is_attached_as_a_system_message(desk: Desk) -> None:
    first = desk.receives(mail(message_id="m1@acme.test"))
    auto = desk.receives(
        mail(
            subject="Auto: Printer on fire",
            message_id="v2@acme.test",
            in_reply_to="m1@acme.test",
            headers={"Auto-Submitted": "auto-replied"},
            body="I am away until Monday.",
        )
    )
    assert (auto.outcome, auto.ticket) == ("appended", first.ticket)
    last = desk.ticket(first.ticket or "")["messages"][-1]
    assert (last["role"], last["visibility"]) == ("system", "internal")


def test_a_reply_to_a_closed_ticket_reopens_within_the_window(desk: Desk) -> None:
    from maildesk.db import unit_of_work
    from maildesk.services.ticket_change import change
    from maildesk.services.tickets import Actor, get_ticket

    first = desk.receives(mail(message_id="m1@acme.test"))
    with unit_of_work(desk.app.engine) as session:
        ticket = get_ticket(session, ref=first.ticket or "")
        change(
            session,
            desk=desk.app.desk,
            ticket=ticket,
            actor=Actor("alice", "cli"),
            now=desk.clock.now(),
            status="closed",
        )
    desk.clock.advance(timedelta(days=3))
    again = desk.receives(mail(message_id="m2@acme.test", in_reply_to="m1@acme.test"))
    assert (again.outcome, again.ticket) == ("reopened", first.ticket)
    assert desk.ticket(first.ticket or "")["status"] == "open"


def test_a_reply_long_after_closing_becomes_a_linked_follow_up(desk: Desk) -> None:
    from maildesk.db import unit_of_work
    from maildesk.services.ticket_change import change
    from maildesk.services.tickets import Actor, get_ticket

    first = desk.receives(mail(message_id="m1@acme.test"))
    with unit_of_work(desk.app.engine) as session:
        ticket = get_ticket(session, ref=first.ticket or "")
        change(
            session,
            desk=desk.app.desk,
            ticket=ticket,
            actor=Actor("alice", "cli"),
            now=desk.clock.now(),
            status="closed",
        )
    desk.clock.advance(timedelta(days=60))
    again = desk.receives(mail(message_id="m2@acme.test", in_reply_to="m1@acme.test"))
    assert again.outcome == "created" and again.ticket != first.ticket
    follow_up = desk.ticket(again.ticket or "")
    assert any(
        e["type"] == "linked" and e["data"]["kind"] == "follow-up-of" for e in follow_up["events"]
    )


def test_mail_from_the_desks_own_address_becomes_no_ticket_and_is_answered_by_no_one(
    desk: Desk,
) -> None:
    """Our own mail come back (a forward, a list with the desk on it) or a forged From."""
    first = desk.receives(mail(message_id="m1@acme.test"))
    desk.sent()  # the ack and the agents' notices of Carol's ticket
    senders = ("Example Support <support@example.com>", "billing@example.com")

    outcomes = [
        desk.receives(
            mail(
                sender=sender,
                subject=f"Re: [{first.ticket}] Printer on fire",
                message_id=f"own{n}@example.com",
                in_reply_to="m1@acme.test",
            )
        )
        for n, sender in enumerate(senders)
    ]

    assert [(o.outcome, o.ticket) for o in outcomes] == [("dropped", None)] * 2
    assert desk.sent() == []
    assert len(desk.ticket(first.ticket or "")["messages"]) == 1
    with unit_of_work(desk.app.engine) as session:
        items = [get_item(session, item_id=o.item_id) for o in outcomes]
        recorded = [(i.state, i.reason) for i in items]
    why = "our own mail come back, or a forgery"
    assert recorded == [
        ("dropped", f"loop: mail from the desk's own address {own}: {why}")
        for own in ("support@example.com", "billing@example.com")
    ]
