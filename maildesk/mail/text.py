"""Text normalisation shared by parsing and storage (one form on SQLite and PostgreSQL alike),
and decoding of bytes and RFC 2047 encoded words that never raises."""

from __future__ import annotations

import binascii
import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]+")
# Charsets mail software declares while actually sending UTF-8 (UTF-8 is checked first for them).
_OFTEN_MISLABELLED = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "cp1252"}
_OFTEN_MISLABELLED |= {"windows-1252", "iso-8859-15"}
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")


def clean_text(value: str) -> str:
    """Drop NUL bytes and replace lone surrogates with U+FFFD (PostgreSQL rejects both)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value if value.isascii() else _SURROGATE.sub("\ufffd", value)


def clean_header(value: str) -> str:
    """A decoded header value on one line: CR, LF and other controls become one space."""
    return _CONTROL_IN_HEADER.sub(" ", clean_text(value)).strip()


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode text by its declared charset, else UTF-8, else Windows-1252; never raises.

    Bytes labelled ASCII or Latin-1 that are valid UTF-8 are read as UTF-8: real Latin-1
    text essentially never forms valid multi-byte UTF-8 sequences, mislabelled UTF-8 often does.
    """
    declared = (declared or "").strip().lower() or None
    charsets = [declared, "utf-8"]
    if declared in _OFTEN_MISLABELLED and not data.isascii():
        charsets.reverse()
    for charset in charsets:
        if not charset:
            continue
        try:
            return data.decode(charset)
        except (LookupError, ValueError):  # unknown charset, bad bytes, NUL in the name
            continue
    return data.decode("cp1252", errors="replace")


def _decode_word(charset: str, encoding: str, encoded: str) -> str | None:
    """One RFC 2047 encoded word; None when its base64 is broken beyond repair."""
    charset = charset.partition("*")[0]  # RFC 2231 adds a language: utf-8*en
    if encoding in "Bb":
        encoded = encoded.rstrip("=")
        try:
            data = binascii.a2b_base64(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            return None
    else:
        raw = encoded.replace("_", " ").encode("utf-8", "surrogatepass")  # raw 8-bit: no raise
        data = _QP_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), raw)
    return decode_bytes(data, charset)


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words; a word that cannot be decoded is kept as written.

    Wrong or unknown charsets fall back like bodies do (UTF-8, then Windows-1252); the
    whitespace between two adjacent encoded words is dropped, as RFC 2047 says.
    """
    if "=?" not in value:  # most headers: nothing to decode
        return value
    out: list[str] = []
    position, previous_decoded = 0, False
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        decoded = _decode_word(*match.groups())
        if not (previous_decoded and decoded is not None and not between.strip()):
            out.append(between)
        out.append(match[0] if decoded is None else decoded)
        position, previous_decoded = match.end(), decoded is not None
    out.append(value[position:])
    return "".join(out)
