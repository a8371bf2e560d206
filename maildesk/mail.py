"""InboundMail: a frozen value parsed from raw bytes with mail-parser; pure, no I/O."""

from __future__ import annotations

import base64
import email.errors
import email.utils
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message

import mailparser
from mailparser.exceptions import MailParserError

from maildesk.htmltext import html_to_text
from maildesk.text import clean_header, clean_text, decode_bytes

_ADDR_SPEC = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-\u0080-\uffff]+@[A-Za-z0-9.\-\u0080-\uffff]+$"
)
_MSGID = re.compile(r"<([^<>\s]+)>")
_SAFE_NAME = re.compile(r"[^\w.\- ()\[\]+,]+", re.UNICODE)


class UnparseableMail(Exception):
    """The bytes are not a mail maildesk can read; the reason is one line."""


@dataclass(frozen=True)
class Address:
    email: str  # lower-cased addr-spec
    name: str = ""

    def __str__(self) -> str:
        return email.utils.formataddr((self.name, self.email)) if self.name else self.email


@dataclass(frozen=True)
class AttachmentPart:
    filename: str  # a plain, safe display name; never a path
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class InboundMail:
    """Everything the pipeline needs to know about one mail, decoded and normalised."""

    message_id: str | None
    subject: str
    from_: tuple[Address, ...]
    from_header_count: int
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    delivered_to: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    date: datetime | None
    text: str
    html: str | None
    attachments: tuple[AttachmentPart, ...]
    headers: tuple[tuple[str, str], ...]  # (lower-case name, decoded value) in order
    return_path: str | None  # None: no header; "": the null sender <>
    content_type: str
    mime_depth: int
    received_count: int

    @property
    def sender(self) -> Address | None:
        """The author, only when there is exactly one From header with exactly one address."""
        if self.from_header_count == 1 and len(self.from_) == 1:
            return self.from_[0]
        return None

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)

    def header_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]

    def recipients(self) -> tuple[Address, ...]:
        return self.to + self.cc + self.delivered_to


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words; a broken encoding is kept as written."""
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return value


def parse_addresses(raw_values: list[str]) -> tuple[Address, ...]:
    """Strict: encoded words are decoded in display names only, never inside an address."""
    found: list[Address] = []
    for name, addr in email.utils.getaddresses([str(v) for v in raw_values]):
        addr = addr.strip()
        if not _ADDR_SPEC.match(addr) or "=?" in addr or addr.count("@") != 1:
            continue
        found.append(Address(email=addr.lower(), name=clean_header(decode_words(name))))
    return tuple(found)


def message_ids(value: str | None) -> tuple[str, ...]:
    return tuple(_MSGID.findall(value or ""))


def mime_depth(message: Message) -> int:
    """Deepest multipart nesting, counted without recursion."""
    deepest, stack = 0, [(message, 1)]
    while stack:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        if part.is_multipart():
            stack.extend((child, depth + 1) for child in part.get_payload())
    return deepest


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """A plain display name: no directories, no controls, no leading dots, ≤ 120 chars."""
    name = clean_header(decode_words(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _SAFE_NAME.sub("_", name).strip(" ._")
    return name[:120] or fallback


def _text_parts(message: Message) -> tuple[list[str], list[str]]:
    """Decoded inline text/plain and text/html bodies, skipping anything attached."""
    plain: list[str] = []
    html: list[str] = []
    stack: list[Message] = [message]
    while stack:
        part = stack.pop()
        if part.get_content_disposition() == "attachment" or (
            part is not message and part.get_filename()
        ):
            continue
        if part.is_multipart():
            stack.extend(reversed(part.get_payload()))
            continue
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        payload = part.get_payload(decode=True) or b""
        text = clean_text(decode_bytes(payload, part.get_content_charset()))
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        (plain if kind == "text/plain" else html).append(text)
    return plain, html


def _attachments(parsed: mailparser.MailParser) -> tuple[AttachmentPart, ...]:
    found = []
    for item in parsed.attachments:
        payload = item["payload"]
        if item["binary"]:
            data = base64.b64decode(payload)
        else:
            data = payload.encode("utf-8", "surrogateescape")
        content_type = clean_header(item.get("mail_content_type") or "application/octet-stream")
        found.append(AttachmentPart(safe_filename(item.get("filename")), content_type[:255], data))
    return tuple(found)


def _headers(message: Message) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name.lower(), clean_header(decode_words(str(value)))) for name, value in message.items()
    )


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _return_path(message: Message) -> str | None:
    value = message.get("Return-Path")
    if value is None:
        return None
    addrs = email.utils.getaddresses([str(value)])
    return addrs[0][1].strip().lower() if addrs else ""


def parse_mail(raw: bytes, *, max_depth: int = 100) -> InboundMail:
    """Parse raw bytes; raise UnparseableMail with a one-line reason when that is impossible."""
    try:
        parsed = mailparser.parse_from_bytes(raw)
    except (MailParserError, RecursionError) as exc:
        raise UnparseableMail(f"cannot parse mail: {exc}") from exc
    message = parsed.message
    if message is None or not message.keys():
        raise UnparseableMail("no mail headers found")
    depth = mime_depth(message)
    if depth > max_depth:
        raise UnparseableMail(f"MIME nesting {depth} deeper than the limit {max_depth}")
    plain, html = _text_parts(message)
    html_text = "\n".join(html) or None
    text = "\n".join(plain) if plain else html_to_text(html_text or "")
    ids = message_ids(message.get("Message-ID"))
    return InboundMail(
        message_id=ids[0] if ids else None,
        subject=clean_header(decode_words(str(message.get("Subject", "")))),
        from_=parse_addresses(message.get_all("From") or []),
        from_header_count=len(message.get_all("From") or []),
        to=parse_addresses(message.get_all("To") or []),
        cc=parse_addresses(message.get_all("Cc") or []),
        delivered_to=parse_addresses(message.get_all("Delivered-To") or []),
        reply_to=parse_addresses(message.get_all("Reply-To") or []),
        in_reply_to=message_ids(str(message.get("In-Reply-To", ""))),
        references=message_ids(" ".join(str(v) for v in message.get_all("References") or [])),
        date=_date(message.get("Date")),
        text=text,
        html=html_text,
        attachments=_attachments(parsed),
        headers=_headers(message),
        return_path=_return_path(message),
        content_type=message.get_content_type(),
        mime_depth=depth,
        received_count=len(message.get_all("Received") or []),
    )
