"""The database boundary: a database that cannot be used becomes one line of a MaildeskError.

Outages are TransientError (retry later; `ingest` exits 75), a file that is no database at all
is a ConfigError when opening, and an error of the work itself is never disguised as either.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, text
from sqlalchemy import select as select_core
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from maildesk.app import App, accept_raw
from maildesk.db import (
    Prepared,
    after_commit_mark,
    as_loaded,
    forget_after_commit,
    load_one,
    make_engine,
    model_row,
    require_current_schema,
    start_afresh,
    unit_of_work,
    upgrade,
    write_at_commit,
)
from maildesk.db_connect import CONNECT_TIMEOUT_SECONDS
from maildesk.errors import ConfigError, TransientError
from maildesk.models import (
    Contact,
    Event,
    InboxItem,
    Message,
    MessageRole,
    Organisation,
    OutboxItem,
    Ticket,
    TicketStatus,
    TicketTag,
    Visibility,
)
from maildesk.services.origin import Origin
from maildesk.services.tickets import Actor, add_tags, create_ticket
from maildesk.services.views import ticket_tags


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


def test_a_prepared_insert_stores_what_the_orm_reads_back(app: App) -> None:
    """Dates, JSON and enums go through the conversions `session.execute` applies: the rows
    read back equal, on both databases."""
    at = datetime(2026, 3, 1, 12, 30, 15, 250, tzinfo=UTC)
    data = {"to": "T-1", "n": [1, 2]}
    with unit_of_work(app.engine) as session:
        ticket = _a_ticket(session, at)
        message = Message(
            ticket_id=ticket, direction="in", role=MessageRole.CUSTOMER, created_at=at,
            visibility=Visibility.INTERNAL, text="héllo", message_id="a@b",
        )  # fmt: skip
        row = message.model_dump(exclude={"id"})
        new_id = Prepared(insert(_MESSAGE).returning(_MESSAGE.c.id)).execute(session, row).scalar()
        event_row = {"ticket_id": ticket, "at": at, "actor": "a", "type": "x", "data": data}
        Prepared(insert(_EVENT), flush=False).execute(session, {**event_row, "source": ""})
    with unit_of_work(app.engine) as session:
        stored = session.get(Message, new_id)
        event_read = session.exec(select(Event).where(Event.type == "x")).one()
    assert stored is not None
    assert (stored.created_at, stored.visibility, stored.text) == (at, Visibility.INTERNAL, "héllo")
    assert (event_read.at, event_read.data) == (at, data)


def test_a_statement_whose_text_depends_on_its_values_is_never_prepared(app: App) -> None:
    by_ids = select(Event).where(col(Event.ticket_id).in_(bindparam("ids", expanding=True)))
    with unit_of_work(app.engine) as session, pytest.raises(ValueError, match="change its text"):
        Prepared(by_ids).execute(session, {"ids": [1, 2]})


_MESSAGE = Message.__table__  # type: ignore[attr-defined]
_EVENT = Event.__table__  # type: ignore[attr-defined]


def _a_ticket(session: Session, at: datetime) -> int:
    contact = session.exec(select(Contact).where(Contact.email == "c@example.com")).first()
    if contact is None:
        contact = Contact(email="c@example.com", created_at=at)
        session.add(contact)
        session.flush()
    actor = Actor("c@example.com", "cli")
    ticket = create_ticket(
        session, prefix="T", requester=contact, subject="s", queue="general", actor=actor, now=at
    )
    assert ticket.id is not None
    return ticket.id


def test_a_new_ticket_gets_its_ref_from_its_id_in_one_statement_on_postgresql(app: App) -> None:
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    writes: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith(("INSERT INTO ticket ", "UPDATE ticket SET ref")):
            writes.append(statement)

    with unit_of_work(app.engine) as session:
        event.listen(app.engine, "before_cursor_execute", seen)
        ids = [_a_ticket(session, at), _a_ticket(session, at)]
        event.remove(app.engine, "before_cursor_execute", seen)
    with unit_of_work(app.engine) as session:
        refs = session.exec(select(Ticket.id, Ticket.ref).order_by(col(Ticket.id))).all()

    assert [tuple(row) for row in refs] == [(ids[0], f"T-{ids[0]}"), (ids[1], f"T-{ids[1]}")]
    assert len(writes) == (2 if app.engine.dialect.name == "postgresql" else 4)


_ORGANISATION = Organisation.__table__  # type: ignore[attr-defined]
_NEW_ORGANISATION = Prepared(insert(_ORGANISATION), flush=False)


def organisations(app: App) -> list[str]:
    with unit_of_work(app.engine) as session:
        return list(session.exec(select(Organisation.domain).order_by(col(Organisation.id))))


def test_rows_held_for_the_commit_are_written_in_one_statement_as_it_commits(app: App) -> None:
    inserts: list[bool] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, _c: Any, many: bool) -> None:
        if statement.startswith("INSERT INTO organisation"):
            inserts.append(many)

    event.listen(app.engine, "before_cursor_execute", seen)
    with unit_of_work(app.engine) as session:
        for domain in ("a.test", "b.test", "c.test"):
            write_at_commit(session, _NEW_ORGANISATION, {"domain": domain, "name": domain})
        assert inserts == []  # nothing sent yet: nothing in the transaction reads them

    assert inserts == [True]
    assert organisations(app) == ["a.test", "b.test", "c.test"]


def test_a_savepoint_rolled_back_drops_the_rows_it_held_for_the_commit(app: App) -> None:
    with unit_of_work(app.engine) as session:
        write_at_commit(session, _NEW_ORGANISATION, {"domain": "kept.test", "name": "k"})
        savepoint = session.begin_nested()
        mark = after_commit_mark(session)
        write_at_commit(session, _NEW_ORGANISATION, {"domain": "gone.test", "name": "g"})
        savepoint.rollback()
        forget_after_commit(session, mark)
        start_afresh(session)  # a batch's next mail: what waits for the commit still waits

    assert organisations(app) == ["kept.test"]


def test_rows_held_for_a_commit_that_never_comes_are_never_written(app: App) -> None:
    with pytest.raises(RuntimeError), unit_of_work(app.engine) as session:
        write_at_commit(session, _NEW_ORGANISATION, {"domain": "never.test", "name": "n"})
        raise RuntimeError("the unit failed")

    assert organisations(app) == []


def test_a_row_built_without_its_model_holds_what_the_model_would() -> None:
    """`model_row` fills the defaults the constructor fills; `as_loaded` holds the row as a
    model object whose fields read back and dump as the constructor's do."""
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    given = {"subject": "s", "requester_id": 7, "created_at": at, "updated_at": at}
    built = Ticket(**given)

    row = model_row(Ticket, **given)
    loaded = as_loaded(Ticket, {**row, "id": 3})

    assert row == built.model_dump(exclude={"id"})
    assert loaded.model_dump() == {**built.model_dump(), "id": 3}
    assert (loaded.status, loaded.queue, loaded.ref) == (TicketStatus.NEW, "general", None)
    assert model_row(OutboxItem, kind="ack")["recipients"] == []
    assert model_row(OutboxItem)["recipients"] is not model_row(OutboxItem)["recipients"]


