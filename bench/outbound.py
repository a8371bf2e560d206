"""Outbound throughput: outbox rows → a local aiosmtpd relay (its own process), reused connections.

Tickets are created first (not timed) so each has its queued acknowledgement; then the
sender delivers every due row over `--connections` relay connections in batches, as the
daemon's sender does. Prints figures beside the floor of `baseline.py` measured in the same
run, first and last, as the machine drifts (`--no-baseline` leaves it out).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import event, text

from maildesk.app import accept_raw, open_app
from maildesk.config import parse_settings
from maildesk.db import make_engine, unit_of_work, upgrade
from maildesk.outbound.outbox import list_items
from maildesk.pipeline.runner import drain
from maildesk.sender import delivery, recorder
from maildesk.sender.delivery import deliver_due
from maildesk.sender.transports import SmtpTransport
from maildesk.services.origin import Origin
from maildesk.timing.clock import SystemClock

try:
    from bench.baseline import bare_rate
    from bench.corpus import DESK, generate
    from bench.ingest import fresh_database
except ImportError:  # run as `python bench/outbound.py`
    from baseline import bare_rate  # type: ignore[no-redef]
    from corpus import DESK, generate  # type: ignore[no-redef]
    from ingest import fresh_database  # type: ignore[no-redef]


class CountingRelay:
    """aiosmtpd handler that counts mails and connections, and its CPU time from the first."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay  # before each 250, as a relay that writes its queue file first
        self.mails = 0
        self.connections = 0
        self.cpu_at_first = 0.0

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        if not self.connections:
            self.cpu_at_first = time.process_time()
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.mails += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 OK"


def prepare(workdir: Path, url: str, n: int) -> Any:
    """A desk on `url` with `n` new tickets processed, each with its acknowledgement queued."""
    data: dict[str, Any] = {
        "desk": {"address": DESK, "secret": "bench", "secret_env": None},
        "database": {"url": url},
        "outbound": {"transport": "smtp", "ack_limit": 1_000_000},
    }
    settings = parse_settings(data, base_dir=workdir)
    engine = make_engine(settings.database_url())
    upgrade(engine)
    engine.dispose()
    app = open_app(settings)
    mails = [m for m in generate(n * 2) if b"In-Reply-To" not in m][:n]
    for raw in mails:
        accept_raw(app, raw, Origin(transport="pipe"))
    drain(app.engine, app.desk, limit=len(mails))
    return app


async def deliver_all(app: Any, port: int, batch: int, connections: int) -> tuple[int, float]:
    """Every due row delivered, as the daemon's sender does: rounds of `deliver_due`."""
    transports = [SmtpTransport("127.0.0.1", port, timeout=30) for _ in range(connections)]
    start = time.perf_counter()
    sent = 0
    while True:
        report = await deliver_due(app.engine, transports, SystemClock(), batch=batch)
        sent += report.sent
        if report.sent + report.retrying + report.failed == 0:
            break
    return sent, time.perf_counter() - start


_REQUEUE = text(
    "UPDATE outboxitem SET state = 'queued', raw = NULL, attempts = 0, sent_at = NULL, "
    "next_attempt_at = created_at"
)


def requeue(app: Any) -> int:
    """Every row due again as a draft, as ingest queued it: the next run composes it anew."""
    with unit_of_work(app.engine) as session:
        session.execute(_REQUEUE)
        return len(list_items(session, state="queued"))


def run_relay(ports: Connection, counts: Connection, delay: float) -> None:
    """The relay, in a process of its own as a real MTA would be; reports its counts at the end."""

    async def serve() -> None:
        relay = CountingRelay(delay)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(relay), "127.0.0.1", 0)
        ports.send(server.sockets[0].getsockname()[1])
        await loop.run_in_executor(None, ports.recv)  # until the sender's run is done
        counts.send((relay.mails, relay.connections, time.process_time() - relay.cpu_at_first))
        server.close()

    asyncio.run(serve())


@dataclass(frozen=True)
class Figure:
    sent: int
    queued: int
    seconds: float
    cpu: float  # the sender's
    relay_cpu: float
    mails: int  # as the relay counted them
    connections: int

    def line(self, label: str) -> str:
        return (
            f"{label}: {self.sent} of {self.queued} queued mails in {self.seconds:.2f} s = "
            f"{self.sent / self.seconds:.0f} msgs/s over {self.connections} connection(s); "
            f"relay received {self.mails}; sender CPU {self.cpu / max(self.sent, 1) * 1000:.2f} "
            f"ms/mail, relay CPU {self.relay_cpu / max(self.mails, 1) * 1000:.2f} ms/mail"
        )


