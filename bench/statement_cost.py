"""What one INSERT costs on each path the writer can take, beside `sqlite3` itself.

The same one-row INSERT, many times inside one transaction on a fresh SQLite file:
`db.Prepared` (compiled once, sent as text; what ingest's hot statements use), Core through
`session.execute`, Core through `session.connection().execute`, and the stdlib `sqlite3`
module with no SQLAlchemy at all. Prints microseconds a statement; asserts nothing:
`python -m bench.statement_cost [--n N]`.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlmodel import Session

from maildesk.db import Prepared, make_engine

METADATA = MetaData()
ROWS = Table(
    "row",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("a", String),
    Column("b", Integer),
)


def _per_statement(label: str, n: int, each: Callable[[int], object]) -> None:
    each(0)  # compiled, cached, warm
    started = time.perf_counter()
    for i in range(n):
        each(i)
    print(f"{label:32} {(time.perf_counter() - started) / n * 1e6:6.1f} µs a statement")


def through_sqlalchemy(folder: Path, n: int) -> None:
    engine = make_engine(f"sqlite:///{folder / 'sqlalchemy.db'}")
    METADATA.create_all(engine)
    prepared, core = Prepared(insert(ROWS)), insert(ROWS)
    with Session(engine) as session:
        _per_statement("db.Prepared", n, lambda i: prepared.execute(session, {"a": "x", "b": i}))
        _per_statement(
            "session.execute(Core)", n, lambda i: session.execute(core, {"a": "x", "b": i})
        )
        connection = session.connection()
        _per_statement(
            "connection.execute(Core)", n, lambda i: connection.execute(core, {"a": "x", "b": i})
        )
        session.commit()
    engine.dispose()


def through_sqlite3(folder: Path, n: int) -> None:
    db = sqlite3.connect(folder / "sqlite3.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE row (id INTEGER PRIMARY KEY, a TEXT, b INTEGER)")
    db.execute("BEGIN IMMEDIATE")
    sql = "INSERT INTO row (a, b) VALUES (?, ?)"
    _per_statement("sqlite3 (no SQLAlchemy)", n, lambda i: db.execute(sql, ("x", i)))
    db.execute("COMMIT")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="statements on each path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maildesk-statement-cost-") as tmp:
        through_sqlalchemy(Path(tmp), args.n)
        through_sqlite3(Path(tmp), args.n)


if __name__ == "__main__":
    main()
