"""Writers of one process wait in line for SQLite's write lock: first come, first served, and a
wait that runs out goes on to SQLite's own busy handling instead of waiting for ever."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from maildesk.db import make_engine, turn_due, unit_of_work, write_turns
from maildesk.write_turns import WriteTurns

FOREVER = 30.0  # seconds a test waits for a state it expects before it fails


def wait_until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + FOREVER
    while not check():
        assert time.monotonic() < deadline, "the state never came"
        time.sleep(0.001)


def in_line_behind(turns: WriteTurns, owner: str, order: list[str]) -> threading.Thread:
    """A writer that waits for its turn, notes it had it, and gives it back; started once the
    line holds it."""
    ahead = turns.waiting()

    def write() -> None:
        assert turns.take(owner)
        order.append(owner)
        turns.give_back(owner)

    writer = threading.Thread(target=write)
    writer.start()
    wait_until(lambda: turns.waiting() == ahead + 1)
    return writer


def test_writers_have_their_turns_in_the_order_they_came() -> None:
    turns = WriteTurns()
    order: list[str] = []
    assert turns.take("first")
    writers = [in_line_behind(turns, name, order) for name in ("second", "third", "fourth")]

    turns.give_back("first")
    for writer in writers:
        writer.join()

    assert order == ["second", "third", "fourth"]
    assert turns.waiting() == 0


def test_a_writer_in_its_turn_may_begin_again_without_waiting() -> None:
    turns = WriteTurns(timeout=FOREVER)
    assert turns.take("connection")

    assert turns.take("connection")  # a second transaction on the same connection


def test_only_the_writer_in_its_turn_can_give_it_back() -> None:
    turns = WriteTurns()
    turns.take("first")
    order: list[str] = []
    writer = in_line_behind(turns, "second", order)

    turns.give_back("someone else")
    assert turns.waiting() == 1 and order == []

    turns.give_back("first")
    writer.join()
    assert order == ["second"]


def test_a_wait_that_runs_out_goes_on_without_a_turn_and_leaves_the_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    turns = WriteTurns(timeout=0.01)
    turns.take("first")

    assert not turns.take("second")

    assert turns.waiting() == 0
    assert "SQLite's busy handling takes over" in caplog.text


def test_a_writer_whose_wait_ran_out_still_makes_the_one_in_its_turn_due_until_it_is_done(
    caplog: pytest.LogCaptureFixture,
) -> None:
    turns = WriteTurns(timeout=0.01)
    turns.take("batch")
    assert not turns.take("accept")  # now in SQLite's busy handler, out of the line

    assert turns.waiting() == 0 and turns.due()  # the batch still commits after its mail

    turns.give_back("accept")  # its connection is back in the pool: it got in and is done
    assert not turns.due()


def test_a_turn_given_back_from_inside_the_line_s_own_lock_does_not_hang() -> None:
    turns = WriteTurns()
    turns.take("leaked session")
    with turns._mutex:  # as when a collection inside `take` returns a leaked connection
        turns.give_back("leaked session")
    assert not turns.due() and turns.take("next")


def test_the_writer_in_its_turn_is_due_to_hand_it_over_once_another_waits() -> None:
    turns = WriteTurns()
    assert not turns.due()  # nobody writes
    turns.take("batch")
    assert not turns.due() and not turns.due(budget=FOREVER)  # nobody waits

    writer = in_line_behind(turns, "accept", [])

    assert turns.due() and turns.due(budget=FOREVER)
    turns.give_back("batch")
    writer.join()


def test_the_writer_in_its_turn_is_due_once_a_budget_it_was_given_is_spent() -> None:
    turns = WriteTurns()  # writers of other processes cannot be seen waiting
    turns.take("batch")

    assert turns.due(budget=0.0)
    assert not turns.due()  # no budget: only a writer in line ends the turn


def test_postgresql_has_no_line_and_a_batch_is_never_due_to_stop_for_one() -> None:
    engine = make_engine("postgresql+psycopg://maildesk@127.0.0.1:1/maildesk")  # never opened

    assert write_turns(engine) is None
    assert turn_due(engine)() is False
    assert turn_due(engine, budget=0.0)() is False


def test_a_sqlite_writer_whose_wait_runs_out_gets_in_by_sqlite_busy_handling(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (words TEXT)"))
    turns = write_turns(engine)
    assert turns is not None
    turns.timeout = 0.01
    caplog.set_level(logging.WARNING)

    def write(words: str) -> None:
        with unit_of_work(engine) as session:
            session.execute(text("INSERT INTO note VALUES (:words)"), {"words": words})

    with unit_of_work(engine) as session:
        session.execute(text("INSERT INTO note VALUES ('first')"))
        second = threading.Thread(target=write, args=("second",))
        second.start()  # its turn cannot come while this unit is open
        wait_until(lambda: "busy handling takes over" in caplog.text)
    second.join()

    with engine.connect() as connection:
        rows = connection.execute(text("SELECT words FROM note ORDER BY rowid")).scalars()
        assert list(rows) == ["first", "second"]
    engine.dispose()
