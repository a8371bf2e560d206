"""Search, similar tickets and export at size: the corpus of `bench/corpus.py` ingested, then
`ticket search` for a few words (rare and common), `ticket similar` for a few tickets and an
mbox export of every ticket, each timed over several runs (median).

Prints figures, asserts nothing: `python -m bench.search [--mails N]
[--database-url postgresql+psycopg://…]` (default: SQLite; PostgreSQL too when given).
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import select

from maildesk.app import App, accept_raw
from maildesk.db import read_only_unit
from maildesk.mail.archive import mbox_entry
from maildesk.models import Ticket
from maildesk.pipeline.runner import process_one
from maildesk.services.export import iter_raw, ticket_mails
from maildesk.services.origin import Origin
from maildesk.services.search import search_tickets
from maildesk.services.similar import similar_tickets

try:
    from bench.corpus import generate
    from bench.ingest import fresh_database, prepared_app
except ImportError:  # run as `python bench/search.py`
    from corpus import generate  # type: ignore[no-redef]
    from ingest import fresh_database, prepared_app  # type: ignore[no-redef]

WORDS = ("printer", "invoice refund", "the", "vpn connection timeout", 'odd "query* NEAR(')
RUNS = 5


def median_ms(work: Callable[[], list[Any]]) -> tuple[float, list[Any]]:
    """The median time of RUNS runs, and what the last one returned."""
    times, result = [], []
    for _ in range(RUNS):
        start = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def ingest(app: App, mails: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in mails:
        stored = accept_raw(app, raw, Origin(transport="import"))
        if not stored.duplicate:
            process_one(app.engine, app.desk, item_id=stored.item_id)
    return len(mails) / (time.perf_counter() - start)


def measure(app: App, label: str) -> None:
    with read_only_unit(app.engine) as session:
        for words in WORDS:
            ms, hits = median_ms(lambda w=words: search_tickets(session, text=w))
            print(f"{label}: search {words!r}: {ms:.1f} ms, {len(hits)} hits")
        tickets = list(session.exec(select(Ticket).order_by(Ticket.id).limit(5)))
        for ticket in tickets:
            ms, found = median_ms(lambda t=ticket: similar_tickets(session, ticket=t))
            top = f"{found[0].ref} {found[0].score:.2f}" if found else "none"
            print(f"{label}: similar {ticket.ref}: {ms:.1f} ms, {len(found)} alike (best {top})")
        every = [t.id or 0 for t in session.exec(select(Ticket))]
        start = time.perf_counter()
        out = io.BytesIO()
        mails = ticket_mails(session, every)
        for mail, raw in iter_raw(session, mails):
            out.write(mbox_entry(raw, sender=mail.sender, moment=mail.at))
        seconds = time.perf_counter() - start
        size = out.tell() / 1e6
        print(f"{label}: export mbox --all: {len(mails)} mails, {size:.1f} MB in {seconds:.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    mails = generate(args.mails)
    urls: list[str | None] = [None] + ([args.database_url] if args.database_url else [])
    for base in urls:
        with tempfile.TemporaryDirectory() as workdir, fresh_database(base, Path(workdir)) as url:
            app = prepared_app(url, Path(workdir))
            label = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
            print(f"{label}: ingest {args.mails} mails: {ingest(app, mails):.0f} msgs/s")
            measure(app, label)
            app.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
