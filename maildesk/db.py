"""Engine, schema migrations and the unit of work: the only place that commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from maildesk.errors import ConfigError, TransientError

MIGRATIONS = Path(__file__).parent / "migrations"


def first_line(error: object) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    """Take the write lock up front: a read-then-write never fails on a stale snapshot."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, create_dirs: bool = True) -> Engine:
    """An engine for SQLite (WAL, foreign keys, busy timeout) or PostgreSQL (psycopg 3)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if create_dirs and path and path != ":memory:" and not url.startswith("sqlite:///:"):
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"cannot create the database folder: {exc}") from exc
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10, "isolation_level": None}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


class UnitSession(Session):
    """A session that keeps every row it saw until it closes.

    The identity map is weak: a contact or ticket loaded in one stage and dropped by it would
    be selected again by the next stage's `session.get`. A unit of work is one mail long, so
    holding its rows costs little and spares those round trips.
    """


def _hold(session: Any, instance: object) -> None:
    session.info.setdefault("held", []).append(instance)


for _name in ("loaded_as_persistent", "pending_to_persistent", "detached_to_persistent"):
    event.listen(UnitSession, _name, _hold)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: commit when the block ends, roll back if it raises."""
    session = UnitSession(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except OperationalError as exc:
        session.rollback()
        raise TransientError(f"database unavailable: {first_line(exc.orig)}") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        session.info.clear()


def _alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with alembic (never `create_all`)."""
    command.upgrade(_alembic_config(engine), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config(make_engine("sqlite://"))).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_current_schema(engine: Engine) -> None:
    """Fail with one line when the database needs `maildesk db upgrade`."""
    try:
        current = current_revision(engine)
    except OperationalError as exc:
        raise ConfigError(f"cannot open database: {first_line(exc.orig)}") from exc
    if current != head_revision():
        raise ConfigError(
            f"database schema is at {current or 'nothing'}, expected {head_revision()}: "
            "run `maildesk db upgrade`"
        )
