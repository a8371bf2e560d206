"""Savepoints as a batch uses them, one a mail: on PostgreSQL a mail's savepoint is one round
trip, its release going out with the next mail's savepoint; what each wrote stays or goes as
with a release sent at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from maildesk.db import make_engine
from maildesk.models import Organisation
from maildesk.savepoints import held_release

_ORGANISATION = Organisation.__table__  # type: ignore[attr-defined]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sent(engine: Engine) -> list[str]:
    """The savepoint statements the engine sends, in order."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "SAVEPOINT" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    return statements


def write_in_savepoint(session: Session, domain: str, *, keep: bool = True) -> None:
    """One mail's writes in its own savepoint, released (kept) or rolled back."""
    savepoint = session.begin_nested()
    session.execute(insert(_ORGANISATION).values(domain=domain, name=domain))
    if keep:
        savepoint.commit()
    else:
        savepoint.rollback()


def domains(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.execute(select(_ORGANISATION.c.domain)).scalars())


def test_three_mails_savepoints_cost_one_statement_each_on_postgresql(
    engine: Engine, sent: list[str]
) -> None:
    with Session(engine) as session:
        for domain in ("a.test", "b.test", "c.test"):
            write_in_savepoint(session, domain)
        session.commit()

    names = [s.split()[-1] for s in sent if s.startswith("SAVEPOINT") or "; SAVEPOINT" in s]
    if engine.dialect.name == "postgresql":
        assert sent == [
            f"SAVEPOINT {names[0]}",
            f"RELEASE SAVEPOINT {names[0]}; SAVEPOINT {names[1]}",
            f"RELEASE SAVEPOINT {names[1]}; SAVEPOINT {names[2]}",
        ]  # the last one's release: the commit ends it
    else:
        assert len(sent) == 6 and sent[1::2] == [f"RELEASE SAVEPOINT {n}" for n in names]
    assert domains(engine) == ["a.test", "b.test", "c.test"]


def test_a_mail_that_fails_after_a_released_one_rolls_back_alone(engine: Engine) -> None:
    with Session(engine) as session:
        write_in_savepoint(session, "kept.test")
        write_in_savepoint(session, "failed.test", keep=False)
        write_in_savepoint(session, "after.test")
        session.commit()

    assert domains(engine) == ["after.test", "kept.test"]


@pytest.mark.parametrize("ending", ["commit", "rollback"])
def test_a_release_held_when_the_transaction_ends_is_never_sent(
    engine: Engine, sent: list[str], ending: str
) -> None:
    with Session(engine) as session:
        write_in_savepoint(session, "first.test")
        connection = session.connection()
        held = held_release(connection)
        getattr(session, ending)()

        assert held_release(connection) is None
        write_in_savepoint(session, "second.test")  # a new transaction, maybe the same connection
        session.commit()

    assert not [s for s in sent if held is not None and s.startswith(f"RELEASE SAVEPOINT {held}")]
    expected = ["first.test", "second.test"] if ending == "commit" else ["second.test"]
    assert domains(engine) == expected


def test_a_release_held_when_a_two_phase_transaction_ends_is_never_sent(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            for _ in range(2):  # the second would meet the first one's release
                transaction = connection.begin_twophase()
                connection.begin_nested().commit()
                assert held_release(connection) is not None
                transaction.rollback()
                assert held_release(connection) is None
    finally:
        engine.dispose()
