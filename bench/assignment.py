"""Least-loaded assignment at size: what one pick costs with a backlog of open tickets.

Three agents share `--tickets` open tickets (new/open/pending) beside `--closed` closed ones.
`counted` is the pick as it was before migration 0006 (a GROUP BY over the candidates'
tickets, per pick); `stored` is `pick_agent` now (it orders by `Agent.open_tickets`, which
the database keeps). Both run in interleaved rounds (counted, stored, counted, …) in one
transaction each; each round times `--picks` picks and the medians are printed. Both must
pick the same agent.

Prints figures, asserts nothing: `python -m bench.assignment [--tickets 30000]
[--closed 70000] [--picks 200] [--rounds 5] [--database-url postgresql+psycopg://…]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, nulls_first, text
from sqlmodel import Session, col, select

from maildesk.app import App
from maildesk.config import Settings, parse_settings
from maildesk.db import unit_of_work
from maildesk.models import Agent, Ticket
from maildesk.services.agent_loads import LOAD_STATUSES
from maildesk.services.assignment import LEAST_LOADED, available_agents, pick_agent

try:
    from bench.ingest import fresh_database
    from bench.sla import NOW, analyze, insert_tickets, migrated_app, requester_id
except ImportError:  # run as `python bench/assignment.py`
    from ingest import fresh_database  # type: ignore[no-redef]
    from sla import (  # type: ignore[no-redef]
        NOW,
        analyze,
        insert_tickets,
        migrated_app,
        requester_id,
    )

AGENTS = ("a1@example.com", "a2@example.com", "a3@example.com")
Pick = Callable[[Session, Settings], Agent | None]


def settings_for(url: str, workdir: Path) -> Settings:
    queue = {"name": "general", "addresses": ["support@example.com"], "assignment": LEAST_LOADED}
    data: dict[str, Any] = {
        "desk": {"address": "support@example.com", "secret": "bench-secret-1234"},
        "database": {"url": url},
        "queues": [queue],
        "agents": [{"email": email, "queues": ["general"]} for email in AGENTS],
    }
    return parse_settings(data, base_dir=workdir)


def ticket_rows(open_tickets: int, closed: int, requester: int, agents: list[int]) -> Any:
    """Open tickets spread over the agents (the first a little busier), then closed ones."""
    statuses = [str(s) for s in LOAD_STATUSES]
    for n in range(open_tickets + closed):
        status = statuses[n % 3] if n < open_tickets else "closed"
        yield {
            "ref": f"TKT-{n + 1}",
            "subject": f"Case {n + 1}",
            "status": status,
            "priority": "normal",
            "queue": "general",
            "type": "incident",
            "category": "standard",
            "level": 1,
            "assignee_id": agents[0] if n % 7 == 0 else agents[n % len(agents)],
            "requester_id": requester,
            "created_at": NOW,
            "updated_at": NOW,
            "paused_minutes": 0,
            "reopened": 0,
        }


def prepared(url: str, workdir: Path, open_tickets: int, closed: int) -> App:
    app = migrated_app(settings_for(url, workdir))
    with unit_of_work(app.engine) as session:
        agents = [a.id or 0 for a in session.exec(select(Agent).order_by(col(Agent.id)))]
        rows = list(ticket_rows(open_tickets, closed, requester_id(session), agents))
        insert_tickets(session, rows)  # the triggers count the assigned ones in work
    analyze(app)
    if app.engine.dialect.name == "postgresql":  # as on a desk that has run: the visibility
        with app.engine.connect() as connection:  # map lets an index-only scan skip the heap
            autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(text("VACUUM ticket"))
    return app


def counted_pick(session: Session, settings: Settings) -> Agent | None:
    """The pick before migration 0006: each candidate's tickets counted with a GROUP BY."""
    found = available_agents(session, settings=settings, queue="general", level=1, now=NOW)
    ids = [a.id for a in found]
    load = (
        select(col(Ticket.assignee_id).label("agent_id"), func.count().label("tickets"))
        .where(col(Ticket.assignee_id).in_(ids), col(Ticket.status).in_(LOAD_STATUSES))
        .group_by(col(Ticket.assignee_id))
        .subquery()
    )
    waited = (nulls_first(col(Agent.last_assigned_at).asc()), col(Agent.id))
    query = select(Agent).where(col(Agent.id).in_(ids))
    query = query.outerjoin(load, load.c.agent_id == col(Agent.id))
    query = query.order_by(func.coalesce(load.c.tickets, 0), *waited)
    return session.exec(query.limit(1)).first()


def stored_pick(session: Session, settings: Settings) -> Agent | None:
    queue, now = "general", NOW
    return pick_agent(
        session, settings=settings, queue=queue, level=1, strategy=LEAST_LOADED, now=now
    )


def one_round(app: App, pick: Pick, picks: int) -> tuple[float, str]:
    """Microseconds per pick over `picks` picks in one transaction, and who was picked."""
    with unit_of_work(app.engine) as session:
        pick(session, app.settings)  # candidates and calendars read once, as in a batch
        started = time.perf_counter()
        for _ in range(picks):
            agent = pick(session, app.settings)
        took = (time.perf_counter() - started) / picks * 1e6
        assert agent is not None
        email = agent.email
        session.rollback()
    return took, email


def run(url: str | None, label: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, fresh_database(url, Path(tmp)) as fresh:
        app = prepared(fresh, Path(tmp), args.tickets, args.closed)
        times: dict[str, list[float]] = {"counted": [], "stored": []}
        chosen: set[str] = set()
        try:
            for _ in range(args.rounds):
                for name, pick in (("counted", counted_pick), ("stored", stored_pick)):
                    took, email = one_round(app, pick, args.picks)
                    times[name].append(took)
                    chosen.add(email)
        finally:
            app.engine.dispose()
    before, after = (statistics.median(times[name]) for name in ("counted", "stored"))
    print(
        f"{label:<10} {args.tickets} open + {args.closed} closed tickets: "
        f"counted {before:8.1f} µs/pick, stored {after:6.1f} µs/pick "
        f"({before / after:.0f}x; rounds counted {_list(times['counted'])}, "
        f"stored {_list(times['stored'])}); picked {', '.join(sorted(chosen))}"
    )


def _list(values: list[float]) -> str:
    return "/".join(f"{value:.0f}" for value in values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=30_000, help="open tickets")
    parser.add_argument("--closed", type=int, default=70_000)
    parser.add_argument("--picks", type=int, default=200, help="picks timed per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL to run on too")
    args = parser.parse_args(argv)
    run(None, "sqlite", args)
    if args.database_url:
        run(args.database_url, "postgresql", args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
