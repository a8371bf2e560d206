"""The SLA sweep at size: 100,000 open tickets whose next SLA moments are spread over a week,
1,000 of them due now. One sweep (`maildesk tick`'s SLA job: find, lock, claim, queue each
warning, move each ticket's next moment on) beside the bare indexed query that finds them.

Prints figures, asserts nothing: `python -m bench.sla [--tickets N] [--due N]
[--database-url postgresql+psycopg://…]` (default: both SQLite and the URL, if given).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import Session, select

from maildesk.app import App, open_app
from maildesk.config import parse_settings
from maildesk.db import make_engine, unit_of_work, upgrade
from maildesk.models import Agent, Contact, Ticket
from maildesk.services.agent_loads import recount_loads
from maildesk.timed.sla_sweep import due_tickets, sweep_sla
from maildesk.timing.clock import FixedClock

try:
    from bench.ingest import fresh_database
except ImportError:  # run as `python bench/sla.py`
    from ingest import fresh_database  # type: ignore[no-redef]

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
TARGET = timedelta(days=7)  # the policy's resolution target, 24x7
WARN_AT = 0.8


def settings_for(url: str, workdir: Path) -> Any:
    data: dict[str, Any] = {
        "desk": {
            "address": "support@example.com",
            "secret": "bench-secret-1234",
            "secret_env": None,
        },
        "database": {"url": url},
        "agents": [{"email": "agent@example.com", "name": "Agent", "queues": ["general"]}],
        "sla": [{"name": "week", "resolution": "7d", "warn_at": WARN_AT}],
    }
    return parse_settings(data, base_dir=workdir)


def ticket_rows(tickets: int, due: int, requester: int, agent: int) -> list[dict[str, Any]]:
    """Rows whose next moment (the warning) lies in the coming week, `due` of them now."""
    rng = random.Random(1)
    rows = []
    for n in range(tickets):
        ahead = -rng.uniform(0, 3600) if n < due else rng.uniform(1, WEEK.total_seconds())
        warning = NOW + timedelta(seconds=ahead)
        created = warning - TARGET * WARN_AT
        rows.append(
            {
                "ref": f"TKT-{n + 1}",
                "subject": f"Case {n + 1}",
                "status": "open",
                "priority": "normal",
                "queue": "general",
                "type": "incident",
                "category": "standard",
                "level": 1,
                "assignee_id": agent,
                "requester_id": requester,
                "created_at": created,
                "updated_at": created,
                "sla_policy": "week",
                "resolution_due": created + TARGET,
                "sla_next_at": warning,
                "paused_minutes": 0,
                "reopened": 0,
            }
        )
    return rows


def migrated_app(settings: Any) -> App:
    """The desk on a database brought to the head revision, its clock at NOW."""
    engine = make_engine(settings.database_url())
    upgrade(engine)
    engine.dispose()
    return open_app(settings, clock=FixedClock(NOW))


def requester_id(session: Session) -> int:
    contact = Contact(email="carol@acme.test", created_at=NOW)
    session.add(contact)
    session.flush()
    assert contact.id is not None
    return contact.id


def insert_tickets(session: Session, rows: list[dict[str, Any]]) -> None:
    """Ticket rows in Core bulk inserts of 5,000. PostgreSQL: with the triggers off (the rows
    are consistent by construction) and each agent's load counted once after: a trigger that
    moves one agent's count 100,000 times in one transaction leaves a chain of row versions
    that each next update walks. SQLite updates the agent's row in place."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(text("SET LOCAL session_replication_role = replica"))
    table = Ticket.__table__  # type: ignore[attr-defined]
    for start in range(0, len(rows), 5000):
        session.connection().execute(insert(table), rows[start : start + 5000])
    if postgresql:
        session.execute(text("SET LOCAL session_replication_role = origin"))
        recount_loads(session)


def analyze(app: App) -> None:
    """Fresh planner statistics, once the rows are committed."""
    with app.engine.begin() as connection:
        postgresql = app.engine.dialect.name == "postgresql"
        connection.execute(text("ANALYZE ticket" if postgresql else "ANALYZE"))


def prepared(url: str, workdir: Path, tickets: int, due: int) -> App:
    app = migrated_app(settings_for(url, workdir))
    with unit_of_work(app.engine) as session:
        agent = session.exec(select(Agent)).one()
        assert agent.id is not None
        insert_tickets(session, ticket_rows(tickets, due, requester_id(session), agent.id))
    analyze(app)
    return app


def bare_query(app: App) -> tuple[float, int]:
    """The indexed query alone: the due tickets, in order, locked (as the sweep asks)."""
    with unit_of_work(app.engine) as session:
        started = time.perf_counter()
        found = due_tickets(session, now=NOW, limit=100_000)
        took = time.perf_counter() - started
        session.rollback()
    return took, len(found)


def plan(app: App) -> str:
    """How the database finds the due tickets: the index, not a scan of every ticket."""
    with app.engine.connect() as connection:
        explain = "EXPLAIN" if app.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
        rows = connection.execute(
            text(f"{explain} SELECT id FROM ticket WHERE sla_next_at <= :now ORDER BY sla_next_at"),
            {"now": NOW.isoformat(sep=" ") if app.engine.dialect.name == "sqlite" else NOW},
        ).all()
    lines = [str(row[-1]).strip() for row in rows]
    return next(
        (line for line in lines if "Scan" in line or "SCAN" in line or "SEARCH" in line), ""
    )


def run(url: str, label: str, tickets: int, due: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, fresh_database(url, Path(tmp)) as fresh:
        workdir = Path(tmp)
        app = prepared(fresh, workdir, tickets, due)
        try:
            bare, found = bare_query(app)
            how = plan(app)
            started = time.perf_counter()
            sent = sweep_sla(app)
            sweep = time.perf_counter() - started
            again_started = time.perf_counter()
            again = sweep_sla(app)
            idle = time.perf_counter() - again_started
        finally:
            app.engine.dispose()
    print(
        f"{label:<10} {tickets:>7} tickets, {found} due: bare query {bare * 1000:7.1f} ms | "
        f"sweep {sweep * 1000:7.1f} ms ({sent} warnings queued) | "
        f"next sweep {idle * 1000:5.1f} ms ({again} sent)\n           plan: {how}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL to run on too")
    args = parser.parse_args(argv)
    run(None, "sqlite", args.tickets, args.due)  # type: ignore[arg-type]
    if args.database_url:
        run(args.database_url, "postgresql", args.tickets, args.due)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
