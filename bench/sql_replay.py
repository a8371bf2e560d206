"""What the database alone costs of a batch ingest: maildesk's own statements, replayed.

A batch ingest of the bench corpus (as `python -m bench.ingest --mode batch`) is run once on
a fresh SQLite file while every statement it sends to the driver is recorded, with its
parameters as the driver got them, and every COMMIT and ROLLBACK. A second fresh database,
set up the same way, then gets exactly those statements through the stdlib `sqlite3` module
with no SQLAlchemy and no maildesk code: what is left is the schema's own cost (its indexes,
full-text index and triggers) for what maildesk writes and reads.

Beside it: mail-parser alone, maildesk's parse (`pipeline.parse_pool.parse`), and the floor
of `bench/baseline.py`, all on the same corpus in the same run. From these it prints the
best a two-core run could do if maildesk's Python cost nothing beyond its parse: the parse
on one core and the statements on the other, or both shared out evenly, whichever is
slower. Times are CPU times of this process. Prints figures; asserts nothing:
`python -m bench.sql_replay [--n N]`.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mailparser
from sqlalchemy import event
from sqlalchemy.engine.interfaces import ExecuteStyle

from bench.baseline import bare_rate
from bench.corpus import generate
from bench.ingest import StatementCount, in_turns, prepared_app
from maildesk.db_connect import SQLITE_PRAGMAS
from maildesk.pipeline.parse_pool import parse

Sent = tuple[str, Any, bool]  # statement, parameters, executemany
BATCH = 100


def record(mails: list[bytes], workdir: Path) -> tuple[list[Sent], float]:
    """Ingest `mails` in batches of BATCH (parsing inline): what reached the driver, and the
    CPU seconds the ingest took (recording included)."""
    app = prepared_app(f"sqlite:///{workdir / 'recorded.db'}", workdir, parse_processes=0)
    sent: list[Sent] = []

    drivers: set[int] = set()

    def statement(conn: Any, _cursor: Any, sql: str, params: Any, ctx: Any, many: bool) -> None:
        drivers.add(id(conn.connection.dbapi_connection))
        if many and getattr(ctx, "execute_style", None) is ExecuteStyle.INSERTMANYVALUES:
            many = False  # SQLAlchemy's own multi-row INSERT: one execute of its batch
        sent.append((sql, list(params) if many else params, many))

    event.listen(app.engine, "before_cursor_execute", statement)
    event.listen(app.engine, "commit", lambda _conn: sent.append(("COMMIT", (), False)))
    event.listen(app.engine, "rollback", lambda _conn: sent.append(("ROLLBACK", (), False)))
    cpu = time.process_time()
    in_turns(app, mails, BATCH, StatementCount(app), None)
    cpu = time.process_time() - cpu
    app.engine.dispose()
    assert len(drivers) == 1, "the replay runs on one connection, as the recording did"
    return sent, cpu


def replay(sent: list[Sent], workdir: Path) -> float:
    """CPU seconds `sqlite3` takes to run `sent` on a database set up as the recorded one was
    (CPU: the WAL's checkpoints wait for the disk, which the writer's CPU does not)."""
    app = prepared_app(f"sqlite:///{workdir / 'replayed.db'}", workdir, parse_processes=0)
    app.engine.dispose()
    db = sqlite3.connect(workdir / "replayed.db", isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        db.execute(pragma)
    cursor = db.cursor()
    started = time.process_time()
    for sql, params, many in sent:
        if sql in ("COMMIT", "ROLLBACK"):
            if db.in_transaction:
                cursor.execute(sql)
        elif many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
            cursor.fetchall()
    seconds = time.process_time() - started
    db.close()
    return seconds


def _ms_a_mail(label: str, mails: list[bytes], each: Callable[[bytes], object]) -> float:
    """CPU ms a mail of `each` over `mails`: the least of three passes (the one the machine
    disturbed least)."""
    passes = []
    for _ in range(3):
        started = time.process_time()
        for raw in mails:
            each(raw)
        passes.append((time.process_time() - started) * 1000 / len(mails))
    print(f"{label:44} {min(passes):6.3f} ms a mail (least of 3)", flush=True)
    return min(passes)


def _bounds(floor: float, parse_ms: float, sql_ms: float, now_ms: float) -> None:
    """The best two cores could do with no Python but the parse, and what 1.0x leaves.

    Only the parse can go to the other core (the writer parses too when the pool is
    behind); the statements and the rest of maildesk run in the writer. At the floor's
    rate, a mail has `each` ms of the writer and 2 * `each` of both cores."""
    best = 1000 / max(sql_ms, (parse_ms + sql_ms) / 2)
    print(
        f"two cores, nothing but the parse and the statements: at best {best:.0f} msgs/s "
        f"= {best / floor:.2f}x the floor ({floor:.0f} msgs/s)"
    )
    each = 1000 / floor
    budget = min(each - sql_ms, 2 * each - parse_ms - sql_ms)
    rest = now_ms - parse_ms - sql_ms
    print(
        f"at 1.0x the floor, two cores leave {budget:.3f} ms a mail for the rest of maildesk "
        f"(stages, handlers, rules, notices, ORM, accept); it takes {rest:.3f} now (CPU, "
        "recording on)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="mails in the corpus")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed")
    args = parser.parse_args(argv)
    mails = generate(args.n, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="maildesk-replay-") as tmp:
        sent, cpu = record(mails, Path(tmp))
        now_ms = cpu * 1000 / len(mails)
        sql_ms = replay(sent, Path(tmp)) * 1000 / len(mails)
        floor = bare_rate(mails, Path(tmp))
    print(f"{'maildesk now, parsing inline (CPU)':44} {now_ms:6.3f} ms a mail (recording on)")
    print(f"{'its statements replayed with sqlite3':44} {sql_ms:6.3f} ms a mail ({len(sent)} sent)")
    _ms_a_mail("mail-parser alone", mails, mailparser.parse_from_bytes)
    parse_ms = _ms_a_mail("maildesk's parse", mails, lambda raw: parse(raw, 100))
    _bounds(floor, parse_ms, sql_ms, now_ms)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
