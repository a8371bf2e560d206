"""Parsing ahead in worker processes, while this one writes the mails before.

Parsing is pure (bytes in, a frozen value out), so a batch's mails can be parsed on another
core while the batch's transaction runs the stages and handlers of the mails before them.
What the pool gives is exactly what the parse stage would compute: the mail, or the reason
it is unparseable. Whatever goes wrong with the pool (a worker that dies, a value that does
not pickle, an error of the parser) leaves the mail to be parsed inline, as without a pool:
no mail is lost or failed by it. A mail that is large or over the size limit never goes
to the pool (the caller leaves it out), nor does a batch too small to pay for a start-up.

The workers are spawned, not forked: a fork would copy this process's open sockets (a
PostgreSQL connection whose transaction holds row locks, the SMTP listener) into processes
that may outlive it, and locks held by its other threads.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from maildesk.mail import InboundMail, UnparseableMail, parse_mail

log = logging.getLogger(__name__)

# A batch this big starts a pool: starting one costs this process ~50 ms (about 20 parses),
# and the pool parses ~0.5 s later; this process parses what the pool has not started yet.
START_AT = 32
CHUNK = 4  # mails to one task: fewer round trips, and the next mail is seldom still waiting


@dataclass(frozen=True)
class Parsed:
    """What the parse stage makes of a mail's bytes: the mail, or why there is none."""

    mail: InboundMail | None
    unparseable: str | None = None  # UnparseableMail's one-line reason


def parse(raw: bytes, max_depth: int) -> Parsed:
    """The parse stage's parsing: any error other than UnparseableMail is raised."""
    try:
        return Parsed(parse_mail(raw, max_depth=max_depth))
    except UnparseableMail as exc:
        return Parsed(None, str(exc))


def parse_chunk(raws: Sequence[bytes], max_depth: int) -> list[Parsed]:
    """Run in a worker process."""
    return [parse(raw, max_depth) for raw in raws]


Chunks = dict[int, tuple[Future[list[Parsed]], int]]  # item id: its chunk, its place in it


def _alive() -> bool:
    """The first task of a pool: done once a worker has started."""
    return True


@dataclass
class Ahead:
    """One batch's mails for the pool, taken one by one in batch order. They are handed over
    once the pool is ready (one just started is not, for ~0.5 s): until then this process
    parses them, so no mail waits for a pool that is still starting."""

    pool: ParsePool | None = None
    max_depth: int = 0
    waiting: list[tuple[int, bytes]] = field(default_factory=list)  # not handed over yet
    chunks: Chunks = field(default_factory=dict)
    broken: bool = False  # the pool failed once: the rest of the batch is parsed inline

    def take(self, item_id: int) -> Parsed | None:
        """The pool's value for the item; None: parse it inline (it was not handed over, its
        chunk had not started yet, or the pool failed)."""
        self._hand_over(after=item_id)
        found = self.chunks.pop(item_id, None)
        if found is None or self.broken:
            return None
        future, index = found
        if not future.done():  # still queued or parsing: this process does not wait for it
            future.cancel()
            return None
        try:
            return future.result()[index]
        except BrokenExecutor:  # a worker died: the pool is started afresh for the next batch
            log.warning("the parse pool broke: parsing inline")
            self.broken = True
        except Exception as exc:  # a value that did not pickle, a parser's bug: inline, the
            log.debug("parsing ahead failed: %s", exc)  # bug raises there as it always did
        return None

    def _hand_over(self, after: int) -> None:
        """The mails after `after` go to the pool, if it is ready now."""
        if not self.waiting or self.pool is None or not self.pool.ready():
            return
        rest = [(item_id, raw) for item_id, raw in self.waiting if item_id > after]
        self.waiting = []
        self.chunks.update(self.pool.submit(rest, self.max_depth))

    def cancel(self) -> None:
        """What the batch did not take (it stopped early) is not parsed for nothing."""
        self.waiting = []
        for future, _ in self.chunks.values():
            future.cancel()
        self.chunks.clear()


class ParsePool:
    """A pool of `processes` parsers, started by the first batch big enough to pay for it
    and kept for the next ones (the daemon's); a pool that broke is started afresh."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None
        self._started: Future[bool] | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._executor is not None

    def worth(self, mails: int) -> bool:
        """Whether a batch of `mails` is to parse ahead: a pool is running, or it is worth
        starting one; a batch of one never is."""
        return self.processes > 0 and mails > 1 and (self.running or mails >= START_AT)

    def ahead(self, raws: Sequence[tuple[int, bytes]], max_depth: int) -> Ahead:
        """`(item_id, raw)` pairs in batch order, for the pool; it starts if it is not
        running (the caller asked `worth` first)."""
        self._start()
        return Ahead(self, max_depth, list(raws))

    def ready(self) -> bool:
        started = self._started
        return (
            started is not None
            and started.done()
            and not started.cancelled()
            and (started.exception() is None)
        )

    def submit(self, raws: Sequence[tuple[int, bytes]], max_depth: int) -> Chunks:
        """Hand the mails to the pool in order, `CHUNK` to a task."""
        chunks: Chunks = {}
        try:
            assert self._executor is not None, "a pool that is ready runs"
            for start in range(0, len(raws), CHUNK):
                chunk = raws[start : start + CHUNK]
                future = self._executor.submit(parse_chunk, [raw for _, raw in chunk], max_depth)
                chunks.update((item_id, (future, i)) for i, (item_id, _) in enumerate(chunk))
        except Exception as exc:  # the pool broke meanwhile: the batch is parsed inline
            log.warning("parsing ahead stopped (%s): parsing inline", type(exc).__name__)
            self.close()
        return chunks

    def _start(self) -> None:
        with self._lock:
            broken = self._executor is not None and getattr(self._executor, "_broken", False)
            if broken:
                self._shutdown()
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_watch_parent,
                    initargs=(os.getpid(),),
                )
                self._started = self._executor.submit(_alive)

    def close(self) -> None:
        with self._lock:
            self._shutdown()

    def _shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._started = None


def _watch_parent(parent: int) -> None:
    """Run in each worker: it ends when the process that started it is gone (killed), rather
    than wait for work forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


_POOLS: dict[int, ParsePool] = {}
_POOLS_LOCK = threading.Lock()


def parse_pool(processes: int) -> ParsePool:
    """The process-wide pool of that many parsers (the `[worker] parse_processes` of the
    desk), so the daemon's batches share one and a command starts at most one."""
    with _POOLS_LOCK:
        return _POOLS.setdefault(processes, ParsePool(processes))


def close_pools() -> None:
    """Shut every pool of this process down (the daemon's stop): queued chunks are dropped,
    idle workers end now rather than at the interpreter's exit."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
    for pool in pools:
        pool.close()
