"""Time spent in each SQL statement (by its text; by default this thread's CPU time, so a
busy shared machine does not blur it), from SQLAlchemy's cursor events on every engine: `with
StatementTimes() as timed: …`, then `StatementTimes.compare(a, b, mails=n)` prints the
statements whose time per mail grew most from run a to run b."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event


class StatementTimes:
    """`clock`: time.thread_time (CPU, for SQLite, whose work runs in this thread) or
    time.perf_counter (wall, for a server whose work this thread only waits for)."""

    def __init__(self, clock: Callable[[], float] = time.thread_time) -> None:
        self.clock = clock
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._started: dict[int, float] = {}

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self._started[id(cursor)] = self.clock()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started = self._started.pop(id(cursor), None)
        if started is not None:
            key = " ".join(statement.split())[:160]
            self.seconds[key] += self.clock() - started
            self.calls[key] += 1

    def __enter__(self) -> StatementTimes:
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._before)
        event.remove(Engine, "after_cursor_execute", self._after)

    @staticmethod
    def compare(a: StatementTimes, b: StatementTimes, *, mails: int, top: int = 15) -> None:
        total_a, total_b = sum(a.seconds.values()), sum(b.seconds.values())
        print(
            f"  SQL time per mail: {1000 * total_a / mails:.2f} ms -> "
            f"{1000 * total_b / mails:.2f} ms; statements per mail "
            f"{sum(a.calls.values()) / mails:.1f} -> {sum(b.calls.values()) / mails:.1f}"
        )
        grown = sorted(b.seconds, key=lambda k: b.seconds[k] - a.seconds.get(k, 0.0), reverse=True)
        print("  ms per mail (before -> after, calls after): statement")
        for key in grown[:top]:
            before, after = a.seconds.get(key, 0.0), b.seconds[key]
            print(
                f"  {1000 * before / mails:7.3f} -> {1000 * after / mails:7.3f} "
                f"({b.calls[key]:5d}x)  {key}"
            )
