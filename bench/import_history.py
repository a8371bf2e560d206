"""Import throughput: the corpus as an mbox, imported as history (`maildesk import mbox`), then
the same file again (all already imported). Prints figures, asserts nothing.

    python -m bench.import_history --n 2000 [--database-url postgresql+psycopg://…] [--agents 3]
"""

from __future__ import annotations

import argparse
import mailbox
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlmodel import func, select

from bench.corpus import generate
from bench.ingest import fresh_database, prepared_app
from maildesk.app import App
from maildesk.cli.import_cmd import import_some, in_batches, summary
from maildesk.db import unit_of_work
from maildesk.ingest.importer import read_messages
from maildesk.models import OutboxItem


def run(app: App, path: Path) -> tuple[Counter[str], float]:
    started = time.perf_counter()
    outcomes: Counter[str] = Counter()
    for batch in in_batches(read_messages("mbox", path)):  # as `maildesk import` takes them
        outcomes.update(import_some(app, batch, None))
    return outcomes, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--database-url")
    parser.add_argument("--agents", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.database_url, Path(tmp)) as url:
        path = Path(tmp) / "old.mbox"
        box = mailbox.mbox(path)
        for raw in generate(args.n):
            box.add(raw)
        box.close()
        app = prepared_app(url, Path(tmp), args.agents)
        for label in ("first import", "second import"):
            outcomes, seconds = run(app, path)
            rate = args.n / seconds
            print(f"{label}: {args.n} mails in {seconds:.1f} s, {rate:.0f} mails/s")
            print(f"  {summary(outcomes)}")
        with unit_of_work(app.engine) as session:
            queued = session.exec(select(func.count()).select_from(OutboxItem)).one()
        print(f"outbox rows after the import: {queued}")
        app.engine.dispose()


if __name__ == "__main__":
    main()
