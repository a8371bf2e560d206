"""Writing mail archives: mbox entries (the mboxrd flavour) and the names of .eml files. Pure.

mboxrd (the flavour `mutt`, `mailbox` readers and Thunderbird agree on): each mail begins
with a `From <sender> <asctime>` line; a line of the mail that already starts with any number
of `>` and then `From ` gets one more `>`, so a reader that takes one away restores the mail
exactly; lines end in LF; a blank line ends each entry.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_FROM_LINE = re.compile(rb"^(>*From )", re.MULTILINE)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SENDER_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")
NO_SENDER = "MAILER-DAEMON"


def asctime(moment: datetime) -> str:
    """`Tue Dec  1 03:01:00 2026` in UTC, in English whatever the locale."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    day, month = _DAYS[utc.weekday()], _MONTHS[utc.month - 1]
    return f"{day} {month} {utc.day:2d} {utc:%H:%M:%S} {utc.year}"


def from_line(sender: str, moment: datetime) -> bytes:
    """The separator line: the envelope sender (no white space in it) and the time."""
    address = _SENDER_UNSAFE.sub("", sender) or NO_SENDER
    return f"From {address} {asctime(moment)}\n".encode("ascii", "replace")


def mbox_entry(raw: bytes, *, sender: str, moment: datetime) -> bytes:
    """One mail as an mboxrd entry: separator, the mail with LF line ends and `From ` lines
    quoted, a blank line."""
    body = raw.replace(b"\r\n", b"\n")
    body = _FROM_LINE.sub(rb">\1", body)
    if not body.endswith(b"\n"):
        body += b"\n"
    return from_line(sender, moment) + body + b"\n"


def eml_name(position: int, count: int) -> str:
    """The file name of the `position`-th (from 1) of `count` mails: `001.eml`, so that the
    names sort in the order of the mails (at least three digits)."""
    return f"{position:0{max(3, len(str(count)))}d}.eml"
