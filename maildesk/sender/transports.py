"""Transports the sender hands mail to: a Maildir folder or an SMTP relay, and their answers.

An answer is data (`SendResult`): sent, temporary (try again later) or permanent (never again).
"""

from __future__ import annotations

import asyncio
import mailbox
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal, Protocol

import aiosmtplib

from maildesk.config import Settings


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
    """What `make_transport` needs; `transport_settings` maps `[outbound]` onto it."""

    kind: Literal["maildir", "smtp"] = "maildir"
    maildir: Path = Path("var/sent")
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    tls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 60.0
    connections: int = 1  # smtp: relay connections in parallel, a transport each


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


def make_transports(settings: TransportSettings) -> list[Transport]:
    """One transport per relay connection; a Maildir folder is written through one."""
    count = settings.connections if settings.kind == "smtp" else 1
    return [make_transport(settings) for _ in range(count)]


def transport_settings(settings: Settings) -> TransportSettings:
    """`[outbound]` as `make_transport` takes it."""
    outbound = settings.outbound
    return TransportSettings(
        kind=outbound.transport,
        maildir=settings.path(outbound.maildir),
        host=outbound.host,
        port=outbound.port,
        starttls=outbound.starttls,
        tls=outbound.tls,
        username=outbound.username,
        password=outbound.resolved_password(),
        timeout=outbound.timeout_seconds,
        connections=outbound.connections,
    )
