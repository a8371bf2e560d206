"""Parsing ahead in worker processes, while this one writes the mails before.

Parsing is pure (bytes in, a frozen value out), so a batch's mails can be parsed on another
core while the batch's transaction runs the stages and handlers of the mails before them.
What the pool gives is exactly what the parse stage would compute: the mail, or the reason
it is unparseable. Whatever goes wrong with the pool (a worker that dies, a value that does
not pickle, an error of the parser) leaves the mail to be parsed inline, as without a pool:
no mail is lost or failed by it. A mail that is large or over the size limit never goes
to the pool (the caller leaves it out), nor does a batch too small to pay for a start-up.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from maildesk.mail import InboundMail, UnparseableMail, parse_mail

log = logging.getLogger(__name__)

START_AT = 8  # mails a batch must have to start a pool (a fork costs ~15 ms, a parse ~2 ms)
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


@dataclass
class Ahead:
    """The parsing handed to the pool for one batch, taken mail by mail in batch order."""

    chunks: dict[int, tuple[Future[list[Parsed]], int]] = field(default_factory=dict)
    broken: bool = False  # the pool failed once: the rest of the batch is parsed inline

    def take(self, item_id: int) -> Parsed | None:
        """The pool's value for the item; None: parse it inline (it was not handed over, its
        chunk had not started yet, or the pool failed)."""
        found = self.chunks.pop(item_id, None)
        if found is None or self.broken:
            return None
        future, index = found
        if future.cancel():  # still queued: this process is free now, so it parses them
            return None
        try:
            return future.result()[index]
        except BrokenExecutor:  # a worker died: the pool is started afresh for the next batch
            log.warning("the parse pool broke: parsing inline")
            self.broken = True
        except Exception as exc:  # a value that did not pickle, a parser's bug: inline, the
            log.debug("parsing ahead failed: %s", exc)  # bug raises there as it always did
        return None

    def cancel(self) -> None:
        """What the batch did not take (it stopped early) is not parsed for nothing."""
        for future, _ in self.chunks.values():
            future.cancel()
        self.chunks.clear()


class ParsePool:
    """A pool of `processes` parsers, started by the first batch big enough to pay for it
    and kept for the next ones (the daemon's); a pool that broke is started afresh."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._executor is not None

    def worth(self, mails: int) -> bool:
        """Whether a batch of `mails` is to parse ahead: a pool is running, or it is worth
        starting one; a batch of one never is."""
        return self.processes > 0 and mails > 1 and (self.running or mails >= START_AT)

    def ahead(self, raws: Sequence[tuple[int, bytes]], max_depth: int) -> Ahead:
        """Hand `(item_id, raw)` pairs to the pool, in order, `CHUNK` mails to a task; the
        pool starts if it is not running (the caller asked `worth` first)."""
        executor = self._ready(len(raws))
        ahead = Ahead()
        if executor is None:
            return ahead
        try:
            for start in range(0, len(raws), CHUNK):
                chunk = raws[start : start + CHUNK]
                future = executor.submit(parse_chunk, [raw for _, raw in chunk], max_depth)
                ahead.chunks.update((item_id, (future, i)) for i, (item_id, _) in enumerate(chunk))
        except Exception as exc:  # the pool broke meanwhile: the batch is parsed inline
            log.warning("parsing ahead not started (%s): parsing inline", type(exc).__name__)
            self.close()
        return ahead

    def _ready(self, mails: int) -> ProcessPoolExecutor | None:
        with self._lock:
            if self.processes < 1 or not mails:
                return None
            broken = self._executor is not None and getattr(self._executor, "_broken", False)
            if broken:
                self._shutdown()
            if self._executor is None:
                self._executor = ProcessPoolExecutor(self.processes, mp_context=_context())
            return self._executor

    def close(self) -> None:
        with self._lock:
            self._shutdown()

    def _shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def _context() -> multiprocessing.context.BaseContext:
    """Fork (~15 ms) in a process with no other thread; else a fork server (~0.4 s, once),
    as a fork beside running threads may copy a lock one of them holds."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


_POOLS: dict[int, ParsePool] = {}
_POOLS_LOCK = threading.Lock()


def parse_pool(processes: int) -> ParsePool:
    """The process-wide pool of that many parsers (the `[worker] parse_processes` of the
    desk), so the daemon's batches share one and a command starts at most one."""
    with _POOLS_LOCK:
        return _POOLS.setdefault(processes, ParsePool(processes))
