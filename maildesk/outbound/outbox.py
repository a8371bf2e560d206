"""The outbox: outbound mail rows written with the change that caused them, retried, bounced.

Nothing here sends; `maildesk.sender` takes due rows and reports back with mark_*.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, func, select

from maildesk.addresses import new_message_id
from maildesk.db import Prepared, as_loaded, model_row
from maildesk.errors import InvalidInput, NotFound
from maildesk.mail.text import clean_text
from maildesk.models import OutboxItem
from maildesk.outbound.bounces import Bounce
from maildesk.outbound.draft import Draft, compose_draft

STATES = ("queued", "sent", "failed")
_TABLE = OutboxItem.__table__  # type: ignore[attr-defined]
_INSERT = Prepared(insert(_TABLE).returning(_TABLE.c.id))
_INSERT_MANY = insert(_TABLE)
_COLUMNS = tuple(column.name for column in _TABLE.c if column.name != "id")
_INSERTS_OF: dict[int, Prepared] = {}  # rows in one VALUES list → its statement
ROWS_A_STATEMENT = 100  # well under the drivers' limits on parameters (14 a row)
_DEFERRED = "deferred outbox rows"  # session.info key: rows `write_together` writes at its end
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class Backoff:
    """Retry schedule in the spirit of RFC 5321 §4.5.4: soon, then hourly, give up after days.

    The give-up point counts scheduled waits, not wall-clock time, so a desk that was down
    for a day still tries a mail before failing it, and `retry` gives a fresh schedule.
    """

    first: timedelta = timedelta(minutes=1)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(days=4)
    max_attempts: int | None = None

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1, 2, 4 … minutes, at most `cap`)."""
        exponent = min(max(attempts - 1, 0), 64)
        seconds = self.first.total_seconds() * self.factor**exponent
        return timedelta(seconds=min(seconds, self.cap.total_seconds()))

    def exhausted(self, attempts: int) -> bool:
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return True
        waited = sum((self.delay(n) for n in range(1, attempts + 1)), timedelta())
        return waited >= self.give_up_after


DEFAULT_BACKOFF = Backoff()


def draft_row(draft: Draft, *, ticket_id: int | None, now: datetime) -> dict[str, Any]:
    """The outbox row of a draft under a new Message-ID, due now: what `OutboxItem(...)` with
    these fields would `model_dump` (without its id), built without the model.

    Automatic mail has exactly one recipient (its rate key).
    """
    recipients = draft.recipient_addresses
    if not recipients:
        raise ValueError("an outbound mail needs at least one recipient")
    if draft.automatic and len(recipients) != 1:
        raise ValueError("automatic mail goes to exactly one recipient (its rate key)")
    return model_row(
        OutboxItem,
        ticket_id=ticket_id,
        kind=draft.kind,
        message_id=new_message_id(draft.desk.domain),
        envelope_from=draft.envelope_sender,
        recipients=list(recipients),
        raw=None,
        spec=draft.to_json(),
        automatic=draft.automatic,
        rate_key=recipients[0].lower() if draft.automatic else None,
        next_attempt_at=now,
        created_at=now,
    )


def enqueue_drafts(
    session: Session, *, drafts: Sequence[Draft], ticket_id: int | None, now: datetime
) -> list[dict[str, Any]]:
    """Queue drafts in one statement (one notice to each of several agents); the sender
    composes them. Returns their rows in order, each with its `id` unless `write_together`
    defers the writing."""
    rows = [draft_row(draft, ticket_id=ticket_id, now=now) for draft in drafts]
    deferred: list[dict[str, Any]] | None = session.info.get(_DEFERRED)
    if not rows:
        return rows
    if deferred is not None:
        deferred.extend(rows)  # written with the others when `write_together` ends; no id
        return rows
    if len(rows) == 1:  # written at once, not left to a flush
        return [rows[0] | {"id": _INSERT.execute(session, rows[0]).scalar_one()}]
    written: list[dict[str, Any]] = []
    for start in range(0, len(rows), ROWS_A_STATEMENT):
        written += _insert_rows(session, rows[start : start + ROWS_A_STATEMENT])
    return written


