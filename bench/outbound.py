"""Outbound throughput: outbox rows → a local aiosmtpd relay (its own process), reused connections.

Tickets are created first (not timed) so each has its queued acknowledgement; then the
sender delivers every due row in batches, as the daemon's sender does. Prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from maildesk.app import accept_raw, open_app
from maildesk.config import parse_settings
from maildesk.db import make_engine, unit_of_work, upgrade
from maildesk.outbound.outbox import list_items
from maildesk.pipeline.runner import drain
from maildesk.sender.delivery import deliver_due
from maildesk.sender.transports import SmtpTransport
from maildesk.services.origin import Origin
from maildesk.timing.clock import SystemClock

try:
    from bench.corpus import DESK, generate
except ImportError:  # run as `python bench/outbound.py`
    from corpus import DESK, generate  # type: ignore[no-redef]


class CountingRelay:
    """aiosmtpd handler that counts mails and connections."""

    def __init__(self) -> None:
        self.mails = 0
        self.connections = 0

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.mails += 1
        return "250 2.0.0 OK"


def prepare(workdir: Path, n: int, port: int) -> Any:
    data: dict[str, Any] = {
        "desk": {"address": DESK, "secret": "bench", "secret_env": None},
        "database": {"url": f"sqlite:///{workdir / 'maildesk.db'}"},
        "outbound": {
            "transport": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "ack_limit": 1_000_000,
        },
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


async def deliver_all(app: Any, port: int, batch: int) -> tuple[int, float]:
    transport = SmtpTransport("127.0.0.1", port, timeout=30)
    start = time.perf_counter()
    sent = 0
    while True:
        report = await deliver_due(app.engine, transport, SystemClock(), batch=batch)
        sent += report.sent
        if report.sent + report.retrying + report.failed == 0:
            break
    await transport.close()
    return sent, time.perf_counter() - start


def run_relay(ports: Connection, counts: Connection) -> None:
    """The relay, in a process of its own as a real MTA would be; reports its counts at the end."""

    async def serve() -> None:
        relay = CountingRelay()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(relay), "127.0.0.1", 0)
        ports.send(server.sockets[0].getsockname()[1])
        await loop.run_in_executor(None, ports.recv)  # until the sender is done
        server.close()
        counts.send((relay.mails, relay.connections))

    asyncio.run(serve())


async def main_async(n: int, batch: int) -> None:
    ours, theirs = multiprocessing.Pipe()
    counts_in, counts_out = multiprocessing.Pipe(duplex=False)
    relay = multiprocessing.Process(target=run_relay, args=(theirs, counts_out), daemon=True)
    relay.start()
    port = ours.recv()
    with tempfile.TemporaryDirectory() as tmp:
        app = await asyncio.to_thread(prepare, Path(tmp), n, port)
        with unit_of_work(app.engine) as session:
            queued = len(list_items(session, state="queued"))
        cpu = time.process_time()
        sent, seconds = await deliver_all(app, port, batch)
        cpu = time.process_time() - cpu
        app.engine.dispose()
    ours.send("done")
    mails, connections = counts_in.recv()
    relay.join()
    print(
        f"outbound sqlite: {sent} of {queued} queued mails to a loopback relay in "
        f"{seconds:.2f} s = {sent / seconds:.0f} msgs/s over {connections} connection(s) "
        f"(batch {batch}); relay received {mails}; sender CPU {cpu:.2f} s = "
        f"{cpu / max(sent, 1) * 1000:.2f} ms/mail"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="new tickets, one ack each")
    parser.add_argument("--batch", type=int, default=50, help="mails per relay connection")
    args = parser.parse_args()
    asyncio.run(main_async(args.n, args.batch))


if __name__ == "__main__":
    main()
