"""Engine, schema migrations and the unit of work: the only place that commits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Column, Table, bindparam, event, inspect, make_url, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel, create_engine

from maildesk.db_connect import CONNECT_TIMEOUT_SECONDS, SQLITE_PRAGMAS
from maildesk.errors import ConfigError, MaildeskError, TransientError
from maildesk.prepared import Prepared as Prepared  # where the services have found it
from maildesk.savepoints import plain_savepoints
from maildesk.write_turns import WriteTurns

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"
M = TypeVar("M", bound=SQLModel)


def first_line(error: object) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


# PostgreSQL SQLSTATEs worth retrying: connection (08), rollback by serialization or deadlock
# (40), resources (53), shutdown (57P), system (58), lock not available (55P03).
_TRANSIENT_SQLSTATE = ("08", "40", "53", "57P", "58", "55P03")


def unreachable(exc: DBAPIError) -> bool:
    """The server is down or refuses us, or the file is locked or cannot be opened: retry later.

    psycopg files some permanent errors under OperationalError too (an index row over its
    limit is class 54): those would be retried forever, so a SQLSTATE must say transient.
    """
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate is None or str(sqlstate).startswith(_TRANSIENT_SQLSTATE)


def unusable(exc: DBAPIError) -> bool:
    """The driver's bare DatabaseError: the file is no SQLite database, or a corrupt one."""
    return type(exc) is DatabaseError


def opening_error(exc: DBAPIError, action: str = "open") -> MaildeskError:
    """The one line for a database that cannot be opened: transient if retrying may help."""
    line = f"cannot {action} database: {first_line(exc.orig)}"
    return TransientError(line) if unreachable(exc) else ConfigError(line)


def working_error(exc: DBAPIError) -> MaildeskError | None:
    """The one line for a database lost during a unit of work; None for errors of the work.

    A corrupt file counts as lost: the unit of work rolls back and the mail waits for a fix.
    """
    if unreachable(exc) or unusable(exc):
        return TransientError(f"database unavailable: {first_line(exc.orig)}")
    return None


@contextmanager
def reporting(action: str) -> Iterator[None]:
    """Turn a database error raised by the block into the one line a user acts on."""
    try:
        yield
    except DBAPIError as exc:
        raise opening_error(exc, action) from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


READ_ONLY = "maildesk_read_only"  # an execution option: this connection only reads
WRITE_TURNS = "maildesk_write_turns"  # an execution option of a SQLite engine: its writers' line


def _sqlite_begin_immediate(turns: WriteTurns, connection: Any) -> None:
    """Take the write lock up front: a read-then-write never fails on a stale snapshot.
    A writer waits for its turn first (see `write_turns`). A read-only unit of work begins
    DEFERRED instead, and so never waits for a writer."""
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN DEFERRED")
        return
    turns.take(connection.connection.dbapi_connection)
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_turns(engine: Engine) -> None:
    """The writers of `engine` take turns: one begins, the rest wait in line until its
    connection returns to the pool (after its commit or rollback) or is invalidated."""
    turns = WriteTurns()
    event.listen(engine, "begin", partial(_sqlite_begin_immediate, turns))
    event.listen(
        engine, "checkin", lambda dbapi_connection, _record: turns.give_back(dbapi_connection)
    )
    event.listen(
        engine,
        "invalidate",
        lambda dbapi_connection, _record, _exc: turns.give_back(dbapi_connection),
    )
    engine.update_execution_options(**{WRITE_TURNS: turns})


def write_turns(engine: Engine) -> WriteTurns | None:
    """The line of writers of a SQLite engine; None on PostgreSQL, whose writers lock rows."""
    turns = engine.get_execution_options().get(WRITE_TURNS)
    return turns if isinstance(turns, WriteTurns) else None


def turn_due(engine: Engine, budget: float | None = None) -> Callable[[], bool]:
    """Whether a writer that can stop early (a batch, after its current mail) should commit
    now and let the next writer in: another waits in its line, or (with a `budget`) its turn
    has lasted that many seconds. Never on PostgreSQL."""
    turns = write_turns(engine)
    return _never if turns is None else partial(turns.due, budget)


def _never() -> bool:
    return False


