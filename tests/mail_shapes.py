"""Hypothesis strategies for header-shaped mail: bytes the parser must really read (folded
fields, encoded words, odd charsets, MIME parts), each with what it should read back."""

from __future__ import annotations

import base64
import html
import quopri
import re
import string
from dataclasses import dataclass

from hypothesis import strategies as st

from maildesk.mail import Address
from maildesk.mail.text import clean_header, clean_text

BOUNDARY = "=_shape_{}_="  # "=_" never occurs in quoted-printable or base64, nor in our texts
MISLABELLED = {"us-ascii", "iso-8859-1", "windows-1252"}  # what UTF-8 is often declared as
# (declared charset, the codec the bytes really are in); None: no charset parameter.
CHARSETS = [
    ("utf-8", "utf-8"),
    ("UTF-8", "utf-8"),
    ("us-ascii", "utf-8"),
    ("iso-8859-1", "latin-1"),
    ("windows-1252", "cp1252"),
    ("koi8-r", "koi8-r"),
    ("shift_jis", "shift_jis"),
    ("iso-2022-jp", "iso-2022-jp"),
    ("gb2312", "gb2312"),
    ("utf-16", "utf-16"),
    ("x-bogus", "utf-8"),
    (None, "utf-8"),
]


@dataclass(frozen=True)
class Piece:
    """One word of a header value as written, and as it reads decoded."""

    wire: bytes
    decoded: str | None  # None: raw bytes in no declared charset, so no one right reading
    encoded: bool  # an RFC 2047 word: whitespace between two of them is dropped


@dataclass(frozen=True)
class Shaped:
    """A mail's bytes and what parse_mail should make of them."""

    raw: bytes
    headers: tuple[tuple[str, str | None], ...]  # lower-case name, value read back (None: any)
    sender: Address
    message_id: str
    text: str
    html: str | None
    attachments: tuple[tuple[str, str, bytes], ...]  # filename, content type, data
    depth: int
    content_type: str

    @property
    def subject(self) -> str | None:
        """The first Subject as read back ("" without one; None: no one right reading)."""
        return next((value for name, value in self.headers if name == "subject"), "")


def reading(data: bytes, declared: str | None, codec: str) -> str:
    """How text reads back: in its codec, or as UTF-8 when valid UTF-8 is labelled ASCII/Latin-1."""
    if (declared or "").lower() in MISLABELLED and not data.isascii():
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return data.decode(codec)


def as_stored(text: str) -> str:
    return clean_text(text).replace("\r\n", "\n").replace("\r", "\n")


def q_encoded(data: bytes) -> str:
    return "".join(
        chr(b) if chr(b).isascii() and chr(b).isalnum() else "_" if b == 32 else f"={b:02X}"
        for b in data
    )


# Letters each codec has beyond ASCII (asking Hypothesis for a codec's whole repertoire
# tries every code point: seconds per codec).
BEYOND_ASCII = {
    "latin-1": bytes(range(0x80, 0x100)).decode("latin-1"),
    "cp1252": bytes(range(0x80, 0x100)).decode("cp1252", "ignore"),
    "koi8-r": "Привет мир ЁёЖж",
    "shift_jis": "こんにちは世界カタカナ漢字",
    "iso-2022-jp": "こんにちは世界カタカナ",
    "gb2312": "你好世界中文汉字",
}
ASCII = st.characters(codec="ascii", exclude_characters="\x1b")  # ESC switches ISO-2022 modes


def texts(codec: str, max_size: int = 12) -> st.SearchStrategy[str]:
    if codec in BEYOND_ASCII:
        return st.text(ASCII | st.sampled_from(BEYOND_ASCII[codec]), max_size=max_size)
    return st.text(st.characters(codec="utf-8"), max_size=max_size)  # UTF-8 and UTF-16


