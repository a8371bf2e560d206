"""Writers of one process take turns at SQLite's write lock, first come first served.

SQLite lets one writer in at a time and the others sleep in its busy handler, in steps of up
to 100 ms, before they try again: a short accept can miss the lock over and over behind a
worker that takes it again. Here they wait in line and each is woken when the one before is
done. A wait that runs out goes on to SQLite's own busy handling, so none can deadlock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

log = logging.getLogger(__name__)

TURN_TIMEOUT_SECONDS = 5.0  # then SQLite's busy handler (its busy_timeout) takes over


class WriteTurns:
    """The line of writers at one database. An owner (a DBAPI connection) takes its turn
    when its write transaction begins and gives it back when the connection returns to the
    pool; taking it again before that is free (a connection that begins twice)."""

    def __init__(self, timeout: float = TURN_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout  # seconds a writer waits in line before it goes on without
        self._mutex = threading.RLock()  # `give_back` may run from a collection inside it
        self._holder: object | None = None
        self._since = 0.0  # when the holder's turn began, on the monotonic clock
        self._line: deque[tuple[object, threading.Event]] = deque()
        self._without: set[int] = set()  # owners whose wait ran out: still waiting, in SQLite

    def take(self, owner: object) -> bool:
        """Wait for `owner`'s turn; False when the wait ran out and it goes on without one."""
        with self._mutex:
            if self._holder is owner:
                return True
            if self._holder is None:
                self._begin(owner)
                return True
            called = threading.Event()
            self._line.append((owner, called))
        if called.wait(self.timeout):
            return True
        with self._mutex:
            if called.is_set():  # its turn came as the wait ran out
                return True
            self._line.remove((owner, called))
            self._without.add(id(owner))
        log.warning(
            "a writer waited %s s for its turn; SQLite's busy handling takes over", self.timeout
        )
        return False

    def give_back(self, owner: object) -> None:
        """End `owner`'s turn and call the next in line; nothing if it holds none."""
        with self._mutex:
            self._without.discard(id(owner))
            if self._holder is not owner:
                return
            self._holder = None
            if self._line:
                following, called = self._line.popleft()
                self._begin(following)
                called.set()

    def due(self, budget: float | None = None) -> bool:
        """Whether the writer in its turn should commit and hand it over now: another writer
        waits in line or, its wait run out, in SQLite's busy handler; or the turn has lasted
        `budget` seconds (for writers of other processes, which this line cannot see)."""
        with self._mutex:
            if self._holder is None:
                return False
            if self._line or self._without:
                return True
            return budget is not None and time.monotonic() - self._since >= budget

    def waiting(self) -> int:
        """How many writers wait in line."""
        with self._mutex:
            return len(self._line)

    def _begin(self, owner: object) -> None:
        self._holder = owner
        self._since = time.monotonic()
