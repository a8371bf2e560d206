"""`maildesk ticket export`: a ticket's whole history with its original mails, as JSON, .eml
files or an mbox that `maildesk import mbox` turns back into the same threads."""

from __future__ import annotations

import base64
import json
import mailbox
from pathlib import Path

import pytest

from maildesk.cli import import_cmd, ticket, ticket_export
from maildesk.errors import InvalidInput, NotFound
from maildesk.sender.delivery import send_outbox
from tests.mails import mail
from tests.unit.cli.conftest import CONFIG, Shell

PRINTER = mail(message_id="p1@acme.test", subject="Printer on fire", body="Help, it burns.")
PRINTER_REPLY = mail(
    message_id="p2@acme.test",
    in_reply_to="p1@acme.test",
    subject="Re: Printer on fire",
    body="From now on it smokes too.\n>From the fourth floor",
)
INVOICE = mail(sender="dan@acme.test", subject="Invoice", body="Wrong sum")
INVOICE_REPLY = mail(sender="dan@acme.test", subject="Re: [TKT-2] Invoice", body="Any news?")


@pytest.fixture
def history(shell: Shell) -> Shell:
    """TKT-1: Carol and her reply; TKT-2: Dan and his reply; the acks sent between."""
    for raw in (PRINTER, INVOICE, PRINTER_REPLY, INVOICE_REPLY):
        shell.receives(raw)
        app = shell.app()
        send_outbox(app)
        app.engine.dispose()
    return shell


def conversation(shell: Shell, ref: str) -> list[tuple[str, str, str]]:
    shown = json.loads(shell.run(ticket, "ticket", "show", ref, "--json").stdout)
    return [(m["author"], m["subject"], m["text"]) for m in shown["messages"]]


def test_json_is_ticket_show_with_the_original_mails(history: Shell) -> None:
    result = history.run(ticket_export, "export", "TKT-1", "--format", "json")

    assert result.exit_code == 0, result.output
    (document,) = json.loads(result.stdout)
    shown = json.loads(history.run(ticket, "ticket", "show", "TKT-1", "--json").stdout)
    raws = [base64.b64decode(m.pop("raw_base64")) for m in document["messages"]]
    assert document == shown
    assert raws == [PRINTER, PRINTER_REPLY]


def test_json_of_every_ticket_is_one_list(history: Shell, tmp_path: Path) -> None:
    target = tmp_path / "all.json"
    result = history.run(ticket_export, "export", "--all", "--format", "json", "--output", target)
    assert result.exit_code == 0, result.output
    assert [d["ref"] for d in json.loads(target.read_text())] == ["TKT-1", "TKT-2"]
    assert not list(tmp_path.glob("*.partial"))


def test_eml_writes_one_file_per_mail_in_order(history: Shell, tmp_path: Path) -> None:
    folder = tmp_path / "tkt-1"
    result = history.run(ticket_export, "export", "TKT-1", "--format", "eml", "--output", folder)

    assert result.exit_code == 0, result.output
    files = sorted(folder.iterdir())
    assert files[0].name == "001.eml" and files[0].read_bytes() == PRINTER
    assert PRINTER_REPLY in [f.read_bytes() for f in files]
    assert len(files) > 2  # the ack and the agents' notices, as sent, among them


def test_eml_of_every_ticket_makes_a_folder_per_ticket(history: Shell, tmp_path: Path) -> None:
    result = history.run(
        ticket_export, "export", "--all", "--format", "eml", "--output", tmp_path / "x"
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["TKT-1", "TKT-2"]
    assert (tmp_path / "x" / "TKT-2" / "001.eml").read_bytes() == INVOICE


def test_mbox_goes_to_stdout_in_time_order(history: Shell, tmp_path: Path) -> None:
    result = history.run(ticket_export, "export", "TKT-2", "--format", "mbox")

    assert result.exit_code == 0, result.output
    path = tmp_path / "out.mbox"
    path.write_bytes(result.stdout_bytes)
    box = mailbox.mbox(path, create=False)
    subjects = [m["subject"] for m in box]
    box.close()
    assert subjects[0] == "Invoice" and subjects[-1] == "Re: [TKT-2] Invoice"
    assert result.stdout_bytes.startswith(b"From dan@acme.test ")


def test_an_exported_mbox_rebuilds_the_same_threads_in_an_empty_desk(
    history: Shell, tmp_path: Path
) -> None:
    exported = tmp_path / "desk.mbox"
    result = history.run(ticket_export, "export", "--all", "--format", "mbox", "--output", exported)
    assert result.exit_code == 0, result.output
    assert b"\n>>From the fourth floor\n" in exported.read_bytes()  # mboxrd quoting
    empty = Shell(_empty_desk(tmp_path / "new"))

    imported = empty.run(import_cmd, "import", "mbox", exported)

    assert imported.exit_code == 0, imported.output
    assert "created: 2" in imported.stdout and "appended: 2" in imported.stdout
    listed = json.loads(empty.run(ticket, "ticket", "list", "--json").stdout)
    before = json.loads(history.run(ticket, "ticket", "list", "--json").stdout)
    assert [(t["ref"], t["subject"]) for t in listed] == [(t["ref"], t["subject"]) for t in before]
    for ref in ("TKT-1", "TKT-2"):
        assert [m[:2] for m in conversation(empty, ref)] == [
            m[:2] for m in conversation(history, ref)
        ]


def _empty_desk(folder: Path) -> Path:
    from maildesk.config import load_settings
    from maildesk.db import create_database_folder, make_engine, upgrade

    folder.mkdir()
    config = folder / "maildesk.toml"
    config.write_text(CONFIG)
    url = load_settings(config).database_url()
    create_database_folder(url)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return config


def test_an_unknown_ticket_is_one_error(history: Shell) -> None:
    result = history.run(ticket_export, "export", "TKT-99", "--format", "mbox")
    assert isinstance(result.exception, NotFound)
    assert str(result.exception) == "no ticket TKT-99"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("TKT-1", "--all", "--format", "json"), "give a ticket REF or --all, not both"),
        (("--format", "json"), "give REF or --all"),
        (("TKT-1", "--format", "pdf"), "--format: one of json, eml, mbox, not 'pdf'"),
        (("TKT-1", "--format", "eml"), "--format eml writes one file per mail: give --output DIR"),
        (("--all", "--since", "yesterday", "--format", "json"), "--since: not an ISO 8601 time"),
    ],
)
def test_what_cannot_be_exported_is_one_clear_error(
    history: Shell, args: tuple[str, ...], error: str
) -> None:
    result = history.run(ticket_export, "export", *args)
    assert isinstance(result.exception, InvalidInput)
    assert str(result.exception).startswith(error)


def test_eml_refuses_a_folder_that_holds_files(history: Shell, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = history.run(ticket_export, "export", "TKT-1", "--format", "eml", "--output", tmp_path)
    assert isinstance(result.exception, InvalidInput)
    assert (tmp_path / "keep.txt").read_text() == "mine"
