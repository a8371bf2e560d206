"""The database boundary: a database that cannot be used becomes one line of a MaildeskError.

Outages are TransientError (retry later; `ingest` exits 75), a file that is no database at all
is a ConfigError when opening, and an error of the work itself is never disguised as either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from maildesk.db import make_engine, require_current_schema, unit_of_work, upgrade
from maildesk.db_connect import CONNECT_TIMEOUT_SECONDS
from maildesk.errors import ConfigError, TransientError


@pytest.fixture
def not_a_database(tmp_path: Path) -> str:
    path = tmp_path / "maildesk.db"
    path.write_text("these are notes, not a database\n" * 10)
    return f"sqlite:///{path}"


def test_opening_a_file_that_is_no_database_is_a_config_error(not_a_database: str) -> None:
    with pytest.raises(ConfigError) as error:
        require_current_schema(make_engine(not_a_database))

    assert str(error.value) == "cannot open database: file is not a database"


def test_opening_a_server_that_refuses_us_is_transient(closed_port: int) -> None:
    engine = make_engine(f"postgresql+psycopg://maildesk@127.0.0.1:{closed_port}/maildesk")

    with pytest.raises(TransientError, match=r"^cannot open database: connection failed"):
        require_current_schema(engine)


def test_upgrading_a_file_that_is_no_database_names_it_in_one_line(not_a_database: str) -> None:
    with pytest.raises(ConfigError) as error:
        upgrade(make_engine(not_a_database))

    assert str(error.value) == "cannot upgrade database: file is not a database"


def test_a_unit_of_work_on_a_file_that_is_no_database_waits_for_a_fix(
    not_a_database: str,
) -> None:
    engine = make_engine(not_a_database)

    with pytest.raises(TransientError) as error, unit_of_work(engine) as session:
        session.connection().execute(text("SELECT 1"))

    assert str(error.value) == "database unavailable: file is not a database"


def test_a_unit_of_work_lets_an_error_of_the_work_through(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'work.db'}")
    with unit_of_work(engine) as session:
        session.connection().execute(text("CREATE TABLE seen (key TEXT UNIQUE)"))

    with pytest.raises(IntegrityError), unit_of_work(engine) as session:
        session.connection().execute(text("INSERT INTO seen VALUES ('a'), ('a')"))


def test_a_row_over_a_postgresql_limit_fails_the_work_and_is_never_called_transient(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    wide = "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) AS g)"
    with pytest.raises(OperationalError) as error, unit_of_work(engine) as session:
        session.connection().execute(text("CREATE TEMP TABLE wide (v text)"))
        session.connection().execute(text("CREATE INDEX ix_wide ON wide (v)"))
        session.connection().execute(text(f"INSERT INTO wide VALUES ({wide})"))

    assert error.value.orig is not None and error.value.orig.sqlstate == "54000"
    engine.dispose()


def connect_parameters(engine: Engine) -> list[dict[str, Any]]:
    """What each connection attempt hands to the driver, via SQLAlchemy's do_connect event."""
    attempts: list[dict[str, Any]] = []

    def record(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        attempts.append(dict(cparams))

    event.listen(engine, "do_connect", record)
    return attempts


def test_the_driver_is_told_to_give_up_connecting_after_a_few_seconds(closed_port: int) -> None:
    engine = make_engine(f"postgresql+psycopg://maildesk@127.0.0.1:{closed_port}/maildesk")
    attempts = connect_parameters(engine)

    with pytest.raises(TransientError):
        require_current_schema(engine)

    assert attempts and all(a["connect_timeout"] == CONNECT_TIMEOUT_SECONDS for a in attempts)
    assert CONNECT_TIMEOUT_SECONDS <= 10  # libpq's own default is to wait 130 s


def test_a_connect_timeout_in_the_url_wins_over_the_default(silent_port: int) -> None:
    url = f"postgresql+psycopg://maildesk@127.0.0.1:{silent_port}/maildesk?connect_timeout=2"
    engine = make_engine(url)
    attempts = connect_parameters(engine)

    with pytest.raises(TransientError, match="timeout"):
        require_current_schema(engine)

    assert attempts and all(a["connect_timeout"] == "2" for a in attempts)