def _insert_rows(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows in one INSERT, each with its id. RETURNING may list the rows in any order
    (SQLAlchemy, asked to keep the order, sends SQLite one INSERT a row): each id is
    matched to its row by the row's Message-ID, new and so unique (else: one INSERT a row)."""
    if len({row["message_id"] for row in rows}) < len(rows):
        return [row | {"id": _INSERT.execute(session, row).scalar_one()} for row in rows]
    params = {f"{key}_{i}": value for i, row in enumerate(rows) for key, value in row.items()}
    written = _insert_of(len(rows)).execute(session, params).rows
    ids = {message_id: id_ for id_, message_id in written}
    return [row | {"id": ids[row["message_id"]]} for row in rows]


def _insert_of(count: int) -> Prepared:
    """The INSERT of `count` rows in one VALUES list, returning their ids and Message-IDs."""
    if count not in _INSERTS_OF:
        values = [
            {name: bindparam(f"{name}_{i}", type_=_TABLE.c[name].type) for name in _COLUMNS}
            for i in range(count)
        ]
        returning = (_TABLE.c.id, _TABLE.c.message_id)
        _INSERTS_OF[count] = Prepared(insert(_TABLE).values(values).returning(*returning))
    return _INSERTS_OF[count]


def enqueue_draft(
    session: Session, *, draft: Draft, ticket_id: int | None, now: datetime
) -> OutboxItem:
    """Queue one draft; the returned object has its id (unless deferred), not in the session."""
    [row] = enqueue_drafts(session, drafts=[draft], ticket_id=ticket_id, now=now)
    return as_loaded(OutboxItem, row if "id" in row else {**row, "id": None})


@contextmanager
def write_together(session: Session) -> Iterator[None]:
    """Mail queued inside this block is written in one statement when it ends, not row by row
    (a sweep that queues a thousand notices). The rows it returns carry no id."""
    if _DEFERRED in session.info:
        yield
        return
    rows: list[dict[str, Any]] = []
    session.info[_DEFERRED] = rows
    try:
        yield
    finally:
        session.info.pop(_DEFERRED, None)
    if rows:
        session.connection().execute(_INSERT_MANY, rows)


def raw_of(item: OutboxItem) -> bytes:
    """The mail's bytes: as sent, or composed now from its draft."""
    if item.raw is not None:
        return item.raw
    assert item.spec is not None, "an outbox row holds raw bytes or a draft"
    return compose_draft(item.spec, message_id=item.message_id)


def auto_reply_allowed(
    session: Session, *, recipient: str, now: datetime, limit_per_hour: int = 5
) -> bool:
    """False once `recipient` got `limit_per_hour` automatic mails in the last hour."""
    params = {"rate_key": recipient.lower(), "since": now - timedelta(hours=1)}
    count: int = _RECENT_AUTOMATIC.execute(session, params).scalar_one()
    return count < limit_per_hour


def sent_recently(session: Session, *, kind: str, recipient: str, since: datetime) -> int:
    """Automatic mails of this kind queued for `recipient` since then."""
    params = {"kind": kind, "rate_key": recipient.lower(), "since": since}
    count: int = session.exec(_RECENT_OF_KIND, params=params).one()
    return count


_RECENT_OF_KIND = (
    select(func.count())
    .select_from(OutboxItem)
    .where(
        OutboxItem.kind == bindparam("kind"),
        OutboxItem.rate_key == bindparam("rate_key"),
        OutboxItem.created_at > bindparam("since"),
    )
)

_RECENT_AUTOMATIC = Prepared(
    select(func.count())
    .select_from(OutboxItem)
    .where(
        col(OutboxItem.automatic).is_(True),
        OutboxItem.rate_key == bindparam("rate_key"),
        OutboxItem.created_at > bindparam("since"),
    )
)


def release(
    session: Session, *, item_ids: list[int], leased_until: datetime, now: datetime
) -> None:
    """Claimed rows left unsent: due again now, unless another worker holds them by now."""
    if item_ids:
        session.execute(_RELEASE, {"ids": item_ids, "leased_until": leased_until, "now": now})


_OUTBOX = OutboxItem.__table__  # type: ignore[attr-defined]
_RELEASE = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id.in_(bindparam("ids", expanding=True)),
        _OUTBOX.c.state == "queued",
        _OUTBOX.c.next_attempt_at == bindparam("leased_until"),
    )
    .values(next_attempt_at=bindparam("now"))
)


