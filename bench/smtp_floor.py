"""What the SMTP exchange alone costs: the bench's twenty clients against a listener that
stores nothing.

`python -m bench.ingest --mode smtp` times twenty smtplib clients (threads of one process)
sending the corpus to maildesk's `SmtpListener`, to the last processed ticket. Here the same
clients send the same shares to the same listener, whose accept answers 250 at once and
keeps nothing: what is left is the SMTP conversation itself (aiosmtpd's parsing and the
listener's checks on the server, smtplib on the clients), with the CPU each side spent.
Beside it, the floor of `bench/baseline.py` in the same run and what the issue's SMTP
target (0.6x that floor, first byte to last ticket) leaves of two cores' time for all the
rest (the accept commit, the parse, the writer). Prints figures; asserts nothing:
`python -m bench.smtp_floor [--n N] [--clients C]`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.baseline import bare_rate
from bench.corpus import generate
from bench.ingest import bench_listener, client_shares, clients_send
from maildesk.services.origin import Accepted, Origin

TARGET = 0.6  # of the floor: the SMTP end-to-end target


async def _keep_nothing(_raw: bytes, _origin: Origin) -> Accepted:
    return Accepted.STORED


async def exchange(mails: list[bytes], clients: int) -> tuple[float, float, float]:
    """Seconds from the first byte to the last 250, the server's and the clients' CPU."""
    listener = bench_listener(_keep_nothing, 50 * 1024 * 1024)
    await listener.start()
    try:
        cpu = time.process_time()
        runs, client_cpu = await clients_send(listener.port, client_shares(mails, clients))
        server_cpu = time.process_time() - cpu
    finally:
        await listener.stop(grace_seconds=5)
    start = min(run.first_send for run in runs)
    return max(run.last_ack for run in runs) - start, server_cpu, client_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="mails in the corpus")
    parser.add_argument("--clients", type=int, default=20, help="SMTP client connections")
    args = parser.parse_args(argv)
    mails = generate(args.n, seed=1)
    seconds, server, client = asyncio.run(exchange(mails, args.clients))
    with tempfile.TemporaryDirectory(prefix="maildesk-smtp-floor-") as tmp:
        floor = bare_rate(mails, Path(tmp))
    n = len(mails)
    print(
        f"SMTP alone, {args.clients} clients: {n / seconds:.0f} msgs/s; CPU a mail: server "
        f"{1000 * server / n:.2f} ms, clients {1000 * client / n:.2f} ms"
    )
    cores = 2 * 1000 / (TARGET * floor)
    left = cores - 1000 * (server + client) / n
    print(
        f"at {TARGET}x the floor ({TARGET * floor:.0f} msgs/s), two cores have {cores:.2f} ms a "
        f"mail; the SMTP exchange takes {1000 * (server + client) / n:.2f} of it, leaving "
        f"{left:.2f} ms for the accept, the parse and the writer"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
