"""The SMTP listener: takes mail for the desk's own addresses inside the daemon's asyncio loop.

It answers 250 only after `accept` has committed the raw bytes, and 451 on any failure before.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import errno
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session, syntax

from maildesk.errors import ConfigError, TransientError
from maildesk.pipeline.large_mail import LARGE_MAILS, LargeMailGate
from maildesk.services.origin import Accepted, AcceptFn, Origin

log = logging.getLogger(__name__)

GREETING_IDENT = "ESMTP maildesk"
NULL_REVERSE_PATH = "<>"  # how aiosmtpd spells `MAIL FROM:<>` (a bounce)


class Reply(enum.StrEnum):
    """The replies the listener chooses itself; aiosmtpd words the syntax errors."""

    SENDER_OK = "250 2.1.0 Sender OK"
    RECIPIENT_OK = "250 2.1.5 Recipient OK"
    STORED = "250 2.0.0 OK: message accepted"
    DUPLICATE = "250 2.0.0 OK: message already accepted"
    SHUTTING_DOWN = "421 4.3.2 Service shutting down, try again later"
    TRY_AGAIN = "451 4.3.0 Temporary failure, try again later"
    NOT_OUR_ADDRESS = "550 5.1.1 No such mailbox here; this is not a relay"
    MALFORMED_ADDRESS = "553 5.1.3 Malformed address"


class _Drain:
    """The sessions that were open before shutdown began, and whether it has."""

    def __init__(self) -> None:
        self.draining = False
        self.live: set[_DeskSMTP] = set()
        self._empty = asyncio.Event()
        self._empty.set()

    def add(self, session: _DeskSMTP) -> None:
        self.live.add(session)
        self._empty.clear()

    def discard(self, session: _DeskSMTP) -> None:
        self.live.discard(session)
        if not self.live:
            self._empty.set()

    async def wait_empty(self) -> None:
        await self._empty.wait()


class _DeskSMTP(SMTP):
    """aiosmtpd's SMTP session, told 421 instead of a greeting or a new MAIL while draining.

    A DATA whose MAIL FROM declared a large SIZE waits for the large-mail gate before its
    354 and holds it until the mail is stored: aiosmtpd holds about three times a mail's
    size while it reads one (its lines, then their join), so two large ones would add up.
    """

    def __init__(
        self,
        handler: _DeskHandler,
        *,
        drain: _Drain,
        gate: LargeMailGate = LARGE_MAILS,
        **smtp_kwargs: Any,
    ) -> None:
        # aiosmtpd keeps command_size_limits on the class: every new session clears it and
        # every EHLO raises it, for all sessions at once. Give each session its own.
        self.command_size_limits = collections.defaultdict(lambda: SMTP.command_size_limit)
        super().__init__(handler, **smtp_kwargs)
        self._drain = drain
        self._gate = gate

    @property
    def in_transaction(self) -> bool:
        """True between an accepted MAIL FROM and the reply to its DATA (or RSET)."""
        return self.envelope is not None and self.envelope.mail_from is not None

    def hang_up(self, reply: Reply) -> None:
        """Send `reply` unasked (RFC 5321 §3.8 allows 421) and close the connection."""
        transport = self.transport
        if not isinstance(transport, asyncio.WriteTransport) or transport.is_closing():
            return
        log.info("%s: %s", _format_peer(self.session.peer if self.session else None), reply)
        transport.write(f"{reply}\r\n".encode("ascii"))
        transport.close()

    def abort(self) -> None:
        """Drop the connection at once; what the client sent so far is not accepted."""
        transport = self.transport
        if isinstance(transport, asyncio.WriteTransport):
            self.hang_up(Reply.SHUTTING_DOWN)
            transport.abort()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if not self._drain.draining:
            self._drain.add(self)

    def connection_lost(self, error: Exception | None) -> None:
        try:
            super().connection_lost(error)
        finally:
            self._drain.discard(self)

    async def _handle_client(self) -> None:
        # aiosmtpd has no public hook before its 220 greeting; this is where it is sent.
        if self._drain.draining:
            self.hang_up(Reply.SHUTTING_DOWN)
            return
        await super()._handle_client()

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        options = self.envelope.mail_options if self.envelope else []
        async with self._gate.admit_async(declared_size(options)):
            await super().smtp_DATA(arg)

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str | None) -> None:
        if self._drain.draining:
            self.hang_up(Reply.SHUTTING_DOWN)
            return
        await super().smtp_MAIL(arg)


class _DeskHandler:
    """aiosmtpd handler hooks: each returns the SMTP reply for its command."""

    transport = "smtp"  # as the inbox item records it

    def __init__(
        self,
        *,
        accept: AcceptFn,
        local_addresses: Callable[[str], bool],
        on_stored: Callable[[], None] | None,
    ) -> None:
        self._accept = accept
        self._is_local = local_addresses
        self._on_stored = on_stored

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not _is_valid_utf8(address):
            return Reply.MALFORMED_ADDRESS
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return Reply.SENDER_OK

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not _is_valid_utf8(address):
            return Reply.MALFORMED_ADDRESS
        if not self._is_local(_lower_domain(address)):
            log.info("%s: refused recipient %r", _format_peer(session.peer), address)
            return Reply.NOT_OUR_ADDRESS
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return Reply.RECIPIENT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return await self.store(session, envelope)

    async def store(self, session: Session, envelope: Envelope) -> Reply:
        """Commit the mail once, for every recipient of the transaction; the reply says how."""
        try:
            raw = envelope.original_content
            if raw is None:
                raise ValueError("aiosmtpd passed no message content")
            origin = Origin(
                transport=self.transport,
                peer=_format_peer(session.peer),
                envelope_from=_reverse_path(envelope.mail_from),
                envelope_to=tuple(envelope.rcpt_tos),
            )
            accepted = await self._accept(raw, origin)
        except TransientError as exc:  # an outage, already one line: no traceback per mail
            log.warning("%s: %s; answering 451", _format_peer(session.peer), exc)
            return Reply.TRY_AGAIN
        except Exception:
            log.exception("%s: accepting a mail failed; answering 451", _format_peer(session.peer))
            return Reply.TRY_AGAIN
        if accepted is Accepted.DUPLICATE:
            return Reply.DUPLICATE
        self._notify_stored()
        return Reply.STORED

    async def handle_exception(self, error: Exception) -> str:
        # Replaces aiosmtpd's default "500 Error: (...)", which would make senders give up.
        log.error("%s session failed; answering 451", self.transport.upper(), exc_info=error)
        return Reply.TRY_AGAIN

    def _notify_stored(self) -> None:
        if self._on_stored is None:
            return
        try:
            self._on_stored()
        except Exception:  # the mail is committed: its 250 stands
            log.exception("on_stored callback failed")


class SmtpListener:
    """An SMTP server for the desk's own addresses, run in the caller's asyncio loop."""

    protocol = "SMTP"
    session_class: type[_DeskSMTP] = _DeskSMTP
    handler_class: type[_DeskHandler] = _DeskHandler

    def __init__(
        self,
        *,
        host: str,
        port: int,
        accept: AcceptFn,
        local_addresses: Callable[[str], bool],
        max_message_bytes: int,
        hostname: str,
        on_stored: Callable[[], None] | None = None,
        gate: LargeMailGate = LARGE_MAILS,
    ) -> None:
        if max_message_bytes < 1:
            raise ValueError(f"max_message_bytes must be positive, not {max_message_bytes}")
        self._host = host
        self._requested_port = port
        self._max_message_bytes = max_message_bytes
        self._hostname = hostname
        self._handler = self.handler_class(
            accept=accept, local_addresses=local_addresses, on_stored=on_stored
        )
        self._drain = _Drain()
        self._gate = gate
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port actually bound (useful when constructed with port 0)."""
        if self._server is None:
            raise RuntimeError(f"the {self.protocol} listener is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Bind and start answering connections."""
        if self._server is not None:
            raise RuntimeError(f"the {self.protocol} listener is already started")
        loop = asyncio.get_running_loop()
        self._drain = _Drain()
        try:
            self._server = await self._bind(loop, lambda: self._new_session(loop))
        except OSError as exc:  # taken, or a privileged port: one line, not a traceback
            reason = "address in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            where = f"{self._host}:{self._requested_port}"
            raise ConfigError(f"cannot listen on {where}: {reason or exc}") from None
        log.info("%s listener on %s", self.protocol, self.where)

    @property
    def where(self) -> str:
        """Where the listener takes connections, for logs: host:port."""
        return f"{self._host}:{self.port}"

    async def _bind(
        self, loop: asyncio.AbstractEventLoop, sessions: Callable[[], _DeskSMTP]
    ) -> asyncio.Server:
        return await loop.create_server(sessions, host=self._host, port=self._requested_port)

    async def stop(self, grace_seconds: float) -> None:
        """Refuse new mail with 421, let open transactions finish (up to `grace_seconds`), close.

        Sessions between transactions are told 421 at once; one still in its transaction when
        the grace period ends is cut off, so its sender retries (a duplicate is harmless).
        """
        if self._server is None:
            return
        self._drain.draining = True
        for session in list(self._drain.live):
            if not session.in_transaction:
                session.hang_up(Reply.SHUTTING_DOWN)
        try:
            await asyncio.wait_for(self._drain.wait_empty(), timeout=grace_seconds)
        except TimeoutError:
            still_open = len(self._drain.live)
            log.warning(
                "%d %s session(s) open after %ss; cutting off",
                still_open,
                self.protocol,
                grace_seconds,
            )
            for session in list(self._drain.live):
                session.abort()
            await self._drain.wait_empty()
        self._server.close()
        await self._server.wait_closed()
        self._server = None
        log.info("%s listener stopped", self.protocol)

    def _new_session(self, loop: asyncio.AbstractEventLoop) -> _DeskSMTP:
        return self.session_class(
            self._handler,
            drain=self._drain,
            gate=self._gate,
            data_size_limit=self._max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self._hostname,
            ident=GREETING_IDENT,
            loop=loop,
        )


def declared_size(mail_options: list[str]) -> int:
    """The SIZE=n a client declared in MAIL FROM (RFC 1870); 0 when it declared none."""
    for option in mail_options:
        name, _, value = option.partition("=")
        if name.upper() == "SIZE" and value.isdigit():
            return int(value)
    return 0


def _lower_domain(address: str) -> str:
    """`Local@Example.ORG` -> `Local@example.org`: domains are case-insensitive, local parts not."""
    local, at, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}" if at else address


def _reverse_path(mail_from: str | None) -> str | None:
    """The envelope sender as stored: the null reverse-path (a bounce) becomes ""."""
    return "" if mail_from == NULL_REVERSE_PATH else mail_from


def _is_valid_utf8(address: str) -> bool:
    """aiosmtpd decodes command arguments with surrogateescape; reject what was not UTF-8."""
    try:
        address.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _format_peer(peer: object) -> str | None:
    """("192.0.2.1", 2525) -> "192.0.2.1:2525"; IPv6 hosts are bracketed."""
    if not isinstance(peer, tuple) or len(peer) < 2:
        return None if peer is None else str(peer)
    host, port = peer[0], peer[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
