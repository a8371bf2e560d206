"""The outbox: outbound mail rows written with the change that caused them, retried, bounced.

Nothing here sends; `maildesk.outbound.sender` takes due rows and reports back with mark_*.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from email.parser import HeaderParser

from sqlmodel import Session, col, func, select

from maildesk.errors import InvalidInput, NotFound
from maildesk.mail import message_ids
from maildesk.models import OutboxItem
from maildesk.outbound.compose import OutboundSpec, compose

STATES = ("queued", "sent", "failed")
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


def enqueue(
    session: Session,
    *,
    message_id: str,
    raw: bytes,
    envelope_from: str,
    recipients: Sequence[str],
    ticket_id: int | None,
    kind: str,
    automatic: bool,
    now: datetime,
) -> OutboxItem:
    """Queue one composed mail, due now. Automatic mail has exactly one recipient (its rate key)."""
    if not recipients:
        raise ValueError("an outbound mail needs at least one recipient")
    if automatic and len(recipients) != 1:
        raise ValueError("automatic mail goes to exactly one recipient (its rate key)")
    item = OutboxItem(
        ticket_id=ticket_id,
        kind=kind,
        message_id=message_id,
        envelope_from=envelope_from,
        recipients=list(recipients),
        raw=raw,
        automatic=automatic,
        rate_key=recipients[0].lower() if automatic else None,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    session.flush()
    return item


def enqueue_spec(
    session: Session, *, spec: OutboundSpec, ticket_id: int | None, now: datetime
) -> OutboxItem:
    """Compose `spec` and queue it: the usual way a use case sends mail."""
    message_id, raw = compose(spec)
    return enqueue(
        session,
        message_id=message_id,
        raw=raw,
        envelope_from=spec.envelope_sender,
        recipients=spec.recipient_addresses,
        ticket_id=ticket_id,
        kind=spec.kind,
        automatic=spec.automatic,
        now=now,
    )


def auto_reply_allowed(
    session: Session, *, recipient: str, now: datetime, limit_per_hour: int = 5
) -> bool:
    """False once `recipient` got `limit_per_hour` automatic mails in the last hour."""
    count = session.exec(
        select(func.count())
        .select_from(OutboxItem)
        .where(
            col(OutboxItem.automatic).is_(True),
            OutboxItem.rate_key == recipient.lower(),
            OutboxItem.created_at > now - timedelta(hours=1),
        )
    ).one()
    return count < limit_per_hour


def due_items(session: Session, *, now: datetime, limit: int) -> list[OutboxItem]:
    """Queued rows whose time has come, oldest first, locked (others skip them)."""
    statement = (
        select(OutboxItem)
        .where(OutboxItem.state == "queued", OutboxItem.next_attempt_at <= now)
        .order_by(col(OutboxItem.next_attempt_at), col(OutboxItem.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(statement))


def claim_due(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
    """Due rows, pushed `lease` into the future so no other worker sends them meanwhile.

    A worker that dies while sending leaves them due again when the lease ends.
    """
    items = due_items(session, now=now, limit=limit)
    for item in items:
        item.next_attempt_at = now + lease
        session.add(item)
    return items


def mark_sent(item: OutboxItem, *, now: datetime, note: str | None = None) -> None:
    """Delivered; `note` keeps what the relay refused of several recipients, if anything."""
    item.state = "sent"
    item.sent_at = now
    item.attempts += 1
    item.last_error = note[:MAX_ERROR_CHARS] if note else None


def mark_retry(
    item: OutboxItem, *, error: str, now: datetime, backoff: Backoff = DEFAULT_BACKOFF
) -> None:
    """A temporary failure: try again after the backoff, or fail once the schedule is spent."""
    item.attempts += 1
    if backoff.exhausted(item.attempts):
        mark_failed(item, error=f"gave up after {item.attempts} attempts: {error}")
        return
    item.last_error = error[:MAX_ERROR_CHARS]
    item.next_attempt_at = now + backoff.delay(item.attempts)


def mark_failed(item: OutboxItem, *, error: str, attempt: bool = False) -> None:
    """A permanent failure (5xx, a bounce, retries spent); `attempt` counts a send just made."""
    item.state = "failed"
    item.attempts += 1 if attempt else 0
    item.last_error = error[:MAX_ERROR_CHARS]


def list_items(
    session: Session, *, state: str | None = None, limit: int | None = None
) -> list[OutboxItem]:
    """Newest first, optionally only one state."""
    if state is not None and state not in STATES:
        raise InvalidInput(f"unknown outbox state {state!r} (use {', '.join(STATES)})")
    statement = select(OutboxItem).order_by(col(OutboxItem.id).desc())
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


@dataclass(frozen=True)
class Bounce:
    """What a delivery status notification (RFC 3464) says about a mail we sent."""

    message_ids: tuple[str, ...]  # the returned mail's Message-ID first, then thread ids
    failed: bool  # False for "delayed", "relayed", "delivered" reports
    diagnostic: str


def _field(block: Message, name: str) -> str:
    return " ".join(str(block.get(name, "")).split())


def _recipient_line(block: Message) -> str:
    recipient = _field(block, "Final-Recipient").rpartition(";")[2].strip()
    said = " ".join(p for p in (_field(block, "Status"), _field(block, "Diagnostic-Code")) if p)
    return f"{recipient}: {said}" if recipient else said


def _report(part: Message) -> tuple[bool, str]:
    """(failed?, diagnostic) from a message/delivery-status part's per-recipient blocks."""
    payload = part.get_payload()
    blocks = [b for b in payload[1:] if isinstance(b, Message)] if isinstance(payload, list) else []
    actions = [_field(b, "Action").lower() for b in blocks]
    statuses = [_field(b, "Status") for b in blocks]
    failed = "failed" in actions or (not any(actions) and any(s.startswith("5") for s in statuses))
    return failed, "; ".join(_recipient_line(b) for b in blocks) or "delivery status notification"


def _returned_ids(part: Message) -> tuple[str, ...]:
    """The Message-ID of the returned mail (message/rfc822) or headers (text/rfc822-headers)."""
    if part.get_content_type() == "message/rfc822":
        payload = part.get_payload()
        first = payload[0] if isinstance(payload, list) and payload else None
        returned = first if isinstance(first, Message) else None
    else:
        data = part.get_payload(decode=True)
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else ""
        returned = HeaderParser().parsestr(text)
    return message_ids(str(returned.get("Message-ID", ""))) if returned is not None else ()


def parse_bounce(raw: bytes) -> Bounce | None:
    """The DSN in `raw`, or None when `raw` is not a delivery-status multipart/report."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if message.get_content_type() != "multipart/report":
        return None
    if str(message.get_param("report-type", "")).lower() != "delivery-status":
        return None
    failed, diagnostic = True, "delivery status notification"
    returned: tuple[str, ...] = ()
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            failed, diagnostic = _report(part)
        elif kind in ("message/rfc822", "text/rfc822-headers") and not returned:
            returned = _returned_ids(part)
    thread = message_ids(str(message.get("In-Reply-To", ""))) + message_ids(
        " ".join(str(v) for v in message.get_all("References") or [])
    )
    return Bounce(message_ids=returned + thread, failed=failed, diagnostic=diagnostic)


def match_bounce(session: Session, *, raw: bytes) -> OutboxItem | None:
    """The outbox row a DSN is about; marked failed with the DSN's diagnostic if it failed.

    The pipeline calls this for automatic mail (DSNs come to `<local>+bounces@`): a row
    returned says which ticket the bounce belongs to; never answer a bounce.
    """
    bounce = parse_bounce(raw)
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
