"""`maildesk import mbox|maildir PATH`: old mail becomes tickets, each outcome counted."""

from __future__ import annotations

import mailbox
from pathlib import Path

from maildesk.cli import import_cmd
from maildesk.errors import InvalidInput
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
    assert result.stdout.splitlines()[-1] == "appended: 1, created: 1, duplicate: 1, rejected: 1"


def test_importing_it_again_imports_nothing_twice(shell: Shell, tmp_path: Path) -> None:
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder)
    box.add(FIRST)
    box.close()
    shell.run(import_cmd, "import", "maildir", folder)

    again = shell.run(import_cmd, "import", "maildir", folder)

    assert again.stdout.splitlines()[-1] == "duplicate: 1"


def test_an_empty_maildir_imports_nothing_and_a_file_is_no_maildir(
    shell: Shell, tmp_path: Path
) -> None:
    mailbox.Maildir(tmp_path / "Empty").close()

    empty = shell.run(import_cmd, "import", "maildir", tmp_path / "Empty")
    wrong = shell.run(import_cmd, "import", "maildir", shell.config)

    assert empty.stdout.splitlines()[-1] == "nothing to import"
    assert isinstance(wrong.exception, InvalidInput)