def test_a_row_loaded_without_the_orm_is_the_object_a_query_gives(app: App) -> None:
    """Equal to what `session.get` reads, in the session; a row it holds already is returned
    as it is (with what this unit changed on it); no row: None."""
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    by_email = Prepared(select_core(_CONTACT).where(_CONTACT.c.email == bindparam("key")))
    with unit_of_work(app.engine) as session:
        session.add(Contact(email="c@example.com", name="C", created_at=at))
    with unit_of_work(app.engine) as session:
        loaded = load_one(session, Contact, by_email, {"key": "c@example.com"})
        assert loaded is not None and loaded in session
        assert session.get(Contact, loaded.id) is loaded
        assert loaded.model_dump()["created_at"] == at and loaded.name == "C"
        loaded.name = "Changed"
        assert load_one(session, Contact, by_email, {"key": "c@example.com"}) is loaded
        assert load_one(session, Contact, by_email, {"key": "nobody@example.com"}) is None
    with unit_of_work(app.engine) as session:
        assert session.exec(select(Contact)).one().name == "Changed"


_CONTACT = Contact.__table__  # type: ignore[attr-defined]


def test_a_prepared_select_reads_values_as_a_query_reads_them(app: App) -> None:
    """Dates, JSON lists, bytes and enums come back converted, as `session.get` gives them."""
    origin = Origin(transport="smtp", envelope_to=("help@example.com", "b@example.com"))
    stored = accept_raw(app, b"From: c@example.com\r\nSubject: hi\r\n\r\nbody\r\n", origin)
    table = InboxItem.__table__  # type: ignore[attr-defined]
    by_id = Prepared(select_core(table).where(table.c.id == bindparam("item_id")))
    with unit_of_work(app.engine) as session:
        row = by_id.first(session, {"item_id": stored.item_id})
        assert by_id.first(session, {"item_id": -1}) is None
    with unit_of_work(app.engine) as session:
        item = session.get(InboxItem, stored.item_id)
        assert item is not None and row is not None
        assert list(row) == [column.key for column in table.c]
        assert row == {column: getattr(item, column) for column in row}
        assert isinstance(row["received_at"], datetime) and isinstance(row["raw"], bytes)
        assert row["envelope_to"] == ["help@example.com", "b@example.com"]
    with unit_of_work(app.engine) as session:
        ticket_id = _a_ticket(session, datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
        tickets = Ticket.__table__  # type: ignore[attr-defined]
        by_id = Prepared(select_core(tickets).where(tickets.c.id == bindparam("ticket_id")))
        found = by_id.first(session, {"ticket_id": ticket_id})
        assert found is not None and found["status"] is TicketStatus.NEW
        assert found["created_at"] == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_rows_prepared_for_one_statement_are_written_in_their_order(app: App) -> None:
    at = datetime(2026, 3, 1, 12, 30, 15, 250, tzinfo=UTC)
    with unit_of_work(app.engine) as session:
        ticket = _a_ticket(session, at)
        rows = [
            {
                "ticket_id": ticket,
                "at": at,
                "actor": "a",
                "type": kind,
                "data": {"n": [n]},
                "source": "",
            }
            for n, kind in enumerate(("rule", "change", "rules"))
        ]
        Prepared(insert(_EVENT), flush=False).execute_many(session, rows)
        Prepared(insert(_EVENT), flush=False).execute_many(session, [])  # nothing sent
    with unit_of_work(app.engine) as session:
        query = select(Event).where(col(Event.type).in_(("rule", "change", "rules")))
        stored = session.exec(query.order_by(col(Event.id))).all()
    assert [(e.type, e.data, e.at) for e in stored] == [
        ("rule", {"n": [0]}, at),
        ("change", {"n": [1]}, at),
        ("rules", {"n": [2]}, at),
    ]


def test_tags_are_added_once_whatever_the_unit_of_work_has_not_written_yet(app: App) -> None:
    """`add_tags` reads the ticket's tags without flushing: a tag added or removed through
    the session and still pending counts as what the ticket has."""
    at = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    with unit_of_work(app.engine) as session:
        ticket = session.get(Ticket, _a_ticket(session, at))
        assert ticket is not None and ticket.id is not None
        assert add_tags(session, ticket=ticket, tags=["VIP", "vip", "refund"]) == ["vip", "refund"]
        session.add(TicketTag(ticket_id=ticket.id, tag="pending"))
        removed = session.get(TicketTag, (ticket.id, "refund"))
        session.delete(removed)
        added = add_tags(session, ticket=ticket, tags=["pending", "refund", "vip", "new"])
        assert added == ["refund", "new"]
    with unit_of_work(app.engine) as session:
        assert ticket_tags(session, ticket_id=ticket.id) == ["new", "pending", "refund", "vip"]
