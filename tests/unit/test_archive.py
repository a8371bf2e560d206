"""Mail archives: mboxrd entries that mbox readers split and restore, .eml names in order."""

from __future__ import annotations

import mailbox
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from maildesk.mail.archive import asctime, eml_name, from_line, mbox_entry

MOMENT = datetime(2026, 12, 1, 3, 1, tzinfo=UTC)
BODY = (
    b"From: carol@acme.test\r\nSubject: Quoting\r\n\r\nFrom the start:\r\n"
    b">From here\r\n>>From there\r\nFromage is no From line\r\n"
)


def unquoted(entry: bytes) -> bytes:
    """What an mboxrd reader does: one `>` less before `From `."""
    return re.sub(rb"(?m)^>(>*From )", rb"\1", entry)


def test_an_entry_starts_with_the_sender_and_the_time_in_utc() -> None:
    entry = mbox_entry(BODY, sender="carol@acme.test", moment=MOMENT)
    assert entry.startswith(b"From carol@acme.test Tue Dec  1 03:01:00 2026\n")
    assert entry.endswith(b"\n\n") and b"\r\n" not in entry


def test_every_from_line_gets_one_more_quote_so_a_reader_restores_the_mail() -> None:
    entry = mbox_entry(BODY, sender="carol@acme.test", moment=MOMENT)
    body = entry.split(b"\n", 1)[1]
    assert b"\n>From the start:\n>>From here\n>>>From there\nFromage is no From line\n" in body
    assert unquoted(body).rstrip(b"\n") == BODY.replace(b"\r\n", b"\n").rstrip(b"\n")


def test_python_s_mailbox_reads_the_entries_back_one_mail_each(tmp_path: Path) -> None:
    path = tmp_path / "out.mbox"
    path.write_bytes(
        mbox_entry(BODY, sender="carol@acme.test", moment=MOMENT)
        + mbox_entry(b"Subject: Second\n\nno newline at the end", sender="", moment=MOMENT)
    )
    box = mailbox.mbox(path, create=False)
    subjects = [message["subject"] for message in box]
    box.close()
    assert subjects == ["Quoting", "Second"]


def test_a_sender_without_an_address_or_with_white_space_is_made_safe() -> None:
    assert from_line("", MOMENT).startswith(b"From MAILER-DAEMON ")
    assert from_line("a b\n@x", MOMENT).startswith(b"From ab@x ")


def test_the_time_is_english_and_in_utc_whatever_the_zone() -> None:
    later = datetime(2027, 1, 9, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    assert asctime(later) == "Sun Jan 10 01:30:00 2027"


def test_eml_names_sort_in_the_order_of_the_mails() -> None:
    assert eml_name(1, 5) == "001.eml"
    assert eml_name(12, 1200) == "0012.eml"
    names = [eml_name(n, 150) for n in range(1, 151)]
    assert names == sorted(names)
