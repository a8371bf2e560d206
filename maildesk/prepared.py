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
        self._plans: dict[tuple[str, tuple[str, ...]], Plan] = {}

    def execute(self, session: Session, params: Mapping[str, Any]) -> Rows:
        connection = self._connection(session)
        plan = self._plan(connection.dialect, tuple(params))
        return send(connection, plan.sql, plan.arguments(params), many=False)

    def first(self, session: Session, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row of a select as {column: value}, its values converted as a query
        converts them (dates, JSON, enums); None: no row."""
        connection = self._connection(session)
        plan = self._plan(connection.dialect, tuple(params))
        row = send(connection, plan.sql, plan.arguments(params), many=False).first()
        if row is None:
            return None
        pairs = zip(plan.readers, row, strict=True)
        return {name: read(value) if read else value for (name, read), value in pairs}

    def execute_many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """One statement for all `rows` (the driver's executemany), in their order; every row
        has the same keys. No rows: nothing sent."""
        if not rows:
            return
        connection = self._connection(session)
        plan = self._plan(connection.dialect, tuple(rows[0]))
        send(connection, plan.sql, [plan.arguments(row) for row in rows], many=True)

    def _connection(self, session: Session) -> Connection:
        if self.flush:
            session.flush()  # nothing pending: nothing sent
        return session.connection()

    def _plan(self, dialect: Any, keys: tuple[str, ...]) -> Plan:
        plan = self._plans.get((dialect.name, keys))
        if plan is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
            if compiled.insert_prefetch or compiled.update_prefetch:
                raise ValueError(f"{self.statement}: a column default is computed in Python")
            if compiled.literal_execute_params or compiled.post_compile_params:
                raise ValueError(f"{self.statement}: its values change its text")
            plan = self._plans[(dialect.name, keys)] = Plan(compiled, keys, dialect)
        return plan


class Plan:
    """One compiled form of a statement, for one set of value names: its SQL text, each value
    the driver takes in its order (the run's own, by name, with its conversion, or one the
    statement fixes, a literal in its WHERE, converted once), and each result column's name
    and conversion (None: the driver's value as it is)."""

    def __init__(self, compiled: Any, keys: tuple[str, ...], dialect: Any) -> None:
        self.sql: str = compiled.string
        self.positional: bool = compiled.positional
        fixed = compiled.construct_params(dict.fromkeys(keys), escape_names=False)
        processors = compiled._bind_processors
        order = list(compiled.positiontup) if self.positional else list(fixed)
        self.values: list[tuple[str, bool, Any, Any]] = []
        for name in order:
            read = processors.get(name)
            if name in keys:
                self.values.append((name, True, read, None))
            else:
                self.values.append((name, False, None, read(fixed[name]) if read else fixed[name]))
        escaped = compiled.escaped_bind_names
        self.names = [escaped.get(name, name) for name in order]
        self.readers: list[tuple[str, Any]] = [
            (column.keyname, column.type._cached_result_processor(dialect, None))
            for column in compiled._result_columns
        ]

    def arguments(self, params: Mapping[str, Any]) -> Any:
        """The values of one run as the driver takes them, converted as SQLAlchemy would."""
        values = [
            (read(params[name]) if read else params[name]) if given else fixed
            for name, given, read, fixed in self.values
        ]
        if self.positional:
            return tuple(values)
        return dict(zip(self.names, values, strict=True))


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
