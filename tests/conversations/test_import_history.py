"""An operator imports years of old mail: it becomes history — threaded, dated, closed, silent.

No customer or agent hears of an import, not then and not at the next tick; every ticket and
message carries the time its mail was written; what is older than `--open-since` is closed.
"""

from __future__ import annotations

import mailbox
import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, func, select

from maildesk.app import App, open_app
from maildesk.cli.import_cmd import ALREADY, import_one
from maildesk.daemon.tick import tick
from maildesk.db import unit_of_work
from maildesk.ingest.importer import read_messages
from maildesk.models import Event, InboxItem, Message, OutboxItem, Ticket
from maildesk.timing.clock import FixedClock
from tests.conftest import START, make_settings
from tests.mails import mail, sample

OLD = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
CORPUS = (  # real clients' mail from tests/data: replies to tickets of another desk, a
    # mailing list, a bounce, an out-of-office, a spoof with two From headers, …
    "outlook_reply.eml",
    "gmail_reply.eml",
    "apple_mail_reply.eml",
    "inline_reply.eml",
    "koi8r.eml",
    "iso8859_1.eml",
    "utf8_encoded_words.eml",
    "rfc2231_attachment.eml",
    "tnef.eml",
    "wrong_charset.eml",
    "mailing_list.eml",
    "dsn_bounce.eml",
    "vacation_autoreply.eml",
    "two_from_headers.eml",
)
SLA = [{"name": "standard", "first_response": "2h", "resolution": "16h", "next_reply": "4h"}]
RULES = [
    {
        "name": "thank",
        "on": ["new", "follow-up"],
        "when": {"subject_regex": "."},
        "then": {"auto_reply": "ack"},
    }
]


def printer_thread(start: datetime, tag: str = "p") -> list[bytes]:
    """Carol reports a fire, Alice answers (with a command line that already ran back then),
    Carol thanks her."""
    return [
        mail(message_id=f"{tag}1@acme.test", date=start),
        mail(
            sender="Alice <alice@example.com>",
            to="carol@acme.test",
            subject="Re: Printer on fire",
            body="#priority urgent\nPut it out with the extinguisher.",
            message_id=f"{tag}2@example.com",
            in_reply_to=f"{tag}1@acme.test",
            date=start + timedelta(hours=1),
        ),
        mail(
            subject="Re: Printer on fire",
            body="Thanks, it is out.",
            message_id=f"{tag}3@acme.test",
            in_reply_to=f"{tag}2@example.com",
            references=[f"{tag}1@acme.test", f"{tag}2@example.com"],
            date=start + timedelta(hours=2),
        ),
    ]


def write_mbox(path: Path, mails: list[bytes]) -> Path:
    box = mailbox.mbox(path)
    for raw in mails:
        box.add(raw)
    box.close()
    return path


def history(tmp_path: Path) -> Path:
    fax = mail(sender="Dave <dave@other.test>", subject="Fax", message_id="f1@other.test", date=OLD)
    corpus = [sample(name) for name in CORPUS]
    return write_mbox(tmp_path / "old.mbox", [*printer_thread(OLD), fax, *corpus])


def imports(app: App, path: Path, open_since: datetime | None = None) -> Counter[str]:
    """`maildesk import mbox PATH [--open-since …]`, each outcome counted."""
    kind = "mbox" if path.is_file() else "maildir"
    return Counter(import_one(app, raw, open_since) for raw in read_messages(kind, path))


def count(app: App, table: Any) -> int:
    with unit_of_work(app.engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def tickets(app: App) -> dict[str, Ticket]:
    with unit_of_work(app.engine) as session:
        found = session.exec(select(Ticket)).all()
        session.expunge_all()
    return {t.subject: t for t in found}


def messages_of(app: App, subject: str) -> list[Message]:
    with unit_of_work(app.engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.subject == subject)).one()
        found = session.exec(
            select(Message).where(Message.ticket_id == ticket.id).order_by(col(Message.id))
        ).all()
        session.expunge_all()
    return list(found)


def aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[App]:
    """A desk with an SLA policy and a rule that auto-replies to every new ticket."""
    settings = make_settings(tmp_path, database_url, sla=SLA, rules=RULES)
    application = open_app(settings, clock=FixedClock(START))
    yield application
    application.engine.dispose()


def test_an_imported_history_keeps_its_threads_and_nobody_hears_of_it(
    app: App, tmp_path: Path
) -> None:
    outcomes = imports(app, history(tmp_path))

    assert outcomes["created"] >= 2 and outcomes["appended"] == 2
    thread = messages_of(app, "Printer on fire")
    assert [m.message_id for m in thread] == ["p1@acme.test", "p2@example.com", "p3@acme.test"]
    assert [m.role for m in thread] == ["customer", "agent", "customer"]
    assert thread[1].text.startswith("#priority urgent")  # stored as written, not run again
    assert tickets(app)["Printer on fire"].priority == "normal"
    assert count(app, OutboxItem) == 0


