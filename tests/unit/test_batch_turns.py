"""A batch holds the write lock no longer than a mail when an accept waits for it: it commits
after the mail at hand and the rest of its items go on in the next transaction, which ends as
one transaction would have."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.corpus import generate
from maildesk.app import App, accept_raw
from maildesk.db import write_turns
from maildesk.pipeline.batch import process_batch
from maildesk.pipeline.disposition import CONTINUE
from maildesk.pipeline.table import Handler
from maildesk.pipeline.work import StageEnv, Step, Work
from tests.mails import mail
from tests.unit.test_batch import (
    PIPE,
    accept_all,
    after_store,
    boom,
    crashing_on,
    empty_again,
    every_kind_of_mail,
    holding_on,
    items,
    one_by_one,
    run_corpus,
)
from tests.unit.test_write_turns import FOREVER, wait_until


def every(n: int) -> Callable[[], bool]:
    """A `commit_now` that says yes after every `n`th mail."""
    asked = iter(range(1, 10**9))
    return lambda: next(asked) % n == 0


def test_an_accept_during_a_long_batch_is_committed_before_the_batch_ends(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    ids = accept_all(
        app, [mail(subject=f"Question {n}", message_id=f"q{n}@a.test") for n in range(3)]
    )
    accepted = threading.Event()
    seen: dict[str, bool] = {}

    def late_accept() -> None:
        accept_raw(app, mail(subject="Late", message_id="late@a.test"), PIPE)
        accepted.set()

    def waits_in_line() -> bool:
        turns = write_turns(app.engine)  # SQLite: the accept waits for the batch's lock
        return turns is not None and turns.waiting() > 0

    def meanwhile(work: Work, env: StageEnv) -> Step:
        subject = work.parsed().subject
        if subject == "Question 0":  # the batch is under way: a mail arrives
            threading.Thread(target=late_accept).start()
            wait_until(lambda: accepted.is_set() or waits_in_line())
        elif subject == "Question 1":
            seen["accepted"] = accepted.wait(FOREVER)
        return CONTINUE, work

    outcomes = process_batch(app.engine, app.desk, handlers=after_store(Handler("late", meanwhile)))

    assert seen == {"accepted": True}
    assert [(o.item_id, o.outcome) for o in outcomes] == [(i, "created") for i in ids]
    assert [state for state, _, _ in items(app)] == ["processed"] * 3 + ["received"]
    assert "busy handling" not in caplog.text  # the batch gave its turn back, no wait ran out


@pytest.fixture
def fresh_again(database_url: str, request: pytest.FixtureRequest) -> Iterator[Callable[[], None]]:
    yield lambda: empty_again(database_url, request)


@pytest.mark.parametrize("n", [1, 3])
def test_a_batch_cut_into_transactions_gives_what_one_by_one_gives_on_the_bench_corpus(
    database_url: str, tmp_path: Path, fresh_again: Callable[[], None], n: int
) -> None:
    mails = generate(120)
    single = run_corpus(database_url, tmp_path / "single", mails, one_by_one)
    fresh_again()

    def cut(app: App, item_ids: list[int]) -> None:
        found = process_batch(app.engine, app.desk, limit=len(item_ids), commit_now=every(n))
        assert [outcome.item_id for outcome in found] == item_ids

    batched = run_corpus(database_url, tmp_path / "batched", mails, cut)

    assert len(single["ticket"]) == 72  # it did something
    for name, rows in single.items():
        assert batched[name] == rows, f"table {name} differs"


def test_held_and_failed_mails_end_alike_in_a_batch_cut_after_every_other_mail(
    database_url: str, tmp_path: Path, fresh_again: Callable[[], None]
) -> None:
    mails = every_kind_of_mail()
    handlers = after_store(holding_on("hold me"), crashing_on("poison", boom))
    outcomes: dict[str, list[str]] = {}

    def single(app: App, item_ids: list[int]) -> None:
        found = process_batch(app.engine, app.desk, handlers=handlers, commit_now=lambda: True)
        outcomes["single"] = [o.outcome for o in found]

    def cut(app: App, item_ids: list[int]) -> None:
        found = process_batch(app.engine, app.desk, handlers=handlers, commit_now=every(2))
        outcomes["cut"] = [o.outcome for o in found]

    tracebacks = {"inboxitem": {"error"}}
    expected = run_corpus(database_url, tmp_path / "one", mails, single, tracebacks)
    fresh_again()
    found = run_corpus(database_url, tmp_path / "cut", mails, cut, tracebacks)

    assert {"held", "failed", "created", "appended"} <= set(outcomes["single"])
    assert outcomes["cut"] == outcomes["single"]
    for name, rows in expected.items():
        assert found[name] == rows, f"table {name} differs"