@st.composite
def encoded_words(draw: st.DrawFn) -> Piece:
    label, codec = draw(st.sampled_from([("utf-8", "utf-8"), *CHARSETS[2:-1]]))
    label = label or "utf-8"
    declared = draw(st.sampled_from([label, f"{label}*en", label.upper()]))  # *en: RFC 2231
    data = draw(texts(codec)).encode(codec)
    if draw(st.booleans()):
        word = f"=?{declared}?b?{base64.b64encode(data).decode()}?="
    else:
        word = f"=?{declared}?q?{q_encoded(data)}?="
    return Piece(word.encode(), reading(data, declared.partition("*")[0], codec), True)


WORD_CHARACTERS = st.characters(categories=["L", "N", "P", "S"], exclude_characters="=?")
ASCII_WORD_CHARACTERS = st.characters(
    codec="ascii", categories=["L", "N", "P", "S"], exclude_characters="=?"
)
PIECES = st.one_of(
    st.text(ASCII_WORD_CHARACTERS, min_size=1, max_size=12).map(
        lambda w: Piece(w.encode(), w, False)
    ),
    st.text(WORD_CHARACTERS, min_size=1, max_size=8).map(
        lambda w: Piece(w.encode(), w, False)  # raw UTF-8, as many clients send it
    ),
    encoded_words(),
    st.binary(min_size=1, max_size=8).map(
        lambda b: Piece(b.replace(b"\r", b"~").replace(b"\n", b"~"), None, False)
    ),
)


@st.composite
def field_values(draw: st.DrawFn, end: str) -> tuple[bytes, str | None]:
    """A value of words, some folded onto continuation lines; and the value read back."""
    pieces = draw(st.lists(PIECES, min_size=1, max_size=5))
    spaces = [draw(st.sampled_from([" ", "\t", "  ", f"{end} ", f"{end}\t"])) for _ in pieces]
    wire = pieces[0].wire + b"".join(
        space.encode() + piece.wire for space, piece in zip(spaces, pieces[1:], strict=False)
    )
    if any(piece.decoded is None for piece in pieces):
        return wire, None
    read = pieces[0].decoded or ""
    for space, before, piece in zip(spaces, pieces, pieces[1:], strict=False):
        joined = before.encoded and piece.encoded  # RFC 2047: the space between is dropped
        gap = "" if joined else space.replace("\r", "").replace("\n", "")  # unfolded
        read += gap + (piece.decoded or "")
    return wire, clean_header(read)


ALNUM = st.text(st.sampled_from(string.ascii_letters + string.digits), min_size=1, max_size=8)
LOWER = st.text(st.sampled_from(string.ascii_lowercase + string.digits), min_size=1, max_size=8)
FIELD_NAMES = "Subject To Cc Reply-To Comments Keywords Date Received In-Reply-To References"
FREE_NAMES = st.sampled_from(FIELD_NAMES.split()).flatmap(
    lambda name: st.sampled_from([name, name.upper(), name.lower()])
) | st.builds("X-{}-{}".format, ALNUM, ALNUM)
LOCALS = st.builds("{}{}{}".format, ALNUM, st.sampled_from(["", ".", "_", "+", "-"]), ALNUM)
DOMAINS = st.builds("{}.{}".format, LOWER, st.sampled_from(["example", "test"]))
NAMES = st.lists(LOWER.map(str.capitalize), min_size=1, max_size=2).map(" ".join)


@st.composite
def sender_fields(draw: st.DrawFn) -> tuple[bytes, str, Address]:
    """A From field with a plain or encoded display name: bytes, value read back, sender."""
    address = f"{draw(LOCALS)}@{draw(DOMAINS)}"
    if draw(st.booleans()):
        name = draw(NAMES)
        wire = name
    else:
        name = draw(st.text(st.characters(codec="utf-8"), min_size=1, max_size=12))
        wire = f"=?utf-8?b?{base64.b64encode(name.encode()).decode()}?="
    value = clean_header(f"{name} <{address}>")
    return f"{wire} <{address}>".encode(), value, Address(address.lower(), clean_header(name))


@dataclass(frozen=True)
class Part:
    """A MIME part: its header fields and its body, transfer-encoded."""

    fields: tuple[tuple[str, str], ...]
    body: bytes

    def written(self, end: str) -> bytes:
        head = "".join(f"{name}: {value}{end}" for name, value in self.fields)
        return head.encode() + end.encode() + self.body


