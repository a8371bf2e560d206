"""The row an accepted mail becomes: its dedupe key, its Message-ID and the values stored.

Standard library only: the full accept (services/inbox.py) and the light queue-only accept
of `maildesk ingest --queue` (ingest/pipe_queue.py) both build the row here, so the same
mail gets the same key and the same row whichever way it came in.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from maildesk.addresses import message_ids

# Headers an MTA adds on each delivery; the same mail delivered twice differs only in these.
_TRACE = re.compile(
    rb"^(received|return-path|delivered-to|x-original-to|x-delivered-to|envelope-to)\s*:",
    re.IGNORECASE,
)
_MESSAGE_ID = re.compile(rb"^message-id\s*:\s*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n|$)")  # as bytes.splitlines(keepends=True) cuts


def _body_start(raw: bytes) -> int:
    """Where the mail starts once its leading trace headers (and their folded lines) end."""
    skipping = False
    for line in _LINE.finditer(raw):
        text = line.group()
        if skipping and text[:1] in (b" ", b"\t"):
            continue
        skipping = bool(_TRACE.match(text))
        if not skipping:
            return line.start()
    return len(raw)


def digest_of(raw: bytes) -> str:
    """sha256 of the mail without its leading trace headers, so re-deliveries compare equal.

    Hashed in place: neither the lines nor the rest of the mail are copied.
    """
    return hashlib.sha256(memoryview(raw)[_body_start(raw) :]).hexdigest()


def raw_message_id(raw: bytes) -> str | None:
    """The first Message-ID in the header (up to the first empty line); only that is copied."""
    end = raw.find(b"\r\n\r\n")
    head = raw[:end] if end >= 0 else raw
    end = head.find(b"\n\n")
    match = _MESSAGE_ID.search(head[:end] if end >= 0 else head)
    if not match:
        return None
    ids = message_ids(match.group(1).decode("utf-8", "replace"))
    return ids[0] if ids else None


def received_row(
    raw: bytes,
    *,
    transport: str,
    now: datetime,
    peer: str | None = None,
    envelope_from: str | None = None,
    envelope_to: Sequence[str] = (),
    mailbox: str | None = None,
    uidvalidity: int | None = None,
    uid: int | None = None,
) -> dict[str, Any]:
    """Every column of a new `received` inbox item but its id (models.InboxItem)."""
    return {
        "raw": raw,
        "digest": digest_of(raw),
        "message_id": raw_message_id(raw),
        "size": len(raw),
        "transport": transport,
        "peer": peer,
        "envelope_from": envelope_from,
        "envelope_to": list(envelope_to),
        "imap_mailbox": mailbox,
        "imap_uidvalidity": uidvalidity,
        "imap_uid": uid,
        "state": "received",
        "attempts": 0,
        "received_at": now,
    }
