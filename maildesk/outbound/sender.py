"""Delivery of due outbox rows to a transport (a Maildir folder or an SMTP relay), with retries."""

from __future__ import annotations

import asyncio
import logging
import mailbox
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Literal, Protocol

import aiosmtplib
from sqlalchemy.engine import Engine

from maildesk.db import unit_of_work
from maildesk.models import OutboxItem
from maildesk.outbound.outbox import (
    DEFAULT_BACKOFF,
    Backoff,
    claim_due,
    mark_failed,
    mark_retry,
    mark_sent,
    raw_of,
    release,
)
from maildesk.timing.clock import Clock

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=15)  # a claimed row is due again this long after a crash


class Outcome(StrEnum):
    SENT = "sent"
    TEMPORARY = "temporary"  # 4xx, connection trouble, timeouts: try again later
    PERMANENT = "permanent"  # 5xx: never again


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipients: tuple[str, ...]
    raw: bytes


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    answer: str  # the server's reply, or what went wrong
    refused: str = ""  # sent, but these recipients were refused (kept on the row)
    transport_down: bool = False  # the relay cannot be reached: the rest of the batch waits


class Transport(Protocol):
    async def send(self, envelope: Envelope) -> SendResult: ...

    async def close(self) -> None: ...


class MaildirTransport:
    """Writes each mail's exact bytes into `<path>/new/` (the folder is created)."""

    def __init__(self, path: Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)  # a fresh desk has no var/ yet
        self.maildir = mailbox.Maildir(path, create=True)

    async def send(self, envelope: Envelope) -> SendResult:
        try:
            key = await asyncio.to_thread(self.maildir.add, envelope.raw)
        except OSError as exc:
            return SendResult(Outcome.TEMPORARY, f"cannot write to the Maildir: {exc}")
        return SendResult(Outcome.SENT, f"stored as {key}")

    async def close(self) -> None:
        return None


def classify(exc: Exception) -> SendResult:
    """An aiosmtplib (or socket) failure as temporary or permanent, with the server's answer."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = exc.recipients
        answer = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in refused)
        temporary = any(400 <= r.code < 500 for r in refused)
        return SendResult(Outcome.TEMPORARY if temporary else Outcome.PERMANENT, answer)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        permanent = 500 <= exc.code < 600
        outcome = Outcome.PERMANENT if permanent else Outcome.TEMPORARY
        return SendResult(outcome, f"{exc.code} {exc.message}")
    if isinstance(exc, ValueError):  # an address aiosmtplib will not put on the wire
        return SendResult(Outcome.PERMANENT, f"unusable address: {exc}")
    return SendResult(Outcome.TEMPORARY, f"{type(exc).__name__}: {exc}")


@dataclass
class SmtpTransport:
    """An SMTP relay on aiosmtplib; one connection serves a batch and is reopened if dropped."""

    host: str
    port: int
    starttls: bool = False
    tls: bool = False  # implicit TLS; wins over starttls
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    connections: int = field(default=0, init=False)  # how many connections were opened
    _client: aiosmtplib.SMTP | None = field(default=None, init=False, repr=False)

    async def _connected(self) -> tuple[aiosmtplib.SMTP, bool]:
        """The open connection (reused=True) or a new one."""
        if self._client is not None and self._client.is_connected:
            return self._client, True
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password if self.username else None,
            use_tls=self.tls,
            start_tls=self.starttls and not self.tls,
            timeout=self.timeout,
        )
        self._client = client
        await client.connect()
        self.connections += 1
        return client, False

    async def send(self, envelope: Envelope) -> SendResult:
        for _ in range(2):  # a reused connection the server dropped is reopened once
            try:
                client, reused = await self._connected()
            except (aiosmtplib.SMTPException, OSError) as exc:
                self._drop()
                answer = f"cannot connect to {self.host}:{self.port}: {exc}"
                return SendResult(Outcome.TEMPORARY, answer, transport_down=True)
            try:
                refused, answer = await client.sendmail(
                    envelope.sender, list(envelope.recipients), envelope.raw
                )
            except aiosmtplib.SMTPServerDisconnected as exc:
                self._drop()
                if reused:
                    continue
                return classify(exc)
            except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
                if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 421:
                    self._drop()  # the server is closing this connection
                return classify(exc)
            return _accepted(refused, answer)
        return SendResult(Outcome.TEMPORARY, "the relay closed the connection")

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()


def _accepted(refused: dict[str, aiosmtplib.SMTPResponse], answer: str) -> SendResult:
    """Accepted for at least one recipient; resending would duplicate it for those."""
    if not refused:
        return SendResult(Outcome.SENT, answer)
    lost = "; ".join(f"{rcpt}: {r.code} {r.message}" for rcpt, r in refused.items())
    return SendResult(Outcome.SENT, answer, refused=f"refused by the relay: {lost}")


@dataclass(frozen=True)
class TransportSettings:
    """What `make_transport` needs; the daemon maps `[outbound]` onto it."""

    kind: Literal["maildir", "smtp"] = "maildir"
    maildir: Path = Path("var/sent")
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    tls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 60.0


def make_transport(settings: TransportSettings) -> Transport:
    if settings.kind == "maildir":
        return MaildirTransport(settings.maildir)
    return SmtpTransport(
        settings.host,
        settings.port,
        starttls=settings.starttls,
        tls=settings.tls,
        username=settings.username,
        password=settings.password,
        timeout=settings.timeout,
    )


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)  # "outbox 7: 451 4.3.0 try later"


@dataclass(frozen=True)
class _Job:
    item_id: int
    envelope: Envelope
    leased_until: datetime  # the row is ours until then; another worker may take it after


def _composed(item: OutboxItem) -> bytes | None:
    """The row's bytes, composing a draft now (and keeping them: a retry sends the same mail).

    A draft that cannot be rendered (a broken override template) fails its row, never the queue.
    """
    if item.raw is None:
        try:
            item.raw = raw_of(item)
        except Exception as exc:  # an operator's template may fail in any way
            log.exception("outbox %s: composing failed", item.id)
            mark_failed(item, error=f"composing failed: {type(exc).__name__}: {exc}")
            return None
    return item.raw


def _claim_some(engine: Engine, now: datetime, limit: int) -> list[_Job]:
    """Up to `limit` due rows, composed and leased so no other worker sends them meanwhile."""
    jobs: list[_Job] = []
    with unit_of_work(engine) as session:
        while len(jobs) < limit:
            items = claim_due(session, now=now, limit=limit - len(jobs), lease=LEASE)
            if not items:
                break
            for item in items:
                raw = _composed(item)
                session.add(item)
                if raw is not None and item.id is not None:
                    envelope = Envelope(item.envelope_from, tuple(item.recipients), raw)
                    jobs.append(_Job(item.id, envelope, now + LEASE))
            session.flush()  # rows that failed to compose are no longer due
    return jobs


def _release(engine: Engine, jobs: list[_Job], now: datetime) -> None:
    """Unsent jobs due again now, those whose lease is still ours (one claim: one lease)."""
    if jobs:
        with unit_of_work(engine) as session:
            ids = [job.item_id for job in jobs]
            release(session, item_ids=ids, leased_until=jobs[0].leased_until, now=now)


def _record(
    engine: Engine, item_id: int, result: SendResult, now: datetime, backoff: Backoff
) -> str:
    """Store what happened to one mail in its own transaction; returns the row's new state."""
    with unit_of_work(engine) as session:
        item = session.get(OutboxItem, item_id)
        if item is None:
            return "gone"
        if result.outcome is Outcome.SENT:
            mark_sent(item, now=now, note=result.refused or None)
        elif result.outcome is Outcome.TEMPORARY:
            mark_retry(item, error=result.answer, now=now, backoff=backoff)
        else:
            mark_failed(item, error=result.answer, attempt=True)
        session.add(item)
        return item.state


