"""The sender's statements on the outbox: claim due rows under a lease, record sends in bulk.

Pre-built Core statements, a few per chunk of mails rather than several per mail; a sent
row gets the state `outbox.mark_sent` gives it, and `outbox.release` ends a lease early.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from maildesk.mail.text import clean_text
from maildesk.models import OutboxItem
from maildesk.outbound.draft import compose_draft
from maildesk.outbound.outbox import MAX_ERROR_CHARS

_OUTBOX = OutboxItem.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claimed:
    """A due row taken under a lease: what sending it needs, and no session to hold."""

    id: int
    kind: str
    message_id: str
    envelope_from: str
    recipients: tuple[str, ...]
    raw: bytes | None  # None: a draft, composed by the sender (`compose_claimed`)
    spec: dict[str, Any] | None
    leased_until: datetime  # the row is the claimer's until then


@dataclass(frozen=True)
class Sent:
    """A mail the relay accepted; `raw` is stored with it unless the row holds it already."""

    item_id: int
    raw: bytes | None
    note: str | None = None  # recipients the relay refused, if some


_DUE = (
    select(
        _OUTBOX.c.id,
        _OUTBOX.c.kind,
        _OUTBOX.c.message_id,
        _OUTBOX.c.envelope_from,
        _OUTBOX.c.recipients,
        _OUTBOX.c.raw,
        _OUTBOX.c.spec,
    )
    .where(_OUTBOX.c.state == "queued", _OUTBOX.c.next_attempt_at <= bindparam("now"))
    .order_by(_OUTBOX.c.next_attempt_at, _OUTBOX.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_LEASE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(next_attempt_at=bindparam("until"))
)


def claim_rows(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[Claimed]:
    """Up to `limit` due rows, oldest first, pushed `lease` into the future: two statements.

    Claimers never share a row: on PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`
    (another claimer takes the next ones), SQLite's `BEGIN IMMEDIATE` lets one claimer in at
    a time; once committed, the rows are not due until the lease ends.
    """
    rows = session.execute(_DUE, {"now": now, "limit": limit}).all()
    if not rows:
        return []
    until = now + lease
    session.execute(_LEASE, {"ids": [row.id for row in rows], "until": until})
    return [
        Claimed(row.id, row.kind, row.message_id, row.envelope_from, tuple(row.recipients),
                row.raw, row.spec, until)
        for row in rows
    ]  # fmt: skip


def compose_claimed(claimed: Claimed) -> bytes:
    """The row's bytes: as stored, or composed now from its draft (no database needed)."""
    if claimed.raw is not None:
        return claimed.raw
    assert claimed.spec is not None, "an outbox row holds raw bytes or a draft"
    return compose_draft(claimed.spec, message_id=claimed.message_id)


_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("item_id"))
    .values(
        state="sent",
        sent_at=bindparam("now"),
        attempts=_OUTBOX.c.attempts + 1,
        last_error=bindparam("note"),
        raw=func.coalesce(_OUTBOX.c.raw, bindparam("composed")),
    )
)
_PRESENT = select(_OUTBOX.c.id).where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))


def mark_sent_many(session: Session, *, sent: Sequence[Sent], now: datetime) -> set[int]:
    """Delivered, all in one statement (as `outbox.mark_sent` each); the ids still there.

    A row deleted meanwhile is not among the ids returned.
    """
    if not sent:
        return set()
    params = [
        {"item_id": s.item_id, "now": now, "note": _note(s.note), "composed": s.raw} for s in sent
    ]
    ids = [s.item_id for s in sent]
    updated = session.connection().execute(_SENT, params).rowcount
    if updated == len(ids):  # both drivers count the rows of an executemany
        return set(ids)
    return set(session.execute(_PRESENT, {"ids": ids}).scalars())


def _note(note: str | None) -> str | None:
    """As `outbox.mark_sent` keeps it: storable text, at most MAX_ERROR_CHARS."""
    return clean_text(note)[:MAX_ERROR_CHARS] if note else None
