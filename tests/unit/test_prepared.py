"""A prepared statement goes straight to the driver's cursor, yet the engine sees it as its own:
listeners are told, a refused statement raises SQLAlchemy's error, the transaction holds it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, select
from sqlalchemy.exc import IntegrityError

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.models import Contact, Organisation
from maildesk.prepared import Prepared, Rows

_ORGANISATIONS = Organisation.__table__  # type: ignore[attr-defined]
_INSERT = Prepared(insert(_ORGANISATIONS).returning(_ORGANISATIONS.c.id))
_BY_DOMAIN = Prepared(
    select(_ORGANISATIONS.c.name).where(_ORGANISATIONS.c.domain == bindparam("domain"))
)


def test_the_engine_s_listeners_see_each_prepared_statement_before_and_after_it_runs(
    app: App,
) -> None:
    seen: list[tuple[str, str, bool]] = []

    def before(*args: Any) -> None:
        seen.append(("before", args[2], args[5]))

    def after(*args: Any) -> None:
        seen.append(("after", args[2], args[5]))

    event.listen(app.engine, "before_cursor_execute", before)
    event.listen(app.engine, "after_cursor_execute", after)
    try:
        with unit_of_work(app.engine) as session:
            _INSERT.execute(session, {"domain": "acme.test", "name": "Acme"})
            rows = [{"domain": f"d{n}.test", "name": f"D{n}"} for n in range(3)]
            Prepared(insert(_ORGANISATIONS)).execute_many(session, rows)
    finally:
        event.remove(app.engine, "before_cursor_execute", before)
        event.remove(app.engine, "after_cursor_execute", after)

    inserts = [(when, many) for when, sql, many in seen if sql.startswith("INSERT")]
    assert inserts == [("before", False), ("after", False), ("before", True), ("after", True)]


def test_a_statement_the_database_refuses_raises_as_sqlalchemy_raises_it_and_rolls_back(
    app: App,
) -> None:
    with unit_of_work(app.engine) as session:
        _INSERT.execute(session, {"domain": "acme.test", "name": "Acme"})

    with pytest.raises(IntegrityError), unit_of_work(app.engine) as session:
        _INSERT.execute(session, {"domain": "other.test", "name": "Other"})
        _INSERT.execute(session, {"domain": "acme.test", "name": "Acme again"})

    with unit_of_work(app.engine) as session:
        assert _BY_DOMAIN.first(session, {"domain": "acme.test"}) == {"name": "Acme"}
        assert _BY_DOMAIN.first(session, {"domain": "other.test"}) is None  # rolled back


def test_what_a_statement_gives_back_is_read_in_full() -> None:
    found = Rows([(7, "a"), (8, "b")], rowcount=2)

    assert (found.first(), found.scalar(), found.scalars()) == ((7, "a"), 7, [7, 8])
    assert Rows([], rowcount=0).scalar() is None and Rows([], rowcount=0).first() is None
    assert Rows([(1,)], rowcount=1).scalar_one() == 1
    with pytest.raises(LookupError, match="one row expected, 2 came back"):
        found.scalar_one()


def test_a_prepared_insert_keeps_the_time_it_was_given(app: App) -> None:
    """A date goes through SQLAlchemy's conversion on its way to the cursor."""
    table = Contact.__table__  # type: ignore[attr-defined]
    at = datetime(2026, 3, 1, 12, 30, 15, 250, tzinfo=UTC)
    with unit_of_work(app.engine) as session:
        Prepared(insert(table)).execute(
            session, {"email": "c@acme.test", "name": "C", "category": "", "created_at": at}
        )
    with unit_of_work(app.engine) as session:
        by_email = Prepared(select(table).where(table.c.email == bindparam("email")))
        row = by_email.first(session, {"email": "c@acme.test"})
    assert row is not None and row["created_at"] == at