def _error_text(answer: str) -> str:
    """A relay's answer as storable text: aiosmtplib keeps undecodable bytes as surrogates."""
    return clean_text(answer)[:MAX_ERROR_CHARS]


def mark_sent(item: OutboxItem, *, now: datetime, note: str | None = None) -> None:
    """Delivered; `note` keeps what the relay refused of several recipients, if anything."""
    item.state = "sent"
    item.sent_at = now
    item.attempts += 1
    item.last_error = _error_text(note) if note else None


def mark_retry(
    item: OutboxItem, *, error: str, now: datetime, backoff: Backoff = DEFAULT_BACKOFF
) -> None:
    """A temporary failure: try again after the backoff, or fail once the schedule is spent."""
    item.attempts += 1
    if backoff.exhausted(item.attempts):
        mark_failed(item, error=f"gave up after {item.attempts} attempts: {error}")
        return
    item.last_error = _error_text(error)
    item.next_attempt_at = now + backoff.delay(item.attempts)


def mark_failed(item: OutboxItem, *, error: str, attempt: bool = False) -> None:
    """A permanent failure (5xx, a bounce, retries spent); `attempt` counts a send just made."""
    item.state = "failed"
    item.attempts += 1 if attempt else 0
    item.last_error = _error_text(error)


def list_items(
    session: Session, *, state: str | None = None, limit: int | None = None
) -> list[OutboxItem]:
    """Oldest first, as a queue is worked off; optionally only one state."""
    if state is not None and state not in STATES:
        raise InvalidInput(f"unknown outbox state {state!r} (use {', '.join(STATES)})")
    statement = select(OutboxItem).order_by(col(OutboxItem.id))
    if state is not None:
        statement = statement.where(OutboxItem.state == state)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement))


def retry(session: Session, *, item_id: int, now: datetime) -> OutboxItem:
    """Put a failed row back in the queue, due now, with a fresh retry schedule."""
    item = session.get(OutboxItem, item_id)
    if item is None:
        raise NotFound(f"no outbox item {item_id}")
    if item.state != "failed":
        raise InvalidInput(f"outbox item {item_id} is {item.state}; only failed items are retried")
    item.state = "queued"
    item.attempts = 0
    item.next_attempt_at = now
    session.add(item)
    return item


def match_bounce(session: Session, *, bounce: Bounce | None) -> OutboxItem | None:
    """The outbox row a DSN is about; marked failed with the DSN's diagnostic if it failed.

    The pipeline calls this for automatic mail (DSNs come to `<local>+bounces@`) with the
    report its automatic stage parsed; a row returned says which ticket the bounce belongs to.
    Never answer a bounce.
    """
    if bounce is None or not bounce.message_ids:
        return None
    for candidate in bounce.message_ids:
        item = session.exec(
            select(OutboxItem)
            .where(OutboxItem.message_id == candidate)
            .order_by(col(OutboxItem.id).desc())
        ).first()
        if item is not None:
            if bounce.failed:
                mark_failed(item, error=f"bounced: {bounce.diagnostic}")
                session.add(item)
            return item
    return None
