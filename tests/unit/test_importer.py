"""Bulk import reads each raw message out of an mbox file or a Maildir folder, in order."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from maildesk.errors import InvalidInput
from maildesk.ingest.importer import count_messages, read_messages
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
