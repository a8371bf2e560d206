"""Batches for real: a worker killed (kill -9) inside a batch loses nothing and does nothing
twice, and two workers on one PostgreSQL take disjoint batches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import func, select

from bench.corpus import generate
from maildesk.app import App, accept_raw, open_app
from maildesk.config import load_settings
from maildesk.db import read_only_unit
from maildesk.models import InboxItem, Message, Ticket
from maildesk.pipeline.batch import BATCH_LIMIT, process_batch
from maildesk.pipeline.runner import Outcome
from maildesk.services.origin import Origin

pytestmark = pytest.mark.integration

MAILS = 160  # a whole batch, then a second one the worker is killed inside
STALL_AT = BATCH_LIMIT + 30  # the 130th item of the run: 29 mails of its batch written


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "maildesk.toml"
    path.write_text(f"""
[desk]
address = "support@example.com"
secret = "batch-kill-test"
[database]
url = "{database_url}"
""")
    return path


@pytest.fixture
def app(config: Path) -> Iterator[App]:
    opened = open_app(load_settings(config))
    yield opened
    opened.engine.dispose()


def accept_all(app: App, mails: list[bytes]) -> list[int]:
    origin = Origin(transport="pipe", envelope_to=("support@example.com",))
    return [accept_raw(app, raw, origin).item_id for raw in mails]


def states(app: App) -> Counter[tuple[str, int]]:
    """(state, attempts) of every inbox item, counted."""
    with read_only_unit(app.engine) as session:  # never waits for a stalled writer
        rows = session.exec(select(InboxItem.state, InboxItem.attempts))
        return Counter((state, attempts) for state, attempts in rows)


def messages_per_item(app: App) -> Counter[int | None]:
    with read_only_unit(app.engine) as session:
        return Counter(session.exec(select(Message.inbox_item_id)))


def tickets(app: App) -> int:
    with read_only_unit(app.engine) as session:
        return int(session.exec(select(func.count()).select_from(Ticket)).one())


def stalled_tick(config: Path, item_id: int) -> subprocess.Popen[bytes]:
    """`maildesk tick`, stopped dead inside the batch that holds `item_id` (see the seam)."""
    ready_r, ready_w = os.pipe()
    argv = [sys.executable, "-m", "tests.integration.stalling_tick", str(ready_w), str(item_id)]
    env = {k: v for k, v in os.environ.items() if k != "MAILDESK_CONFIG"}
    process = subprocess.Popen(
        [*argv, "--config", str(config), "tick"], pass_fds=(ready_w,), env=env
    )
    os.close(ready_w)
    with os.fdopen(ready_r, "rb") as ready:
        line = ready.readline()  # blocks until the worker stalls (or ends: an empty line)
    assert line == f"stalled {item_id}\n".encode(), f"the tick ended first ({process.wait()})"
    return process


def test_a_worker_killed_inside_a_batch_loses_nothing_and_does_nothing_twice(
    app: App, config: Path
) -> None:
    ids = accept_all(app, generate(MAILS))
    worker = stalled_tick(config, ids[STALL_AT - 1])
    assert states(app) == {("processed", 1): BATCH_LIMIT, ("received", 0): MAILS - BATCH_LIMIT}

    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()

    assert states(app) == {("processed", 1): BATCH_LIMIT, ("received", 0): MAILS - BATCH_LIMIT}
    assert sum(messages_per_item(app).values()) == BATCH_LIMIT  # the open batch left nothing
    again = subprocess.run(
        [sys.executable, "-m", "maildesk", "--config", str(config), "tick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    assert states(app) == {("processed", 1): MAILS}
    assert messages_per_item(app) == dict.fromkeys(ids, 1)
    assert tickets(app) == round(0.6 * MAILS)  # the corpus's new threads, each one ticket


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_on_postgresql_take_disjoint_batches(app: App) -> None:
    ids = accept_all(app, generate(MAILS * 2))
    done: dict[str, list[Outcome]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def worker(name: str) -> None:
        start.wait()
        while outcomes := process_batch(app.engine, app.desk, limit=16):
            done[name] += outcomes

    threads = [threading.Thread(target=worker, args=(name,)) for name in done]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)

    taken = {name: [o.item_id for o in outcomes] for name, outcomes in done.items()}
    assert taken["a"] and taken["b"], f"a worker took nothing: {taken}"
    assert sorted(taken["a"] + taken["b"]) == ids  # each item once, by one of them
    assert not set(taken["a"]) & set(taken["b"])
    assert states(app) == {("processed", 1): MAILS * 2}
    assert messages_per_item(app) == dict.fromkeys(ids, 1)
