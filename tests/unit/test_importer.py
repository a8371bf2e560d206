"""Bulk import reads each raw message out of an mbox file or a Maildir folder, in order."""

from __future__ import annotations

import mailbox
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from maildesk.errors import InvalidInput
from maildesk.ingest.importer import (
    count_messages,
    from_line_date,
    has_date,
    read_messages,
    with_date,
)
from tests.mails import mail

MAILS = [mail(subject=f"Mail {n}", message_id=f"m{n}@acme.test") for n in range(3)]


def subjects(raws: list[bytes]) -> list[str]:
    return [
        line.decode().removeprefix("Subject: ")
        for raw in raws
        for line in raw.splitlines()
        if line.startswith(b"Subject: ")
    ]


def test_an_mbox_gives_every_message_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "old.mbox"
    box = mailbox.mbox(path)
    for raw in MAILS:
        box.add(raw)
    box.close()

    raws = list(read_messages("mbox", path))

    assert count_messages("mbox", path) == 3
    assert subjects(raws) == ["Mail 0", "Mail 1", "Mail 2"]
    assert b"Message-ID: <m2@acme.test>" in raws[2]


def test_a_maildir_gives_every_message_read_or_unread(tmp_path: Path) -> None:
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder)
    for raw in MAILS:
        box.add(raw)
    (name, *_) = sorted(box.iterkeys())
    box.close()
    (folder / "new" / name).rename(folder / "cur" / f"{name}:2,S")  # one already read

    raws = list(read_messages("maildir", folder))

    assert count_messages("maildir", folder) == 3
    assert sorted(subjects(raws)) == ["Mail 0", "Mail 1", "Mail 2"]


def test_an_mbox_path_that_is_no_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not an mbox file"):
        read_messages("mbox", tmp_path)


def test_a_folder_without_cur_or_new_is_no_maildir(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"not a Maildir folder \(no cur/ or new/\)"):
        read_messages("maildir", tmp_path)


OLD = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


def test_an_mbox_from_line_says_when_the_mail_arrived() -> None:
    assert from_line_date("From carol@acme.test Mon Jun  3 08:00:00 2024") == OLD
    assert from_line_date("From carol@acme.test  Mon Jun  3 08:00:00 2024 +0000") == OLD
    assert from_line_date("From MAILER-DAEMON") is None


def test_a_mail_without_a_date_gets_one_and_a_dated_mail_stays_byte_for_byte() -> None:
    dated = mail(message_id="d@acme.test")
    undated = mail(message_id="u@acme.test", date=None, body="Date: in the body is no header")

    assert with_date(dated, OLD) == dated
    assert not has_date(undated)
    assert with_date(undated, OLD) == b"Date: Mon, 03 Jun 2024 08:00:00 +0000\n" + undated
    assert with_date(b"Subject: x\r\n\r\nhi\r\n", OLD).startswith(b"Date: Mon, 03 Jun 2024")
    assert with_date(b"Subject: x\r\n\r\nhi\r\n", OLD).split(b"\r\n")[1] == b"Subject: x"


def test_an_undated_mail_of_an_mbox_takes_its_from_line_date_on_every_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.mbox"
    box = mailbox.mbox(path)
    message = mailbox.mboxMessage(mail(message_id="u@acme.test", date=None))
    message.set_from("carol@acme.test", time.gmtime(OLD.timestamp()))
    box.add(message)
    box.close()

    first, again = list(read_messages("mbox", path)), list(read_messages("mbox", path))

    assert first == again
    assert first[0].startswith(b"Date: Mon, 03 Jun 2024 08:00:00 +0000\n")
