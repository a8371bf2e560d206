"""`maildesk import mbox|maildir PATH`: old mail becomes tickets, each outcome counted."""

from __future__ import annotations

import io
import mailbox
import re
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from maildesk.cli import import_cmd
from maildesk.cli.import_cmd import in_batches, progress_bar, summary
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.models import Ticket
from tests.mails import mail
from tests.unit.cli.conftest import Shell

FIRST = mail(message_id="m1@acme.test")
REPLY = mail(subject="Re: Printer on fire", message_id="m2@acme.test", in_reply_to="m1@acme.test")
SPAM = mail(sender="spammer@example.net", subject="Cheap", message_id="s@example.net")


def test_an_mbox_is_imported_and_every_outcome_counted(shell: Shell, tmp_path: Path) -> None:
    path = tmp_path / "old.mbox"
    box = mailbox.mbox(path)
    for raw in (FIRST, REPLY, SPAM, FIRST):
        box.add(raw)
    box.close()

    result = shell.run(import_cmd, "import", "mbox", path)

    assert result.exit_code == 0, result.output
    assert (
        result.stdout.splitlines()[-1] == "appended: 1, created: 1, rejected: 1; 1 already imported"
    )


def test_importing_it_again_imports_nothing_twice(shell: Shell, tmp_path: Path) -> None:
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder)
    box.add(FIRST)
    box.close()
    shell.run(import_cmd, "import", "maildir", folder)

    again = shell.run(import_cmd, "import", "maildir", folder)

    assert again.stdout.splitlines()[-1] == "1 already imported"


def test_an_empty_maildir_imports_nothing_and_a_file_is_no_maildir(
    shell: Shell, tmp_path: Path
) -> None:
    mailbox.Maildir(tmp_path / "Empty").close()

    empty = shell.run(import_cmd, "import", "maildir", tmp_path / "Empty")
    wrong = shell.run(import_cmd, "import", "maildir", shell.config)

    assert empty.stdout.splitlines()[-1] == "nothing to import"
    assert isinstance(wrong.exception, InvalidInput)


def test_open_since_keeps_the_newer_ticket_open_and_closes_the_older(
    shell: Shell, tmp_path: Path
) -> None:
    path = tmp_path / "old.mbox"
    box = mailbox.mbox(path)
    box.add(mail(subject="Old", message_id="o@acme.test", date=datetime(2024, 1, 5, tzinfo=UTC)))
    box.add(mail(subject="New", message_id="n@acme.test", date=datetime(2024, 3, 5, tzinfo=UTC)))
    box.close()

    result = shell.run(import_cmd, "import", "mbox", path, "--open-since", "2024-03-01")

    assert result.exit_code == 0, result.output
    app = shell.app()
    with unit_of_work(app.engine) as session:
        statuses = {t.subject: t.status for t in session.exec(select(Ticket))}
    app.engine.dispose()
    assert statuses == {"Old": "closed", "New": "new"}


def test_an_open_since_that_is_no_date_is_one_clear_error(shell: Shell, tmp_path: Path) -> None:
    path = tmp_path / "old.mbox"
    mailbox.mbox(path).close()

    result = shell.run(import_cmd, "import", "mbox", path, "--open-since", "last spring")

    assert isinstance(result.exception, InvalidInput)
    assert str(result.exception) == "--open-since: not an ISO 8601 time: 'last spring'"


def test_the_summary_counts_outcomes_then_what_was_already_imported() -> None:
    assert summary(Counter({"created": 2, "already imported": 3, "held": 1})) == (
        "created: 2, held: 1; 3 already imported"
    )
    assert summary(Counter()) == "nothing to import"


def test_an_import_reads_a_batch_as_it_stores_it_one_mail_at_a_time() -> None:
    read: list[int] = []

    def messages() -> Iterator[bytes]:
        for n in range(250):
            read.append(n)
            yield f"mail {n}".encode()

    batches = in_batches(messages(), size=100)
    first = next(batches)
    assert read == [0]  # the batch is not read ahead
    assert next(first) == b"mail 0" and next(first) == b"mail 1" and read == [0, 1]
    sizes = [2 + len(list(first)), *(len(list(batch)) for batch in batches)]
    assert sizes == [100, 100, 50] and read == list(range(250))


class Terminal(io.StringIO):
    """stderr as an operator's terminal shows it."""

    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_bar_shows_the_count_the_rate_and_the_time_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    with progress_bar(3, "old.mbox") as advance:
        for _ in range(3):
            advance()

    shown = terminal.getvalue()
    assert "importing old.mbox" in shown and "3/3" in shown
    assert re.search(r"\d+\.\d mails/s", shown)  # the rate
    assert "0:00:00" in shown  # the time left, at the end


def test_in_a_pipe_there_is_no_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)

    with progress_bar(3, "old.mbox") as advance:
        advance()

    assert piped.getvalue() == ""
