"""InboundMail: a frozen value parsed from raw bytes with mail-parser; pure, no I/O.

Beside it, the rest of reading mail: `text` (charsets), `htmltext` (HTML to text), `quotes`.
"""

from __future__ import annotations

import binascii
import email.utils
import hashlib
import re
import string
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.feedparser import BytesFeedParser
from email.header import Header, decode_header
from email.message import Message
from email.policy import compat32

import mailparser

from maildesk.addresses import message_ids
from maildesk.mail.htmltext import html_to_text
from maildesk.mail.quotes import strip_quoted
from maildesk.mail.text import clean_header, clean_text, decode_bytes, decode_words

_ATEXT = frozenset(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~.-")
_DOMAIN_ASCII = frozenset(string.ascii_letters + string.digits + ".-")
_MAX_ADDRESS = 254  # RFC 5321: a path is at most 256 octets, angle brackets included
_MAX_NAME = 255
_MAX_REFERENCES = 100  # the newest ones; threading only ever looks at a few
_FOLDING = re.compile(r"\r?\n(?=[ \t])")
_UNSAFE_IN_NAME = frozenset('/\\:*?"<>|')  # path separators and what Windows refuses in names
_NEEDS_QUOTES = re.compile(r'[][\\()<>@,:;".]')  # RFC 5322 specials in a display name
_PRINTABLE = frozenset(string.printable) - frozenset(string.whitespace)
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")
_CHUNK = 1 << 16  # parsing and decoding go slice by slice: no whole-mail copy at once


class UnparseableMail(Exception):
    """The bytes are not a mail maildesk can read; the reason is one line."""


@dataclass(frozen=True)
class Address:
    email: str  # lower-cased addr-spec
    name: str = ""

    def __str__(self) -> str:
        """For people (log lines, reasons): `Name <addr>`, quoted if need be, never encoded."""
        if not self.name:
            return self.email
        name = self.name
        if _NEEDS_QUOTES.search(name):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name} <{self.email}>"


@dataclass(frozen=True)
class AttachmentPart:
    filename: str  # a plain, safe display name; never a path
    content_type: str
    data: bytes = field(repr=False)
    # hex sha256 of `data`, worked out by the parse (in a parse pool, on another core); ""
    # for a part built by hand: the file store works it out
    sha256: str = field(default="", repr=False)


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
    # `text` without quoted history or signature (mail.quotes), cut by the parse so that a
    # parse pool does it on another core; None for a mail built by hand: cut when asked
    replied_text: str | None = field(default=None, repr=False, compare=False)

    @property
    def new_text(self) -> str:
        """What the author newly wrote: `text` without the quoted history or signature."""
        return self.replied_text if self.replied_text is not None else strip_quoted(self.text)

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


def header_text(value: str | Header) -> str:
    """A header value as the sender wrote it, unfolded; raw 8-bit bytes read as UTF-8 or cp1252.

    The stdlib hands out 8-bit header values as `Header` objects whose `str()` is lossy.
    """
    if isinstance(value, Header):
        raw = b"".join(
            chunk if isinstance(chunk, bytes) else chunk.encode("utf-8", "surrogateescape")
            for chunk, _charset in decode_header(value)
        )
        value = decode_bytes(raw, None)
    return _FOLDING.sub("", str(value))


def _usable_address(addr: str) -> bool:
    """An addr-spec with one @, no encoded words, no controls or invisible characters."""
    local, at, domain = addr.rpartition("@")
    if not (local and at and domain) or len(addr) > _MAX_ADDRESS or "=?" in addr:
        return False
    return all(_usable_char(ch, _ATEXT) for ch in local) and all(
        _usable_char(ch, _DOMAIN_ASCII) for ch in domain
    )


def _usable_char(ch: str, ascii_allowed: frozenset[str]) -> bool:
    if ch.isascii():
        return ch in ascii_allowed
    return ch != "\ufffd" and unicodedata.category(ch)[0] not in "CZ"


def parse_addresses(raw_values: list[str]) -> tuple[Address, ...]:
    """Strict: encoded words are decoded in display names only, never inside an address."""
    found: list[Address] = []
    for name, addr in email.utils.getaddresses([str(v) for v in raw_values]):
        addr = addr.strip()
        if not _usable_address(addr):
            continue
        found.append(Address(email=addr.lower(), name=clean_header(decode_words(name))[:_MAX_NAME]))
    return tuple(found)


def _children(part: Message) -> list[Message]:
    payload = part.get_payload() if part.is_multipart() else None
    return [child for child in payload if isinstance(child, Message)] if payload else []


