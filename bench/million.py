"""Flat at scale: batch ingest of the bench corpus into a database that already holds a million
tickets (built once with Core bulk inserts, kept for reruns), beside the same ingest into an
empty database and the floor of `bench/baseline.py`, measured in the same run.

Prints figures, asserts nothing: `python -m bench.million [--n 1000] [--runs 3]
[--tickets 1000000] [--database-url postgresql+psycopg://…] [--no-sqlite] [--rebuild]
[--statements]`. SQLite keeps its database in bench/.million/; PostgreSQL in the schema
`bench_million` of the given database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import Connection

from maildesk.db import head_revision, make_engine, unit_of_work, upgrade
from maildesk.models import SQLModel
from maildesk.services.agent_loads import recount_loads

try:
    from bench import baseline, million_rows
    from bench.corpus import generate
    from bench.ingest import fresh_database, run_batch
    from bench.statement_times import StatementTimes
except ImportError:  # run as `python bench/million.py`
    import baseline  # type: ignore[no-redef]
    import million_rows  # type: ignore[no-redef]
    from corpus import generate  # type: ignore[no-redef]
    from ingest import fresh_database, run_batch  # type: ignore[no-redef]
    from statement_times import StatementTimes  # type: ignore[no-redef]

KEPT = Path(__file__).resolve().parent / ".million"
SCHEMA = "bench_million"
CHUNK = 20_000  # tickets generated and inserted at a time
BATCH = 5_000  # rows per executemany
BUILD = "1"  # bump when million_rows changes what it makes
NOW = datetime(2026, 12, 31, tzinfo=UTC)
Rates = tuple[float, float]  # msgs/s by wall time, msgs/s per core busy (CPU time)


# --- the kept database ----------------------------------------------------------------------


def kept_url(base: str | None) -> str:
    if base is None:
        return f"sqlite:///{KEPT / 'million.db'}"
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{SCHEMA}"


def wanted(tickets: int, seed: int) -> dict[str, str]:
    """What the kept database must have been built from; anything else is rebuilt."""
    return {"revision": str(head_revision()), "seed": str(seed), "tickets": str(tickets),
            "build": BUILD}  # fmt: skip


def recorded(engine: Engine) -> dict[str, str]:
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT key, value FROM bench_million_info"))
            return {key: value for key, value in rows}
    except Exception:  # no database, or not one of ours
        return {}


def _reset(base: str | None) -> None:
    if base is None:
        shutil.rmtree(KEPT, ignore_errors=True)
        KEPT.mkdir(parents=True)
        return
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
        connection.exec_driver_sql(f'CREATE SCHEMA "{SCHEMA}"')
    admin.dispose()


def ensure_built(base: str | None, tickets: int, seed: int, rebuild: bool) -> str:
    """The URL of the kept database, built first when missing, stale or `rebuild`."""
    url = kept_url(base)
    engine = make_engine(url) if base or (KEPT / "million.db").exists() else None
    if engine is not None and not rebuild and recorded(engine) == wanted(tickets, seed):
        engine.dispose()
        print(f"  kept database is current: {describe(url)}")
        return url
    if engine is not None:
        engine.dispose()
    _reset(base)
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        build(engine, tickets, seed)
        print(f"  built in {time.perf_counter() - started:.0f} s: {describe(url)}")
    finally:
        engine.dispose()
    return url


def build(engine: Engine, tickets: int, seed: int) -> None:
    """Migrate, bulk insert every table chunk by chunk, fill the full-text index, record."""
    upgrade(engine)
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        _fts(connection, sqlite, before=True)
        _indexes(connection, sqlite, create=False)
        _insert(connection, "organisation", million_rows.organisations())
        _insert(connection, "contact", million_rows.contacts())
        _insert(connection, "agent", million_rows.agents())
    _tickets(engine, tickets, seed)
    with unit_of_work(engine) as session:  # PostgreSQL loaded the tickets as a replica would:
        recount_loads(session)  # its triggers did not count the agents' loads
    started = time.perf_counter()
    with engine.begin() as connection:
        _fts(connection, sqlite, before=False)
        _indexes(connection, sqlite, create=True)
        _finish(connection, sqlite, wanted(tickets, seed))
    print(f"\n    full-text index and statistics in {time.perf_counter() - started:.0f} s")


def _tickets(engine: Engine, tickets: int, seed: int) -> None:
    """Tickets and what goes with them, CHUNK tickets a transaction."""
    maker = million_rows.Builder(seed=seed, tickets=tickets, now=NOW)
    for first in range(1, tickets + 1, CHUNK):
        chunk = maker.chunk(first, min(first + CHUNK - 1, tickets))
        with engine.begin() as connection:
            if engine.dialect.name != "sqlite":  # foreign keys hold by construction
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
                connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            for table in million_rows.TABLES[3:]:
                _insert(connection, table, chunk.rows[table])
        print(f"    {min(first + CHUNK - 1, tickets):>9,} tickets", end="\r", flush=True)


def _indexes(connection: Connection, sqlite: bool, *, create: bool) -> None:
    """PostgreSQL: the models' secondary indexes of the bulk tables are dropped before the
    load and made after it, as a restore does (SQLite builds fast enough with them)."""
    if sqlite:
        return
    for name in million_rows.TABLES[3:]:
        for index in SQLModel.metadata.tables[name].indexes:
            if create:
                index.create(connection)
            else:
                index.drop(connection)


def _insert(connection: Connection, name: str, rows: list[dict[str, Any]]) -> None:
    table = SQLModel.metadata.tables[name]
    for start in range(0, len(rows), BATCH):
        connection.execute(insert(table), rows[start : start + BATCH])


def _fts(connection: Connection, sqlite: bool, *, before: bool) -> None:
    """Migration 0005's index is filled once after the bulk insert, not row by row: SQLite's
    insert trigger is dropped, then the FTS5 table rebuilt and the trigger made again;
    PostgreSQL's generated column fills itself, its GIN index is made afterwards."""
    if sqlite and before:
        connection.exec_driver_sql("DROP TRIGGER message_fts_insert")
    elif sqlite:
        connection.exec_driver_sql("INSERT INTO message_fts (message_fts) VALUES ('rebuild')")
        connection.exec_driver_sql(_fts_trigger())
    elif before:
        connection.exec_driver_sql("DROP INDEX ix_message_search_vector")
    else:
        connection.exec_driver_sql(
            "CREATE INDEX ix_message_search_vector ON message USING gin (search_vector)"
        )