def soft_wrapped(line: bytes, end: str) -> bytes:
    """One line quoted-printable, wrapped with soft line breaks ending as the mail's lines do."""
    return quopri.encodestring(line).replace(b"\n", end.encode())


def transfer_encoded(data: bytes, encoding: str, end: str) -> bytes:
    if encoding == "base64":
        return base64.encodebytes(data).replace(b"\n", end.encode())
    if encoding == "quoted-printable":  # each line on its own: a bare CR is a line break too
        lines = re.split(rb"\r\n|\r|\n", data)
        return end.encode().join(soft_wrapped(line, end) for line in lines)
    return data  # 7bit, 8bit: as written, line breaks and all


@st.composite
def text_parts(draw: st.DrawFn, end: str, subtype: str) -> tuple[Part, str]:
    """A text/plain or text/html part in some charset and transfer encoding; its text read back."""
    declared, codec = draw(st.sampled_from(CHARSETS))
    # A CR ending a part would join the line break before the next boundary: not text then.
    text = draw(texts(codec, max_size=80).filter(lambda t: "=_" not in t and t[-1:] != "\r"))
    text = f"<p>{html.escape(text)}</p>" if subtype == "html" else text
    data = text.encode(codec)
    encodings = ["base64"] if codec == "utf-16" else ["base64", "quoted-printable", "8bit"]
    encoding = draw(st.sampled_from([*encodings, "7bit"] if data.isascii() else encodings))
    content_type = f"text/{subtype}"
    if declared is not None:
        content_type += draw(st.sampled_from([f"; charset={declared}", f'; charset="{declared}"']))
    fields = [("Content-Type", content_type), ("Content-Transfer-Encoding", encoding)]
    part = Part(tuple(fields), transfer_encoded(data, encoding, end))
    return part, as_stored(reading(data, declared, codec))


@st.composite
def attachment_parts(draw: st.DrawFn, end: str) -> tuple[Part, tuple[str, str, bytes]]:
    name = draw(st.builds("{}{}{}.{}".format, ALNUM, st.sampled_from(["", "_", "-"]), ALNUM, LOWER))
    content_type = draw(st.sampled_from(["application/octet-stream", "image/png", "text/csv"]))
    data = draw(st.binary(max_size=64))
    disposition = draw(st.sampled_from([f'filename="{name}"', f"filename*=utf-8''{name}"]))
    fields = (
        ("Content-Type", f'{content_type}; name="{name}"'),
        ("Content-Disposition", f"attachment; {disposition}"),
        ("Content-Transfer-Encoding", "base64"),
    )
    return Part(fields, transfer_encoded(data, "base64", end)), (name, content_type, data)


def multipart(subtype: str, parts: list[Part], end: str, level: int) -> Part:
    boundary = BOUNDARY.format(level)
    delimiter = f"--{boundary}{end}".encode()
    body = b"".join(delimiter + part.written(end) + end.encode() for part in parts)
    content_type = f'multipart/{subtype}; boundary="{boundary}"'
    return Part((("Content-Type", content_type),), body + f"--{boundary}--{end}".encode())


@dataclass(frozen=True)
class Body:
    root: Part  # its fields go among the mail's own header fields
    text: str
    html: str | None
    attachments: tuple[tuple[str, str, bytes], ...]
    depth: int


@st.composite
def bodies(draw: st.DrawFn, end: str) -> Body:
    """Text alone, text and HTML as alternatives, either with attachments beside them."""
    root, text = draw(text_parts(end, "plain"))
    html_text, depth = None, 1
    if draw(st.booleans()):
        html_part, html_text = draw(text_parts(end, "html"))
        root, depth = multipart("alternative", [root, html_part], end, level=1), 2
    attached = draw(st.lists(attachment_parts(end), max_size=2))
    if attached:
        parts = [root, *(part for part, _ in attached)]
        root, depth = multipart("mixed", parts, end, level=0), depth + 1
    return Body(root, text, html_text, tuple(expected for _, expected in attached), depth)


