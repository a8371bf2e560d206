"""Conversations through the outbox: acks, notices and relayed agent replies, as mail arrives."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import pytest
from sqlmodel import col, select

from maildesk.addresses import parse_signed, verify
from maildesk.app import open_app
from maildesk.db import unit_of_work
from maildesk.models import OutboxItem, Ticket
from maildesk.pipeline import announce
from maildesk.pipeline.stages import parse
from maildesk.pipeline.work import StageEnv, Work
from maildesk.services.contacts import find_agent, get_or_create_contact
from maildesk.services.tickets import Actor, create_ticket
from maildesk.timing.clock import FixedClock
from tests.conftest import Desk, make_settings
from tests.mails import mail, sample


def _to(message: EmailMessage) -> list[str]:
    return [a for _, a in getaddresses([str(message["To"])])]


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _one_to(sent: list[EmailMessage], address: str) -> EmailMessage:
    found = [m for m in sent if _to(m) == [address]]
    assert len(found) == 1, [(_to(m), m["Subject"]) for m in sent]
    return found[0]


def test_a_new_ticket_is_acknowledged_with_its_tag_thread_and_signed_reply_to(desk: Desk) -> None:
    created = desk.receives(mail(message_id="m1@acme.test"))
    ack = _one_to(desk.sent(), "carol@acme.test")
    assert ack["Subject"] == f"Re: [{created.ticket}] Printer on fire"
    assert ack["In-Reply-To"] == "<m1@acme.test>"
    assert ack["Auto-Submitted"] == "auto-replied"
    reply_to = getaddresses([str(ack["Reply-To"])])[0][1]
    signed = parse_signed(reply_to)
    assert signed is not None and signed.ref == created.ticket
    assert verify(signed, secrets_=desk.app.desk.secrets, role="customer")
    assert created.ticket in _body(ack)


def test_the_queues_agents_are_notified_with_their_own_signed_address(desk: Desk) -> None:
    desk.receives(mail(message_id="m1@acme.test"))
    sent = desk.sent()
    for agent in ("alice@example.com", "bob@example.com"):
        notice = _one_to(sent, agent)
        signed = parse_signed(getaddresses([str(notice["Reply-To"])])[0][1])
        assert signed is not None
        assert verify(signed, secrets_=desk.app.desk.secrets, role=f"agent:{agent}")
        assert "Help, it burns." in _body(notice)


def test_a_customer_replying_to_the_ack_lands_on_the_ticket_three_ways(desk: Desk) -> None:
    created = desk.receives(mail(message_id="m1@acme.test"))
    ack = _one_to(desk.sent(), "carol@acme.test")
    reply_to = getaddresses([str(ack["Reply-To"])])[0][1]
    ack_id = str(ack["Message-ID"]).strip("<>")
    by_address = desk.receives(mail(to=reply_to, subject="more", message_id="r1@acme.test"))
    by_header = desk.receives(mail(subject="more", message_id="r2@acme.test", in_reply_to=ack_id))
    by_tag = desk.receives(mail(subject=f"Re: [{created.ticket}] more", message_id="r3@acme.test"))
    assert {o.ticket for o in (by_address, by_header, by_tag)} == {created.ticket}
    assert by_address.reason == f"signed address {reply_to.lower()}"
    assert by_header.reason == f"In-Reply-To <{ack_id}>"
    assert by_tag.reason == f"subject tag [{created.ticket}]"


def test_an_agent_reply_reaches_the_customer_and_cc_without_internal_notes(desk: Desk) -> None:
    created = desk.receives(mail(message_id="m1@acme.test", cc="dave@acme.test"))
    notice = _one_to(desk.sent(), "alice@example.com")
    agent_address = getaddresses([str(notice["Reply-To"])])[0][1]
    outcome = desk.receives(
        mail(
            sender="Alice <alice@example.com>",
            to=agent_address,
            subject=str(notice["Subject"]),
            message_id="a1@example.com",
            in_reply_to=str(notice["Message-ID"]).strip("<>"),
            body="We sent a technician.\n\nOn Mon, 23 Nov 2026 at 09:00, Support wrote:\n> x\n",
        )
    )
    assert (outcome.outcome, outcome.ticket) == ("appended", created.ticket)
    relayed = [m for m in desk.sent() if "carol@acme.test" in _to(m)]
    assert len(relayed) == 1
    assert set(_to(relayed[0])) == {"carol@acme.test", "dave@acme.test"}
    text = _body(relayed[0])
    assert "We sent a technician." in text and "Help, it burns." in text
    assert "Auto-Submitted" not in relayed[0]
    ticket = desk.ticket(created.ticket or "")
    assert ticket["status"] == "open"
    assert any(e["type"] == "first-response" for e in ticket["events"])


def _relay(desk: Desk, body: str) -> str:
    """Carol writes, Alice answers her notice with `body`: the text Carol reads."""
    desk.receives(mail(message_id="m1@acme.test"))
    notice = _one_to(desk.sent(), "alice@example.com")
    desk.receives(
        mail(
            sender="Alice <alice@example.com>",
            to=getaddresses([str(notice["Reply-To"])])[0][1],
            subject=f"Re: {notice['Subject']}",
            in_reply_to=str(notice["Message-ID"]).strip("<>"),
            body=body,
        )
    )
    return _body(_one_to(desk.sent(), "carol@acme.test")).replace("\r\n", "\n")


@pytest.mark.parametrize(
    "body",
    [
        "We sent a technician.\n\nThanks,\nAlice",
        "We sent a technician.\n\nBest regards, Alice",
        "We sent a technician.\n\nAlice\n\n-- \nAlice\nExample Support, 2nd floor",
    ],
)
def test_an_agent_who_signs_off_is_not_signed_again(desk: Desk, body: str) -> None:
    text = _relay(desk, body)

    own = text.split("\nOn ")[0]  # what comes before the quoted history
    assert own.count("Alice") == 1, own
    assert own.rstrip().endswith("Alice\n\nExample Support, ticket TKT-1")


def test_an_agent_reply_without_a_sign_off_is_signed_with_the_agents_name(desk: Desk) -> None:
    text = _relay(desk, "We sent a technician.")

    assert text.startswith("We sent a technician.\n\nAlice\nExample Support, ticket TKT-1\n")


def test_an_unproven_agent_mail_is_held_and_relays_nothing(desk: Desk) -> None:
    created = desk.receives(mail(message_id="m1@acme.test"))
    desk.sent()
    outcome = desk.receives(
        mail(
            sender="alice@example.com",
            subject=f"Re: [{created.ticket}] Printer on fire",
            message_id="fake@evil.test",
            body="Refund approved.",
        )
    )
    assert outcome.outcome == "held"
    assert "unproven agent" in (outcome.reason or "")
    [warning] = desk.sent()
    assert _to(warning) == ["alice@example.com"]
    assert "held for review" in _body(warning)
    assert desk.ticket(created.ticket or "")["messages"][-1]["text"] != "Refund approved."


def test_acknowledgements_to_one_sender_are_limited_per_hour(desk: Desk) -> None:
    for n in range(7):
        desk.receives(mail(subject=f"Question {n}", message_id=f"q{n}@acme.test"))
    acks = [m for m in desk.sent() if _to(m) == ["carol@acme.test"]]
    assert len(acks) == desk.app.settings.outbound.ack_limit == 5


def test_no_ack_for_automatic_mail_or_mail_from_the_desk_itself(desk: Desk) -> None:
    robot = mail(
        sender="robot@acme.test", message_id="b1@acme.test", headers={"Precedence": "bulk"}
    )
    desk.receives(robot)
    desk.receives(mail(sender="support@example.com", message_id="self@example.com"))
    recipients = [_to(m) for m in desk.sent()]
    assert ["robot@acme.test"] not in recipients
    assert ["support@example.com"] not in recipients


def test_two_desks_pointed_at_each_other_exchange_only_a_handful(
    desk: Desk, tmp_path: Path, sqlite_template: Path
) -> None:
    """A customer of desk B is desk A, and the other way round: mail ping-pongs until quiet."""
    other_db = tmp_path / "other" / "var" / "maildesk.db"
    other_db.parent.mkdir(parents=True)
    shutil.copy(sqlite_template, other_db)
    other_settings = make_settings(
        tmp_path / "other",
        f"sqlite:///{other_db}",
        desk={"address": "help@partner.test", "secret": "other"},
        queues=[{"name": "general", "addresses": ["help@partner.test"]}],
        agents=[],
    )
    other = Desk(open_app(other_settings, clock=desk.clock), desk.clock)
    in_flight = [mail(sender="help@partner.test", message_id="start@partner.test")]
    exchanged = 0
    for _ in range(30):  # an hour of ping-pong, compressed
        for raw in in_flight:
            desk.receives(raw)
        to_other = [m.as_bytes() for m in desk.sent() if _to(m) == ["help@partner.test"]]
        for raw in to_other:
            other.receives(raw)
        in_flight = [m.as_bytes() for m in other.sent() if _to(m)[0].endswith("example.com")]
        exchanged += len(to_other) + len(in_flight)
        desk.clock.advance(timedelta(minutes=2))
    assert exchanged <= 3


# --- bounces -----------------------------------------------------------------------------------


def _outbox(desk: Desk) -> list[OutboxItem]:
    with unit_of_work(desk.app.engine) as session:
        rows = list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))
        session.expunge_all()
        return rows


def _row_of(desk: Desk, message: EmailMessage) -> OutboxItem:
    [row] = [r for r in _outbox(desk) if f"<{r.message_id}>" == message["Message-ID"]]
    return row


def _postfix_bounce_of(message: EmailMessage) -> bytes:
    """The Postfix DSN sample, reporting that `message` could not be delivered."""
    returned = str(message["Message-ID"]).strip("<>")
    return sample("dsn_bounce.eml").replace(
        b"ack.48.1717509598.c0de@desk.example.org", returned.encode()
    )


def test_a_bounced_ack_fails_its_outbox_row_and_is_never_answered(desk: Desk) -> None:
    created = desk.receives(mail(sender="Carol <nobody@example.net>", message_id="m1@acme.test"))
    ack = _one_to(desk.sent(), "nobody@example.net")

    bounced = desk.receives(_postfix_bounce_of(ack))

    assert (bounced.outcome, bounced.ticket) == ("appended", created.ticket)
    row = _row_of(desk, ack)
    assert row.state == "failed"
    assert row.last_error is not None and row.last_error.startswith("bounced: nobody@example.net")
    assert "5.1.1" in row.last_error and "User unknown" in row.last_error
    assert desk.sent() == []
    ticket = desk.ticket(created.ticket or "")
    assert [m["role"] for m in ticket["messages"]] == ["customer", "system"]
    assert ticket["messages"][-1]["visibility"] == "internal"
    assert ticket["status"] == "new"


def test_a_bounced_notice_outside_any_ticket_fails_its_row_and_creates_nothing(
    desk: Desk,
) -> None:
    held = desk.receives(mail(sender="alice@example.com", subject="Hello", message_id="h@x.test"))
    assert (held.outcome, held.ticket) == ("held", None)
    warning = _one_to(desk.sent(), "alice@example.com")

    bounced = desk.receives(_postfix_bounce_of(warning))

    assert (bounced.outcome, bounced.ticket) == ("dropped", None)
    row = _row_of(desk, warning)
    assert bounced.reason == f"bounce of <{row.message_id}>: outbox item {row.id} failed"
    assert row.state == "failed" and "User unknown" in (row.last_error or "")
    assert desk.sent() == []
    with unit_of_work(desk.app.engine) as session:
        assert session.exec(select(Ticket)).all() == []


def test_a_bounce_of_mail_we_never_sent_is_dropped(desk: Desk) -> None:
    outcome = desk.receives(sample("dsn_bounce.eml"))

    assert (outcome.outcome, outcome.ticket) == ("dropped", None)
    assert "matching no ticket and no mail we sent" in (outcome.reason or "")
    assert _outbox(desk) == []


# --- who gets what -----------------------------------------------------------------------------


def test_a_ticket_assigned_when_it_is_created_is_announced_to_its_assignee_only(
    desk: Desk,
) -> None:
    with unit_of_work(desk.app.engine) as session:
        env = StageEnv(session, desk.app.desk, desk.clock.now())
        carol = get_or_create_contact(
            session, email="carol@acme.test", name="Carol", free_mail=(), now=env.now
        )
        ticket = create_ticket(
            session,
            prefix="TKT",
            requester=carol,
            subject="Printer on fire",
            queue="general",
            actor=Actor("maildesk", "test"),
            now=env.now,
        )
        bob = find_agent(session, email="bob@example.com")
        assert bob is not None
        ticket.assignee_id = bob.id  # as routing may do when it creates the ticket
        _, work = parse.run(Work(item_id=0, raw=mail(body="Help, it burns.")), env)
        announce.new_ticket(env, work, ticket, "Help, it burns.")

    sent = desk.sent()
    assert sorted(_to(m)[0] for m in sent) == ["bob@example.com", "carol@acme.test"]
    assert "Help, it burns." in _body(_one_to(sent, "bob@example.com"))


@pytest.mark.parametrize(
    ("sender", "named"),
    [
        ("carol@acme.test", "Carol Customer <carol@acme.test>"),  # her name from the first mail
        ("Carol C. <carol@acme.test>", "Carol C. <carol@acme.test>"),  # as this mail says
        ("Dave Example <dave@acme.test>", "Dave Example <dave@acme.test>"),  # a Cc'd colleague
        ("dave@acme.test", "dave@acme.test"),  # no name known: the address, once
    ],
)
def test_a_customer_reply_notice_names_the_customer(desk: Desk, sender: str, named: str) -> None:
    created = desk.receives(mail(message_id="m1@acme.test", cc="dave@acme.test"))
    desk.sent()

    desk.receives(mail(sender=sender, subject=f"Re: [{created.ticket}] Printer on fire"))

    text = _body(_one_to(desk.sent(), "alice@example.com"))
    assert f"\n{named} replied on ticket {created.ticket}" in text


@pytest.fixture
def quiet_billing(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Desk]:
    """A desk whose billing queue sends no acknowledgements."""
    settings = make_settings(
        tmp_path,
        database_url,
        queues=[
            {"name": "general", "addresses": ["support@example.com"]},
            {"name": "billing", "addresses": ["billing@example.com"], "acknowledge": False},
        ],
    )
    app = open_app(settings, clock=clock)
    yield Desk(app, clock)
    app.engine.dispose()


def test_a_queue_without_acknowledgements_still_notifies_its_agents(quiet_billing: Desk) -> None:
    created = quiet_billing.receives(mail(to="billing@example.com", message_id="m1@acme.test"))

    sent = quiet_billing.sent()
    assert sorted(_to(m)[0] for m in sent) == ["alice@example.com"]  # billing: Alice only
    events = quiet_billing.ticket(created.ticket or "")["events"]
    assert [e["data"] for e in events if e["type"] == "ack-skipped"] == [
        {"reason": "queue billing sends no acknowledgements"}
    ]


def _address(message: EmailMessage, header: str) -> str:
    return getaddresses([str(message[header])])[0][1]


def test_mail_about_a_ticket_comes_from_its_queues_own_address(desk: Desk) -> None:
    created = desk.receives(mail(to="billing@example.com", message_id="m1@acme.test"))

    sent = desk.sent()
    assert sorted(_to(m)[0] for m in sent) == ["alice@example.com", "carol@acme.test"]
    for message in sent:
        assert _address(message, "From") == "billing@example.com"
        assert _address(message, "Reply-To").startswith(f"billing+{created.ticket}.")
        assert message["X-Loop"] == "billing@example.com"


@pytest.fixture
def billing_elsewhere(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Desk]:
    """A desk whose billing queue has an address under another domain."""
    settings = make_settings(
        tmp_path,
        database_url,
        queues=[
            {"name": "general", "addresses": ["support@example.com"]},
            {"name": "billing", "addresses": ["invoices@billing.example.org"]},
        ],
    )
    app = open_app(settings, clock=clock)
    yield Desk(app, clock)
    app.engine.dispose()


def test_signed_addresses_on_a_queues_own_domain_thread_and_prove_agents(
    billing_elsewhere: Desk,
) -> None:
    desk = billing_elsewhere
    created = desk.receives(mail(to="invoices@billing.example.org", message_id="m1@acme.test"))
    sent = desk.sent()
    ack, notice = _one_to(sent, "carol@acme.test"), _one_to(sent, "alice@example.com")
    assert _address(ack, "From") == _address(notice, "From") == "invoices@billing.example.org"
    assert str(ack["Message-ID"]).endswith("@billing.example.org>")
    customer_address = _address(ack, "Reply-To")
    assert customer_address.endswith("@billing.example.org")

    more = desk.receives(mail(to=customer_address, subject="more", message_id="r1@acme.test"))
    answer = desk.receives(
        mail(
            sender="Alice <alice@example.com>",
            to=_address(notice, "Reply-To"),
            subject=f"Re: {notice['Subject']}",
            body="#priority high\n\nWe are on it.",
        )
    )

    evidence = f"signed address {customer_address.lower()}"
    assert (more.ticket, more.reason) == (created.ticket, evidence)
    assert (answer.outcome, answer.ticket) == ("appended", created.ticket)
    assert desk.ticket(created.ticket or "")["priority"] == "high"
    relayed = _one_to(desk.sent(), "carol@acme.test")
    assert "We are on it." in _body(relayed)
    assert _address(relayed, "From") == "invoices@billing.example.org"


def test_a_blacklisted_senders_mail_sends_nothing(desk: Desk) -> None:
    outcome = desk.receives(mail(sender="spammer@example.net", message_id="s1@example.net"))
    domain = desk.receives(mail(sender="x@blocked.example", message_id="s2@blocked.example"))

    assert outcome.outcome == domain.outcome == "rejected"
    assert _outbox(desk) == []
    assert desk.sent() == []
