"""Operators import old mail in bulk and search tickets from the CLI."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest

from tests.integration.test_cli import maildesk  # the in-process CLI helper
from tests.mails import mail


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "maildesk.toml"
    assert maildesk("init", tmp_path).code == 0
    return path


def test_an_mbox_is_imported_with_threads_kept(config: Path, tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "old.mbox")
    box.add(mail(message_id="o1@acme.test", subject="Old printer trouble"))
    box.add(mail(message_id="o2@acme.test", in_reply_to="o1@acme.test", subject="Re: Old"))
    box.add(mail(sender="dave@other.test", message_id="o3@other.test", subject="Fax"))
    box.close()
    result = maildesk("--config", config, "import", "mbox", tmp_path / "old.mbox")
    assert result.code == 0
    assert "created: 2" in result.out and "appended: 1" in result.out
    again = maildesk("--config", config, "import", "mbox", tmp_path / "old.mbox")
    assert again.out.strip().splitlines()[-1] == "3 already imported"


def test_a_maildir_is_imported(config: Path, tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "md", create=True)
    box.add(mail(message_id="d1@acme.test"))
    result = maildesk("--config", config, "import", "maildir", tmp_path / "md")
    assert result.code == 0 and "created: 1" in result.out


def test_importing_something_that_is_not_a_mailbox_is_one_clear_error(
    config: Path, tmp_path: Path
) -> None:
    result = maildesk("--config", config, "import", "maildir", tmp_path)
    assert result.code == 1
    assert result.err.strip().count("\n") == 0 and "not a Maildir" in result.err


def test_search_finds_tickets_by_subject_and_message_words(config: Path) -> None:
    for n, (subject, body) in enumerate(
        [("Printer on fire", "It smokes"), ("Invoice", "Wrong VAT number"), ("Hello", "100%")]
    ):
        raw = mail(message_id=f"s{n}@acme.test", subject=subject, body=body)
        assert maildesk("--config", config, "ingest", stdin=raw).code == 0
    found = json.loads(maildesk("--config", config, "ticket", "search", "vat", "--json").out)
    assert [t["subject"] for t in found] == ["Invoice"]
    both = json.loads(
        maildesk("--config", config, "ticket", "search", "printer smokes", "--json").out
    )
    assert [t["subject"] for t in both] == ["Printer on fire"]
    percent = json.loads(maildesk("--config", config, "ticket", "search", "100%", "--json").out)
    assert [t["subject"] for t in percent] == ["Hello"]
    assert json.loads(maildesk("--config", config, "ticket", "search", "%", "--json").out) == []
