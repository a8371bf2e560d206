"""Composing outbound mail: one ticket tag, threading, signed Reply-To, loop marks, no injection."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import re
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from maildesk.addresses import MAX_ID_BYTES, agent_role, parse_signed, verify
from maildesk.mail import Address, parse_mail
from maildesk.mail.text import clean_header, clean_text
from maildesk.outbound.compose import (
    MAX_REFERENCES,
    DeskIdentity,
    OutboundSpec,
    compose,
    reply_address,
)
from maildesk.outbound.render import SAMPLE_CONTEXTS, Rendered, Renderer

DESK = DeskIdentity(name="Example Support", address="support@example.com")
SECRET = "s3cret"
CAROL = Address(email="carol@acme.test", name="Carol Customer")
PARTS = Rendered(subject="Printer on fire", text="Hello.\n", html="<p>Hello.</p>\n")
RENDERER = Renderer()


def make_spec(**changes: Any) -> OutboundSpec:
    base = OutboundSpec(
        desk=DESK,
        kind="agent-reply",
        ticket_ref="TKT-42",
        recipients=(CAROL,),
        rendered=PARTS,
        date=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    )
    return dataclasses.replace(base, **changes)


def sent(spec: OutboundSpec) -> EmailMessage:
    _, raw = compose(spec)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def subject_of(subject: str) -> str:
    return str(sent(make_spec(rendered=dataclasses.replace(PARTS, subject=subject)))["Subject"])


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Printer on fire", "[TKT-42] Printer on fire"),
        ("Re: Printer on fire", "Re: [TKT-42] Printer on fire"),
        ("RE: [TKT-42] Re: Printer on fire", "Re: [TKT-42] Printer on fire"),
        ("AW: WG: Printer on fire", "Re: [TKT-42] Printer on fire"),
        ("Ответ: Printer on fire", "Re: [TKT-42] Printer on fire"),
        ("Re[2]: Fwd: [TKT-42] Printer on fire [TKT-42]", "Re: [TKT-42] Printer on fire"),
        ("FW: [TKT-7] Printer on fire", "[TKT-42] Printer on fire"),
        ("Fwd: Re: Printer on fire", "Re: [TKT-42] Printer on fire"),
        ("Re:", "Re: [TKT-42]"),
    ],
)
def test_subject_carries_the_ticket_tag_exactly_once(subject: str, expected: str) -> None:
    assert subject_of(subject) == expected


PREFIX_CHAINS = st.lists(st.sampled_from(["Re:", "RE:", "AW:", "Fwd:", "FW:", "Ответ:"]))
DESK_TAG = re.compile(r"\[TKT-\d+\]", re.IGNORECASE)


@given(
    chain=PREFIX_CHAINS.map(" ".join),
    text=st.text(max_size=80),
    tags=st.lists(st.tuples(st.integers(0, 200), st.sampled_from(["[TKT-42]", "[tkt-7]"]))),
)
def test_the_composed_subject_carries_the_tag_once_wherever_tags_were(
    chain: str, text: str, tags: list[tuple[int, str]]
) -> None:
    subject = f"{chain} {text}"
    for position, tag in tags:  # anywhere, even inside a prefix or a word
        subject = subject[:position] + tag + subject[position:]

    assert DESK_TAG.findall(subject_of(subject)) == ["[TKT-42]"]


def test_a_long_non_ascii_subject_is_folded_in_whole_encoded_words() -> None:
    subject = "Принтер горит " * 12 + "🔥 ünd Schluß"
    _, raw = compose(make_spec(rendered=dataclasses.replace(PARTS, subject=subject)))
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")

    assert all(len(line) <= 78 for line in head.split("\r\n"))
    assert subject_of(subject) == "[TKT-42] " + " ".join(subject.split())


def test_an_unbreakable_ascii_subject_still_fits_the_line_limit() -> None:
    subject = "x" * 1500
    _, raw = compose(make_spec(rendered=dataclasses.replace(PARTS, subject=subject)))
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")

    assert all(len(line) <= 78 for line in head.split("\r\n"))
    assert subject_of(subject) == f"[TKT-42] {subject}"


def test_headers_identify_the_desk_and_address_only_the_recipients() -> None:
    message_id, raw = compose(make_spec(recipients=(CAROL, Address("dan@acme.test"))))
    message = email.message_from_bytes(raw, policy=email.policy.default)

    assert str(message["From"]) == "Example Support <support@example.com>"
    assert [a.addr_spec for a in message["To"].addresses] == ["carol@acme.test", "dan@acme.test"]
    assert message["Cc"] is None and message["Bcc"] is None
    assert message["Message-ID"] == f"<{message_id}>"
    assert message_id.endswith("@example.com")
    assert message["Date"] == "Mon, 23 Nov 2026 09:00:00 +0000"
    assert message.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in message.iter_parts()]
    assert kinds == ["text/plain", "text/html"]


def test_each_mail_gets_a_new_message_id() -> None:
    assert compose(make_spec())[0] != compose(make_spec())[0]


def test_threading_headers_continue_the_conversation() -> None:
    message = sent(make_spec(in_reply_to="c@acme.test", references=("a@acme.test", "b@x")))

    assert message["In-Reply-To"] == "<c@acme.test>"
    assert message["References"].split() == ["<a@acme.test>", "<b@x>", "<c@acme.test>"]


def test_references_are_capped_keeping_the_root_and_the_latest() -> None:
    thread = tuple(f"{'m' * 70}{n}@mail.example" for n in range(40))
    message = sent(make_spec(in_reply_to=thread[-1], references=thread[:-1]))

    ids = message["References"].split()
    assert len(ids) == MAX_REFERENCES
    assert ids[0] == f"<{thread[0]}>"
    assert ids[1:] == [f"<{i}>" for i in thread[-(MAX_REFERENCES - 1) :]]


def test_the_longest_message_id_an_inbound_mail_may_have_is_answered_within_a_header_line() -> None:
    longest = "x" * (MAX_ID_BYTES - len("@acme.test")) + "@acme.test"
    inbound = parse_mail(f"From: carol@acme.test\r\nMessage-ID: <{longest}>\r\n\r\nHi\r\n".encode())
    assert inbound.message_id == longest

    _, raw = compose(make_spec(in_reply_to=inbound.message_id, references=(longest,)))

    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["In-Reply-To"] == message["References"] == f"<{longest}>"


def test_a_message_id_over_the_limit_or_beyond_ascii_is_never_written_back() -> None:
    too_long = "x" * (MAX_ID_BYTES + 1 - len("@acme.test")) + "@acme.test"
    message = sent(make_spec(in_reply_to=too_long, references=("票@acme.test", "ok@acme.test")))

    assert message["In-Reply-To"] is None
    assert message["References"] == "<ok@acme.test>"


def test_junk_in_thread_ids_is_dropped() -> None:
    message = sent(make_spec(in_reply_to="bad id", references=("<ok@x>", "a\r\nBcc: e@evil")))

    assert message["In-Reply-To"] is None
    assert message["References"] == "<ok@x>"
    assert message["Bcc"] is None


def test_customer_reply_to_is_the_signed_ticket_address() -> None:
    signed = reply_address(desk_address=DESK.address, ref="TKT-42", secret=SECRET, agent_email=None)
    message = sent(make_spec(reply_to=signed))

    (reply_to,) = message["Reply-To"].addresses
    parsed = parse_signed(reply_to.addr_spec)
    assert parsed is not None and parsed.ref == "TKT-42"
    assert verify(parsed, secrets_=(SECRET,), role="customer")


def test_agent_reply_to_proves_that_agent_and_nobody_else() -> None:
    signed = reply_address(
        desk_address=DESK.address, ref="TKT-42", secret=SECRET, agent_email="Alice@example.com"
    )
    message = sent(make_spec(reply_to=signed, recipients=(Address("alice@example.com"),)))

    parsed = parse_signed(message["Reply-To"].addresses[0].addr_spec)
    assert parsed is not None
    assert verify(parsed, secrets_=(SECRET,), role=agent_role("alice@example.com"))
    assert not verify(parsed, secrets_=(SECRET,), role=agent_role("bob@example.com"))
    assert not verify(parsed, secrets_=(SECRET,), role="customer")


def test_automatic_mail_is_marked_against_loops() -> None:
    message = sent(make_spec(automatic=True))

    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Loop"] == "support@example.com"


def test_a_person_written_mail_is_not_marked_automatic() -> None:
    message = sent(make_spec(automatic=False))

    assert message["Auto-Submitted"] is None
    assert message["X-Loop"] is None


def test_the_envelope_sender_is_the_bounce_address() -> None:
    assert make_spec().envelope_sender == "support+bounces@example.com"


def test_an_address_that_could_smuggle_a_recipient_is_refused() -> None:
    with pytest.raises(ValueError, match="not a deliverable address"):
        compose(make_spec(recipients=(Address("carol@acme.test>, eve@evil.test"),)))


# Pieces a hostile or unlucky mail might carry in its subject, names and body.
HOSTILE = st.sampled_from(
    [
        "{{ 7*7 }}",
        "{%",
        "{#",
        "}}",
        "\r",
        "\n",
        "\r\n",
        "\x00",
        "=?utf-8?q?=41?=",
        "=?iso-8859-1?b?QQ==?=",
        "Bcc: eve@evil.test",
        "\r\nBcc: eve@evil.test\r\n",
        "<eve@evil.test>",
        ",",
        '"',
        "\\",
        ";",
        ":",
        "(",
        "ü",
        "Принтер",
        "🔥",
        " ",
        "\t",
    ]
)
JUNK = st.lists(st.one_of(HOSTILE, st.text(max_size=5)), max_size=12).map("".join)
HEADER_NAMES = {
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "X-Loop",
    "X-Auto-Response-Suppress",
    "MIME-Version",
    "Content-Type",
}


def as_lines(text: str) -> str:
    return clean_text(text).replace("\r\n", "\n").replace("\r", "\n")


def display_names(raw: bytes) -> list[tuple[str, str]]:
    """To as a second, older parser (compat32 + decode_header) reads it."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    pairs = getaddresses([str(v) for v in message.get_all("To") or []])
    return [(str(make_header(decode_header(name))), addr) for name, addr in pairs]


