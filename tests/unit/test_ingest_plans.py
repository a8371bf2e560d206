"""Ingest stays flat as the desk grows: no statement a mail runs reads a table that grows with
the tickets by scanning it. Each distinct statement of a short conversation (a new ticket, a
reply by In-Reply-To, one by subject tag, a colleague in Cc, a stranger, an agent's answer,
least-loaded assignment on) is explained with the parameters it ran with: SQLite's query
plan, and PostgreSQL's with sequential scans priced out (one still chosen has no index)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from maildesk.app import App, open_app
from tests.conftest import Desk, make_settings
from tests.mails import mail

# tables whose rows a desk keeps adding; the others (agents, queues, blacklist…) stay small
GROWING = {
    "attachment", "contact", "event", "inboxitem", "message", "organisation", "outboxitem",
    "participant", "ticket", "ticketlink", "ticketnotice", "tickettag", "timeentry", "watcher",
}  # fmt: skip
# SQLite: "SCAN ticket" reads every row; "SCAN ticket USING INDEX …" every index entry
SQLITE_SCAN = re.compile(r"^SCAN (\w+)")
POSTGRESQL_SCAN = re.compile(r"Seq Scan on (\w+)")
QUERIES = ("SELECT", "UPDATE", "DELETE", "WITH")


class Statements:
    """Each distinct read or change statement run on an engine, with its first parameters."""

    def __init__(self, engine: Engine) -> None:
        self.seen: dict[str, Any] = {}
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        executemany = rest[-1]
        if not executemany and statement.lstrip().upper().startswith(QUERIES):
            self.seen.setdefault(statement, params)


@pytest.fixture
def watched(tmp_path: Path, database_url: str) -> Iterator[tuple[App, Statements]]:
    queues = [
        {"name": "general", "addresses": ["support@example.com"], "assignment": "least-loaded"},
        {"name": "billing", "addresses": ["billing@example.com"]},
    ]
    settings = make_settings(tmp_path, database_url, queues=queues)
    app = open_app(settings)
    yield app, Statements(app.engine)
    app.engine.dispose()


def converse(app: App) -> None:
    desk = Desk(app, clock=None)  # type: ignore[arg-type]
    ref = desk.receives(mail(message_id="q1@acme.test", cc="Dan <dan@acme.test>")).ticket
    desk.receives(mail(message_id="q2@acme.test", in_reply_to="q1@acme.test", body="Still."))
    desk.receives(mail(sender="dan@acme.test", subject=f"Re: [{ref}] Printer", body="Me too."))
    desk.receives(mail(sender="eve@elsewhere.test", subject=f"[{ref}] hello", body="Hi."))
    desk.receives(mail(sender="bob@example.com", in_reply_to="q2@acme.test", body="Fixed."))
    desk.receives(mail(sender="Frank <frank@other.test>", subject="VPN down", body="Help."))


def scans(app: App, statements: Statements) -> list[str]:
    """'table: statement' for each statement whose plan scans a growing table."""
    found = []
    with app.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if not sqlite:
            connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, params in statements.seen.items():
            explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            rows = connection.exec_driver_sql(explain + statement, params).all()
            lines = [str(row[-1]) for row in rows]
            pattern = SQLITE_SCAN if sqlite else POSTGRESQL_SCAN
            tables = {m.group(1) for line in lines if (m := pattern.search(line.strip()))}
            found += [f"{t}: {' '.join(statement.split())[:200]}" for t in tables & GROWING]
    return found


def test_no_statement_of_ingest_scans_a_table_that_grows_with_the_desk(
    watched: tuple[App, Statements],
) -> None:
    app, statements = watched
    converse(app)
    assert len(statements.seen) > 20, "the conversation ran the statements of every step"
    assert scans(app, statements) == []
