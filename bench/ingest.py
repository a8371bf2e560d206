"""Ingest throughput: batch (accept + process per mail, like `maildesk ingest`) and SMTP.

Prints figures, asserts nothing; `--profile` shows where batch ingest spends its time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import multiprocessing
import pstats
import re
import resource
import secrets
import shutil
import smtplib
import statistics
import sys
import sysconfig
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy import event

from maildesk.app import App, accept_in_groups, accept_raw, async_accept, open_app
from maildesk.config import Settings, parse_settings
from maildesk.daemon.loop import HOLD_SECONDS
from maildesk.db import make_engine, turn_due, upgrade
from maildesk.inbox_row import raw_message_id
from maildesk.ingest.smtp import SmtpListener
from maildesk.pipeline.batch import BATCH_LIMIT, process_batch
from maildesk.pipeline.parse_pool import close_pools
from maildesk.pipeline.runner import Outcome, process_one
from maildesk.services.inbox import Stored
from maildesk.services.origin import AcceptFn, Origin

try:
    from bench.baseline import Bare, bare_rate
    from bench.corpus import DESK, generate
except ImportError:  # run as `python bench/ingest.py`
    from baseline import Bare, bare_rate  # type: ignore[no-redef]
    from corpus import DESK, generate  # type: ignore[no-redef]

_IN_REPLY_TO = re.compile(rb"^In-Reply-To:", re.IGNORECASE | re.MULTILINE)
_IN_REPLY_TO_ID = re.compile(rb"^In-Reply-To:\s*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)


@dataclass
class Result:
    """One benchmark run, ready to print as a line of the result block."""

    mode: str
    backend: str
    count: int
    seconds: float
    outcomes: Counter[str]
    peak_rss_mb: float
    expected_new: int
    notes: list[str] = field(default_factory=list)
    profiled: bool = False
    cpu_seconds: float = 0.0  # the process's CPU time over the same span as `seconds`
    floor_in_turn: float | None = None  # msgs/s of the floor run in turn with it (batch)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        rate = self.rate
        counts = ", ".join(f"{name} {n}" for name, n in self.outcomes.most_common())
        tag = " (under cProfile)" if self.profiled else ""
        head = (
            f"{self.mode} {self.backend}{tag}: {self.count} mails in {self.seconds:.2f} s = "
            f"{rate:.0f} msgs/s, peak RSS {self.peak_rss_mb:.0f} MB ({counts})"
        )
        return "\n".join([head, *(f"    {note}" for note in self.notes)])

    def threading_warning(self) -> str | None:
        """None when created/appended match the corpus (new threads vs. replies) within 2%."""
        replies = self.count - self.expected_new
        created, appended = self.outcomes["created"], self.outcomes["appended"]
        slack = max(1, self.count // 50)
        if abs(created - self.expected_new) <= slack and abs(appended - replies) <= slack:
            return None
        return (
            f"WARNING: threading is off: expected ~{self.expected_new} created / ~{replies} "
            f"appended, got {created} / {appended}"
        )


# --- database and settings ----------------------------------------------------------------


def _backend(url: str | None) -> str:
    return "sqlite" if url is None or url.startswith("sqlite") else "postgres"


@contextmanager
def fresh_database(base_url: str | None, workdir: Path) -> Iterator[str]:
    """A fresh SQLite file in `workdir`, or a fresh PostgreSQL schema dropped afterwards."""
    if base_url is None:
        yield f"sqlite:///{workdir / 'maildesk.db'}"
        return
    if base_url.startswith("sqlite"):
        yield base_url
        return
    schema = f"bench_{secrets.token_hex(4)}"
    admin = make_engine(base_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def make_settings(
    url: str, workdir: Path, agents: int = 0, parse_processes: int | None = None
) -> Settings:
    """A desk on `url`; `agents` agents in the default queue get a notice per new ticket;
    `parse_processes` is `[worker] parse_processes` (None: its default)."""
    data: dict[str, Any] = {
        "desk": {"address": DESK, "secret": "bench-secret", "secret_env": None},
        "database": {"url": url},
        "smtp": {"host": "127.0.0.1", "port": 0},
    }
    if parse_processes is not None:
        data["worker"] = {"parse_processes": parse_processes}
    if agents:
        data["agents"] = [
            {"email": f"agent{i}@example.com", "name": f"Agent {i}", "queues": ["general"]}
            for i in range(1, agents + 1)
        ]
    return parse_settings(data, base_dir=workdir)


def prepared_app(
    url: str, workdir: Path, agents: int = 0, parse_processes: int | None = None
) -> App:
    """Migrate a fresh database and open the app on it, as `maildesk init` + `ingest` would."""
    return migrated_app(make_settings(url, workdir, agents, parse_processes))


def migrated_app(settings: Settings) -> App:
    """Migrate the settings' fresh database and open the app on it."""
    engine = make_engine(settings.database_url())
    upgrade(engine)
    engine.dispose()
    return open_app(settings)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def expected_new(mails: list[bytes]) -> int:
    return sum(1 for raw in mails if not _IN_REPLY_TO.search(raw.split(b"\r\n\r\n", 1)[0]))


