"""An import killed half-way (kill -9) resumes where it stopped: the second run ends with what
one clean run gives — every thread one ticket, every mail one message, nothing sent."""

from __future__ import annotations

import mailbox
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from maildesk.db import make_engine, read_only_unit
from maildesk.models import InboxItem, Message, OutboxItem, Ticket
from tests.mails import mail

pytestmark = pytest.mark.integration

THREADS = 100  # three mails each: enough that the first run is still busy when it is killed
OLD = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


def thread(n: int) -> list[bytes]:
    """A customer asks, the same customer adds something, and again."""
    start = OLD + timedelta(hours=n)
    ids = [f"t{n}.{k}@acme.test" for k in range(3)]
    return [
        mail(
            sender=f"Customer {n} <c{n}@acme.test>",
            subject=f"Re: Thread {n}" if k else f"Thread {n}",
            body=f"Mail {k} of thread {n}.",
            message_id=ids[k],
            in_reply_to=ids[k - 1] if k else None,
            references=ids[:k] if k else None,
            date=start + timedelta(minutes=k),
        )
        for k in range(3)
    ]


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "old.mbox"
    box = mailbox.mbox(path)
    for n in range(THREADS):
        for raw in thread(n):
            box.add(raw)
    box.close()
    return path


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Iterator[Path]:
    path = tmp_path / "maildesk.toml"
    path.write_text(f"""
[desk]
address = "support@example.com"
secret = "import-resume-test"
[database]
url = "{database_url}"
[worker]
batch_size = 10
""")
    yield path


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    found = make_engine(database_url)
    yield found
    found.dispose()


def command(config: Path, history: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "maildesk",
        "--config",
        str(config),
        "import",
        "mbox",
        str(history),
    ]


def messages(engine: Engine) -> int:
    """Counted by a reader that never waits for the import's write lock."""
    with read_only_unit(engine) as session:
        return int(session.exec(select(func.count()).select_from(Message)).one())


def state(engine: Engine) -> dict[str, list[str]]:
    """Each ticket's subject and its messages' ids, in order."""
    with Session(engine) as session:
        rows = session.exec(
            select(Ticket.subject, Message.message_id)
            .join(Message, col(Message.ticket_id) == col(Ticket.id))
            .order_by(col(Message.id))
        ).all()
    found: dict[str, list[str]] = {}
    for subject, message_id in rows:
        found.setdefault(subject, []).append(str(message_id))
    return found


def kill_once_some_are_in(process: subprocess.Popen[bytes], engine: Engine) -> int:
    """kill -9 the import as soon as the database holds a message; how many it held."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        held = messages(engine)
        if held > 0:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            return messages(engine)
        time.sleep(0.02)
    raise AssertionError(f"the import ended ({process.returncode}) before it could be killed")


def test_an_import_killed_half_way_resumes_to_what_a_clean_import_gives(
    config: Path, history: Path, engine: Engine
) -> None:
    first = subprocess.Popen(command(config, history), stdout=subprocess.DEVNULL)

    held = kill_once_some_are_in(first, engine)
    assert first.returncode == -signal.SIGKILL
    assert 0 < held < 3 * THREADS  # killed half-way

    again = subprocess.run(command(config, history), capture_output=True, text=True, timeout=600)

    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith(f"{held} already imported")
    expected = {f"Thread {n}": [f"t{n}.{k}@acme.test" for k in range(3)] for n in range(THREADS)}
    assert state(engine) == expected  # one ticket a thread, each mail once, in order
    with Session(engine) as session:
        states = session.exec(select(InboxItem.state, func.count()).group_by(InboxItem.state))
        assert dict(states.all()) == {"processed": 3 * THREADS}
        assert session.exec(select(func.count()).select_from(OutboxItem)).one() == 0
        closed = select(func.count()).select_from(Ticket).where(Ticket.status == "closed")
        assert session.exec(closed).one() == THREADS
