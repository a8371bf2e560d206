"""Rendered parts → one outbound mail: tagged subject, threading, signed Reply-To, loop marks."""

from __future__ import annotations

import base64
import email.policy
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from email import quoprimime
from email.header import Header
from email.message import EmailMessage
from email.policy import EmailPolicy, Policy
from email.utils import format_datetime, formataddr
from functools import lru_cache

from maildesk.addresses import agent_role, message_ids, new_message_id, signed_address
from maildesk.mail import Address
from maildesk.mail.text import clean_header, clean_text
from maildesk.outbound.render import Rendered
from maildesk.outbound.subjects import tagged_subject


class _SmtpPolicy(EmailPolicy):
    """email.policy.SMTP whose per-header limit is looked up once per name: the registry
    builds a header class on every lookup, which was a tenth of composing time."""

    def header_max_count(self, name: str) -> int | None:
        return _max_count(name.lower())


@lru_cache(maxsize=256)
def _max_count(name: str) -> int | None:
    count: int | None = email.policy.SMTP.header_max_count(name)
    return count


#: SMTP line endings; bodies as quoted-printable or base64, so no relay needs 8BITMIME.
POLICY = _SmtpPolicy(linesep="\r\n", cte_type="7bit")
MAX_LINE = 78  # RFC 5322's recommended line length, for headers and 7bit bodies alike
MAX_REFERENCES = 20  # the thread root and the latest ones; enough for every client to thread
_ADDR_SPEC = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


@dataclass(frozen=True)
class DeskIdentity:
    name: str  # "Example Support"
    address: str  # "support@example.com"

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


@dataclass(frozen=True)
class OutboundSpec:
    """Everything one outbound mail is made of; `compose` adds only Message-ID and encoding."""

    desk: DeskIdentity
    kind: str  # ack | agent-reply | notify | status | command-error | rating | sla | …
    ticket_ref: str | None
    recipients: tuple[Address, ...]
    rendered: Rendered  # its subject is tagged and normalised here
    date: datetime
    in_reply_to: str | None = None  # without angle brackets
    references: tuple[str, ...] = ()
    reply_to: str | None = None  # see reply_address()
    automatic: bool = False
    envelope_from: str | None = None  # None: the desk's bounce address

    @property
    def envelope_sender(self) -> str:
        return self.envelope_from or bounce_address(self.desk.address)

    @property
    def recipient_addresses(self) -> tuple[str, ...]:
        return tuple(r.email for r in self.recipients)


def bounce_address(desk_address: str) -> str:
    """`support+bounces@example.com`: the envelope sender, so DSNs come back to the desk."""
    local, _, domain = desk_address.rpartition("@")
    return f"{local}+bounces@{domain}"


def reply_address(*, desk_address: str, ref: str, secret: str, agent_email: str | None) -> str:
    """The signed Reply-To: the customer's for the ticket, or the one proving this agent."""
    role = agent_role(agent_email) if agent_email else "customer"
    return signed_address(desk_address=desk_address, ref=ref, secret=secret, role=role)


class _Folded(str):
    """A header value encoded and folded here (lines joined by "\\n "); stored by email as is."""

    name: str

    def __new__(cls, name: str, value: str) -> _Folded:
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {self.replace(chr(10), policy.linesep)}{policy.linesep}"


def _plain_ascii(value: str) -> bool:
    """Sendable as is: ASCII, nothing a reader would decode, every word foldable in a line."""
    return value.isascii() and "=?" not in value and all(len(w) < 70 for w in value.split())


def _encoded_text(value: str, name: str) -> str:
    """RFC 2047 words when needed, also for text that merely looks like an encoded word."""
    if _plain_ascii(value) and len(name) + 2 + len(value) <= MAX_LINE and value == value.strip():
        return value  # what Header would return for it, without its folding machinery
    charset = "us-ascii" if _plain_ascii(value) else "utf-8"
    return Header(value, charset, header_name=name).encode(linesep="\n")


def _mailbox(name: str, address: str) -> str:
    if not _ADDR_SPEC.match(address):
        raise ValueError(f"not a deliverable address: {address!r}")
    name = clean_header(name)
    if not name:
        return address
    if _plain_ascii(name):
        return formataddr((name, address))
    return f"{Header(name, 'utf-8').encode(linesep=chr(10))} <{address}>"


