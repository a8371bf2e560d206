"""IMAP poller: hand each new message of one mailbox to `accept`, then acknowledge it.

A message is flagged \\Seen (or moved) only after `accept` returned; the UID cursor is saved last.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Awaitable
from contextlib import suppress
from typing import TypeVar

import aioimaplib

from maildesk.errors import TransientError
from maildesk.ingest.imap_parts import (
    ImapCursor,
    ImapError,
    ImapMailboxSettings,
    ImapStateStore,
    MemoryImapState,
    ok_response,
    parse_fetched_bodies,
    search_uids,
)
from maildesk.observe import NO_OBSERVER, Observer
from maildesk.services.origin import AcceptFn, Origin

__all__ = [
    "ImapCursor",
    "ImapError",
    "ImapMailboxSettings",
    "ImapPoller",
    "ImapStateStore",
    "MemoryImapState",
    "parse_fetched_bodies",
]

log = logging.getLogger(__name__)

IDLE_RENEW_SECONDS = 29 * 60.0  # servers may drop a client idle for 30 minutes (RFC 2177)
T = TypeVar("T")


class ImapPoller:
    """Polls one mailbox: `run()` until `stop()`, or `poll_once()` for a single pass.

    Knows nothing of storage: `accept` stores the bytes, `state` keeps the UID cursor.
    """

    def __init__(
        self,
        settings: ImapMailboxSettings,
        *,
        accept: AcceptFn,
        state: ImapStateStore,
        observer: Observer = NO_OBSERVER,
    ) -> None:
        self.settings = settings
        self.observer = observer  # told of each failed poll
        self.accept = accept
        self.state = state
        self._client: aioimaplib.IMAP4 | None = None
        self._lost = asyncio.Event()  # the current connection dropped
        self._stop = asyncio.Event()
        self._done: asyncio.Event | None = None  # set when run() has returned
        self._cursor = ImapCursor(0, 0)
        self._failures = 0

    async def poll_once(self) -> int:
        """Connect, accept and acknowledge every new message, log out; return how many.

        Raises on any failure (after closing the connection); unacknowledged mail stays.
        """
        clean = False
        try:
            await self._open()
            count = await self._drain()
            clean = True
            return count
        finally:
            await self._disconnect(clean)

    async def run(self) -> None:
        """Poll (IDLE where offered) until stop() or cancel; reconnect with backoff on errors."""
        self._done = asyncio.Event()
        try:
            while not self._stop.is_set():
                clean = False
                try:
                    await self._serve()
                    clean = True
                except Exception as exc:
                    delay = self._note_failure(exc)
                finally:
                    await self._disconnect(clean)
                if not clean:
                    await self._sleep(delay)
        finally:
            self._done.set()

    async def stop(self) -> None:
        """Finish the message in hand, leave IDLE, log out; returns once run() has ended."""
        self._stop.set()
        if self._client is not None:
            await self._client.stop_wait_server_push()
        if self._done is not None:
            await self._done.wait()

    def _note_failure(self, exc: Exception) -> float:
        """Log the failure; return how long to wait, doubling per failure in a row."""
        settings = self.settings
        self._failures += 1
        self.observer.poll_failed(settings.name)
        delay: float = settings.backoff_min_seconds * 2 ** min(self._failures - 1, 30)
        delay = min(delay, settings.backoff_max_seconds)
        log.warning(
            "imap %s: %s: %s; reconnecting in %.2fs",
            settings.name, type(exc).__name__, exc, delay,
            # a traceback only for the unexpected: not the server, the network or an outage
            exc_info=not isinstance(exc, ImapError | OSError | TimeoutError | TransientError),
        )  # fmt: skip
        return delay

    async def _sleep(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _serve(self) -> None:
        await self._open()
        while not self._stop.is_set():
            await self._drain()
            self._failures = 0
            if not self._stop.is_set():
                await self._wait_for_news()

    async def _io(self, step: Awaitable[T], *, bounded: bool = True) -> T:
        """Await one IMAP step; give up when the connection drops or (if bounded) it stalls."""
        timeout = self.settings.timeout_seconds if bounded else None
        work = asyncio.ensure_future(step)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait(
                {work, lost}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            lost.cancel()
            work.cancel()  # no-op when finished
        if work in done:
            return work.result()
        if lost in done:
            raise ImapError("connection lost")
        raise TimeoutError(f"no answer from the IMAP server within {timeout}s")

    # --- connection ---

    async def _open(self) -> None:
        """Connect, log in, select the folder and load the cursor (reset on new UIDVALIDITY)."""
        await self._connect()
        uidvalidity = await self._select()
        name = self.settings.name
        stored = await self.state.load(name)
        if stored is not None:
            cursor = ImapCursor(*stored)  # any (uidvalidity, last_uid) pair will do
            if cursor.uidvalidity == uidvalidity:
                self._cursor = cursor
                return
            log.warning(
                "imap %s: UIDVALIDITY changed %d -> %d; rescanning from UID 1",
                name, cursor.uidvalidity, uidvalidity,
            )  # fmt: skip
        self._cursor = ImapCursor(uidvalidity, 0)
        await self.state.save(name, uidvalidity, 0)

    async def _connect(self) -> None:
        settings = self.settings
        self._lost = lost = asyncio.Event()
        client = aioimaplib.IMAP4(
            host=settings.host,
            port=settings.port,
            timeout=settings.timeout_seconds,
            conn_lost_cb=lambda _exc: lost.set(),
            ssl_context=self._ssl_context() if settings.tls else None,
        )
        self._client = client
        await self._io(client.wait_hello_from_server())
        if settings.starttls:
            await self._starttls(client)
        ok_response(await self._io(client.login(settings.username, settings.password)), "LOGIN")
        await self._io(client.protocol.capability())  # they may change after LOGIN
        log.debug("imap %s: logged in to %s:%d", settings.name, settings.host, settings.port)

    def _ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    async def _starttls(self, client: aioimaplib.IMAP4) -> None:
        """Upgrade the plain connection in place (aioimaplib has no STARTTLS of its own)."""
        protocol = client.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise ImapError("server does not offer STARTTLS")
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        ok_response(await self._io(protocol.execute(command)), "STARTTLS")
        upgrade = asyncio.get_running_loop().start_tls(
            protocol.transport, protocol, self._ssl_context(), server_hostname=self.settings.host
        )
        protocol.transport = await self._io(upgrade)
        await self._io(protocol.capability())  # pre-TLS capabilities are not to be trusted

    async def _disconnect(self, clean: bool) -> None:
        """LOGOUT after a clean session; after a failure just drop the connection."""
        client, self._client = self._client, None
        if client is None:
            return
        if clean and not self._lost.is_set():
            with suppress(Exception):
                await self._io(client.logout())
        transport = client.protocol.transport
        if transport is not None:
            transport.close()
            with suppress(TimeoutError):  # let the socket really close before we return
                await asyncio.wait_for(self._lost.wait(), self.settings.timeout_seconds)

    async def _select(self) -> int:
        assert self._client is not None
        response = ok_response(
            await self._io(self._client.select(aioimaplib.quoted(self.settings.folder))), "SELECT"
        )
        for line in response.lines:
            if match := re.search(rb"\[UIDVALIDITY (\d+)\]", bytes(line)):
                return int(match.group(1))
        raise ImapError(f"SELECT {self.settings.folder} gave no UIDVALIDITY")

    # --- one pass ---

    async def _drain(self) -> int:
        """Accept and acknowledge each new message in UID order; stop at the first failure."""
        count = 0
        for uid in await self._new_uids():
            if self._stop.is_set():
                break
            raw = await self._fetch(uid)
            if raw is None:
                log.info("imap %s: UID %d vanished before FETCH", self.settings.name, uid)
                continue
            await self._accept_and_acknowledge(uid, raw)
            count += 1
        return count

    async def _accept_and_acknowledge(self, uid: int, raw: bytes) -> None:
        name, uidvalidity = self.settings.name, self._cursor.uidvalidity
        origin = Origin(transport="imap", mailbox=name, uidvalidity=uidvalidity, uid=uid)
        outcome = await self.accept(raw, origin)
        await self._acknowledge(uid)
        self._cursor = ImapCursor(uidvalidity, uid)
        await self.state.save(name, uidvalidity, uid)
        log.info("imap %s: UID %d/%d %s", name, uidvalidity, uid, outcome.value)

    async def _new_uids(self) -> list[int]:
        """UIDs above the cursor; in \\Seen mode only unseen ones, as \\Seen means done."""
        assert self._client is not None
        after = self._cursor.last_uid
        criteria = ["UID", f"{after + 1}:*"]
        if self.settings.processed_folder is None:
            criteria.append("UNSEEN")
        response = ok_response(
            await self._io(self._client.uid_search(*criteria, charset=None)), "SEARCH"
        )
        return sorted(uid for uid in search_uids(response.lines) if uid > after)

    async def _fetch(self, uid: int) -> bytes | None:
        assert self._client is not None
        # no overall timeout: aioimaplib times a FETCH out when its data stops flowing
        fetch = self._client.uid("fetch", str(uid), "(UID BODY.PEEK[])")
        response = ok_response(await self._io(fetch, bounded=False), f"FETCH {uid}")
        bodies = dict(parse_fetched_bodies(response.lines))
        return bodies.get(uid)

    async def _acknowledge(self, uid: int) -> None:
        """Flag \\Seen; with a processed folder also move it there (or COPY+EXPUNGE)."""
        client, target = self._client, self.settings.processed_folder
        assert client is not None
        await self._uid("store", str(uid), "+FLAGS.SILENT", r"(\Seen)")
        if target is None:
            return
        if client.has_capability("MOVE"):
            await self._uid("move", str(uid), aioimaplib.quoted(target))
            return
        await self._uid("copy", str(uid), aioimaplib.quoted(target))
        await self._uid("store", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
        if client.has_capability("UIDPLUS"):
            await self._uid("expunge", str(uid))
        else:  # also expunges others' \Deleted mail in this folder
            ok_response(await self._io(client.expunge()), "EXPUNGE")

    async def _uid(self, command: str, *args: str) -> None:
        assert self._client is not None
        ok_response(await self._io(self._client.uid(command, *args)), f"UID {command.upper()}")

    # --- waiting ---

    async def _wait_for_news(self) -> None:
        """Return when new mail may be there: an IDLE push, poll_seconds passed, or stop()."""
        assert self._client is not None
        if self._client.has_capability("IDLE"):
            await self._idle(min(self.settings.poll_seconds, IDLE_RENEW_SECONDS))
        else:
            log.debug("imap %s: next poll in %ss", self.settings.name, self.settings.poll_seconds)
            await self._sleep(self.settings.poll_seconds)

    async def _idle(self, seconds: float) -> None:
        client = self._client
        assert client is not None
        idle = await self._io(client.idle_start(timeout=seconds))  # also ends a lost IDLE
        log.debug("imap %s: idling (the server accepted IDLE)", self.settings.name)
        try:
            await self._until_exists(seconds)
        except BaseException:
            idle.cancel()
            raise
        client.idle_done()
        ok_response(await self._io(idle), "IDLE")

    async def _until_exists(self, seconds: float) -> None:
        assert self._client is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self._stop.is_set() and (remaining := deadline - loop.time()) > 0:
            try:
                push = await self._io(self._client.wait_server_push(remaining), bounded=False)
            except TimeoutError:
                return
            words = {word for line in push for word in bytes(line).split()[:2]}
            if b"BYE" in words:
                raise ImapError("server said BYE")
            if b"EXISTS" in words:
                return
