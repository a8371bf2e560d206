"""How a function's running time grows with its input, for asserting "linear" rather than "fast".

A limit in seconds fails on a busy machine and passes quadratic code on a fast one. The ratio of
the times for n and 8n units is about 8 for linear work and about 64 for quadratic work anywhere.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TypeVar

FACTOR = 8
LINEAR_AT_MOST = 16  # linear work measures 7-9, n log n about 9, quadratic about 64
REPEATS = 5

T = TypeVar("T")


def growth(work: Callable[[T], object], make: Callable[[int], T], n: int) -> float:
    """CPU time of work(make(8n)) over that of work(make(n)), each the best of REPEATS runs.

    CPU time of this thread, so other processes on the machine do not count; garbage
    collection is paused while timing, so a collection that happens to fall in one run does
    not either.
    """
    small, large = make(n), make(FACTOR * n)
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _best(work, large) / _best(work, small)
    finally:
        if enabled:
            gc.enable()


def _best(work: Callable[[T], object], value: T) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.thread_time()
        work(value)
        best = min(best, time.thread_time() - started)
    return max(best, 1e-9)