def sendable_ids(values: tuple[str | None, ...]) -> list[str]:
    """Stored Message-IDs (brackets optional) a 7-bit header can carry: in order, each once.

    Which ids are ids at all, and how long one may be, is `addresses.message_ids`'s rule.
    """
    text = " ".join(f"<{v.strip().strip('<>')}>" for v in values if v)
    return list(dict.fromkeys(i for i in message_ids(text) if i.isascii()))


def thread_ids(in_reply_to: str | None, references: tuple[str, ...]) -> list[str]:
    """References continuing the thread: the first and the latest, ending with In-Reply-To."""
    ids = sendable_ids(references)
    parent = sendable_ids((in_reply_to,))
    if parent:
        ids = [i for i in ids if i != parent[0]] + parent
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return ids


def _set(message: EmailMessage, name: str, value: str) -> None:
    message[name] = _Folded(name, value)


def _body(text: str) -> str:
    text = clean_text(text).replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"


def _addressing(message: EmailMessage, spec: OutboundSpec) -> None:
    if not spec.recipients:
        raise ValueError("an outbound mail needs at least one recipient")
    _set(message, "From", _mailbox(spec.desk.name, spec.desk.address))
    _set(message, "To", ",\n ".join(_mailbox(r.name, r.email) for r in spec.recipients))
    if spec.reply_to:
        _set(message, "Reply-To", _mailbox(spec.desk.name, spec.reply_to))


def _threading(message: EmailMessage, spec: OutboundSpec, message_id: str) -> None:
    _set(message, "Message-ID", f"<{message_id}>")
    parent = sendable_ids((spec.in_reply_to,))
    if parent:
        _set(message, "In-Reply-To", f"<{parent[0]}>")
    references = thread_ids(spec.in_reply_to, spec.references)
    if references:
        _set(message, "References", "\n ".join(f"<{i}>" for i in references))


def compose(spec: OutboundSpec, *, message_id: str | None = None) -> tuple[str, bytes]:
    """The Message-ID (without brackets; new unless given) and the mail's bytes, CRLF endings."""
    message = EmailMessage(policy=POLICY)
    message_id = message_id or new_message_id(spec.desk.domain)
    _addressing(message, spec)
    subject = tagged_subject(clean_header(spec.rendered.subject), ref=spec.ticket_ref)
    _set(message, "Subject", _encoded_text(subject, "Subject"))
    _set(message, "Date", format_datetime(spec.date))
    _threading(message, spec, message_id)
    if spec.automatic:
        _set(message, "Auto-Submitted", "auto-replied")
        _set(message, "X-Loop", spec.desk.address)
        _set(message, "X-Auto-Response-Suppress", "All")
    _alternative(message, _body(spec.rendered.text), _body(spec.rendered.html))
    return message_id, message.as_bytes()


def _transfer_encoded(body: str) -> tuple[str, str]:
    """7bit when the body is short-lined ASCII, else quoted-printable or base64, the shorter.

    The same choice `set_content` makes, without its header parsing (most of composing time).
    """
    if body.isascii() and all(len(line) <= MAX_LINE for line in body.split("\n")):
        return "7bit", body
    data = body.encode("utf-8")
    if len(data.translate(None, _UP_TO_TILDE)) * 6 > len(data):  # mostly non-Latin: base64
        return "base64", base64.encodebytes(data).decode("ascii")
    return "quoted-printable", quoprimime.body_encode(body.encode("utf-8").decode("latin-1"))


_UP_TO_TILDE = bytes(range(0x7F))  # deleted, what is left is the bytes above "~"


def _text_part(body: str, subtype: str) -> EmailMessage:
    part = EmailMessage(policy=POLICY)
    encoding, payload = _transfer_encoded(body)
    _set(part, "Content-Type", f'text/{subtype}; charset="utf-8"')
    _set(part, "Content-Transfer-Encoding", encoding)
    part.set_payload(payload)
    return part


def _alternative(message: EmailMessage, text: str, html: str) -> None:
    """multipart/alternative: the text, then the HTML, under a boundary no encoded body holds.

    Quoted-printable writes "=" as "=3D" and base64 has no "_", so "=_" never occurs in them;
    the random part keeps a 7bit body from holding it by chance.
    """
    _set(message, "MIME-Version", "1.0")
    boundary = f"=_maildesk_{secrets.token_hex(16)}"
    _set(message, "Content-Type", f'multipart/alternative;\n boundary="{boundary}"')
    message.set_payload([_text_part(text, "plain"), _text_part(html, "html")])
