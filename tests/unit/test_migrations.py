"""The alembic migrations build exactly the schema the SQLModel models describe (no drift)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import maildesk.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from maildesk.db import (
    MIGRATIONS,
    current_revision,
    head_revision,
    in_models,
    make_engine,
    unit_of_work,
    upgrade,
)
from maildesk.services.search import search_tickets


def drift(engine: Engine) -> list[Any]:
    """What autogenerate would put in a new migration: empty when models and schema agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": False,
                "include_name": in_models,  # as maildesk/migrations/env.py compares
            },
        )
        return list(compare_metadata(context, SQLModel.metadata))


@pytest.fixture
def fresh_sqlite(tmp_path: Path) -> Engine:
    """A new SQLite file brought to head by the migrations alone."""
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(engine)
    return engine


def test_a_freshly_migrated_sqlite_database_is_at_head(fresh_sqlite: Engine) -> None:
    assert current_revision(fresh_sqlite) == head_revision()


def test_the_head_read_from_the_migration_files_is_the_one_alembic_finds() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))

    assert head_revision() == ScriptDirectory.from_config(config).get_current_head() is not None


def test_the_migrated_sqlite_schema_matches_the_models(fresh_sqlite: Engine) -> None:
    assert drift(fresh_sqlite) == []


def test_the_migrated_postgresql_schema_matches_the_models(postgres_url: str) -> None:
    # postgres_url: a private schema migrated to head (tests/conftest.py) on the search_path
    engine = make_engine(postgres_url)
    try:
        assert current_revision(engine) == head_revision()
        assert drift(engine) == []
    finally:
        engine.dispose()


def test_tickets_made_before_the_catalogue_become_standard_incidents(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO contact (id, email, name, category, created_at)"
                " VALUES (1, 'carol@acme.test', '', '', '2026-11-23 09:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO ticket (id, ref, subject, status, priority, queue, category, level,"
                " requester_id, created_at, updated_at) VALUES (1, 'TKT-1', 'Printer', 'open',"
                " 'normal', 'general', '', 1, 1, '2026-11-23 09:00:00', '2026-11-23 09:00:00')"
            )
        )

    upgrade(engine)

    with engine.connect() as connection:
        row = connection.execute(text("SELECT service, type, category FROM ticket")).one()
    assert tuple(row) == (None, "incident", "standard")
    downgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT category FROM ticket")).scalar_one() == ""
    engine.dispose()


def downgrade(engine: Engine, revision: str) -> None:
    """What an operator going back a version runs (maildesk itself only upgrades)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    command.downgrade(config, revision)


def test_messages_stored_before_the_search_index_are_found_after_the_upgrade(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0004")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO contact (id, email, name, category, created_at)"
                " VALUES (1, 'carol@acme.test', '', '', '2026-11-23 09:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO ticket (id, ref, subject, status, priority, queue, service, type,"
                " category, level, requester_id, created_at, updated_at, paused_minutes, reopened)"
                " VALUES (1, 'TKT-1', 'Printer', 'open', 'normal', 'general', NULL, 'incident',"
                " 'standard', 1, 1, '2026-11-23 09:00:00', '2026-11-23 09:00:00', 0, 0)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO message (ticket_id, direction, visibility, role, author, author_name,"
                " subject, text, original, created_at) VALUES (1, 'in', 'public', 'customer',"
                " 'carol@acme.test', '', 'Printer', 'The toner is empty', '',"
                " '2026-11-23 09:00:00')"
            )
        )

    upgrade(engine)

    with unit_of_work(engine) as session:
        assert [hit.ref for hit in search_tickets(session, text="toner")] == ["TKT-1"]
    downgrade(engine, "0004")
    with engine.connect() as connection:
        names = connection.execute(text("SELECT name FROM sqlite_master")).scalars().all()
    assert not [name for name in names if name.startswith("message_fts")]
    engine.dispose()


def test_only_the_search_index_is_outside_the_models(
    fresh_sqlite: Engine, postgres_url: str
) -> None:
    """Without `in_models` the comparison sees the index, and nothing else, as drift."""
    seen: set[str] = set()
    for engine in (fresh_sqlite, make_engine(postgres_url)):
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            for diff in compare_metadata(context, SQLModel.metadata):
                kind, *rest = diff
                named = rest[-1] if kind in ("remove_column",) else rest[0]
                seen.add(f"{kind} {named.name}")
    assert seen == {
        "remove_table message_fts",
        "remove_table message_fts_config",
        "remove_table message_fts_data",
        "remove_table message_fts_docsize",
        "remove_table message_fts_idx",
        "remove_index ix_message_search_vector",
        "remove_column search_vector",
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def database_at_0005(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of either kind migrated to 0005 only (PostgreSQL: a schema of its own)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        upgrade(engine, "0005")
        yield engine
        engine.dispose()
        return
    base = request.getfixturevalue("postgres_url").split("?")[0]
    schema = f"maildesk_old_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(f"{base}?options=-csearch_path%3D{schema}")
    try:
        upgrade(engine, "0005")
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


OLD_TICKETS = [  # (assignee, status) of the tickets stored before 0006
    (1, "open"),
    (1, "open"),
    (1, "pending"),
    (1, "closed"),
    (2, "new"),
    (2, "resolved"),
    (None, "open"),
]


def _stored_loads(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT email, open_tickets FROM agent")).all()
    return {email: count for email, count in rows}


def test_the_agents_loads_are_counted_from_the_tickets_stored_before(
    database_at_0005: Engine,
) -> None:
    engine = database_at_0005
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO contact (id, email, name, category, created_at)"
                " VALUES (1, 'carol@acme.test', '', '', '2026-11-23 09:00:00')"
            )
        )
        for agent_id, email in (
            (1, "alice@example.com"),
            (2, "bob@example.com"),
            (3, "erin@x.test"),
        ):
            connection.execute(
                text(
                    "INSERT INTO agent (id, email, name, role, level, queues, away, active)"
                    " VALUES (:id, :email, '', 'agent', 1, '[]', false, true)"
                ),
                {"id": agent_id, "email": email},
            )
        for n, (assignee, status) in enumerate(OLD_TICKETS, start=1):
            connection.execute(
                text(
                    "INSERT INTO ticket (id, ref, subject, status, priority, queue, type, category,"
                    " level, assignee_id, requester_id, created_at, updated_at, paused_minutes,"
                    " reopened) VALUES (:id, :ref, '', :status, 'normal', 'general', 'incident',"
                    " 'standard', 1, :assignee, 1, '2026-11-23 09:00:00', '2026-11-23 09:00:00',"
                    " 0, 0)"
                ),
                {"id": n, "ref": f"TKT-{n}", "status": status, "assignee": assignee},
            )

    upgrade(engine)

    assert _stored_loads(engine) == {"alice@example.com": 3, "bob@example.com": 1, "erin@x.test": 0}
    with engine.begin() as connection:  # from now on the database keeps them
        connection.execute(text("UPDATE ticket SET assignee_id = 3 WHERE id IN (1, 4, 5)"))
    assert _stored_loads(engine) == {"alice@example.com": 2, "bob@example.com": 0, "erin@x.test": 2}
    downgrade(engine, "0005")
    with engine.begin() as connection:  # no trigger is left to name the dropped column
        connection.execute(text("UPDATE ticket SET status = 'closed'"))
        assert "open_tickets" not in {c["name"] for c in inspect(connection).get_columns("agent")}