def _fts_trigger() -> str:
    """The insert trigger exactly as migration 0005 makes it."""
    from importlib import import_module

    migration = import_module("maildesk.migrations.versions.0005_full_text_search")
    statement: str = next(s for s in migration.SQLITE_UP if "message_fts_insert" in s)
    return statement


def _finish(connection: Connection, sqlite: bool, info: dict[str, str]) -> None:
    """Sequences past the ids given (PostgreSQL), statistics, and what it was built from."""
    if not sqlite:
        for table in ("organisation", "contact", "agent", "ticket", "inboxitem", "message",
                      "event", "outboxitem"):  # fmt: skip
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    connection.exec_driver_sql("ANALYZE")
    connection.exec_driver_sql("CREATE TABLE bench_million_info (key TEXT, value TEXT)")
    connection.execute(
        text("INSERT INTO bench_million_info VALUES (:key, :value)"),
        [{"key": key, "value": value} for key, value in info.items()],
    )


def describe(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tickets = connection.exec_driver_sql("SELECT count(*) FROM ticket").scalar()
            messages = connection.exec_driver_sql("SELECT count(*) FROM message").scalar()
            size = _size(connection, engine.dialect.name == "sqlite")
    finally:
        engine.dispose()
    return f"{tickets:,} tickets, {messages:,} messages, {size / 1e9:.2f} GB"


def _size(connection: Connection, sqlite: bool) -> int:
    if sqlite:
        return int((KEPT / "million.db").stat().st_size)
    query = (
        "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = '{SCHEMA}' AND c.relkind = 'r'"
    )
    return int(connection.exec_driver_sql(query).scalar() or 0)


# --- a run on a copy --------------------------------------------------------------------------


@contextmanager
def big_copy(url: str, workdir: Path) -> Iterator[str]:
    """SQLite: a copy of the kept file (every run starts from the same bytes), synced to disk
    before the run: the fdatasync of the run's first WAL checkpoint would otherwise write out
    gigabytes of the copy still in the page cache, and time the copy. PostgreSQL: the
    kept schema itself, and afterwards every row the run added is deleted (copying a schema
    of gigabytes would take minutes; the rows a run adds are known by their ids)."""
    if url.startswith("sqlite"):
        copy = workdir / "million.db"
        shutil.copyfile(KEPT / "million.db", copy)
        with copy.open("rb+") as written:  # else the run's first checkpoint writes all of it
            os.fsync(written.fileno())
        yield f"sqlite:///{copy}"
        return
    engine = make_engine(url)
    before = _high_water(engine)
    try:
        yield url
    finally:
        _delete_after(engine, before)
        engine.dispose()


def _high_water(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.exec_driver_sql(
                f"SELECT coalesce(max(id), 0) FROM {table.name}"
            ).scalar_one()
            for table in SQLModel.metadata.sorted_tables
            if "id" in table.c
        }


def _delete_after(engine: Engine, before: dict[str, int]) -> None:
    """Children first: rows keyed by a new ticket, then every row with an id past the mark
    (no foreign-key checks: what is deleted is exactly what the run added, and the checks
    would scan unindexed references such as ticket.merged_into_id once per deleted ticket).
    The dead rows are left to autovacuum, as a desk's deleted rows are."""
    with engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in reversed(SQLModel.metadata.sorted_tables):
            if "id" in table.c:
                connection.execute(table.delete().where(table.c.id > before[table.name]))
            elif "ticket_id" in table.c:
                connection.execute(table.delete().where(table.c.ticket_id > before["ticket"]))


def one_run(
    mails: list[bytes], base: str | None, big: str | None, timed: StatementTimes | None = None
) -> Rates:
    """msgs/s of one batch ingest (accept + process per mail) into the big or an empty db, by
    wall time and by the process's CPU time (steadier on a busy shared machine)."""
    with tempfile.TemporaryDirectory(prefix="maildesk-million-") as tmp:
        workdir = Path(tmp)
        place = big_copy(big, workdir) if big else fresh_database(base, workdir)
        with place as url, timed or nullcontext():
            result = run_batch(mails, url, workdir, profile=False, agents=million_rows.AGENTS)
    if warning := result.threading_warning():
        print(f"    {warning}")
    return result.count / result.seconds, result.count / result.cpu_seconds


def floor(mails: list[bytes]) -> Rates:
    with tempfile.TemporaryDirectory(prefix="maildesk-million-floor-") as tmp:
        cpu = time.process_time()
        wall = baseline.bare_rate(mails, Path(tmp))
        return wall, len(mails) / (time.process_time() - cpu)


def measure(mails: list[bytes], base: str | None, big: str, runs: int) -> dict[str, list[Rates]]:
    """A warm-up of each, then `runs` rounds of floor, empty and big, interleaved."""
    kinds: dict[str, Callable[[], Rates]] = {
        "floor": lambda: floor(mails),
        "empty": lambda: one_run(mails, base, None),
        "1M": lambda: one_run(mails, base, big),
    }
    print("  warm-up:")
    for run in kinds.values():
        run()
    rates: dict[str, list[Rates]] = {name: [] for name in kinds}
    for round_ in range(1, runs + 1):
        print(f"  round {round_}:")
        for name, run in kinds.items():
            rates[name].append(run())
            wall, cpu = rates[name][-1]
            print(f"    {name:<5} {wall:6.0f} msgs/s, {cpu:6.0f} msgs/s per core busy", flush=True)
    return rates


def report(label: str, rates: dict[str, list[Rates]]) -> None:
    for index, unit in ((0, "msgs/s"), (1, "msgs/s per core busy")):
        median = {name: statistics.median(r[index] for r in runs) for name, runs in rates.items()}
        print(
            f"{label} ({unit}), median of {len(rates['empty'])}: floor {median['floor']:.0f}, "
            f"empty {median['empty']:.0f} ({median['empty'] / median['floor']:.2f}x floor), "
            f"1M tickets {median['1M']:.0f} ({median['1M'] / median['floor']:.2f}x floor); "
            f"1M/empty = {median['1M'] / median['empty']:.2f} (target >= 0.80); median of the "
            f"rounds' own ratios {_paired(rates, index):.2f}"
        )


def _paired(rates: dict[str, list[Rates]], index: int) -> float:
    """The median of each round's 1M/empty: a round's two runs share the machine's mood."""
    pairs = zip(rates["1M"], rates["empty"], strict=True)
    return statistics.median(big[index] / empty[index] for big, empty in pairs)


def statements(mails: list[bytes], base: str | None, big: str) -> None:
    """Per-statement time per mail, empty against 1M: what grows with the tables (SQLite: CPU
    time; PostgreSQL: wall time, the server's work being elsewhere)."""
    times = {}
    for name, place in (("empty", None), ("1M", big)):
        times[name] = StatementTimes(time.thread_time if base is None else time.perf_counter)
        one_run(mails, base, place, times[name])
    StatementTimes.compare(times["empty"], times["1M"], mails=len(mails))


def run(args: argparse.Namespace, base: str | None, label: str, mails: list[bytes]) -> None:
    print(f"{label}:")
    big = ensure_built(base, args.tickets, args.seed, args.rebuild)
    if args.statements:
        statements(mails, base, big)
        return
    report(label, measure(mails, base, big, args.runs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="mails ingested per run")
    parser.add_argument("--runs", type=int, default=3, help="measured rounds (median)")
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets in the big db")
    parser.add_argument("--seed", type=int, default=1, help="corpus and database seed")
    parser.add_argument("--database-url", help="PostgreSQL too (schema bench_million)")
    parser.add_argument("--no-sqlite", action="store_true", help="only the PostgreSQL run")
    parser.add_argument("--rebuild", action="store_true", help="build the kept database again")
    parser.add_argument("--statements", action="store_true", help="time each statement")
    args = parser.parse_args(argv)
    mails = generate(args.n, seed=args.seed)
    if not args.no_sqlite:
        run(args, None, "sqlite", mails)
    if args.database_url:
        run(args, args.database_url, "postgresql", mails)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
