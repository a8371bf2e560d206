"""On SQLite, `maildesk ingest` meets another connection's write lock between its accept and its
processing: it exits 0 with `queued`, and `maildesk tick` processes the mail once the lock is gone.
"""

from __future__ import annotations

import json
import os
import select
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_concurrency import (
    DEADLINE_SECONDS,
    environment,
    start_tick,
    tick_counts,
    write_config,
)
from tests.mails import mail

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


class PausedIngest:
    """`maildesk ingest --json FILE` in its own process, paused after its accept commit.

    `tests/integration/paused_ingest.py` holds it there: the one seam, since ingest begins
    processing the moment its accept commits and no lock could be slipped in between.
    """

    def __init__(self, config: Path, source: Path) -> None:
        self.ready, ready_w = os.pipe()
        argv = [sys.executable, "-m", "tests.integration.paused_ingest", str(ready_w)]
        argv += ["--config", str(config), "ingest", "--json", str(source)]
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=environment(),
            pass_fds=(ready_w,),
        )
        os.close(ready_w)  # the pipe reads EOF if ingest ends without accepting

    def accepted(self) -> int:
        """The committed item's id, once ingest stands between its accept and processing."""
        readable, _, _ = select.select([self.ready], [], [], DEADLINE_SECONDS)
        line = os.read(self.ready, 100).decode() if readable else ""
        if not line.startswith("accepted "):
            self.process.kill()
            raise AssertionError(f"ingest never accepted: {self.process.communicate()}")
        return int(line.split()[1])

    def go_on(self) -> tuple[int, list[dict[str, Any]], str]:
        """Let ingest process the mail; (exit code, JSON lines, stderr) once it has ended."""
        out, err = self.process.communicate(b"go\n", timeout=DEADLINE_SECONDS)
        lines = [json.loads(line) for line in out.decode().splitlines()]
        return self.process.returncode, lines, err.decode()

    def close(self) -> None:
        os.close(self.ready)
        if self.process.poll() is None:  # a failed test left it waiting
            self.process.kill()
            self.process.communicate()


@contextmanager
def paused_ingest(config: Path, source: Path) -> Iterator[PausedIngest]:
    ingest = PausedIngest(config, source)
    try:
        yield ingest
    finally:
        ingest.close()


@contextmanager
def write_lock(path: str) -> Iterator[sqlite3.Connection]:
    """Another connection holding SQLite's write lock, as a busy maildesk process does."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield holder
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()


def item_state(connection: sqlite3.Connection, item_id: int) -> tuple[str, str | None]:
    query = "SELECT state, outcome FROM inboxitem WHERE id = ?"
    state, outcome = connection.execute(query, (item_id,)).fetchone()
    return state, outcome


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_ingest_answers_queued_while_another_connection_holds_the_write_lock(
    database_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, database_url)
    source = tmp_path / "incoming.eml"
    source.write_bytes(mail(message_id="locked@acme.test"))
    path = database_url.removeprefix("sqlite:///")

    with paused_ingest(config, source) as ingest:
        item_id = ingest.accepted()  # committed: from here on the mail is the desk's
        with write_lock(path) as holder:
            code, outcomes, err = ingest.go_on()  # processing waits out the 10 s busy timeout
            assert code == 0, err
            assert [(o["outcome"], o["ticket"]) for o in outcomes] == [("queued", None)]
            assert "database is locked" in str(outcomes[0]["reason"])
            assert item_state(holder, item_id) == ("received", None)

    assert tick_counts(start_tick(config))["inbox"] == 1  # the lock is gone
    with closing(sqlite3.connect(path)) as reader:
        assert item_state(reader, item_id) == ("processed", "created")