def mime_depth(message: Message) -> int:
    """Deepest multipart nesting, counted without recursion."""
    deepest, stack = 0, [(message, 1)]
    while stack:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in _children(part))
    return deepest


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """A plain display name: no directories, no controls or bidi tricks, no leading dots."""
    name = clean_header(decode_words(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        "_" if ch in _UNSAFE_IN_NAME or (ch != " " and not _usable_char(ch, _PRINTABLE)) else ch
        for ch in name
    )
    name = re.sub(r"_{2,}", "_", name).strip(" ._")
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
            stack.extend(reversed(_children(part)))
            continue
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        text = clean_text(decode_bytes(data, part.get_content_charset()))
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        (plain if kind == "text/plain" else html).append(text)
    return plain, html


def _base64_chunks(payload: str) -> Iterator[bytes]:
    """Lenient base64, a slice at a time: characters outside the alphabet are skipped, bad
    padding is forgiven (a last lone character is dropped, a short group padded)."""
    carry = ""
    for start in range(0, len(payload), _CHUNK):
        cleaned = carry + _NOT_BASE64.sub("", payload[start : start + _CHUNK])
        whole = len(cleaned) - len(cleaned) % 4
        carry = cleaned[whole:]
        yield binascii.a2b_base64(cleaned[:whole])
    if len(carry) > 1:
        yield binascii.a2b_base64(carry + "=" * (-len(carry) % 4))


def _base64(payload: str) -> bytes:
    return b"".join(_base64_chunks(payload))


def _attachments(parsed: mailparser.MailParser) -> tuple[AttachmentPart, ...]:
    found = []
    for item in parsed.attachments:
        payload = item["payload"]
        data = _base64(payload) if item["binary"] else payload.encode("utf-8", "surrogateescape")
        content_type = clean_header(item.get("mail_content_type") or "application/octet-stream")
        name, sha = safe_filename(item.get("filename")), hashlib.sha256(data).hexdigest()
        found.append(AttachmentPart(name, content_type[:255], data, sha))
    return tuple(found)


def _headers(message: Message) -> tuple[tuple[str, str], ...]:
    return tuple(
        (clean_header(name).lower(), clean_header(decode_words(header_text(value))))
        for name, value in message.items()
    )


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _return_path(value: str | None) -> str | None:
    if value is None:
        return None
    addrs = email.utils.getaddresses([value])
    return addrs[0][1].strip().lower() if addrs else ""


def _message(raw: bytes) -> Message:
    """What `email.message_from_bytes` returns, fed a slice at a time: that function holds the
    whole mail as a str and again in a StringIO (four bytes a character), six times its size."""
    parser = BytesFeedParser(policy=compat32)
    view = memoryview(raw)
    for start in range(0, len(view), _CHUNK):
        parser.feed(bytes(view[start : start + _CHUNK]))
    return parser.close()


def _parse(raw: bytes) -> mailparser.MailParser:
    """mail-parser over the stdlib parser; whatever hostile input makes them raise is one line."""
    try:
        return mailparser.MailParser(_message(raw))
    except RecursionError as exc:  # mail-parser turns most of these into its own error
        raise UnparseableMail("cannot parse mail: MIME nesting too deep to parse") from exc
    except Exception as exc:  # a library's bug on odd input still means odd input
        reason = clean_header(str(exc))[:200] or type(exc).__name__
        raise UnparseableMail(f"cannot parse mail: {reason}") from exc


def parse_mail(raw: bytes, *, max_depth: int = 100) -> InboundMail:
    """Parse raw bytes; raise UnparseableMail with a one-line reason when that is impossible."""
    parsed = _parse(raw)
    message = parsed.message
    if message is None or not message.keys():
        raise UnparseableMail("no mail headers found")
    depth = mime_depth(message)
    if depth > max_depth:
        raise UnparseableMail(f"MIME nesting {depth} deeper than the limit {max_depth}")
    return _read(parsed, message, depth)


def _one(message: Message, name: str) -> str | None:
    value = message.get(name)
    return None if value is None else header_text(value)


def _all(message: Message, name: str) -> list[str]:
    return [header_text(v) for v in message.get_all(name) or []]


def _read(parsed: mailparser.MailParser, message: Message, depth: int) -> InboundMail:
    """The value of a mail that has headers and is nested no deeper than allowed."""
    plain, html = _text_parts(message)
    html_text = "\n".join(html) or None
    text = "\n".join(plain) if plain else html_to_text(html_text or "")
    ids = message_ids(_one(message, "Message-ID"))
    return InboundMail(
        message_id=ids[0] if ids else None,
        subject=clean_header(decode_words(_one(message, "Subject") or "")),
        from_=parse_addresses(_all(message, "From")),
        from_header_count=len(_all(message, "From")),
        to=parse_addresses(_all(message, "To")),
        cc=parse_addresses(_all(message, "Cc")),
        delivered_to=parse_addresses(_all(message, "Delivered-To")),
        reply_to=parse_addresses(_all(message, "Reply-To")),
        in_reply_to=message_ids(_one(message, "In-Reply-To")),
        references=message_ids(" ".join(_all(message, "References")))[-_MAX_REFERENCES:],
        date=_date(_one(message, "Date")),
        text=text,
        html=html_text,
        attachments=_attachments(parsed),
        headers=_headers(message),
        return_path=_return_path(_one(message, "Return-Path")),
        content_type=message.get_content_type(),
        mime_depth=depth,
        received_count=len(_all(message, "Received")),
        replied_text=strip_quoted(text),
    )
