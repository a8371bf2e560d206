"""Savepoints sent as their text; on PostgreSQL a release goes out with the next savepoint.

SQLAlchemy compiles each savepoint afresh (a savepoint's name differs every time, so it has
no cache key): about 85 µs a savepoint, and every mail of a batch writes inside one. The
names stay SQLAlchemy's own (`sa_savepoint_N`).

On PostgreSQL each statement is a round trip to the server, and a batch's mail took two for
its savepoint alone (SAVEPOINT, RELEASE). A release is held back instead and sent with the
next savepoint, in one round trip ("RELEASE SAVEPOINT a; SAVEPOINT b": one query of the
simple protocol), or not at all when the transaction ends first: COMMIT and ROLLBACK end
every savepoint with the transaction. Until then, what runs in between (the next mail's
reads) runs inside the released savepoint, which changes nothing: nothing rolls back to it.
A rollback to a savepoint drops a held release: the savepoint it names lies inside that one
(a savepoint begun after it would have sent it), so the rollback ends it too.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

# a connection's savepoint whose release is held back: at most one (a later release of an
# enclosing savepoint ends both)
_HELD: WeakKeyDictionary[Connection, str] = WeakKeyDictionary()


def plain_savepoints(engine: Engine) -> Engine:
    """The engine with its dialect's savepoints sent as text, releases held on PostgreSQL."""
    dialect = engine.dialect
    quote = dialect.identifier_preparer.quote
    hold = dialect.name == "postgresql"

    def savepoint(connection: Connection, name: str) -> None:
        held = _HELD.pop(connection, None)
        release = f"RELEASE SAVEPOINT {quote(held)}; " if held is not None else ""
        connection.exec_driver_sql(f"{release}SAVEPOINT {quote(name)}")

    def release(connection: Connection, name: str) -> None:
        if hold:
            _HELD[connection] = name
        else:
            connection.exec_driver_sql(f"RELEASE SAVEPOINT {quote(name)}")

    def rollback_to(connection: Connection, name: str) -> None:
        _HELD.pop(connection, None)
        connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {quote(name)}")

    # the dialect calls these as `dialect.do_savepoint(connection, name)`
    setattr(dialect, "do_savepoint", savepoint)  # noqa: B010
    setattr(dialect, "do_release_savepoint", release)  # noqa: B010
    setattr(dialect, "do_rollback_to_savepoint", rollback_to)  # noqa: B010
    if hold:
        for ending in _ENDS:
            event.listen(engine, ending, _forget)
    return engine


def held_release(connection: Connection) -> str | None:
    """The savepoint whose release `connection` holds back, if any."""
    return _HELD.get(connection)


# a transaction begins or ends (two-phase ones too)
_ENDS = ("begin", "commit", "rollback", "begin_twophase", "commit_twophase", "rollback_twophase")


def _forget(connection: Connection, *_: object) -> None:
    """A transaction begins or ends: no savepoint of the last one is left to release."""
    _HELD.pop(connection, None)
