"""Statements every mail runs, compiled once and sent straight to the driver's cursor.

SQLAlchemy's way from a statement to the driver costs 40 to 70 µs a statement on top of what the
database does (a cache key, an execution context, a result object); a batch's mail runs about
a dozen. `Prepared` compiles a Core statement once per dialect and the set of values given,
converts the values as SQLAlchemy would, and hands the SQL text to the cursor of the
session's own connection, inside its transaction. What the engine keeps is kept: the
`before_cursor_execute` and `after_cursor_execute` listeners see every statement, and a
driver error is raised as SQLAlchemy raises it (a lost connection invalidated).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session


class Rows:
    """What a statement gave back, read in full: rows as the driver gives them (read ids and
    counts, not dates), and how many rows it changed."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        if len(self.rows) != 1:
            raise LookupError(f"one row expected, {len(self.rows)} came back")
        return self.rows[0][0]

    def scalars(self) -> list[Any]:
        return [row[0] for row in self.rows]


class Prepared:
    """A Core statement compiled once per dialect and sent as its SQL text, its values
    converted as SQLAlchemy converts them: no cache key, no compile, no ORM step per run.

    Not for an IN list (no expanding parameters), nor for columns whose default Python
    computes: an INSERT names every column it fills. Like `session.execute`, it flushes what
    is pending first (`flush=False`: as `session.connection().execute`).
    """

    def __init__(self, statement: Any, *, flush: bool = True) -> None:
        self.statement = statement
        self.flush = flush
        self._compiled: dict[tuple[str, tuple[str, ...]], Any] = {}
        self._readers: dict[Any, list[tuple[str, Any]]] = {}

    def execute(self, session: Session, params: Mapping[str, Any]) -> Rows:
        connection = self._connection(session)
        compiled = self._compile(connection.dialect, tuple(params))
        return send(connection, compiled.string, _arguments(compiled, params), many=False)

    def first(self, session: Session, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row of a select as {column: value}, its values converted as a query
        converts them (dates, JSON, enums); None: no row."""
        connection = self._connection(session)
        compiled = self._compile(connection.dialect, tuple(params))
        row = send(connection, compiled.string, _arguments(compiled, params), many=False).first()
        if row is None:
            return None
        readers = self._readers.get(compiled)
        if readers is None:
            readers = self._readers[compiled] = _readers(compiled, connection.dialect)
        pairs = zip(readers, row, strict=True)
        return {name: read(value) if read else value for (name, read), value in pairs}

    def execute_many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """One statement for all `rows` (the driver's executemany), in their order; every row
        has the same keys. No rows: nothing sent."""
        if not rows:
            return
        connection = self._connection(session)
        compiled = self._compile(connection.dialect, tuple(rows[0]))
        arguments = [_arguments(compiled, row) for row in rows]
        send(connection, compiled.string, arguments, many=True)

    def _connection(self, session: Session) -> Connection:
        if self.flush:
            session.flush()  # nothing pending: nothing sent
        return session.connection()

    def _compile(self, dialect: Any, keys: tuple[str, ...]) -> Any:
        key = (dialect.name, keys)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
            if compiled.insert_prefetch or compiled.update_prefetch:
                raise ValueError(f"{self.statement}: a column default is computed in Python")
            if compiled.literal_execute_params or compiled.post_compile_params:
                raise ValueError(f"{self.statement}: its values change its text")
            self._compiled[key] = compiled
        return compiled


def send(connection: Connection, sql: str, arguments: Any, *, many: bool) -> Rows:
    """`sql` through a cursor of `connection`'s driver connection, in its transaction, the
    engine's cursor listeners told as SQLAlchemy tells them (with no execution context)."""
    dispatch = connection.dispatch
    cursor = connection.connection.cursor()
    try:
        for before in dispatch.before_cursor_execute:
            sql, arguments = before(connection, cursor, sql, arguments, None, many)
        if many:
            cursor.executemany(sql, arguments)
        else:
            cursor.execute(sql, arguments)
        rows = list(cursor.fetchall()) if cursor.description else []
        for after in dispatch.after_cursor_execute:
            after(connection, cursor, sql, arguments, None, many)
        done = Rows(rows, cursor.rowcount)
    except connection.dialect.loaded_dbapi.Error as exc:
        connection._handle_dbapi_exception(exc, sql, arguments, cursor, None)  # raises
    cursor.close()
    return done


def _arguments(compiled: Any, params: Mapping[str, Any]) -> Any:
    """The values of one run as the driver takes them, converted as SQLAlchemy would."""
    values = compiled.construct_params(params, escape_names=False)
    processors = compiled._bind_processors
    converted = {
        name: processors[name](value) if name in processors else value
        for name, value in values.items()
    }
    if compiled.positional:
        return tuple(converted[name] for name in compiled.positiontup)
    escaped = compiled.escaped_bind_names
    return {escaped.get(name, name): value for name, value in converted.items()}


def _readers(compiled: Any, dialect: Any) -> list[tuple[str, Any]]:
    """Each result column's name and the conversion a query applies to its values (None:
    the driver's value as it is), in the select's order."""
    return [
        (column.keyname, column.type._cached_result_processor(dialect, None))
        for column in compiled._result_columns
    ]
