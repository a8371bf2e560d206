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
import gc
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

LARGE_BYTES = 4 * 1024 * 1024
_POLL_SECONDS = 0.05  # how often the event loop looks whether the gate is free


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
_OWN_MAPPING_BYTES = 1024 * 1024


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name) if name else None


def _trimmer() -> Callable[[], None]:
    """A collection, then glibc's malloc_trim(0) where there is glibc."""
    libc = _libc()
    trim = getattr(libc, "malloc_trim", None)

    def release() -> None:
        gc.collect()  # a mail's objects caught in a reference cycle go now, not some day
        if trim is not None:
            trim(0)

    return release


def map_large_blocks_apart() -> None:
    """Blocks of 1 MiB and more get a mapping of their own, unmapped when freed (glibc).

    By default glibc raises that threshold to the largest block freed so far, so after one
    large mail its 20 MB buffers come from the heap and stay there. The daemon calls this.
    """
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, _OWN_MAPPING_BYTES)


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