class Split:
    """CPU time of the sender's steps that run in threads, and the statements it executes.

    Wraps the step functions where `delivery` and `recorder` look them up; what is left of
    the process's CPU time is the event loop's (SMTP client, asyncio, logging).
    """

    STEPS = (("claim", delivery, "_claim_rows"), ("compose", delivery, "_compose_all"),
             ("write", recorder, "write_results"))  # fmt: skip

    def __init__(self, engine: Any) -> None:
        self.cpu = dict.fromkeys(("claim", "compose", "write"), 0.0)
        self.statements = 0
        event.listen(engine, "before_cursor_execute", self._count)
        for name, module, function in self.STEPS:
            setattr(module, function, self._timed(name, getattr(module, function)))

    def _count(self, *args: Any) -> None:
        self.statements += 1

    def _timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        original = getattr(function, "__wrapped__", function)

        @functools.wraps(original)
        def timed(*args: Any) -> Any:
            start = time.thread_time()
            try:
                return original(*args)
            finally:
                self.cpu[name] += time.thread_time() - start

        return timed

    def reset(self) -> None:
        self.cpu = dict.fromkeys(self.cpu, 0.0)
        self.statements = 0

    def line(self, total: float, sent: int) -> str:
        per = {name: cpu / max(sent, 1) * 1000 for name, cpu in self.cpu.items()}
        loop = total / max(sent, 1) * 1000 - sum(per.values())
        steps = ", ".join(f"{name} {ms:.2f}" for name, ms in per.items())
        return (
            f"  CPU ms/mail: {steps}, event loop {loop:.2f}; "
            f"{self.statements / max(sent, 1):.2f} statements/mail"
        )


async def one_run(app: Any, args: argparse.Namespace) -> Figure:
    """A relay process of its own (fresh counts), every queued row delivered to it."""
    ours, theirs = multiprocessing.Pipe()
    counts_in, counts_out = multiprocessing.Pipe(duplex=False)
    relay_args = (theirs, counts_out, args.relay_ms / 1000)
    relay = multiprocessing.Process(target=run_relay, args=relay_args, daemon=True)
    relay.start()
    port = ours.recv()
    queued = await asyncio.to_thread(requeue, app)
    cpu = time.process_time()
    sent, seconds = await deliver_all(app, port, args.batch, args.connections)
    cpu = time.process_time() - cpu
    ours.send("done")
    mails, opened, relay_cpu = counts_in.recv()
    relay.join()
    return Figure(sent, queued, seconds, cpu, relay_cpu, mails, opened)


async def main_async(args: argparse.Namespace) -> None:
    floors = [bare_floor(args.n)] if args.baseline else []
    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.database_url, Path(tmp)) as url:
        app = await asyncio.to_thread(prepare, Path(tmp), url, args.n)
        print(f"{args.n} tickets made; batch {args.batch}, relay delay {args.relay_ms:g} ms")
        print((await one_run(app, args)).line("warm-up"), flush=True)
        split, figures = Split(app.engine), []
        for number in range(1, args.repeat + 1):
            split.reset()
            figures.append(await one_run(app, args))
            print(figures[-1].line(f"run {number}"), flush=True)
            print(split.line(figures[-1].cpu, figures[-1].sent), flush=True)
        app.engine.dispose()
    floors += [bare_floor(args.n)] if args.baseline else []
    database = "postgresql" if args.database_url else "sqlite"
    rate = statistics.median(f.sent / f.seconds for f in figures)
    cpu = statistics.median(f.cpu / max(f.sent, 1) * 1000 for f in figures)
    floor = f"; floor {' / '.join(f'{f:.0f}' for f in floors)} msgs/s" if floors else ""
    ratio = f" = {rate / statistics.mean(floors):.2f}x the floor" if floors else ""
    print(
        f"outbound {database}, {args.connections} connection(s): median {rate:.0f} msgs/s, "
        f"sender CPU {cpu:.2f} ms/mail{floor}{ratio}"
    )


def bare_floor(n: int) -> float:
    """`baseline.py`'s bare parse + thread lookup + commit per mail on this machine, now."""
    with tempfile.TemporaryDirectory(prefix="maildesk-baseline-") as tmp:
        return bare_rate(generate(n), Path(tmp))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="new tickets, one ack each")
    parser.add_argument("--batch", type=int, default=50, help="mails per relay connection")
    parser.add_argument("--connections", type=int, default=4, help="relay connections at once")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after a warm-up")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument("--relay-ms", type=float, default=0, help="relay's delay before each 250")
    parser.add_argument(
        "--database-url",
        help="default: a fresh SQLite file in a temp dir; a PostgreSQL URL gets a fresh schema",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