def sqlite_folder(url: str) -> Path | None:
    """The folder a SQLite database file goes in; None for PostgreSQL or a memory database."""
    if not url.startswith("sqlite:///") or url.startswith("sqlite:///:"):
        return None
    path = url.removeprefix("sqlite:///")
    return Path(path).parent if path else None


def create_database_folder(url: str) -> None:
    """Make the folder of a SQLite file: only for the commands that create the database
    (`maildesk init`, `maildesk db upgrade`), never on the way to using one."""
    folder = sqlite_folder(url)
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the database folder: {exc}") from exc


def make_engine(url: str) -> Engine:
    """An engine for SQLite (WAL, foreign keys, busy timeout) or PostgreSQL (psycopg 3).

    It creates no folder for a SQLite file: a path that does not exist is a mistake to report
    (ingest exits 75 until it is fixed), never a directory tree to leave behind.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10, "isolation_level": None}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        _sqlite_turns(engine)
        return plain_savepoints(engine)
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args=_postgres_connect_args(url),
    )
    return plain_savepoints(engine)


def _postgres_connect_args(url: str) -> dict[str, Any]:
    """A short connect timeout, unless the URL sets its own `?connect_timeout=`."""
    if "connect_timeout" in make_url(url).query:
        return {}
    return {"connect_timeout": CONNECT_TIMEOUT_SECONDS}


def insert_unless_taken(session: Session, table: Table, returning: Column[Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING `returning`, built once per dialect.

    No row comes back when a unique key is taken already (also by another process meanwhile).
    """
    key = (session.get_bind().dialect.name, table.name, returning.name)
    if key not in _INSERTS:
        statement = dialect_insert(session, table).on_conflict_do_nothing()
        _INSERTS[key] = statement.returning(returning)
    return _INSERTS[key]


