"""Conversations: mail that pretends to come from an agent, or hides commands, changes nothing.

Only an agent's From *and* proof (their signed reply address, or a trusted DKIM result) run
commands, and only lines at the very top of what the agent visibly wrote count.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest

from maildesk.addresses import agent_role, signed_address
from maildesk.app import open_app
from maildesk.pipeline.runner import Outcome
from maildesk.timing.clock import FixedClock
from tests.conftest import START, Desk, make_settings
from tests.conversations.helpers import (
    ALICE,
    CAROL,
    agent_messages,
    agent_replies,
    body_of,
    customer_writes,
    mails_to,
    one_to,
    reply_to_of,
)
from tests.mails import mail

COMMANDS = "#status closed\n#assign me\n#priority urgent\n#tag refunded"
FIELDS = ("status", "priority", "assignee", "queue", "tags")


def encoded(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def with_from(raw: bytes, *from_lines: str) -> bytes:
    """The mail with its From header replaced by these From lines, written as given."""
    head, sep, body = raw.partition(b"\n\n")
    lines = [line for line in head.split(b"\n") if not line.lower().startswith(b"from:")]
    return b"\n".join([*(f"From: {v}".encode() for v in from_lines), *lines]) + sep + body


def html_mail(*, to: str, subject: str, html: str, in_reply_to: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = ALICE
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(START)
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg["In-Reply-To"] = f"<{in_reply_to}>"
    msg.set_content(html, subtype="html")
    return msg.as_bytes()


def assert_untouched(desk: Desk, ref: str, before: dict[str, Any]) -> None:
    """No field changed, no agent message stored, nothing went to the customer."""
    ticket = desk.ticket(ref)
    assert {f: ticket[f] for f in FIELDS} == {f: before[f] for f in FIELDS}
    assert agent_messages(ticket) == []
    assert not [
        m for m in ticket["messages"] if "Refund approved" in m["text"] and m["role"] != "customer"
    ]
    assert mails_to(desk.sent(), CAROL) == []


@pytest.fixture
def ticket(desk: Desk) -> tuple[str, EmailMessage]:
    """An open question from Carol, and the notice Alice got about it."""
    ref, notices = customer_writes(desk, message_id="m1@acme.test")
    return ref, notices["alice@example.com"]


# --- claiming to be an agent -------------------------------------------------------------------


def test_a_forged_signature_proves_nothing(desk: Desk, ticket: tuple[str, EmailMessage]) -> None:
    ref, notice = ticket
    before = desk.ticket(ref)
    genuine = reply_to_of(notice)
    forged = genuine.replace(genuine.split(".")[1][:16], "a" * 16)
    assert forged != genuine

    outcome = desk.receives(
        mail(
            sender=ALICE,
            to=forged,
            subject=f"Re: [{ref}] Printer on fire",
            body=f"{COMMANDS}\n\nRefund approved.",
        )
    )

    assert outcome.outcome == "held"
    assert_untouched(desk, ref, before)


def test_an_agents_from_alone_proves_nothing_and_the_agent_is_told(
    desk: Desk, ticket: tuple[str, EmailMessage]
) -> None:
    ref, _notice = ticket
    before = desk.ticket(ref)

    outcome = desk.receives(
        mail(
            sender=ALICE,
            subject=f"Re: [{ref}] Printer on fire",
            body=f"{COMMANDS}\n\nRefund approved.",
        )
    )

    assert outcome.outcome == "held"
    assert "unproven agent" in (outcome.reason or "")
    warning = one_to(desk.sent(), "alice@example.com")
    assert "held for review" in body_of(warning)
    desk.sent()
    assert_untouched(desk, ref, before)


def test_the_warning_says_plainly_what_was_held_and_how_to_release_it(
    desk: Desk, ticket: tuple[str, EmailMessage]
) -> None:
    ref, _notice = ticket

    held = desk.receives(
        mail(sender=ALICE, subject=f"Re: [{ref}] Printer on fire", body="Refund approved.")
    )

    warning = one_to(desk.sent(), "alice@example.com")
    assert str(warning["Subject"]).startswith(f"[{ref}] Held for review: a mail in your name")
    html = warning.get_body(preferencelist=("html",))
    assert html is not None
    for text in (body_of(warning), str(html.get_content())):
        assert "without proof" in text and f"inbox item {held.item_id}" in text
        assert "Re: [" in text and "Printer on fire" in text  # the held mail's subject
        assert f"maildesk inbox requeue {held.item_id}" in text
        assert f"maildesk inbox discard {held.item_id}" in text
        assert "command lines" not in text and "not applied" not in text.lower()
    assert [e["data"] for e in desk.ticket(ref)["events"] if e["type"] == "held-unproven"] == [
        {"inbox_item": held.item_id, "agent": "alice@example.com"}
    ]


def test_a_mail_held_outside_any_ticket_is_named_by_its_subject(desk: Desk) -> None:
    held = desk.receives(mail(sender=ALICE, subject="Refund for Carol", body="Approved."))

    warning = one_to(desk.sent(), "alice@example.com")
    assert held.outcome == "held" and held.ticket is None
    assert str(warning["Subject"]) == "Held for review: a mail in your name (Refund for Carol)"
    assert f"maildesk inbox discard {held.item_id}" in body_of(warning)


def test_a_spoofer_cannot_mail_bomb_the_agent_through_the_desk(
    desk: Desk, ticket: tuple[str, EmailMessage]
) -> None:
    ref, _notice = ticket
    before = desk.ticket(ref)
    desk.sent()

    def spoof(n: int) -> Outcome:
        return desk.receives(
            mail(
                sender=ALICE,
                subject=f"Re: [{ref}] Printer on fire",
                body=f"{COMMANDS}\n\nRefund approved.",
                message_id=f"spoof{n}@evil.test",
            )
        )

    first = spoof(1)
    desk.clock.advance(timedelta(minutes=30))
    second = spoof(2)

    assert (first.outcome, second.outcome) == ("held", "held")
    assert "unproven agent" in (first.reason or "") and "the agent was warned" in (
        first.reason or ""
    )
    assert "already warned within the hour" in (second.reason or "")
    assert "held for review" in body_of(one_to(desk.sent(), "alice@example.com"))
    assert_untouched(desk, ref, before)

    desk.clock.advance(timedelta(minutes=31))  # an hour after the first warning
    third = spoof(3)

    assert third.outcome == "held" and "the agent was warned" in (third.reason or "")
    assert "held for review" in body_of(one_to(desk.sent(), "alice@example.com"))
    assert_untouched(desk, ref, before)


def test_another_agents_signed_address_proves_nothing(
    desk: Desk, ticket: tuple[str, EmailMessage]
) -> None:
    ref, _notice = ticket
    before = desk.ticket(ref)
    bobs = signed_address(
        desk_address="support@example.com",
        ref=ref,
        secret=desk.app.desk.secret,
        role=agent_role("bob@example.com"),
    )

    outcome = desk.receives(
        mail(sender=ALICE, to=bobs, subject="Re: x", body=f"{COMMANDS}\n\nRefund approved.")
    )

    assert outcome.outcome == "held"
    assert_untouched(desk, ref, before)


SPOOFED_FROM = {
    "two From headers": ("alice@example.com", "mallory@evil.test"),
    "two addresses in one From": ("alice@example.com, mallory@evil.test",),
    "Mailsploit: an encoded word as the address": (
        encoded("alice@example.com") + "=?utf-8?Q?=00?=@evil.test",
    ),
    "Mailsploit: the whole From one encoded word": (encoded("alice@example.com"),),
    "Mailsploit: an encoded display name": (f"{encoded('alice@example.com')} <mallory@evil.test>",),
    "display name spoof": ('"alice@example.com" <mallory@evil.test>',),
    "display name spoof with angle brackets": ('"Alice <alice@example.com>" <mallory@evil.test>',),
}


@pytest.mark.parametrize("from_lines", SPOOFED_FROM.values(), ids=SPOOFED_FROM.keys())
def test_a_spoofed_from_with_a_leaked_agent_address_runs_nothing(
    desk: Desk, ticket: tuple[str, EmailMessage], from_lines: tuple[str, ...]
) -> None:
    """Even holding Alice's real signed address, a From that is not plainly Alice's is not hers."""
    ref, notice = ticket
    before = desk.ticket(ref)
    raw = mail(
        sender="placeholder@evil.test",
        to=reply_to_of(notice),
        subject=f"Re: {notice['Subject']}",
        in_reply_to=str(notice["Message-ID"]).strip("<>"),
        body=f"{COMMANDS}\n\nRefund approved.",
    )

    outcome = desk.receives(with_from(raw, *from_lines))

    assert outcome.outcome in ("held", "created")  # held for review, or mallory's own ticket
    assert outcome.ticket != ref
    assert_untouched(desk, ref, before)


def test_a_customer_forwarding_an_agents_mail_runs_no_commands(
    desk: Desk, ticket: tuple[str, EmailMessage]
) -> None:
    ref, _notice = ticket
    before = desk.ticket(ref)
    forwarded = (
        "---------- Forwarded message ---------\n"
        "From: Alice <alice@example.com>\n"
        "Date: Mon, 23 Nov 2026 at 09:30\n"
        f"Subject: Re: [{ref}] Printer on fire\n"
        "To: <carol@acme.test>\n\n"
        f"{COMMANDS}\n\nRefund approved.\n"
    )

    outcome = desk.receives(
        mail(sender=CAROL, subject=f"Fwd: Re: [{ref}] Printer on fire", body=forwarded)
    )

    assert (outcome.outcome, outcome.ticket) == ("appended", ref)
    assert desk.ticket(ref)["messages"][-1]["role"] == "customer"
    assert_untouched(desk, ref, before)


def test_a_customer_forwarding_an_agents_mail_as_an_attachment_runs_no_commands(
    desk: Desk, ticket: tuple[str, EmailMessage]
) -> None:
    ref, notice = ticket
    before = desk.ticket(ref)
    alices = EmailMessage()
    alices["From"] = ALICE
    alices["To"] = reply_to_of(notice)
    alices["Subject"] = f"Re: [{ref}] Printer on fire"
    alices.set_content(f"{COMMANDS}\n\nRefund approved.")
    outer = EmailMessage()
    outer["From"] = CAROL
    outer["To"] = "support@example.com"
    outer["Subject"] = f"Fwd: Re: [{ref}] Printer on fire"
    outer["Message-ID"] = make_msgid(domain="acme.test")
    outer.set_content("See below.")
    outer.add_attachment(alices, disposition="inline")

    outcome = desk.receives(outer.as_bytes())

    assert outcome.ticket == ref
    assert_untouched(desk, ref, before)


# --- a proven agent, but the command is not what they visibly wrote at the top -----------------


def opened(desk: Desk, notice: EmailMessage, ref: str) -> dict[str, Any]:
    """Alice has answered once, so the ticket is open and any status change would show."""
    agent_replies(desk, notice, "#status open")
    desk.sent()
    ticket = desk.ticket(ref)
    assert ticket["status"] == "open"
    return ticket


@pytest.mark.parametrize(
    "quoted",
    ["> #status closed", ">#status closed", "> > #status closed", " > #status closed"],
)
def test_a_quoted_command_is_not_run(
    desk: Desk, ticket: tuple[str, EmailMessage], quoted: str
) -> None:
    ref, notice = ticket
    before = opened(desk, notice, ref)

    outcome = agent_replies(desk, notice, f"{quoted}\n\nWe are still looking into it.")

    assert outcome.outcome == "appended"
    after = desk.ticket(ref)
    assert {f: after[f] for f in FIELDS} == {f: before[f] for f in FIELDS}
    relayed = body_of(one_to(desk.sent(), CAROL))
    assert relayed.startswith("We are still looking into it.")
    assert "#status" not in relayed


HIDDEN = {
    "display:none": '<div style="display:none">#status closed</div>',
    "display: none !important": (
        '<div style="color:red; display: none !important">#status closed</div>'
    ),
    "visibility:hidden": '<div style="visibility:hidden">#status closed</div>',
    "hidden attribute": "<div hidden><p>#status closed</p></div>",
    "font-size:0": '<span style="font-size:0">#status closed</span>',
    "mso-hide:all": '<div style="mso-hide:all">#status closed</div>',
    "aria-hidden": '<div aria-hidden="true">#status closed</div>',
    "title element": "<head><title>#status closed</title></head>",
}


@pytest.mark.parametrize("hidden", HIDDEN.values(), ids=HIDDEN.keys())
def test_a_command_in_a_hidden_html_element_is_not_run(
    desk: Desk, ticket: tuple[str, EmailMessage], hidden: str
) -> None:
    ref, notice = ticket
    before = opened(desk, notice, ref)

    outcome = desk.receives(
        html_mail(
            to=reply_to_of(notice),
            subject=f"Re: {notice['Subject']}",
            in_reply_to=str(notice["Message-ID"]).strip("<>"),
            html=f"<html><body>{hidden}<p>We are still looking into it.</p></body></html>",
        )
    )

    assert outcome.outcome == "appended"
    after = desk.ticket(ref)
    assert {f: after[f] for f in FIELDS} == {f: before[f] for f in FIELDS}
    assert after["messages"][-1]["text"] == "We are still looking into it."
    relayed = body_of(one_to(desk.sent(), CAROL))
    assert relayed.startswith("We are still looking into it.") and "#status" not in relayed


def test_a_command_in_a_zero_height_preheader_is_not_run(
    desk: Desk, ticket: tuple[str, EmailMessage]
) -> None:
    ref, notice = ticket
    before = opened(desk, notice, ref)
    preheader = '<div style="max-height:0; overflow:hidden">#status closed</div>'

    desk.receives(
        html_mail(
            to=reply_to_of(notice),
            subject=f"Re: {notice['Subject']}",
            in_reply_to=str(notice["Message-ID"]).strip("<>"),
            html=f"<html><body>{preheader}<p>We are still looking into it.</p></body></html>",
        )
    )

    assert desk.ticket(ref)["status"] == before["status"]


def test_a_visible_command_in_html_only_mail_is_run(
    desk: Desk, ticket: tuple[str, EmailMessage]
) -> None:
    """The counterpart: what the agent visibly wrote at the top does act."""
    ref, notice = ticket
    opened(desk, notice, ref)

    desk.receives(
        html_mail(
            to=reply_to_of(notice),
            subject=f"Re: {notice['Subject']}",
            in_reply_to=str(notice["Message-ID"]).strip("<>"),
            html="<html><body><div>#status pending</div><p>We ordered a part.</p></body></html>",
        )
    )

    assert desk.ticket(ref)["status"] == "pending"
    assert body_of(one_to(desk.sent(), CAROL)).startswith("We ordered a part.")


# --- DKIM from the operator's own MTA ----------------------------------------------------------


@pytest.fixture
def dkim_desk(tmp_path: Path, database_url: str) -> Iterator[Desk]:
    """A desk whose operator trusts the Authentication-Results of mx.example.com."""
    clock = FixedClock(START)
    settings = make_settings(tmp_path, database_url, desk={"trusted_authserv_id": "mx.example.com"})
    app = open_app(settings, clock=clock)
    yield Desk(app, clock)
    app.engine.dispose()


def alice_by_dkim(desk: Desk, ref: str, *results: str) -> Outcome:
    """Alice writes from her mail client, not via a signed address; the MTA stamps its results."""
    raw = mail(
        sender=ALICE,
        subject=f"Re: [{ref}] Printer on fire",
        body="#status pending\n#assign me\n\nWe ordered a part.",
    )
    stamped = b"".join(f"Authentication-Results: {r}\n".encode() for r in results)
    return desk.receives(stamped + raw)


def test_a_trusted_dkim_pass_proves_the_agent(dkim_desk: Desk) -> None:
    ref, _ = customer_writes(dkim_desk)

    outcome = alice_by_dkim(dkim_desk, ref, "mx.example.com; dkim=pass header.d=example.com")

    assert (outcome.outcome, outcome.ticket) == ("appended", ref)
    ticket = dkim_desk.ticket(ref)
    assert (ticket["status"], ticket["assignee"]) == ("pending", "alice@example.com")
    assert body_of(one_to(dkim_desk.sent(), CAROL)).startswith("We ordered a part.")


UNTRUSTED_RESULTS = {
    "another authserv-id": ("mx.evil.test; dkim=pass header.d=example.com",),
    "an authserv-id that only starts like ours": (
        "mx.example.com.evil.test; dkim=pass header.d=example.com",
    ),
    "a pass for another domain": ("mx.example.com; dkim=pass header.d=evil.test",),
    "a pass for a look-alike domain": ("mx.example.com; dkim=pass header.d=example.com.evil.test",),
    "a failed signature": ("mx.example.com; dkim=fail header.d=example.com",),
    "ours below another header": (
        "mx.example.com; dkim=none",
        "mx.example.com; dkim=pass header.d=example.com",
    ),
    "ours below another server's header": (
        "relay.partner.test; dkim=none",
        "mx.example.com; dkim=pass header.d=example.com",
    ),
}


@pytest.mark.parametrize("results", UNTRUSTED_RESULTS.values(), ids=UNTRUSTED_RESULTS.keys())
def test_an_untrusted_dkim_result_proves_nothing(dkim_desk: Desk, results: tuple[str, ...]) -> None:
    ref, _ = customer_writes(dkim_desk)
    before = dkim_desk.ticket(ref)

    outcome = alice_by_dkim(dkim_desk, ref, *results)

    assert outcome.outcome == "held"
    after = dkim_desk.ticket(ref)
    assert {f: after[f] for f in FIELDS} == {f: before[f] for f in FIELDS}
    assert agent_messages(after) == []
    assert mails_to(dkim_desk.sent(), CAROL) == []


def test_dkim_proves_nothing_unless_the_operator_trusts_an_mta(desk: Desk) -> None:
    ref, _ = customer_writes(desk)

    outcome = alice_by_dkim(desk, ref, "mx.example.com; dkim=pass header.d=example.com")

    assert outcome.outcome == "held"
    assert desk.ticket(ref)["status"] == "new"
