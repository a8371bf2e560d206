"""The LMTP listener: the SMTP listener's sessions, limits and drain, spoken as RFC 2033 LMTP.

After DATA it answers once per accepted recipient, in RCPT order, each reply sent as soon as
it is known. One commit stores the mail for all of them (one inbox item, every envelope
recipient recorded, as over SMTP); when that commit fails, the next recipient tries again,
so an outage that ends mid-transaction costs only the recipients it hit (each told 451, which
the MTA retries: the same bytes then arrive as a duplicate and get 250).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, AnyStr

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session, syntax

from maildesk.errors import ConfigError
from maildesk.ingest.smtp import Reply, SmtpListener, _DeskHandler, _DeskSMTP

log = logging.getLogger(__name__)

#: Commits tried per transaction at most: during an outage, 50 recipients must not mean
#: 50 waits for a database that is down (the MTA's reply timeout would cut them all off).
MAX_ATTEMPTS = 3
#: aiosmtpd's own replies to a DATA it refuses whole; LMTP owes one per recipient.
_WHOLE_DATA_REFUSALS = ("552 ", "500 Line too long")


class _DeskLMTP(_DeskSMTP, LMTP):
    """LHLO instead of HELO/EHLO; a whole-DATA refusal repeated for each recipient."""

    def __init__(self, handler: _DeskHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._recipients_owed = 0

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        self._recipients_owed = len(self.envelope.rcpt_tos) if self.envelope else 0
        try:
            await super().smtp_DATA(arg)
        finally:
            self._recipients_owed = 0

    async def push(self, status: AnyStr) -> None:
        text = status.decode("ascii", "replace") if isinstance(status, bytes) else status
        repeat = self._recipients_owed if text.startswith(_WHOLE_DATA_REFUSALS) else 1
        for _ in range(max(repeat, 1)):
            await super().push(status)


class _LmtpHandler(_DeskHandler):
    """The SMTP handler's MAIL and RCPT; DATA answered per recipient."""

    transport = "lmtp"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        owed = len(envelope.rcpt_tos)
        async for reply in self.replies(session, envelope):
            owed -= 1
            if owed == 0:
                return reply  # aiosmtpd sends the hook's reply, then resets the transaction
            await server.push(reply)
        return Reply.TRY_AGAIN  # aiosmtpd refuses DATA before any RCPT: not reached

    async def replies(self, session: Session, envelope: Envelope) -> AsyncIterator[Reply]:
        """One reply per recipient, in RCPT order, each after the commit it reports."""
        stored: Reply | None = None
        attempts = 0
        for _recipient in envelope.rcpt_tos:
            if stored is None and attempts < MAX_ATTEMPTS:
                attempts += 1
                reply = await self.store(session, envelope)
                stored = None if reply is Reply.TRY_AGAIN else reply
            yield stored or Reply.TRY_AGAIN


class LmtpListener(SmtpListener):
    """An LMTP server for an MTA's hand-off: on host:port, or on a Unix socket when given one."""

    protocol = "LMTP"
    session_class = _DeskLMTP
    handler_class = _LmtpHandler

    def __init__(
        self, *, socket_path: Path | None = None, socket_mode: int = 0o660, **listener: Any
    ) -> None:
        super().__init__(**listener)
        self._socket_path = socket_path
        self._socket_mode = socket_mode

    @property
    def where(self) -> str:
        if self._socket_path is not None:
            return f"unix:{self._socket_path}"
        return super().where

    @property
    def port(self) -> int:
        if self._socket_path is not None:
            raise RuntimeError("the LMTP listener is on a Unix socket, not a port")
        return super().port

    async def _bind(
        self, loop: asyncio.AbstractEventLoop, sessions: Callable[[], _DeskSMTP]
    ) -> asyncio.Server:
        path = self._socket_path
        if path is None:
            return await super()._bind(loop, sessions)
        if not path.parent.is_dir():
            raise ConfigError(f"lmtp.socket: no such folder {path.parent}")
        remove_stale_socket(path)
        server = await loop.create_unix_server(sessions, path=str(path))
        os.chmod(path, self._socket_mode)
        return server

    async def stop(self, grace_seconds: float) -> None:
        await super().stop(grace_seconds)
        if self._socket_path is not None:
            self._socket_path.unlink(missing_ok=True)


def remove_stale_socket(path: Path) -> None:
    """Remove a socket a dead process left behind; refuse a live one or any other file."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ConfigError(f"lmtp.socket: {path} exists and is not a socket; not removing it")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            log.info("removing stale socket %s", path)
            path.unlink(missing_ok=True)
            return
    raise ConfigError(f"lmtp.socket: another process is listening on {path}")
