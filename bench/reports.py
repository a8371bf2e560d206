"""Every `maildesk report` at size: 100,000 tickets over a year (with their messages, time
logged, breach notices and ratings) written once with bulk inserts, then each report timed
over the whole year and over one month, beside the 2 s target.

Prints figures, asserts nothing: `python -m bench.reports [--tickets N] [--database-url URL]`
(SQLite always; PostgreSQL too with --database-url, $MAILDESK_BENCH_DATABASE_URL or
$MAILDESK_TEST_DATABASE_URL, in a fresh schema dropped afterwards).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, text
from sqlmodel import select

from maildesk.app import App, open_app
from maildesk.config import parse_settings
from maildesk.db import make_engine, unit_of_work, upgrade
from maildesk.models import Agent, Contact, Message, Organisation, TicketNotice, TimeEntry
from maildesk.report_values import ReportScope
from maildesk.reports.document import build
from maildesk.services.reports.catalogue import REPORTS
from maildesk.timing.clock import FixedClock

try:
    from bench.ingest import fresh_database
    from bench.sla import insert_tickets
except ImportError:  # run as `python bench/reports.py`
    from ingest import fresh_database  # type: ignore[no-redef]
    from sla import insert_tickets  # type: ignore[no-redef]

YEAR = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
TARGET_SECONDS = 2.0
QUEUES = ("general", "billing", "sales")
STATUSES = ("new", "open", "pending", "resolved", "closed")
WEIGHTS = (5, 10, 5, 30, 50)
BATCH = 5000
TABLES = ("organisation", "contact", "ticket", "message", "timeentry", "ticketnotice")


def settings_for(url: str, workdir: Path) -> Any:
    data: dict[str, Any] = {
        "desk": {
            "address": "support@example.com",
            "secret": "bench-secret-1234",
            "secret_env": None,
        },
        "database": {"url": url},
        "queues": [{"name": q, "addresses": [f"{q}@example.com"]} for q in QUEUES],
        "agents": [
            {"email": f"agent{n}@example.com", "name": f"Agent {n}", "queues": list(QUEUES)}
            for n in range(10)
        ],
    }
    return parse_settings(data, base_dir=workdir)


def _bulk(app: App, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    """executemany in batches of BATCH rows."""
    batch: list[dict[str, Any]] = []
    count = 0
    with app.engine.begin() as connection:
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                connection.execute(insert(table), batch)
                count, batch = count + len(batch), []
        if batch:
            connection.execute(insert(table), batch)
    return count + len(batch)


def _ticket(n: int, rng: random.Random, contacts: int, agents: list[int]) -> dict[str, Any]:
    created = YEAR + timedelta(seconds=rng.uniform(0, 364 * 86400))
    status = rng.choices(STATUSES, WEIGHTS)[0]
    first = rng.randint(1, 300) if status != "new" else None
    done = status in ("resolved", "closed")
    resolution = rng.randint(60, 5000) if done else None
    first_at = created + timedelta(minutes=first) if first else None
    resolved_at = created + timedelta(minutes=resolution * 2) if resolution else created
    rated = done and rng.random() < 0.4
    return {
        "id": n, "ref": f"TKT-{n}", "subject": f"Case {n}", "status": status, "priority": "normal",
        "queue": rng.choice(QUEUES), "service": None, "type": "incident", "category": "standard",
        "level": 1, "assignee_id": rng.choice(agents) if status != "new" else None,
        "requester_id": rng.randint(1, contacts), "created_at": created, "updated_at": created,
        "sla_policy": rng.choice(("standard", "premium")), "first_response_at": first_at,
        "first_response_minutes": first, "first_response_due": created + timedelta(hours=4),
        "resolved_at": resolved_at if done else None, "resolution_minutes": resolution,
        "resolution_due": created + timedelta(days=3),
        "closed_at": resolved_at + timedelta(days=3) if status == "closed" else None,
        "paused_minutes": 0, "reopened": 1 if rng.random() < 0.05 else 0,
        "rating": rng.randint(1, 5) if rated else None,
        "rating_comment": "Thanks" if rated and rng.random() < 0.3 else None,
        "rated_at": resolved_at + timedelta(hours=5) if rated else None,
    }  # fmt: skip


def _message(ticket: dict[str, Any], role: str, at: datetime) -> dict[str, Any]:
    return {
        "ticket_id": ticket["id"], "direction": "in" if role == "customer" else "out",
        "visibility": "public", "role": role, "author": "", "author_name": "", "subject": "",
        "text": "", "original": "", "created_at": at,
    }  # fmt: skip


def _messages(tickets: list[dict[str, Any]], rng: random.Random) -> Iterator[dict[str, Any]]:
    """The opening, the first response, and for 40% a follow-up answered (or not) later."""
    for ticket in tickets:
        yield _message(ticket, "customer", ticket["created_at"])
        if ticket["first_response_at"] is None:
            continue
        yield _message(ticket, "agent", ticket["first_response_at"])
        if rng.random() < 0.4:
            asked = ticket["first_response_at"] + timedelta(minutes=rng.randint(10, 3000))
            yield _message(ticket, "customer", asked)
            if rng.random() < 0.8:
                yield _message(ticket, "agent", asked + timedelta(minutes=rng.randint(5, 900)))


def _extras(tickets: list[dict[str, Any]], rng: random.Random) -> tuple[list[Any], list[Any]]:
    entries, notices = [], []
    for t in tickets:
        if t["assignee_id"] and rng.random() < 0.5:
            entries.append({"ticket_id": t["id"], "agent_id": t["assignee_id"],
                            "minutes": rng.randint(5, 120), "at": t["created_at"]})  # fmt: skip
        if rng.random() < 0.05:
            due = t["created_at"] + timedelta(hours=4)
            notices.append({"ticket_id": t["id"], "kind": "sla-breach", "target": "next_reply",
                            "due": due, "at": due})  # fmt: skip
    return entries, notices


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def prepared(url: str, workdir: Path, count: int) -> tuple[App, float]:
    settings = settings_for(url, workdir)
    engine = make_engine(settings.database_url())
    upgrade(engine)
    engine.dispose()
    app = open_app(settings, clock=FixedClock(NOW))
    started = time.perf_counter()
    rng = random.Random(1)
    orgs = ({"id": n, "domain": f"org{n}.example", "name": f"Org {n}"} for n in range(1, 201))
    _bulk(app, _table(Organisation), orgs)
    people = (
        {"id": n, "email": f"c{n}@org{n % 200 + 1}.example", "name": "", "category": "",
         "organisation_id": n % 200 + 1, "created_at": YEAR}
        for n in range(1, 2001)
    )  # fmt: skip
    _bulk(app, _table(Contact), people)
    with unit_of_work(app.engine) as session:
        agents = [a.id or 0 for a in session.exec(select(Agent))]
    tickets = [_ticket(n, rng, 2000, agents) for n in range(1, count + 1)]
    with unit_of_work(app.engine) as session:
        insert_tickets(session, tickets)  # PostgreSQL: the agents' loads counted once after
    messages = _bulk(app, _table(Message), _messages(tickets, rng))
    entries, notices = _extras(tickets, rng)
    _bulk(app, _table(TimeEntry), iter(entries))
    _bulk(app, _table(TicketNotice), iter(notices))
    with app.engine.begin() as connection:  # only our tables: other schemas are others' work
        for table in TABLES:
            connection.execute(text(f"ANALYZE {table}"))
    took = time.perf_counter() - started
    print(
        f"  built {count} tickets, {messages} messages, {len(entries)} time entries in {took:.1f} s"
    )
    return app, took


def time_reports(app: App, label: str, scope: ReportScope) -> None:
    for name in REPORTS:
        with unit_of_work(app.engine) as session:
            started = time.perf_counter()
            build(session, desk=app.desk, name=name, scope=scope)
            took = time.perf_counter() - started
        verdict = "ok" if took <= TARGET_SECONDS else "OVER"
        print(f"  {label:<6} {name:<10} {took:6.3f} s  (target {TARGET_SECONDS:.0f} s: {verdict})")


def run(url: str | None, label: str, count: int) -> None:
    print(f"{label}:")
    with tempfile.TemporaryDirectory() as tmp, fresh_database(url, Path(tmp)) as fresh:
        app, _ = prepared(fresh, Path(tmp), count)
        try:
            time_reports(app, "year", ReportScope(since=YEAR, until=YEAR.replace(year=2027)))
            november = ReportScope(
                since=datetime(2026, 11, 1, tzinfo=UTC), until=datetime(2026, 12, 1, tzinfo=UTC)
            )
            time_reports(app, "month", november)
        finally:
            app.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL to run on too")
    parser.add_argument("--no-sqlite", action="store_true", help="only the PostgreSQL run")
    args = parser.parse_args(argv)
    url = (
        args.database_url
        or os.environ.get("MAILDESK_BENCH_DATABASE_URL")
        or os.environ.get("MAILDESK_TEST_DATABASE_URL")
    )
    if not args.no_sqlite:
        run(None, "sqlite", args.tickets)
    if url:
        run(url, "postgresql", args.tickets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
