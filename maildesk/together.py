"""Calls that come while one is under way wait for it and then go as one group: what a
transaction costs (a turn at the write lock, a commit) is paid once for all of them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

GROUP_LIMIT = 100  # calls one group takes at most


class Together(Generic[T, R]):
    """An async call that hands its argument to `run_group` in a thread, together with those
    of the calls made while the group before was running, in the order they came. `run_group`
    answers each argument, in order, with its result or the exception to raise for it."""

    def __init__(
        self,
        run_group: Callable[[Sequence[T]], Sequence[R | Exception]],
        limit: int = GROUP_LIMIT,
    ) -> None:
        self._run_group = run_group
        self._limit = limit
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._running: asyncio.Task[None] | None = None

    async def __call__(self, argument: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((argument, future))
        if self._running is None or self._running.done():  # done: its loop was closed
            self._running = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        try:
            while self._waiting:
                group = self._waiting[: self._limit]
                del self._waiting[: self._limit]
                await self._answer(group)
        finally:
            self._running = None

    async def _answer(self, group: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await asyncio.to_thread(self._run_group, [argument for argument, _ in group])
        except Exception as exc:  # the whole group failed: each call raises it
            results = [exc] * len(group)
        for (_, future), result in zip(group, results, strict=True):
            if future.done():  # its caller is gone (a session cut off)
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
