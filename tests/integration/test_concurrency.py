"""Several maildesk processes on one PostgreSQL, for real: three `maildesk tick`s, released
together, share the inbox, the snoozed and the waiting tickets and the outbox; each thing is
done exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from maildesk.agent.do import do_commands
from maildesk.app import accept_raw, open_app
from maildesk.config import load_settings
from maildesk.db import make_engine, unit_of_work
from maildesk.models import Event, InboxItem, Message, OutboxItem, Ticket, TicketNotice
from maildesk.pipeline.runner import process_one
from maildesk.services.origin import Origin
from tests.mails import mail

pytestmark = pytest.mark.integration

MAILS = 1000
WORKERS = 3
SNOOZED = 60
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


def start_tick(config: Path, *options: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "maildesk", "--config", str(config), "tick", *options]
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


def to_relay(port: int) -> str:
    """The `[outbound]` keys for the relay; one tick sends every due mail, not one batch."""
    return f'transport = "smtp"\nport = {port}\nbatch_size = 100000\ntimeout_seconds = 30'


def assert_each_mail_sent_once(
    db: Stored, ticks: list[dict[str, int]], relay: MessageIdCounter
) -> None:
    """Every outbox row sent in one attempt, and its Message-ID arrived exactly once."""
    sent = sum(tick["outbox"] for tick in ticks)
    assert Counter((state, tries) for _, state, tries in db.outbox) == {("sent", 1): sent}
    assert relay.arrived == Counter(message_id for message_id, _, _ in db.outbox)
    assert set(relay.arrived.values()) == {1}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_processes_drain_a_thousand_mails_and_their_outbox_each_exactly_once(
    database_url: str,
    tmp_path: Path,
    relay: tuple[MessageIdCounter, int],
    processes: list[subprocess.Popen[Any]],
) -> None:
    counter, port = relay
    config = write_config(tmp_path, database_url, to_relay(port))
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
    assert_each_mail_sent_once(db, done, counter)


def tickets_acted_on(config: Path, count: int, lines: Callable[[int], list[str]]) -> datetime:
    """`count` new tickets, Alice acting on ticket n with `lines(n)`; returns the time then."""
    app = open_app(load_settings(config))
    origin = Origin(transport="pipe", envelope_to=("support@example.com",))
    try:
        for n in range(count):
            raw = mail(subject=f"Case {n}", message_id=f"case-{n}@acme.test")
            stored_item = accept_raw(app, raw, origin)
            outcome = process_one(app.engine, app.desk, item_id=stored_item.item_id)
            assert outcome is not None and outcome.ticket is not None
            with unit_of_work(app.engine) as session:
                done = do_commands(
                    session,
                    desk=app.desk,
                    ref=outcome.ticket,
                    agent_email="alice@example.com",
                    lines=lines(n),
                    text="",
                    now=app.desk.clock.now(),
                )
                assert not done.errors
        return app.desk.clock.now()
    finally:
        app.engine.dispose()


def snoozed_tickets(config: Path, count: int) -> datetime:
    """`count` new tickets, each snoozed for an hour by Alice; returns when they are due."""
    return tickets_acted_on(config, count, lambda n: ["#snooze 1h"]) + timedelta(hours=1, minutes=1)


def wake_events(database_url: str) -> tuple[Counter[int | None], set[int | None]]:
    """`snooze-ended` events per ticket, and every ticket's id."""
    engine = make_engine(database_url)
    try:
        with unit_of_work(engine) as session:
            query = select_rows(Event.ticket_id).where(Event.type == "snooze-ended")
            tickets = set(session.exec(select_rows(Ticket.id)))
            return Counter(session.exec(query)), tickets
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_processes_wake_each_snoozed_ticket_exactly_once(
    database_url: str,
    tmp_path: Path,
    relay: tuple[MessageIdCounter, int],
    processes: list[subprocess.Popen[Any]],
) -> None:
    counter, port = relay
    config = write_config(tmp_path, database_url, to_relay(port))
    due = snoozed_tickets(config, SNOOZED)

    with gate(database_url, "ticket") as held:
        ticks = [start_tick(config, "--at", due.isoformat()) for _ in range(WORKERS)]
        processes.extend(ticks)
        wait_until_each_waits(held, "ticket", ticks)
    done = [tick_counts(tick) for tick in ticks]
    assert sum(d["snoozes"] for d in done) == SNOOZED  # a row one tick locked, others skip

    woken, tickets = wake_events(database_url)
    assert len(tickets) == SNOOZED
    assert woken == {ticket_id: 1 for ticket_id in tickets}
    assert_each_mail_sent_once(stored(database_url), done, counter)