# --- batch --------------------------------------------------------------------------------


class StatementCount:
    """Statements the engine sends (an executemany counts once: one round trip), by phase."""

    def __init__(self, app: App) -> None:
        self.phase = "accept"
        self.counts: Counter[str] = Counter()
        event.listen(app.engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.counts[self.phase] += 1

    def note(self, n: int) -> str:
        accept, process = self.counts["accept"] / n, self.counts["process"] / n
        return f"statements per mail: accept {accept:.2f}, process {process:.2f}"


def accept_some(app: App, mails: list[bytes], origin: Origin) -> list[Stored]:
    """What `maildesk ingest FILE…` does first: the files' mails stored in one commit a
    group (`app.in_groups`); one file alone in its own."""
    if len(mails) == 1:
        return [accept_raw(app, mails[0], origin)]
    return accept_in_groups(app, mails, origin)


def process_some(app: App, stored: list[Stored], batch: int) -> list[str]:
    """What `maildesk ingest FILE…` does with what it accepted: one item alone, several in
    one transaction (`--batch 1`: each in its own, as before group commit)."""
    new = [each.item_id for each in stored if not each.duplicate]
    found: dict[int, str] = {}
    if batch == 1 or len(new) == 1:
        for item_id in new:
            outcome = process_one(app.engine, app.desk, item_id=item_id)
            found[item_id] = outcome.outcome if outcome else "queued"
    elif new:
        outcomes = process_batch(app.engine, app.desk, item_ids=new, limit=len(new))
        found = {outcome.item_id: outcome.outcome for outcome in outcomes}
    return ["duplicate" if each.duplicate else found.get(each.item_id, "queued") for each in stored]


@dataclass
class Turns:
    """Seconds of a batch run: maildesk's accepts and processing, and the floor's own work on
    each group of mails right after maildesk's (zero when the floor was not run in turn)."""

    accept: float = 0.0
    process: float = 0.0
    floor: float = 0.0
    floor_cpu: float = 0.0


def in_turns(
    app: App, mails: list[bytes], batch: int, statements: StatementCount, bare: Bare | None
) -> tuple[Turns, Counter[str]]:
    """Accept and process `mails` a group of `batch` at a time, each group followed by the
    floor's work on the same mails (`bare`): the machine's speed drifts within seconds here,
    and taking turns puts the drift on both alike."""
    origin = Origin(transport="pipe")
    turns, outcomes = Turns(), Counter[str]()
    for first in range(0, len(mails), batch):
        group = mails[first : first + batch]
        t0 = time.perf_counter()
        statements.phase = "accept"
        stored = accept_some(app, group, origin)
        t1 = time.perf_counter()
        statements.phase = "process"
        outcomes.update(process_some(app, stored, batch))
        t2, cpu = time.perf_counter(), time.process_time()
        turns.accept, turns.process = turns.accept + t1 - t0, turns.process + t2 - t1
        if bare is not None:
            for raw in group:
                bare.one(raw)
            turns.floor += time.perf_counter() - t2
            turns.floor_cpu += time.process_time() - cpu
    return turns, outcomes


def run_batch(
    mails: list[bytes],
    url: str,
    workdir: Path,
    *,
    profile: bool,
    agents: int = 0,
    batch: int = 1,
    parse_processes: int | None = None,
    floor: bool = False,
) -> Result:
    """Accept `batch` mails in one commit in this process, then process them together, like
    `maildesk ingest FILE…` (`--batch 1`: each alone, as before group commit); with `floor`,
    the floor's work on each group in turn with it (not under `profile`)."""
    app = prepared_app(url, workdir, agents, parse_processes)
    statements = StatementCount(app)
    bare = Bare(workdir) if floor and not profile else None
    profiler = cProfile.Profile() if profile else None
    start, cpu_start = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    turns, outcomes = in_turns(app, mails, batch, statements, bare)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start - turns.floor
    cpu = time.process_time() - cpu_start - turns.floor_cpu
    app.engine.dispose()
    if bare is not None:
        bare.close()
    result = Result(
        "batch", _backend(url), len(mails), seconds, outcomes, peak_rss_mb(), expected_new(mails)
    )
    result.profiled, result.cpu_seconds = profile, cpu
    result.floor_in_turn = len(mails) / turns.floor if turns.floor else None
    processes = app.settings.worker.parse_processes
    result.notes += _batch_notes(len(mails), processes, batch, turns, cpu, statements)
    if profiler:
        print_profile(profiler)
    return result


def _batch_notes(
    n: int, processes: int, batch: int, turns: Turns, cpu: float, statements: StatementCount
) -> list[str]:
    return [
        f"{batch} mails to a transaction, {processes} parse processes; "
        f"accept {turns.accept:.2f} s ({1000 * turns.accept / n:.2f} ms/mail), "
        f"process {turns.process:.2f} s ({1000 * turns.process / n:.2f} ms/mail); "
        f"CPU {cpu:.2f} s = {n / cpu:.0f} msgs/s per core busy",
        statements.note(n),
    ]


# --- profile ------------------------------------------------------------------------------

_STDLIB = sysconfig.get_paths()["stdlib"]
_PURELIB = sysconfig.get_paths()["purelib"]
# (label, file suffix, function name): cumulative time of the steps that matter
_KEY_FUNCTIONS = [
    ("accept_raw (accept transaction)", "maildesk/app.py", "accept_raw"),
    ("accept_together (accept transaction)", "maildesk/app.py", "accept_together"),
    ("process_one (process transaction)", "maildesk/pipeline/runner.py", "process_one"),
    ("process_batch (process transaction)", "maildesk/pipeline/batch.py", "process_batch"),
    ("  parse stage", "maildesk/pipeline/stages/parse.py", "run"),
    ("    mailparser.parse_from_bytes", "mailparser/core.py", "parse_from_bytes"),
    ("    html_to_text", "maildesk/mail/htmltext.py", "html_to_text"),
    ("  blacklist stage", "maildesk/pipeline/stages/blacklist.py", "run"),
    ("  automatic stage", "maildesk/pipeline/stages/automatic.py", "run"),
    ("  thread-match stage", "maildesk/pipeline/stages/thread_match.py", "run"),
    ("  decide stage", "maildesk/pipeline/stages/decide.py", "run"),
    ("  run_handlers (writes)", "maildesk/pipeline/runner.py", "run_handlers"),
    ("    store handler", "maildesk/pipeline/handlers/store.py", "run"),
    ("    participants handler", "maildesk/pipeline/handlers/participants.py", "run"),
    ("    strip_quoted", "maildesk/mail/quotes.py", "strip_quoted"),
    (
        "    announce: new ticket (ack, agent notices)",
        "maildesk/pipeline/announce.py",
        "new_ticket",
    ),
    ("    announce: customer reply (notices)", "maildesk/pipeline/announce.py", "customer_reply"),
    ("      render (jinja2)", "maildesk/outbound/render.py", "render"),
    ("      compose (MIME)", "maildesk/outbound/compose.py", "compose"),
    ("    AttachmentStore.put", "maildesk/files.py", "put"),
    ("  claim_item", "maildesk/services/inbox.py", "claim_item"),
    ("digest_of", "maildesk/inbox_row.py", "digest_of"),
    ("Session.commit", "sqlalchemy/orm/session.py", "commit"),
    ("Session.flush", "sqlalchemy/orm/session.py", "flush"),
    ("Session.execute (queries)", "sqlalchemy/orm/session.py", "execute"),
    ("Session.get", "sqlalchemy/orm/session.py", "get"),
    ("Session.close", "sqlalchemy/orm/session.py", "close"),
    ("sqlite3 Connection.commit", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("sqlite3 Cursor.execute", "~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
]


def _package(filename: str, function: str) -> str:
    """Group a profiled function: `maildesk.mail.quotes`, `sqlalchemy`, `stdlib:email`…"""
    if filename == "~":
        for needle, label in (
            ("sqlite3", "sqlite3 (C)"),
            ("psycopg", "psycopg (C)"),
            ("re.Pattern", "re (C)"),
            ("_hashlib", "hashlib (C)"),
            ("posix", "os (C)"),
        ):
            if needle in function:
                return label
        return "builtins (C)"
    path = filename.replace("\\", "/")
    if "/maildesk/" in path:
        module = path.rsplit("/maildesk/", 1)[1].removesuffix(".py").replace("/", ".")
        return "maildesk." + module
    if path.startswith(_PURELIB) or "site-packages/" in path:
        return path.split("site-packages/", 1)[-1].split("/", 1)[0].removesuffix(".py")
    if path.startswith(_STDLIB):
        return "stdlib:" + path[len(_STDLIB) :].strip("/").split("/", 1)[0].removesuffix(".py")
    return path


def print_profile(profiler: cProfile.Profile, top: int = 25) -> None:
    stats = pstats.Stats(profiler, stream=sys.stdout)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _cc, _nc, tt, _ct, _callers in raw.values()) or 1.0
    print(f"\n=== cProfile of batch ingest: {total:.2f} s profiled ===")
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    by_package: dict[str, float] = {}
    for (filename, _line, function), (_cc, _nc, tt, _ct, _callers) in raw.items():
        package = _package(filename, function)
        by_package[package] = by_package.get(package, 0.0) + tt
    print("=== self time by package (sums to 100%) ===")
    ranked = sorted(by_package.items(), key=lambda item: item[1], reverse=True)
    for name, seconds in ranked[:30]:
        print(f"  {100 * seconds / total:5.1f}%  {seconds:7.2f} s  {name}")
    print("=== cumulative time of key steps (nested; % of profiled total) ===")
    for label, suffix, function in _KEY_FUNCTIONS:
        cumulative, calls = 0.0, 0
        for (filename, _line, name), (_cc, nc, _tt, ct, _callers) in raw.items():
            if name == function and filename.replace("\\", "/").endswith(suffix):
                cumulative, calls = cumulative + ct, calls + nc
        if calls:
            print(f"  {100 * cumulative / total:5.1f}%  {cumulative:7.2f} s  {calls:7d}x  {label}")
    print()


# --- SMTP ---------------------------------------------------------------------------------


@dataclass
class ClientRun:
    first_send: float
    last_ack: float
    acked: dict[str, float]
    failures: int
    data_waits: list[float]  # seconds from the end of DATA (the lone dot) to the 250


def send_all(port: int, shares: list[list[tuple[str, str, bytes]]]) -> list[ClientRun]:
    """Every client connection, a thread each, in a process of their own as real senders are:
    their work takes no turn at the server's interpreter lock. Its clock is the server's
    (`perf_counter` is the system's monotonic clock)."""
    ready = threading.Barrier(len(shares))
    with ThreadPoolExecutor(len(shares), thread_name_prefix="smtp-client") as pool:
        return list(pool.map(lambda share: _send_share(port, share, ready), shares))


def _send_share(
    port: int, share: list[tuple[str, str, bytes]], ready: threading.Barrier
) -> ClientRun:
    """One SMTP connection sending its share in turn; a 4xx is retried up to 3 times."""
    acked: dict[str, float] = {}
    failures = 0
    client = _TimedSMTP("127.0.0.1", port, timeout=120)
    client.ehlo("bench.client.test")
    try:
        ready.wait()
        first_send = time.perf_counter()
        for sender, message_id, raw in share:
            for _attempt in range(4):
                try:
                    client.sendmail(sender, [DESK], raw)
                except smtplib.SMTPResponseException as exc:
                    failures += 1
                    print(f"smtp client: {message_id}: {exc.smtp_code} {exc.smtp_error!r}")
                    client.rset()
                    if exc.smtp_code < 500:
                        continue
                else:
                    acked[message_id] = time.perf_counter()
                break
    finally:
        client.close()
    last_ack = max(acked.values(), default=first_send)
    return ClientRun(first_send, last_ack, acked, failures, client.data_waits)


class _TimedSMTP(smtplib.SMTP):
    """smtplib's client, timing each DATA from its end (the lone dot is sent) to the reply."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.data_waits: list[float] = []
        self._dot_sent: float | None = None
        super().__init__(*args, **kwargs)

    def send(self, s: bytes | str) -> None:
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self._dot_sent = time.perf_counter()

    def getreply(self) -> tuple[int, bytes]:
        reply = super().getreply()
        if self._dot_sent is not None:
            self.data_waits.append(time.perf_counter() - self._dot_sent)
            self._dot_sent = None
        return reply


def _envelope_sender(head: bytes) -> str:
    """The From address, as a customer's provider would give it (never the null sender)."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(head + b"\r\n\r\n")
    return parseaddr(str(headers.get("From", "")))[1] or "customer@bench.test"


def client_shares(mails: list[bytes], clients: int) -> list[list[tuple[str, str, bytes]]]:
    """(envelope sender, Message-ID, raw) per client; a thread stays on one connection.

    Like a customer's provider, one connection delivers a whole thread in order, so a reply
    is never accepted before the mail it answers. Threads are dealt round-robin.
    """
    shares: list[list[tuple[str, str, bytes]]] = [[] for _ in range(clients)]
    client_of: dict[str, int] = {}  # Message-ID -> the client that sends it
    threads = 0
    for raw in mails:
        head = raw.split(b"\r\n\r\n", 1)[0]
        message_id = raw_message_id(raw) or ""
        parent = _IN_REPLY_TO_ID.search(head)
        parent_id = parent.group(1).decode() if parent else ""
        client = client_of.get(parent_id)
        if client is None:
            client, threads = threads % clients, threads + 1
        client_of[message_id] = client
        shares[client].append((_envelope_sender(head), message_id, raw))
    return shares


def bench_listener(
    accept: AcceptFn, max_message_bytes: int, on_stored: Callable[[], None] | None = None
) -> SmtpListener:
    """The SMTP listener the clients send to, on a free loopback port, for the corpus's desk."""
    return SmtpListener(
        host="127.0.0.1",
        port=0,
        accept=accept,
        local_addresses=lambda address: address.rpartition("@")[2] == "example.com",
        max_message_bytes=max_message_bytes,
        hostname="bench.example.com",
        on_stored=on_stored,
    )


def _send_timed(
    port: int, shares: list[list[tuple[str, str, bytes]]]
) -> tuple[list[ClientRun], float]:
    """`send_all`, and the CPU seconds the clients' process spent on it."""
    started = time.process_time()
    runs = send_all(port, shares)
    return runs, time.process_time() - started


async def clients_send(
    port: int, shares: list[list[tuple[str, str, bytes]]]
) -> tuple[list[ClientRun], float]:
    """The clients' runs, sent from a spawned process (no fork of a process with threads),
    and that process's CPU seconds."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as senders:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(senders, _send_timed, port, shares)


async def _smtp_session(
    app: App, mails: list[bytes], clients: int
) -> tuple[float, float, Counter[str], list[float], int, list[float]]:
    """Seconds to the last 250 and to the last processed item, outcomes, 250→ticket lags,
    errors, and the waits from the end of each DATA to its reply."""
    stored = asyncio.Event()
    outcomes: Counter[str] = Counter()
    processed_at: dict[str, float] = {}
    clients_done = asyncio.Event()
    listener = bench_listener(async_accept(app), app.settings.smtp.max_message_bytes, stored.set)
    await listener.start()

    async def worker() -> float:
        """Process received items as they arrive, what has arrived to a transaction (up to
        `[worker] batch_size`, as the daemon's worker); returns when the last one was done."""
        last = time.perf_counter()
        limit = app.settings.worker.batch_size
        commit_now = turn_due(app.engine, budget=HOLD_SECONDS)  # as the daemon's worker
        while True:
            stored.clear()
            done: list[Outcome] = await asyncio.to_thread(
                process_batch, app.engine, app.desk, limit=limit, commit_now=commit_now
            )
            if not done:
                if clients_done.is_set():
                    return last
                waiters = [asyncio.ensure_future(e.wait()) for e in (stored, clients_done)]
                await asyncio.wait(waiters, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
                continue
            last = time.perf_counter()
            for outcome in done:
                outcomes[outcome.outcome] += 1
                if outcome.message_id:
                    processed_at[outcome.message_id] = last

    shares = client_shares(mails, clients)
    worker_task = asyncio.create_task(worker())
    try:
        runs, _cpu = await clients_send(listener.port, shares)
    finally:
        clients_done.set()
        last_processed = await worker_task
        await listener.stop(grace_seconds=5)
    start = min(run.first_send for run in runs)
    last_ack = max(run.last_ack for run in runs)
    acked = {mid: at for run in runs for mid, at in run.acked.items()}
    lags = [processed_at[mid] - at for mid, at in acked.items() if mid in processed_at]
    failures = sum(run.failures for run in runs)
    waits = [wait for run in runs for wait in run.data_waits]
    return last_ack - start, last_processed - start, outcomes, lags, failures, waits


def run_smtp(
    mails: list[bytes], url: str, workdir: Path, *, clients: int, agents: int = 0
) -> Result:
    """SmtpListener in this process's loop, `clients` smtplib threads in another process, one
    processing worker."""
    app = prepared_app(url, workdir, agents)
    cpu_start = time.process_time()
    session = asyncio.run(_smtp_session(app, mails, clients))
    cpu = time.process_time() - cpu_start
    accepted_s, done_s, outcomes, lags, failures, waits = session
    app.engine.dispose()
    n = len(mails)
    result = Result("smtp", _backend(url), n, done_s, outcomes, peak_rss_mb(), expected_new(mails))
    result.notes.append(
        f"{clients} clients: last 250 after {accepted_s:.2f} s = {n / accepted_s:.0f} msgs/s "
        f"accepted; last ticket after {done_s:.2f} s = {n / done_s:.0f} msgs/s end-to-end; "
        f"server CPU {cpu:.2f} s = {n / cpu:.0f} msgs/s per core busy"
    )
    if lags:
        cuts = statistics.quantiles(lags, n=100)
        result.notes.append(
            f"250→processed lag: p50 {1000 * cuts[49]:.0f} ms, p95 {1000 * cuts[94]:.0f} ms, "
            f"max {1000 * max(lags):.0f} ms; {failures} error replies"
        )
    if len(waits) > 1:
        cuts = statistics.quantiles(waits, n=100)
        result.notes.append(
            f"end of DATA → 250: p50 {1000 * cuts[49]:.1f} ms, p99 {1000 * cuts[98]:.1f} ms, "
            f"max {1000 * max(waits):.1f} ms (target p99 < 200 ms)"
        )
    return result


# --- main ---------------------------------------------------------------------------------


def run_mode(mode: str, args: argparse.Namespace, mails: list[bytes]) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix=f"maildesk-bench-{mode}-"))
    try:
        with fresh_database(args.database_url, workdir) as url:
            if mode == "batch":
                return run_batch(
                    mails,
                    url,
                    workdir,
                    profile=args.profile,
                    agents=args.agents,
                    batch=args.batch,
                    parse_processes=args.parse_processes,
                    floor=not args.no_floor,
                )
            return run_smtp(mails, url, workdir, clients=args.clients, agents=args.agents)
    finally:
        close_pools()  # its workers end with the run, not at the interpreter's exit
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _in_child(mode: str, args: argparse.Namespace, mails: list[bytes]) -> Result:
    """Run one mode in a process of its own, so its peak RSS is its own. Spawned, not forked:
    a forked child's parse pool could not start its workers (they failed to take over its
    semaphores) and the child then hung at its exit, waiting for them."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(run_mode, mode, args, mails).result()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="number of mails (default 2000)")
    parser.add_argument("--mode", choices=("batch", "smtp", "both"), default="batch")
    parser.add_argument(
        "--database-url",
        help="default: a fresh SQLite file in a temp dir; a PostgreSQL URL gets a fresh schema",
    )
    parser.add_argument("--clients", type=int, default=20, help="SMTP client connections")
    parser.add_argument("--profile", action="store_true", help="cProfile the batch mode")
    parser.add_argument(
        "--batch",
        type=int,
        default=BATCH_LIMIT,
        help=f"mails to a transaction, as `maildesk ingest FILE…` (default {BATCH_LIMIT}; "
        "1: one each, as before group commit)",
    )
    parser.add_argument(
        "--agents", type=int, default=0, help="agents in the queue, each notified (default 0)"
    )
    parser.add_argument(
        "--parse-processes",
        type=int,
        help="[worker] parse_processes of the desk (default: its default; 0: parse inline)",
    )
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir for inspection")
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the floor (bench/baseline.py's bare run)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    mails = generate(args.n, seed=args.seed)
    size = sum(map(len, mails))
    print(
        f"corpus: {len(mails)} mails, {size / 1e6:.1f} MB, {expected_new(mails)} new threads, "
        f"generated in {time.perf_counter() - started:.1f} s (seed {args.seed})",
        flush=True,
    )
    modes = ["batch", "smtp"] if args.mode == "both" else [args.mode]
    run: Callable[[str, argparse.Namespace, list[bytes]], Result]
    run = _in_child if len(modes) > 1 else run_mode
    results = [run(mode, args, mails) for mode in modes]
    floor = None
    if not args.no_floor:
        with tempfile.TemporaryDirectory(prefix="maildesk-floor-") as tmp:
            floor = bare_rate(mails, Path(tmp))
    print("\n=== results ===")
    for result in results:
        print(result.line())
        if warning := result.threading_warning():
            print(f"    {warning}")
        if floor:
            print(f"    {result.rate / floor:.2f}x the floor of this run ({floor:.0f} msgs/s)")
        if result.floor_in_turn:
            print(
                f"    {result.rate / result.floor_in_turn:.2f}x the floor run in turn with it, "
                f"group by group ({result.floor_in_turn:.0f} msgs/s)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
