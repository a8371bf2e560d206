"""`maildesk ingest --queue`: a mail is only stored — the same row, under the same key, as the
full accept writes — and the daemon's inbox sweep makes it a ticket. Both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete
from sqlmodel import select

from maildesk.app import App, accept_raw
from maildesk.argv import UsageError
from maildesk.db import unit_of_work
from maildesk.errors import ConfigError
from maildesk.ingest.pipe_queue import QueueRequest, open_inbox, parse_request, queue_mails
from maildesk.models import InboxItem, Ticket
from maildesk.services.origin import Origin
from maildesk.timed.jobs import process_inbox
from maildesk.timing.clock import FixedClock
from tests.mails import mail

DESK = ("support@example.com",)


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    """The config file an MTA's `maildesk ingest --queue` reads: only its database counts."""
    path = tmp_path / "maildesk.toml"
    path.write_text(f'[database]\nurl = "{database_url}"\n')
    return path


def queue(config: Path, clock: FixedClock, *raws: bytes) -> list[dict[str, object]]:
    folder = config.parent / "mails"
    folder.mkdir(exist_ok=True)
    files = []
    for number, raw in enumerate(raws):
        files.append(folder / f"{number}.eml")
        files[-1].write_bytes(raw)
    request = QueueRequest(files=tuple(files), envelope_to=DESK)
    return queue_mails(request, config=str(config), clock=clock)


def stored_items(app: App) -> list[dict[str, Any]]:
    with unit_of_work(app.engine) as session:
        items = session.exec(select(InboxItem).order_by(InboxItem.id)).all()  # type: ignore[arg-type]
        return [item.model_dump(exclude={"id"}) for item in items]


def test_a_queued_mail_is_the_row_the_full_accept_stores(
    app: App, config: Path, clock: FixedClock
) -> None:
    raw = b"Received: from mx.acme.test\r\n" + mail(message_id="q1@acme.test")

    [outcome] = queue(config, clock, raw)
    queued = stored_items(app)
    with unit_of_work(app.engine) as session:
        session.execute(delete(InboxItem))
    accept_raw(app, raw, Origin(transport="pipe", envelope_to=DESK))

    assert outcome["outcome"] == "queued" and outcome["message_id"] == "q1@acme.test"
    assert queued == stored_items(app)
    assert queued[0]["state"] == "received" and queued[0]["received_at"] == clock.now()


def test_a_mail_queued_twice_or_accepted_before_is_a_duplicate(
    app: App, config: Path, clock: FixedClock
) -> None:
    first, redelivered = mail(message_id="q2@acme.test"), mail(message_id="q2@acme.test")
    stored = accept_raw(app, first, Origin(transport="smtp"))
    process_inbox(app)

    [outcome] = queue(config, clock, b"Delivered-To: support@example.com\r\n" + redelivered)

    assert outcome == {
        "outcome": "duplicate",
        "ticket": "TKT-1",
        "reason": f"same mail as inbox item {stored.item_id} (processed)",
        "message_id": "q2@acme.test",
    }
    assert len(stored_items(app)) == 1


def test_queued_mail_becomes_a_ticket_on_the_daemons_inbox_sweep(
    app: App, config: Path, clock: FixedClock
) -> None:
    queue(config, clock, mail(subject="Printer on fire"), mail(subject="Scanner jammed"))

    assert process_inbox(app) == 2

    with unit_of_work(app.engine) as session:
        subjects = [t.subject for t in session.exec(select(Ticket).order_by(Ticket.id))]  # type: ignore[arg-type]
    assert subjects == ["Printer on fire", "Scanner jammed"]
    assert {item["state"] for item in stored_items(app)} == {"processed"}


def test_a_database_that_cannot_be_reached_is_an_error_before_anything_is_read(
    closed_port: int,
) -> None:
    with pytest.raises(Exception, match=r"connect|refused|Connection"):
        open_inbox(f"postgresql+psycopg://maildesk@127.0.0.1:{closed_port}/maildesk")


def test_a_missing_sqlite_file_is_never_created(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="unable to open"):
        open_inbox(f"sqlite:///{tmp_path / 'missing.db'}")

    assert not (tmp_path / "missing.db").exists()


def test_another_database_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unsupported database"):
        open_inbox("mysql://maildesk@localhost/maildesk")


def test_the_words_after_ingest_read_as_the_full_cli_reads_them() -> None:
    words = [
        "--queue",
        "--json",
        "--to=a@example.com",
        "--to",
        "b@example.com",
        "x.eml",
        "--",
        "-y",
    ]

    assert parse_request(words) == QueueRequest(
        files=(Path("x.eml"), Path("-y")),
        as_json=True,
        envelope_to=("a@example.com", "b@example.com"),
    )


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--queue", "--frobnicate"], "no such option: --frobnicate"),
        (["--queue", "--to"], "option --to requires an argument"),
    ],
)
def test_a_mistake_on_the_command_line_is_one_line(words: list[str], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_request(words)

    assert str(raised.value) == message
