"""Inbox items: raw mail stored on accept, deduplicated, then claimed and settled by workers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from maildesk.db import Prepared, adopt, load_one, prepared_insert_unless_taken, write_at_commit
from maildesk.errors import InvalidInput, NotFound
from maildesk.inbox_row import received_row
from maildesk.models import InboxItem
from maildesk.services.origin import Origin

SETTLED_STATES = ("processed", "dropped", "rejected")
REVIEW_STATES = ("held", "failed")


@dataclass(frozen=True)
class Stored:
    item_id: int
    duplicate: bool


NO_RAW = defer(InboxItem.raw)  # type: ignore[arg-type]  # the class attribute, not a value
"""A query option: the item without its raw bytes (read from the row only when asked for)."""


def _existing(session: Session, digest: str, origin: Origin) -> InboxItem | None:
    found = session.exec(
        select(InboxItem).options(NO_RAW).where(InboxItem.digest == digest)
    ).first()
    if found is None and origin.uid is not None:
        found = session.exec(
            select(InboxItem)
            .options(NO_RAW)
            .where(
                InboxItem.imap_mailbox == origin.mailbox,
                InboxItem.imap_uidvalidity == origin.uidvalidity,
                InboxItem.imap_uid == origin.uid,
            )
        ).first()
    return found


_INBOX = InboxItem.__table__  # type: ignore[attr-defined]


def _row(raw: bytes, origin: Origin, now: datetime) -> dict[str, Any]:
    return received_row(
        raw,
        transport=origin.transport,
        now=now,
        peer=origin.peer,
        envelope_from=origin.envelope_from,
        envelope_to=origin.envelope_to,
        mailbox=origin.mailbox,
        uidvalidity=origin.uidvalidity,
        uid=origin.uid,
    )


def store_raw(session: Session, *, raw: bytes, origin: Origin, now: datetime) -> Stored:
    """Store raw bytes as a `received` item, or name the item that already holds them.

    One INSERT … ON CONFLICT DO NOTHING RETURNING id: a conflict on the digest or on the
    IMAP key (mailbox, uidvalidity, uid) means these bytes are stored already.
    """
    row = _row(raw, origin, now)
    statement = prepared_insert_unless_taken(session, _INBOX, _INBOX.c.id)  # digest or IMAP key
    new_id = statement.execute(session, row).scalar()
    _unbind_raw(session, statement, row)
    if new_id is not None:
        return Stored(new_id, duplicate=False)
    existing = _existing(session, row["digest"], origin)
    if existing is None or existing.id is None:
        raise RuntimeError("the inbox insert conflicted, yet no item holds these bytes")
    return Stored(existing.id, duplicate=True)


_UNBIND_ABOVE = 1024 * 1024


def _unbind_raw(session: Session, statement: Prepared, row: dict[str, Any]) -> None:
    """SQLite: let the cached INSERT forget a large mail's bytes.

    Python's sqlite3 keeps each connection's prepared statements with their last bound
    values, so every pooled connection would hold the last large mail it stored (20 MB
    each) for the daemon's life. The same INSERT again, with the same digest and no bytes,
    inserts nothing (the digest is taken) and binds an empty value instead.
    """
    if len(row["raw"]) > _UNBIND_ABOVE and session.get_bind().dialect.name == "sqlite":
        statement.execute(session, {**row, "raw": b""})


def claim_item(session: Session, *, item_id: int | None = None) -> InboxItem | None:
    """Lock one `received` item for processing (the given one, else the oldest).

    PostgreSQL: FOR UPDATE SKIP LOCKED, so processes never share an item. SQLite: every
    transaction begins IMMEDIATE, so the state read here is already serialised.
    """
    if item_id is None:
        return session.exec(_CLAIM_OLDEST).first()
    return session.exec(_CLAIM_ONE, params={"item_id": item_id}).first()


_CLAIM_OLDEST = (
    select(InboxItem)
    .where(InboxItem.state == "received")
    .order_by(col(InboxItem.id))
    .limit(1)
    .with_for_update(skip_locked=True)
)
_CLAIM_ONE = (
    select(InboxItem)
    .where(InboxItem.state == "received", InboxItem.id == bindparam("item_id"))
    .with_for_update(skip_locked=True)
)


def received_sizes(session: Session, *, limit: int) -> list[tuple[int, int]]:
    """(id, size) of the oldest `received` items not locked by another worker; no raw bytes."""
    rows = session.execute(_WAITING, {"limit": limit}).all()
    return [(item_id, size) for item_id, size in rows]


_WAITING = (
    select(col(InboxItem.id), col(InboxItem.size))
    .where(InboxItem.state == "received")
    .order_by(col(InboxItem.id))
    .limit(bindparam("limit"))
)


def claim_items(
    session: Session, *, limit: int, item_ids: Sequence[int] | None = None
) -> list[tuple[int, int]]:
    """Lock up to `limit` `received` items (among the given ones, else the oldest); their
    (id, size) in id order, the order one-by-one processing takes them in. Locked as
    `claim_item` locks."""
    query = _CLAIM_IDS if item_ids is None else _CLAIM_IDS.where(col(InboxItem.id).in_(item_ids))
    return [(item_id, size) for item_id, size in session.execute(query.limit(limit))]


_CLAIM_IDS = (
    select(_INBOX.c.id, _INBOX.c.size)
    .where(InboxItem.state == "received")
    .order_by(col(InboxItem.id))
    .with_for_update(skip_locked=True)
)


def read_items(session: Session, claimed: Sequence[tuple[int, int]], budget: int) -> Items:
    """The rows of the first claimed items whose sizes add up to at most `budget` bytes, raw
    bytes included, in one statement (a batch's mails, not one SELECT a mail); those after
    them are read one by one (`load_item`), so a batch holds at most that much at once."""
    ids: list[int] = []
    for item_id, size in claimed:
        budget -= size
        if budget < 0:
            break
        ids.append(item_id)
    if not ids:
        return {}
    rows = session.execute(sa_select(_INBOX).where(_INBOX.c.id.in_(ids)))
    return {row.id: dict(row._mapping) for row in rows}


Items = dict[int, dict[str, Any]]  # item id: its row, as `read_items` read it


_SETTLED_FIELDS = ("state", "outcome", "reason", "ticket_id", "error", "processed_at", "attempts")


def settle(
    session: Session,
    *,
    item: InboxItem,
    state: str,
    outcome: str,
    reason: str | None,
    ticket_id: int | None,
    now: datetime,
    error: str | None = None,
    at_commit: bool = False,
) -> None:
    """Record how processing ended with a pre-built UPDATE (no ORM flush): at once, or as the
    unit of work commits (`at_commit`: a batch's mails in one statement; nothing reads an
    item's state inside the transaction that settles it)."""
    values = {
        "state": state,
        "outcome": outcome,
        "reason": reason,
        "ticket_id": ticket_id,
        "error": error,
        "processed_at": now,
        "attempts": item.attempts + 1,
    }
    row = {"item_id": item.id, **{f"new_{k}": v for k, v in values.items()}}
    if at_commit:
        write_at_commit(session, _SETTLE, row)
    else:
        _SETTLE.execute(session, row)
    for name, value in values.items():
        set_committed_value(item, name, value)


_SETTLE = Prepared(
    update(_INBOX)
    .where(_INBOX.c.id == bindparam("item_id"))
    .values({name: bindparam(f"new_{name}") for name in _SETTLED_FIELDS})
)


_ITEM = Prepared(sa_select(_INBOX).where(_INBOX.c.id == bindparam("item_id")))


def load_item(session: Session, item_id: int, read: Items | None = None) -> InboxItem | None:
    """`session.get(InboxItem, item_id)` with its raw bytes, read without the ORM's loading
    steps; from `read` (`read_items`) when it holds the row, which it gives up."""
    row = read.pop(item_id, None) if read is not None else None
    if row is not None:
        return adopt(session, InboxItem, row)
    return load_one(session, InboxItem, _ITEM, {"item_id": item_id})


def get_item(session: Session, *, item_id: int) -> InboxItem:
    item = session.get(InboxItem, item_id, options=[NO_RAW])  # `item.raw` reads it, if asked
    if item is None:
        raise NotFound(f"no inbox item {item_id}")
    return item


def list_items(session: Session, *, states: tuple[str, ...], limit: int = 500) -> list[InboxItem]:
    query = select(InboxItem).options(NO_RAW).where(col(InboxItem.state).in_(states))
    return list(session.exec(query.order_by(col(InboxItem.id)).limit(limit)))


def requeue(session: Session, *, item_id: int) -> InboxItem:
    """Put a held or failed item back in line for processing."""
    item = get_item(session, item_id=item_id)
    if item.state not in REVIEW_STATES:
        raise InvalidInput(
            f"inbox item {item_id} is {item.state}; only held or failed items requeue"
        )
    session.execute(
        update(InboxItem).where(col(InboxItem.id) == item_id).values(state="received", error=None)
    )
    session.refresh(item)
    return item


def discard(session: Session, *, item_id: int, now: datetime, reason: str) -> InboxItem:
    """Give up on a held or failed item: kept as dropped, a failure's traceback kept with it."""
    item = get_item(session, item_id=item_id)
    if item.state not in REVIEW_STATES:
        raise InvalidInput(
            f"inbox item {item_id} is {item.state}; only held or failed items discard"
        )
    settle(
        session,
        item=item,
        state="dropped",
        outcome="dropped",
        reason=reason,
        ticket_id=item.ticket_id,
        now=now,
        error=item.error,
    )
    return item
