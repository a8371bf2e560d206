"""Calls that come while a group is under way go together in the next group, each answered
with its own result, in the order they came."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from maildesk.together import Together


class Recorder:
    """A `run_group` that notes each group, and holds the first until it is let go."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.first_running = threading.Event()
        self.let_go = threading.Event()

    def __call__(self, words: Sequence[str]) -> list[str | Exception]:
        self.groups.append(list(words))
        if len(self.groups) == 1:
            self.first_running.set()
            assert self.let_go.wait(30)
        return [ValueError(word) if word.startswith("bad") else word.upper() for word in words]


async def test_calls_made_while_a_group_runs_go_together_in_the_next() -> None:
    recorder = Recorder()
    together = Together(recorder)
    first = asyncio.create_task(together("first"))
    await asyncio.to_thread(recorder.first_running.wait)

    later = [asyncio.create_task(together(word)) for word in ("second", "third", "fourth")]
    await asyncio.sleep(0)  # they are waiting, not running
    recorder.let_go.set()

    assert await first == "FIRST"
    assert [await call for call in later] == ["SECOND", "THIRD", "FOURTH"]
    assert recorder.groups == [["first"], ["second", "third", "fourth"]]


async def test_a_call_whose_item_failed_raises_alone() -> None:
    recorder = Recorder()
    recorder.let_go.set()
    together = Together(recorder)

    results = await asyncio.gather(
        together("good"), together("bad one"), together("fine"), return_exceptions=True
    )

    assert results[0] == "GOOD" and results[2] == "FINE"
    assert isinstance(results[1], ValueError)


async def test_a_group_that_fails_as_a_whole_fails_each_call() -> None:
    def outage(words: Sequence[str]) -> list[str | Exception]:
        raise ConnectionError("database gone")

    together: Together[str, str] = Together(outage)

    results = await asyncio.gather(together("a"), together("b"), return_exceptions=True)

    assert [type(result) for result in results] == [ConnectionError, ConnectionError]


async def test_a_group_takes_at_most_its_limit() -> None:
    recorder = Recorder()
    recorder.let_go.set()
    together = Together(recorder, limit=2)

    await asyncio.gather(*(together(word) for word in "abcde"))

    assert [len(group) for group in recorder.groups] == [2, 2, 1]


async def test_a_caller_gone_while_its_group_runs_leaves_the_others_their_answers() -> None:
    recorder = Recorder()
    together = Together(recorder)
    first = asyncio.create_task(together("first"))
    await asyncio.to_thread(recorder.first_running.wait)
    gone, staying = asyncio.create_task(together("gone")), asyncio.create_task(together("stay"))
    await asyncio.sleep(0)
    gone.cancel()  # a session cut off at shutdown

    recorder.let_go.set()

    assert await first == "FIRST" and await staying == "STAY"
    assert gone.cancelled()
    assert recorder.groups == [["first"], ["gone", "stay"]]