def text_and_html(message: Message) -> tuple[str, str]:
    """Both bodies decoded, with the line endings of the wire (CRLF) read as newlines."""
    assert isinstance(message, EmailMessage)
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    return as_lines(plain.get_content()), as_lines(html.get_content())


@settings(max_examples=300)
@given(subject=JUNK, name=JUNK, body=JUNK)
def test_message_content_survives_literally_and_never_becomes_a_header(
    subject: str, name: str, body: str
) -> None:
    context = {**SAMPLE_CONTEXTS["notify_new"], "subject": subject, "text": body}
    rendered = RENDERER.render("notify_new", {**context, "requester_name": name})
    spec = make_spec(rendered=rendered, recipients=(Address("alice@example.com", name),))
    _, raw = compose(dataclasses.replace(spec, automatic=True, reply_to="support@example.com"))

    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert set(message.keys()) == HEADER_NAMES
    assert [a.addr_spec for a in message["To"].addresses] == ["alice@example.com"]
    [(decoded_name, address)] = display_names(raw)
    assert address == "alice@example.com"
    assert decoded_name.split() == clean_header(name).split()
    expected_subject = " ".join(clean_header(f"[TKT-42] New ticket: {subject}").split())
    assert str(message["Subject"]) == expected_subject
    text, html = text_and_html(message)
    assert as_lines(body) in text and as_lines(name) in text
    assert str(escape(as_lines(name))) in html
