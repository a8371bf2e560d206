"""The alembic migrations build exactly the schema the SQLModel models describe (no drift)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import maildesk.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from maildesk.db import current_revision, head_revision, make_engine, upgrade


def drift(engine: Engine) -> list[Any]:
    """What autogenerate would put in a new migration: empty when models and schema agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False}
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
