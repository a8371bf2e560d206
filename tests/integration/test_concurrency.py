"""Several maildesk processes on one database, for real: three `maildesk tick`s share one
PostgreSQL inbox and outbox, and `maildesk ingest` answers `queued` while another connection
holds SQLite's write lock (ingest is held between its two transactions by `paused_ingest`).
"""

from __future__ import annotations

import json
import os
import select
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import col, func
from sqlmodel import select as select_rows

from bench.corpus import generate
from maildesk.app import accept_raw, open_app
from maildesk.config import load_settings
from maildesk.db import make_engine, unit_of_work
from maildesk.ingest.origin import Origin
from maildesk.models import InboxItem, Message, OutboxItem, Ticket
from tests.mails import mail

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
MAILS = 1000
WORKERS = 3
DEADLINE_SECONDS = 60.0  # for a process to reach a point we wait for, on a busy machine
CONFIG = """\
[desk]
name = "Example Support"
address = "support@example.com"
secret = "s3cret"

[database]
url = "{database_url}"

[[agents]]
email = "alice@example.com"
name = "Alice"
queues = ["general"]

[outbound]
{outbound}
"""


def write_config(directory: Path, database_url: str, outbound: str = "") -> Path:
    path = directory / "maildesk.toml"
    path.write_text(CONFIG.format(database_url=database_url, outbound=outbound))
    return path


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MAILDESK_CONFIG"}


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[Any]]]:
    """Processes a test starts; any still running when it ends (a failed test) are killed."""
    started: list[subprocess.Popen[Any]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


# --- a relay that counts what arrives --------------------------------------------------------


@dataclass
class MessageIdCounter:
    """An aiosmtpd handler counting each Message-ID that arrives on the wire."""

    arrived: Counter[str] = field(default_factory=Counter)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        headers = BytesHeaderParser().parsebytes(envelope.original_content or b"")
        self.arrived[str(headers["Message-ID"]).strip().strip("<>")] += 1
        return "250 2.0.0 Ok: queued"


class PortZeroController(Controller):
    """aiosmtpd's Controller bound to port 0: it learns its port before its first connection."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def relay() -> Iterator[tuple[MessageIdCounter, int]]:
    counter = MessageIdCounter()
    controller = PortZeroController(counter, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield counter, controller.port
    finally:
        controller.stop()


# --- PostgreSQL: three workers, one inbox, one outbox ----------------------------------------


def accept_unprocessed(config: Path, mails: list[bytes]) -> None:
    """Each mail accepted as `maildesk ingest` would, and left `received` for the workers."""
    app = open_app(load_settings(config))
    origin = Origin(transport="pipe", envelope_to=("support@example.com",))
    try:
        for raw in mails:
            assert not accept_raw(app, raw, origin).duplicate
    finally:
        app.engine.dispose()


def waiting_on(connection: Connection, table: str) -> int:
    """Backends waiting for a lock on `table` (the gate)."""
    query = "SELECT count(*) FROM pg_locks WHERE relation = CAST(:t AS regclass) AND NOT granted"
    return int(connection.execute(text(query), {"t": table}).scalar_one())


@contextmanager
def gate(database_url: str, table: str) -> Iterator[Connection]:
    """Hold `table` locked; every process that reaches it waits until the block ends."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            yield connection
    finally:
        engine.dispose()


def wait_until_each_waits(
    connection: Connection, table: str, ticks: list[subprocess.Popen[str]]
) -> None:
    """Return once every tick waits at the gate; fail if one ends or the deadline passes."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while waiting_on(connection, table) < len(ticks):
        exited = [t for t in ticks if t.poll() is not None]
        assert not exited, f"a tick ended before the gate opened: {exited[0].communicate()}"
        assert time.monotonic() < deadline, "the ticks never all reached the gate"
        time.sleep(0.05)  # polling a condition with a deadline, not ordering by time


def start_tick(config: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "maildesk", "--config", str(config), "tick"]
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment()
    )


def tick_counts(tick: subprocess.Popen[str]) -> dict[str, int]:
    """What one `maildesk tick` did ("inbox: 3, snoozes: 0, outbox: 5"), once it has ended."""
    out, err = tick.communicate(timeout=600)
    assert tick.returncode == 0, err
    pairs = (part.split(": ") for part in out.strip().split(", "))
    return {name: int(count) for name, count in pairs}


@dataclass(frozen=True)
class Stored:
    """What the database holds once the workers are done."""

    items: list[tuple[int, str, str | None, str | None, int]]  # id, state, outcome, reason, tries
    messages_per_item: Counter[int]  # inbound messages stored from each inbox item
    tickets: int
    outbox: list[tuple[str, str, int]]  # Message-ID, state, attempts


def stored(database_url: str) -> Stored:
    engine = make_engine(database_url)
    try:
        with unit_of_work(engine) as session:
            items = session.exec(
                select_rows(
                    InboxItem.id,
                    InboxItem.state,
                    InboxItem.outcome,
                    InboxItem.reason,
                    InboxItem.attempts,
                )
            )
            inbound = session.exec(
                select_rows(Message.inbox_item_id).where(col(Message.inbox_item_id).is_not(None))
            )
            outbox = session.exec(
                select_rows(OutboxItem.message_id, OutboxItem.state, OutboxItem.attempts)
            )
            tickets = session.exec(select_rows(func.count()).select_from(Ticket)).one()
            return Stored(
                [tuple(row) for row in items],  # type: ignore[misc]
                Counter(item_id for item_id in inbound if item_id is not None),
                tickets,
                [tuple(row) for row in outbox],  # type: ignore[misc]
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_processes_drain_a_thousand_mails_and_their_outbox_each_exactly_once(
    database_url: str,
    tmp_path: Path,
    relay: tuple[MessageIdCounter, int],
    processes: list[subprocess.Popen[Any]],
) -> None:
    counter, port = relay
    outbound = f'transport = "smtp"\nport = {port}\nbatch_size = 100000\ntimeout_seconds = 30'
    config = write_config(tmp_path, database_url, outbound)
    accept_unprocessed(config, generate(MAILS))

    with gate(database_url, "inboxitem") as held:
        ticks = [start_tick(config) for _ in range(WORKERS)]
        processes.extend(ticks)
        wait_until_each_waits(held, "inboxitem", ticks)
    done = [tick_counts(tick) for tick in ticks]
    assert all(d["inbox"] > 0 for d in done), f"a worker had no share of the inbox: {done}"
    assert sum(d["inbox"] for d in done) == MAILS

    db = stored(database_url)
    assert [item for item in db.items if item[1] != "processed"] == []
    assert Counter(tries for *_, tries in db.items) == {1: MAILS}
    assert db.messages_per_item == {item[0]: 1 for item in db.items}
    assert db.tickets == sum(1 for item in db.items if item[2] == "created")
    assert Counter((state, tries) for _, state, tries in db.outbox) == {
        ("sent", 1): sum(d["outbox"] for d in done)
    }
    assert counter.arrived == Counter(message_id for message_id, _, _ in db.outbox)
    assert set(counter.arrived.values()) == {1}


# --- SQLite: ingest while another connection holds the write lock ---------------------------


@dataclass
class PausedIngest:
    """`maildesk ingest --json FILE` in its own process, paused after its accept commit."""

    process: subprocess.Popen[bytes]
    ready: int  # read end of the pipe that says "accepted ID"

    @classmethod
    def start(cls, config: Path, source: Path) -> PausedIngest:
        ready, ready_w = os.pipe()
        argv = [sys.executable, "-m", "tests.integration.paused_ingest", str(ready_w)]
        argv += ["--config", str(config), "ingest", "--json", str(source)]
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=environment(),
            pass_fds=(ready_w,),
        )
        os.close(ready_w)  # the pipe reads EOF if ingest ends without accepting
        return cls(process, ready)

    def accepted(self) -> int:
        """The committed item's id, once ingest stands between its accept and processing."""
        readable, _, _ = select.select([self.ready], [], [], DEADLINE_SECONDS)
        line = os.read(self.ready, 100).decode() if readable else ""
        os.close(self.ready)
        if not line.startswith("accepted "):
            self.process.kill()
            raise AssertionError(f"ingest never accepted: {self.process.communicate()}")
        return int(line.split()[1])

    def go_on(self) -> tuple[int, list[dict[str, Any]], str]:
        """Let ingest process the mail; (exit code, JSON lines, stderr) once it has ended."""
        out, err = self.process.communicate(b"go\n", timeout=DEADLINE_SECONDS)
        lines = [json.loads(line) for line in out.decode().splitlines()]
        return self.process.returncode, lines, err.decode()


def item_state(connection: sqlite3.Connection, item_id: int) -> tuple[str, str | None]:
    query = "SELECT state, outcome FROM inboxitem WHERE id = ?"
    state, outcome = connection.execute(query, (item_id,)).fetchone()
    return state, outcome


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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_ingest_answers_queued_while_another_connection_holds_the_write_lock_and_tick_processes_it(
    database_url: str, tmp_path: Path, processes: list[subprocess.Popen[Any]]
) -> None:
    config = write_config(tmp_path, database_url)
    source = tmp_path / "incoming.eml"
    source.write_bytes(mail(message_id="locked@acme.test"))
    ingest = PausedIngest.start(config, source)
    processes.append(ingest.process)
    item_id = ingest.accepted()  # committed: from here on the mail is the desk's

    path = database_url.removeprefix("sqlite:///")
    with write_lock(path) as holder:
        code, outcomes, err = ingest.go_on()  # processing waits out the 10 s busy timeout
        assert code == 0, err
        assert [(o["outcome"], o["ticket"]) for o in outcomes] == [("queued", None)]
        assert "database is locked" in str(outcomes[0]["reason"])
        assert item_state(holder, item_id) == ("received", None)

    assert tick_counts(start_tick(config))["inbox"] == 1
    with closing(sqlite3.connect(path)) as reader:
        assert item_state(reader, item_id) == ("processed", "created")
