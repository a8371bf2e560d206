"""Real database outages for tests: a PostgreSQL whose port closes, a SQLite file another process
locks. Each has the URL the desk should use, `begin()` and `end()`; neither touches maildesk.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import subprocess
import sys
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

HOST = "127.0.0.1"
DEADLINE_SECONDS = 10.0  # for any step of switching an outage on or off
LOCK_WAIT_MS = 200  # how long a locked SQLite file is waited for (maildesk waits 10 s)


class Outage(Protocol):
    url: str

    def prepare(self, engine: Engine) -> None:
        """Make the engine give up on the outage quickly (maildesk's defaults wait longer)."""

    def begin(self) -> None: ...

    def end(self) -> None: ...

    def close(self) -> None: ...


class PostgresSwitch:
    """A TCP relay on loopback in front of the real PostgreSQL, as the desk's database server.

    `begin()` closes its port and cuts every connection through it, so the desk meets a
    server that is down; `end()` listens on the same port again.
    """

    def __init__(self, target: URL) -> None:
        self._target = (target.host or HOST, target.port or 5432)
        self._port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()
        self._relays: set[asyncio.Task[Any]] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.end()
        self.url = target.set(host=HOST, port=self._port).render_as_string(hide_password=False)

    def prepare(self, engine: Engine) -> None:
        """Nothing to do: a closed port is refused at once."""

    def begin(self) -> None:
        self._call(self._stop_listening())

    def end(self) -> None:
        self._call(self._listen())

    def close(self) -> None:
        self.begin()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(DEADLINE_SECONDS)
        self._loop.close()

    def _call(self, step: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(step, self._loop).result(DEADLINE_SECONDS)

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._relay, HOST, self._port)
        self._port = self._server.sockets[0].getsockname()[1]

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for pipe in list(self._pipes):
            pipe.transport.abort()
        await asyncio.gather(*self._relays, return_exceptions=True)

    async def _relay(self, client_in: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._relays.add(task)
        pipes = [client]
        self._pipes.add(client)
        try:
            server_in, server = await asyncio.open_connection(*self._target)
            pipes.append(server)
            self._pipes.add(server)
            await asyncio.gather(_pump(client_in, server), _pump(server_in, client))
        except OSError:
            pass  # the real server is gone, or begin() cut this connection
        finally:
            for pipe in pipes:
                pipe.transport.abort()
                self._pipes.discard(pipe)
            self._relays.discard(task)


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    finally:
        sink.transport.abort()  # one side hung up: so does the other


_LOCKER = """
import sqlite3, sys
database = sqlite3.connect(sys.argv[1], isolation_level=None)
database.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
database.execute("ROLLBACK")
database.close()
"""


class SqliteLock:
    """Another process holding the write lock on the desk's SQLite file until `end()`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._path = Path(url.removeprefix("sqlite:///"))
        self._locker: subprocess.Popen[str] | None = None

    def prepare(self, engine: Engine) -> None:
        """Wait LOCK_WAIT_MS for a lock instead of maildesk's 10 s; pooled connections go."""
        event.listen(engine, "connect", _short_busy_timeout)
        engine.dispose()

    def begin(self) -> None:
        command = [sys.executable, "-c", _LOCKER, str(self._path)]
        self._locker = locker = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert locker.stdout is not None
        ready, _, _ = select.select([locker.stdout], [], [], DEADLINE_SECONDS)
        if not ready or locker.stdout.readline().strip() != "locked":
            self.close()
            raise RuntimeError(f"the locking process did not lock {self._path}")

    def end(self) -> None:
        locker, self._locker = self._locker, None
        if locker is None:
            return
        assert locker.stdin is not None
        locker.stdin.write("release\n")
        locker.stdin.close()
        if locker.wait(DEADLINE_SECONDS) != 0:
            raise RuntimeError("the locking process failed to release the lock")
        if locker.stdout is not None:
            locker.stdout.close()

    def close(self) -> None:
        locker, self._locker = self._locker, None
        if locker is not None:
            locker.kill()
            locker.wait(DEADLINE_SECONDS)
            for pipe in (locker.stdin, locker.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()


def _short_busy_timeout(connection: Any, _record: Any) -> None:
    connection.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