def test_the_next_ticks_write_to_nobody_about_imported_tickets(app: App, tmp_path: Path) -> None:
    imports(app, history(tmp_path))
    clock = app.desk.clock
    assert isinstance(clock, FixedClock)

    for later in (timedelta(hours=3), timedelta(days=8), timedelta(days=40)):
        clock.advance(later)
        tick(app)

    assert count(app, OutboxItem) == 0
    assert {t.status for t in tickets(app).values()} == {"closed"}
    assert {t.close_reason for t in tickets(app).values()} == {"imported"}
    assert {t.sla_next_at for t in tickets(app).values()} == {None}


def test_each_ticket_and_message_carries_the_time_its_mail_was_written(
    app: App, tmp_path: Path
) -> None:
    future = mail(subject="From the future", message_id="x@acme.test", date=START + timedelta(1))
    imports(app, write_mbox(tmp_path / "old.mbox", [*printer_thread(OLD), future]))

    ticket = tickets(app)["Printer on fire"]
    assert aware(ticket.created_at) == OLD
    assert aware(ticket.updated_at) == OLD + timedelta(hours=2)
    assert aware(ticket.closed_at) == OLD
    assert [aware(m.created_at) for m in messages_of(app, "Printer on fire")] == [
        OLD + timedelta(hours=n) for n in range(3)
    ]
    assert aware(tickets(app)["From the future"].created_at) == START  # never ahead of now


def test_a_mail_without_a_date_takes_its_mbox_from_line_or_its_maildir_file_time(
    app: App, tmp_path: Path
) -> None:
    box = mailbox.mbox(tmp_path / "old.mbox")
    undated = mailbox.mboxMessage(
        mail(subject="Undated mbox", message_id="u1@acme.test", date=None)
    )
    undated.set_from("carol@acme.test", time.gmtime(OLD.timestamp()))
    box.add(undated)
    box.close()
    folder = mailbox.Maildir(tmp_path / "Maildir")
    key = folder.add(mail(subject="Undated maildir", message_id="u2@acme.test", date=None))
    folder.close()
    file = next((tmp_path / "Maildir" / "new").glob(f"{key}*"))
    os.utime(file, (OLD.timestamp() + 60, OLD.timestamp() + 60))

    imports(app, tmp_path / "old.mbox")
    imports(app, tmp_path / "Maildir")

    assert aware(tickets(app)["Undated mbox"].created_at) == OLD
    assert aware(tickets(app)["Undated maildir"].created_at) == OLD + timedelta(minutes=1)


def test_open_since_keeps_recent_tickets_open_with_their_clock_from_their_own_time(
    app: App, tmp_path: Path
) -> None:
    recent = START - timedelta(hours=1)
    late_reply = mail(
        subject="Re: Printer on fire",
        body="It burns again.",
        message_id="p4@acme.test",
        in_reply_to="p3@acme.test",
        date=recent,
    )
    fresh = mail(
        sender="Eve <eve@acme.test>", subject="VPN", message_id="v1@acme.test", date=recent
    )
    path = write_mbox(tmp_path / "old.mbox", [*printer_thread(OLD), late_reply, fresh])

    imports(app, path, open_since=START - timedelta(days=1))

    found = tickets(app)
    assert found["Printer on fire"].status == "open"  # closed by history, opened by the reply
    assert found["Printer on fire"].close_reason is None
    assert found["VPN"].status == "new"
    assert aware(found["VPN"].first_response_due) == recent + timedelta(hours=2)
    assert count(app, OutboxItem) == 0


def test_older_mail_is_closed_and_newer_is_open_when_split_by_open_since(
    app: App, tmp_path: Path
) -> None:
    days = [
        mail(subject=f"Ticket {n}", message_id=f"t{n}@acme.test", date=OLD + timedelta(days=n))
        for n in range(4)
    ]
    path = write_mbox(tmp_path / "old.mbox", days)

    imports(app, path, open_since=OLD + timedelta(days=2))

    statuses = {subject: t.status for subject, t in tickets(app).items()}
    assert statuses["Ticket 0"] == statuses["Ticket 1"] == "closed"
    assert statuses["Ticket 2"] == statuses["Ticket 3"] == "new"


def test_importing_the_same_mailbox_again_changes_nothing(app: App, tmp_path: Path) -> None:
    path = history(tmp_path)
    first = imports(app, path)
    before = [count(app, table) for table in (Ticket, Message, Event, InboxItem, OutboxItem)]

    again = imports(app, path)

    assert again == Counter({ALREADY: sum(first.values())})
    assert [
        count(app, table) for table in (Ticket, Message, Event, InboxItem, OutboxItem)
    ] == before