def dialect_insert(session: Session, table: Table) -> Any:
    """The database's own INSERT (with ON CONFLICT); its module is imported by the engine
    already, and only that one: a SQLite desk never loads PostgreSQL's."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql as dialect_module
    else:
        from sqlalchemy.dialects import sqlite as dialect_module  # type: ignore[no-redef]
    return dialect_module.insert(table)


_INSERTS: dict[tuple[str, str, str], Any] = {}
_PREPARED_INSERTS: dict[tuple[str, str, str], Prepared] = {}


def prepared_insert_unless_taken(
    session: Session, table: Table, returning: Column[Any]
) -> Prepared:
    """`insert_unless_taken`, prepared (see `Prepared`): it flushes first."""
    key = (session.get_bind().dialect.name, table.name, returning.name)
    if key not in _PREPARED_INSERTS:
        statement = insert_unless_taken(session, table, returning)
        _PREPARED_INSERTS[key] = Prepared(statement)
    return _PREPARED_INSERTS[key]


_DEFAULTS: dict[type, list[tuple[str, Any, bool]]] = {}


def model_row(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """Every column of a new `model` row but its id: `values` over the defaults the model's
    constructor would fill in, without building the object (a model sets each field through
    SQLAlchemy's and pydantic's hooks: a ticket costs 0.15 ms)."""
    if model not in _DEFAULTS:
        _DEFAULTS[model] = [
            (name, field.default_factory or field.default, field.default_factory is not None)
            for name, field in model.model_fields.items()
            if name != "id" and (field.default_factory is not None or not field.is_required())
        ]
    row = {
        name: default() if factory else default
        for name, default, factory in _DEFAULTS[model]
        if name not in values
    }
    row.update(values)
    return row


def as_loaded(model: type[M], row: Mapping[str, Any]) -> M:
    """A `model` object holding `row` as SQLAlchemy builds one it read (no attribute events);
    `make_transient_to_detached` then takes it for a stored row, as if loaded."""
    instance: M = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    instance.__dict__.update(row)
    return instance


def load_one(
    session: Session, model: type[M], statement: Prepared, params: Mapping[str, Any]
) -> M | None:
    """The first row of `statement` (a Core select of all of `model`'s columns) as the
    `model` object a query gives, in the session, without the ORM's loading steps: flushed
    first, and an object the session holds for that row already is the one returned."""
    row = statement.first(session, params)
    return None if row is None else adopt(session, model, row)


def adopt(session: Session, model: type[M], row: dict[str, Any]) -> M:
    """The `model` object of a stored row (all its columns) in the session, as if loaded;
    an object the session holds for that row already is the one returned."""
    held = session.identity_map.get(session.identity_key(model, row["id"]))
    if held is not None:
        return held  # type: ignore[no-any-return]
    instance = as_loaded(model, row)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


_UPDATES: dict[Any, Prepared] = {}


def write_now(session: Session, instance: SQLModel) -> None:
    """Write the column values a stored `instance` holds unflushed in one UPDATE by its id,
    and take them for written: what a flush of this object alone does, without the unit of
    work's steps (a flush of one ticket cost about 0.3 ms, and most found nothing to write).
    Values set equal to what was loaded are not written. A change to anything but a column,
    or an object not stored yet, is left to the next flush."""
    state = inspect(instance)
    if not state.modified or not state.persistent:
        return
    table = state.mapper.local_table
    changed = state.committed_state
    if any(key not in table.c for key in changed):
        return
    held = state.dict
    values = {key: held[key] for key, before in changed.items() if held.get(key, before) != before}
    if values:
        statement = _UPDATES.get(table)
        if statement is None:
            where = table.c.id == bindparam("row_id")
            statement = _UPDATES[table] = Prepared(update(table).where(where), flush=False)
        statement.execute(session, {**values, "row_id": held["id"]})
    state._commit_all(held, session.identity_map)


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


_AFTER_COMMIT = "after_commit"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the unit of work of `session` has committed; never if it rolls back.

    For telling an observer what was done only when it stays done.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


_AT_COMMIT = "written at commit"
Mark = tuple[int, int]  # callbacks waiting for the commit, rows held for it


def write_at_commit(session: Session, statement: Prepared, row: Mapping[str, Any]) -> None:
    """Write `row` with `statement` as the unit of work commits, with the other rows held for
    that statement in one executemany (a batch's mails, one statement): for a row nothing
    reads before the commit (an inbox item's final state). A savepoint's rollback drops the
    rows held inside it."""
    session.info.setdefault(_AT_COMMIT, []).append((statement, row))


def _write_held(session: Session) -> None:
    by_statement: dict[Prepared, list[Mapping[str, Any]]] = {}
    for statement, row in session.info.pop(_AT_COMMIT, ()):
        by_statement.setdefault(statement, []).append(row)
    for statement, rows in by_statement.items():
        statement.execute_many(session, rows)


def after_commit_mark(session: Session) -> Mark:
    """How many callbacks and rows wait for the commit: a savepoint notes it before it begins."""
    info = session.info
    return len(info.get(_AFTER_COMMIT, ())), len(info.get(_AT_COMMIT, ()))


def forget_after_commit(session: Session, mark: Mark) -> None:
    """A savepoint rolled back: the callbacks and rows it left for the commit go with it."""
    del session.info.get(_AFTER_COMMIT, [])[mark[0] :]
    del session.info.get(_AT_COMMIT, [])[mark[1] :]


_TRANSACTION_CACHE = "transaction cache"


def transaction_cached(session: Session, key: str, load: Callable[[], Any]) -> Any:
    """What `load` read, read once per transaction (a batch's mails share it): for small
    tables the pipeline reads for every mail and rarely writes. `start_afresh` keeps the
    cache, not the session's rows: rows in it are detached for the next mail, whose reader
    takes them back (`contacts.active_agents`). Whatever writes the table calls
    `forget_transaction_cached`; any rollback, a savepoint's too, forgets it all. What
    another process commits meanwhile (an operator's `blacklist add` on PostgreSQL) is seen
    from the batch's next transaction, not from its next mail."""
    cache: dict[str, Any] = session.info.setdefault(_TRANSACTION_CACHE, {})
    if key not in cache:
        cache[key] = load()
    return cache[key]


def forget_transaction_cached(session: Session, key: str) -> None:
    session.info.get(_TRANSACTION_CACHE, {}).pop(key, None)


def _forget_all_cached(session: Session, _transaction: Any) -> None:
    session.info.pop(_TRANSACTION_CACHE, None)


def _forget_rolled_back(session: Session, transaction: Any) -> None:
    """A savepoint's rollback: objects `write_now` wrote in it hold values the database no
    longer has (SQLAlchemy expires only what its own flushes wrote); all are read again."""
    _forget_all_cached(session, transaction)
    if transaction.nested:
        session.expire_all()


def _forget_at_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the transaction itself, not a savepoint
        _forget_all_cached(session, transaction)


event.listen(OrmSession, "after_soft_rollback", _forget_rolled_back)
event.listen(OrmSession, "after_transaction_end", _forget_at_end)


def start_afresh(session: Session) -> None:
    """Forget every row and every per-unit cache the session holds, keeping its transaction,
    what waits for its commit and what `transaction_cached` read: what comes next
    sees the session as a new unit of work would (a batch's next mail). Nothing may be
    pending: flush or roll back first.

    A savepoint's rollback leaves rows it attached in the identity map (a ticket inserted and
    attached, whose id SQLite hands out again), so the next mail must not meet them.
    """
    session.expunge_all()
    kept = {key: session.info[key] for key in (_AFTER_COMMIT, _AT_COMMIT, _TRANSACTION_CACHE)
            if key in session.info}  # fmt: skip
    session.info.clear()
    session.info.update(kept)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: commit when the block ends (the rows held for it written first), roll
    back if it raises; then what was registered with `after_commit` runs."""
    session = UnitSession(engine, expire_on_commit=False)
    try:
        yield session
        _write_held(session)
        session.commit()
        for callback in session.info.pop(_AFTER_COMMIT, ()):
            callback()
    except DBAPIError as exc:
        session.rollback()
        error = working_error(exc)
        if error is None:
            raise
        raise error from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        session.info.clear()


@contextmanager
def read_only_unit(engine: Engine) -> Iterator[Session]:
    """A transaction that writes nothing and takes no write lock, always rolled back: SQLite
    begins DEFERRED (a WAL reader never waits for a writer), PostgreSQL is READ ONLY."""
    with engine.connect() as connection:
        connection = connection.execution_options(**{READ_ONLY: True})
        session = UnitSession(bind=connection, expire_on_commit=False)
        try:
            if engine.dialect.name == "postgresql":
                session.execute(text("SET TRANSACTION READ ONLY"))
            yield session
        finally:
            session.rollback()
            session.close()
            session.info.clear()


# The full-text index (migration 0005) lives beside the models, not in them: SQLite's FTS5
# table (with the shadow tables FTS5 makes, named after it) and PostgreSQL's generated tsvector
# column and its GIN index. Alembic's comparison of models and schema leaves them out.
SEARCH_TABLE = "message_fts"
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX = "ix_message_search_vector"


def in_models(name: str | None, type_: str, parent_names: Mapping[Any, str | None]) -> bool:
    """Whether alembic compares this schema object with the models (its `include_name`)."""
    if type_ == "table":
        return not (name or "").startswith(SEARCH_TABLE)
    if type_ == "column":
        return not (name == SEARCH_COLUMN and parent_names.get("table_name") == "message")
    return not (type_ == "index" and name == SEARCH_INDEX)


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig  # only `db upgrade` needs alembic

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with alembic (never `create_all`)."""
    from alembic import command

    with reporting("upgrade"):
        command.upgrade(_alembic_config(engine), revision)


_REVISION = re.compile(r"""^(down_revision|revision)\b[^=]*=\s*(?:["']([^"']+)["']|None)""", re.M)


def head_revision() -> str | None:
    """The revision no migration in migrations/versions builds on, read from the files
    themselves: opening the database for a mail must not cost an import of alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value:
                (revisions if name == "revision" else parents).add(value)
    heads = sorted(revisions - parents)
    return heads[0] if len(heads) == 1 else None


def current_revision(engine: Engine) -> str | None:
    """The revision stored in alembic's own table; None for a database never migrated."""
    with engine.connect() as connection:  # reading the revision needs no write lock
        connection = connection.execution_options(**{READ_ONLY: True})
        if not inspect(connection).has_table("alembic_version"):
            return None
        found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return None if found is None else str(found)


def require_current_schema(engine: Engine) -> None:
    """Fail with one line when the database needs `maildesk db upgrade`."""
    with reporting("open"):
        current = current_revision(engine)
    if current != head_revision():
        raise ConfigError(
            f"database schema is at {current or 'nothing'}, expected {head_revision()}: "
            "run `maildesk db upgrade`"
        )
