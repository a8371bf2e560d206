"""Text normalisation shared by parsing and storage: one form on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")


def clean_text(value: str) -> str:
    """Drop NUL bytes and replace lone surrogates with U+FFFD (PostgreSQL rejects both)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return _SURROGATE.sub("\ufffd", value)


def clean_header(value: str) -> str:
    """A decoded header value on one line: CR, LF and other controls become one space."""
    return _CONTROL_IN_HEADER.sub(" ", clean_text(value)).strip()


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode text by its declared charset, else UTF-8, else Windows-1252; never raises."""
    for charset in (declared, "utf-8"):
        if not charset:
            continue
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")
