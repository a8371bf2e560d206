"""Bulk import transport: raw messages out of an mbox file or a Maildir folder. No policy.

A mail without a Date header gets the one its mailbox knows — the date of its mbox `From `
line, else (Maildir) the file's time — so that every imported mail carries its own time.
The same file gives the same bytes on every run, so a second import is all duplicates.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from maildesk.errors import InvalidInput

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_DATE = re.compile(rb"^date:", re.IGNORECASE | re.MULTILINE)
_ASCTIME = "%a %b %d %H:%M:%S %Y"


def has_date(raw: bytes) -> bool:
    end = _HEADER_END.search(raw)
    return _DATE.search(raw[: end.start() if end else len(raw)]) is not None


def with_date(raw: bytes, when: datetime | None) -> bytes:
    """The mail as it is, or with a Date header of `when` in front when it has none."""
    if when is None or has_date(raw):
        return raw
    newline = b"\r\n" if b"\r\n" in raw[:1000] else b"\n"
    return b"Date: " + format_datetime(when).encode() + newline + raw


def from_line_date(line: str) -> datetime | None:
    """The time of an mbox `From sender Mon Jan  1 00:00:00 2024` line (UTC), if it says one."""
    words = line.split()
    for start in range(2, len(words)):
        try:
            return datetime.strptime(" ".join(words[start : start + 5]), _ASCTIME).replace(
                tzinfo=UTC
            )
        except ValueError:
            continue
    return None


def _mbox_messages(path: Path) -> Iterator[bytes]:
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            whole = box.get_bytes(key, from_=True)
            first, _, raw = whole.partition(b"\n")
            yield with_date(raw, from_line_date(first.decode("latin-1")))
    finally:
        box.close()


def _maildir_messages(path: Path) -> Iterator[bytes]:
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in sorted(box.iterkeys()):
        raw = box.get_bytes(key)
        if has_date(raw):
            yield raw
        else:
            delivered = datetime.fromtimestamp(box.get_message(key).get_date(), UTC)
            yield with_date(raw, delivered)


def count_messages(kind: str, path: Path) -> int:
    box = (
        mailbox.mbox(path, create=False) if kind == "mbox" else mailbox.Maildir(path, create=False)
    )
    try:
        return len(box)
    finally:
        box.close()


def read_messages(kind: str, path: Path) -> Iterator[bytes]:
    """Each message's raw bytes, in file (mbox) or name (Maildir) order."""
    if kind == "mbox":
        if not path.is_file():
            raise InvalidInput(f"not an mbox file: {path}")
        return _mbox_messages(path)
    if not (path / "cur").is_dir() and not (path / "new").is_dir():
        raise InvalidInput(f"not a Maildir folder (no cur/ or new/): {path}")
    return _maildir_messages(path)