async def _send_one(transport: Transport, envelope: Envelope) -> SendResult:
    """One mail, within SEND_LIMIT: a relay that stalls ends the batch, not the lease."""
    try:
        return await asyncio.wait_for(transport.send(envelope), SEND_LIMIT.total_seconds())
    except TimeoutError:
        answer = f"the relay took longer than {SEND_LIMIT.total_seconds():g} s"
        return SendResult(Outcome.TEMPORARY, answer, transport_down=True)
    except Exception as exc:  # a transport bug must not stop the queue
        log.exception("transport failed unexpectedly")
        return SendResult(Outcome.TEMPORARY, f"{type(exc).__name__}: {exc}")


def _tally(report: DeliveryReport, item_id: int, state: str, result: SendResult) -> None:
    if state == "sent":
        report.sent += 1
        return
    if state == "failed":
        report.failed += 1
    elif state == "queued":
        report.retrying += 1
    report.problems.append(f"outbox {item_id}: {result.answer}")


CLAIM_CHUNK = 10  # rows claimed per transaction
SEND_LIMIT = LEASE / (CLAIM_CHUNK + 2)  # per mail, so that a whole chunk ends within its lease


async def deliver_due(
    engine: Engine,
    transport: Transport,
    clock: Clock,
    *,
    batch: int = 50,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> DeliveryReport:
    """Send up to `batch` due rows over one transport session; record each result at once.

    Rows are claimed `CLAIM_CHUNK` at a time, so a slow relay never outlasts a lease; when
    the relay goes down, the rest of a chunk is due again at once. A failed mail is only
    marked failed: nothing is ever sent about it (no notice loops).
    """
    report = DeliveryReport()
    try:
        while report.sent + report.retrying + report.failed < batch:
            wanted = min(CLAIM_CHUNK, batch - report.sent - report.retrying - report.failed)
            jobs = await asyncio.to_thread(_claim_some, engine, clock.now(), wanted)
            if not jobs or not await _send_chunk(engine, transport, clock, jobs, backoff, report):
                break
    finally:
        await transport.close()
    return report


async def _send_chunk(
    engine: Engine,
    transport: Transport,
    clock: Clock,
    jobs: list[_Job],
    backoff: Backoff,
    report: DeliveryReport,
) -> bool:
    """Send claimed jobs in turn; False (the rest released) once the relay cannot be reached."""
    for index, job in enumerate(jobs):
        try:
            result = await _send_one(transport, job.envelope)
        except asyncio.CancelledError:  # the daemon stops: the rest need not wait out the lease
            _release(engine, jobs[index:], clock.now())
            raise
        state = await asyncio.to_thread(_record, engine, job.item_id, result, clock.now(), backoff)
        _tally(report, job.item_id, state, result)
        if result.transport_down:
            await asyncio.to_thread(_release, engine, jobs[index + 1 :], clock.now())
            return False
    return True


def deliver_due_sync(
    engine: Engine,
    transport: Transport,
    clock: Clock,
    *,
    batch: int = 50,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> DeliveryReport:
    """`deliver_due` for `maildesk tick`: runs its own event loop."""
    return asyncio.run(deliver_due(engine, transport, clock, batch=batch, backoff=backoff))
