"""Large mails one at a time: a process-wide gate that a mail over `LARGE_BYTES` passes alone.

Processing a mail holds several times its size for a moment (its bytes, the parser's lines,
the decoded attachments); two large mails at once would add up. Small mails never wait.
A large mail leaving the gate hands the memory it freed back to the system (glibc keeps
freed heap otherwise, and an idle daemon would stay as big as its largest mail made it).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

LARGE_BYTES = 4 * 1024 * 1024
_POLL_SECONDS = 0.05  # how often the event loop looks whether the gate is free


def _trimmer() -> Callable[[], None]:
    """glibc's malloc_trim(0), or nothing where there is no glibc."""
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    if trim is None:
        return lambda: None

    def release() -> None:
        trim(0)

    return release


class LargeMailGate:
    """Admits any number of small mails, and a large one only alone among large ones."""

    def __init__(self, threshold: int = LARGE_BYTES) -> None:
        self.threshold = threshold
        self._lock = threading.Lock()
        self.release_memory = _trimmer()

    def is_large(self, size: int) -> bool:
        return size >= self.threshold

    @contextmanager
    def admit(self, size: int) -> Iterator[None]:
        """Wait (a large mail) until no other large mail is inside; then hold the gate."""
        if not self.is_large(size):
            yield
            return
        with self._lock:
            try:
                yield
            finally:
                self.release_memory()

    @asynccontextmanager
    async def admit_async(self, size: int) -> AsyncIterator[None]:
        """`admit` for the event loop: it waits without blocking the loop."""
        if not self.is_large(size):
            yield
            return
        while not self._lock.acquire(blocking=False):
            await asyncio.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            self._lock.release()
            self.release_memory()


LARGE_MAILS = LargeMailGate()