WAITING = 40  # every other one resolved, the others pending
LIFECYCLE = '\n[lifecycle]\npending_reminder = "1h"\n'


def notices_and_outbox(database_url: str) -> tuple[Counter[tuple[int, str]], Counter[str]]:
    """The timed notice rows per ticket and kind, and the outbox rows per kind."""
    engine = make_engine(database_url)
    try:
        with unit_of_work(engine) as session:
            notices = session.exec(select_rows(TicketNotice.ticket_id, TicketNotice.kind))
            kinds = session.exec(select_rows(OutboxItem.kind))
            return Counter((t, k) for t, k in notices), Counter(kinds)
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_processes_close_and_remind_each_waiting_ticket_exactly_once(
    database_url: str,
    tmp_path: Path,
    relay: tuple[MessageIdCounter, int],
    processes: list[subprocess.Popen[Any]],
) -> None:
    counter, port = relay
    config = write_config(tmp_path, database_url, to_relay(port) + LIFECYCLE)
    resolved_or_pending = ["#resolve", "#pending"]
    start = tickets_acted_on(config, WAITING, lambda n: [resolved_or_pending[n % 2]])
    due = start + timedelta(hours=72, minutes=1)  # the ratings wait, and past the reminder

    with gate(database_url, "ticket") as held:
        ticks = [start_tick(config, "--at", due.isoformat()) for _ in range(WORKERS)]
        processes.extend(ticks)
        wait_until_each_waits(held, "ticket", ticks)
    done = [tick_counts(tick) for tick in ticks]
    assert sum(d["auto-close"] for d in done) == WAITING // 2
    assert sum(d["pending-reminder"] for d in done) == WAITING // 2

    notices, kinds = notices_and_outbox(database_url)
    assert set(notices.values()) == {1}
    assert Counter(kind for _ticket, kind in notices) == {
        "auto-close": WAITING // 2,
        "pending-reminder": WAITING // 2,
    }
    assert (kinds["auto-close"], kinds["pending-reminder"]) == (WAITING // 2, WAITING // 2)
    assert_each_mail_sent_once(stored(database_url), done, counter)


SLA_POLICY = '\n[[sla]]\nname = "all"\nfirst_response = "1h"\n'


def tickets_due(config: Path, count: int) -> datetime:
    """`count` new tickets nobody answers; returns a moment after their first response is due."""
    app = open_app(load_settings(config))
    origin = Origin(transport="pipe", envelope_to=("support@example.com",))
    try:
        for n in range(count):
            raw = mail(subject=f"Case {n}", message_id=f"sla-{n}@acme.test")
            outcome = process_one(
                app.engine, app.desk, item_id=accept_raw(app, raw, origin).item_id
            )
            assert outcome is not None and outcome.ticket is not None
        return app.desk.clock.now() + timedelta(hours=1, minutes=1)
    finally:
        app.engine.dispose()


def notice_rows(database_url: str) -> Counter[tuple[int, str]]:
    engine = make_engine(database_url)
    try:
        with unit_of_work(engine) as session:
            rows = session.exec(select_rows(TicketNotice.ticket_id, TicketNotice.kind))
            return Counter((ticket_id, kind) for ticket_id, kind in rows)
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_processes_report_each_sla_breach_exactly_once(
    database_url: str,
    tmp_path: Path,
    relay: tuple[MessageIdCounter, int],
    processes: list[subprocess.Popen[Any]],
) -> None:
    counter, port = relay
    config = write_config(tmp_path, database_url, to_relay(port) + SLA_POLICY)
    due = tickets_due(config, SNOOZED)

    with gate(database_url, "ticket") as held:
        ticks = [start_tick(config, "--at", due.isoformat()) for _ in range(WORKERS)]
        processes.extend(ticks)
        wait_until_each_waits(held, "ticket", ticks)
    done = [tick_counts(tick) for tick in ticks]

    assert sum(d["sla"] for d in done) == SNOOZED  # one breach notice per ticket
    rows = notice_rows(database_url)
    assert set(rows.values()) == {1} and len(rows) == SNOOZED
    assert {kind for _, kind in rows} == {"sla-breach"}
    assert_each_mail_sent_once(stored(database_url), done, counter)