@st.composite
def shaped_mails(draw: st.DrawFn) -> Shaped:
    """A whole mail: From, Message-ID, MIME fields and free fields in any order, then a body."""
    end = draw(st.sampled_from(["\r\n", "\n"]))
    from_wire, from_value, sender = draw(sender_fields())
    message_id = f"{draw(LOCALS)}.{draw(st.integers(0, 10**9))}@{draw(DOMAINS)}"
    body = draw(bodies(end))
    structure = [("MIME-Version", "1.0"), *body.root.fields, ("Message-ID", f"<{message_id}>")]
    fields: list[tuple[str, bytes, str | None]] = [("From", from_wire, from_value)]
    fields += [(name, value.encode(), clean_header(value)) for name, value in structure]
    for name in draw(st.lists(FREE_NAMES, max_size=4)):
        fields.append((name, *draw(field_values(end))))
    fields = draw(st.permutations(fields))
    head = b"".join(name.encode() + b": " + wire + end.encode() for name, wire, _ in fields)
    return Shaped(
        raw=head + end.encode() + body.root.body,
        headers=tuple((name.lower(), value) for name, _, value in fields),
        sender=sender,
        message_id=message_id,
        text=body.text,
        html=body.html,
        attachments=body.attachments,
        depth=body.depth,
        content_type=body.root.fields[0][1].partition(";")[0],
    )


# Fields that have broken parsers: no or empty boundaries, NUL and 8-bit bytes in parameters,
# broken encoded words, impossible dates, overlong ids, a continuation with no field before it.
HOSTILE_FIELDS = [
    b"Content-Type: multipart/mixed",
    b'Content-Type: multipart/alternative; boundary=""',
    b'Content-Type: multipart/mixed; boundary="=_shape_0_="',
    b"Content-Type: message/rfc822",
    b'Content-Type: text/plain; charset="utf-8\x00x"',
    b"Content-Type: text/html; charset=x-\xff\xfe",
    b"Content-Type: text/plain; charset*=utf-8''%ff",
    b"Content-Transfer-Encoding: base64",
    b"Content-Transfer-Encoding: x-uuencode",
    b"Content-Transfer-Encoding: quoted-printable",
    b"Content-Disposition: attachment; filename*=utf-8''%ff%fe%00..%2F",
    b'Content-Disposition: inline; filename="=?utf-8?b?Li4vZXRjL3Bhc3N3ZA==?="',
    b"Subject: =?utf-8?b?====?= =?unknown-8bit?q?=FF?=",
    b'From: =?utf-8?q?a=0D=0Ab?= <@>, "x" <a@@b>',
    b"From: carol@acme.test",
    b"Date: Mon, 99 Foo 99999 99:99:99 +9999",
    b"Message-ID: <" + b"x" * 1200 + b">",
    b"References: " + b"<a@b> " * 300,
    b"\tcontinuation without a field",
    b"MIME-Version: 1.0 (\xff\x00)",
    b"X-Long: " + b"a" * 5000,
    b"Return-Path: <>",
]


@st.composite
def damaged_mails(draw: st.DrawFn) -> bytes:
    """A header-shaped mail with hostile fields put in, bytes changed or its end cut off.

    Bytes change and cuts happen after the first line: a mail whose very first line is broken
    stops at "no mail headers found", which one example test covers.
    """
    raw = draw(shaped_mails()).raw
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["byte", "field", "field", "cut"]))
        first_line = raw.find(b"\n") + 1
        position = draw(st.integers(first_line, max(first_line, len(raw) - 1)))
        if kind == "byte":
            raw = raw[:position] + bytes([draw(st.integers(0, 255))]) + raw[position + 1 :]
        elif kind == "field":
            start = raw.rfind(b"\n", 0, position) + 1  # a line's start, in the head or a body
            raw = raw[:start] + draw(st.sampled_from(HOSTILE_FIELDS)) + b"\r\n" + raw[start:]
        else:
            raw = raw[:position]
    return raw
