"""The `maildesk` command line as operators and scripts use it: exit codes, stdout, stderr, JSON.

Most tests call `maildesk.cli.commands.main` in-process (fast); a few run `python -m maildesk`
in a real process to prove what a shell sees. SQLite only: the CLI is the same on either database.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from maildesk.cli.commands import main
from maildesk.config import load_settings
from maildesk.db import current_revision, head_revision, make_engine, unit_of_work
from maildesk.models import InboxItem
from tests.conftest import free_port
from tests.mails import mail, sample

CONFIG = """\
[desk]
name = "Example Support"
address = "support@example.com"
secret = "kx4-Rt9w_Lq2Zp7yHv3N"
{desk_extra}

[database]
url = "{database_url}"

[[agents]]
email = "alice@example.com"
name = "Alice"

[blacklist]
addresses = ["spammer@example.net"]
"""
SUMMARY_KEYS = {
    "ref",
    "subject",
    "status",
    "priority",
    "queue",
    "service",  # issue 10: the service desk keys, in list items too
    "type",
    "category",
    "level",
    "assignee",
    "requester",
    "tags",
    "created_at",
    "updated_at",
}
DETAIL_KEYS = SUMMARY_KEYS | {"participants", "messages", "events", "sla", "rating", "lifecycle"}
MESSAGE_KEYS = {
    "direction",
    "visibility",
    "role",
    "author",
    "subject",
    "text",
    "message_id",
    "created_at",
    "attachments",
}
EX_TEMPFAIL = 75


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines()]


def maildesk(*argv: str | Path, stdin: bytes = b"") -> Run:
    """Run the CLI in-process: (exit code, stdout, stderr), as a shell would see them."""
    out, err = io.StringIO(), io.StringIO()
    real_stdin, sys.stdin = sys.stdin, io.TextIOWrapper(io.BytesIO(stdin))
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            main([str(arg) for arg in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        sys.stdin = real_stdin
    return Run(code, out.getvalue(), err.getvalue())


def maildesk_process(*argv: str | Path, stdin: bytes = b"") -> Run:
    """Run `python -m maildesk` as its own process."""
    env = {k: v for k, v in os.environ.items() if k != "MAILDESK_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-m", "maildesk", *map(str, argv)],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    return Run(done.returncode, done.stdout.decode(), done.stderr.decode())


def assert_one_line_error(run: Run, code: int = 1) -> str:
    assert run.code == code
    assert run.err.startswith("maildesk: ")
    assert run.err.count("\n") == 1 and run.err.endswith("\n")
    assert "Traceback" not in run.err
    return run.err.strip()


def write_config(
    path: Path, *, database_url: str = "sqlite:///var/maildesk.db", desk_extra: str = ""
) -> Path:
    path.write_text(CONFIG.format(database_url=database_url, desk_extra=desk_extra))
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config file with a migrated SQLite database beside it."""
    path = write_config(tmp_path / "maildesk.toml")
    assert maildesk("--config", path, "db", "upgrade").code == 0
    return path


@pytest.fixture
def mail_file(tmp_path: Path) -> Path:
    path = tmp_path / "first.eml"
    path.write_bytes(
        mail(
            message_id="m1@acme.test",
            attachments=[("report.pdf", "application/pdf", b"%PDF-1.4 report")],
        )
    )
    return path


def ingest(config: Path, raw: bytes) -> dict[str, Any]:
    run = maildesk("--config", config, "ingest", "--json", stdin=raw)
    assert run.code == 0, run.err
    [outcome] = run.json_lines()
    return outcome


# --- init, config, db ----------------------------------------------------------------------


def test_init_writes_a_config_and_a_migrated_database(tmp_path: Path) -> None:
    target = tmp_path / "desk"

    run = maildesk("init", target)

    assert run.code == 0, run.err
    assert f"wrote {target / 'maildesk.toml'}" in run.out
    settings = load_settings(target / "maildesk.toml")
    assert settings.desk.resolved_secret()  # a fresh random secret, never a shared default
    assert (target / "var" / "maildesk.db").is_file()
    assert current_revision(make_engine(settings.database_url())) == head_revision()
    assert maildesk("--config", target / "maildesk.toml", "config", "check").code == 0


def test_init_keeps_an_existing_config(tmp_path: Path) -> None:
    maildesk("init", tmp_path)
    written = (tmp_path / "maildesk.toml").read_text()

    run = maildesk("init", tmp_path)

    assert run.code == 0
    assert "wrote" not in run.out
    assert (tmp_path / "maildesk.toml").read_text() == written


def test_config_check_passes_a_good_config(config: Path) -> None:
    run = maildesk("--config", config, "config", "check")

    assert (run.code, run.out, run.err) == (0, f"{config}: ok\n", "")


def test_config_check_names_each_bad_key_on_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text(
        '[desk]\ncolour = "blue"\nticket_prefix = "tkt-"\nsecret = "x"\n\n[smtp]\nport = 70000\n'
    )

    run = maildesk("--config", path, "config", "check")

    assert run.code == 1
    assert run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 4
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert [line.split(": ")[1] for line in sorted(lines)] == [
        "desk.colour",
        "desk.secret",
        "desk.ticket_prefix",
        "smtp.port",
    ]
    assert any(line.endswith("desk.colour: unknown key") for line in lines)


def test_config_check_names_a_bad_number_of_relay_connections_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text('[desk]\nsecret = "a-long-and-varied-secret"\n\n[outbound]\nconnections = 65\n')

    run = maildesk("--config", path, "config", "check")

    assert (run.code, run.out) == (1, "")
    assert run.err == (f"{path}: outbound.connections: Input should be less than or equal to 64\n")


def test_config_check_names_a_missing_file(tmp_path: Path) -> None:
    run = maildesk("--config", tmp_path / "nowhere.toml", "config", "check")

    assert run.code == 1
    assert "config file not found" in run.err
    assert len(run.err.splitlines()) == 1


def test_config_check_names_a_database_that_needs_upgrading(tmp_path: Path) -> None:
    path = write_config(tmp_path / "maildesk.toml")

    run = maildesk("--config", path, "config", "check")

    assert run.code == 1
    assert "database.url" in run.err and "maildesk db upgrade" in run.err


def test_config_check_names_an_unusable_database_url(tmp_path: Path) -> None:
    path = write_config(tmp_path / "maildesk.toml", database_url="not a url")

    run = maildesk_process("--config", path, "config", "check")

    assert run.code == 1
    assert "Traceback" not in run.err
    assert run.err.startswith(f"{path}: database.url: ")


def test_config_check_writes_nothing(tmp_path: Path) -> None:
    path = write_config(tmp_path / "maildesk.toml", database_url="sqlite:///data/maildesk.db")

    maildesk("--config", path, "config", "check")

    assert not (tmp_path / "data").exists()


def with_template_override(config: Path, files: dict[str, str]) -> Path:
    """Point the config at a templates override folder holding `files`; returns the folder."""
    folder = config.parent / "templates"
    for name, source in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(source)
    config.write_text(config.read_text() + '\n[outbound]\ntemplates_dir = "templates"\n')
    return folder


def test_config_check_names_a_broken_override_template_and_a_broken_macro(config: Path) -> None:
    folder = with_template_override(
        config,
        {
            "ack.subject.txt": "Got it: {{ subject }",
            "ack.txt": "Thanks.",
            "ack.html": "<p>Thanks.</p>",
            "macros/refund.txt": "Dear {{ customer_tier }},",
        },
    )

    run = maildesk("--config", config, "config", "check")

    assert (run.code, run.out) == (1, "")
    assert run.err.splitlines() == [
        f"{config}: templates: template {folder / 'ack.subject.txt'}:1: unexpected '}}'",
        f"{config}: templates: template macros/refund.txt: UndefinedError: "
        "'customer_tier' is undefined",
    ]


def test_config_check_passes_a_sound_override_and_macro(config: Path) -> None:
    with_template_override(config, {"macros/refund.txt": "Dear {{ requester_name }},"})

    assert maildesk("--config", config, "config", "check").code == 0


def test_db_upgrade_migrates_and_can_run_again(tmp_path: Path) -> None:
    path = write_config(tmp_path / "maildesk.toml")

    first = maildesk("--config", path, "db", "upgrade")
    again = maildesk("--config", path, "db", "upgrade")

    assert first.code == again.code == 0
    assert first.out == again.out == f"database at revision {head_revision()}\n"
    assert maildesk("--config", path, "config", "check").code == 0


# --- ingest ------------------------------------------------------------------------------------


def test_ingest_a_file_creates_a_ticket_and_the_same_file_again_is_a_duplicate(
    config: Path, mail_file: Path
) -> None:
    first = maildesk("--config", config, "ingest", mail_file, "--json")
    again = maildesk("--config", config, "ingest", mail_file, "--json")

    assert first.code == again.code == 0
    assert first.json_lines() == [
        {"outcome": "created", "ticket": "TKT-1", "reason": None, "message_id": "m1@acme.test"}
    ]
    [duplicate] = again.json_lines()
    assert duplicate["outcome"] == "duplicate"
    assert (duplicate["ticket"], duplicate["message_id"]) == ("TKT-1", "m1@acme.test")


def test_ingest_reads_standard_input(config: Path) -> None:
    outcome = ingest(config, mail(message_id="s1@acme.test", subject="From a pipe"))

    assert (outcome["outcome"], outcome["ticket"]) == ("created", "TKT-1")


def test_ingest_prints_one_line_per_file(config: Path, tmp_path: Path) -> None:
    files = []
    for n in range(3):
        files.append(tmp_path / f"{n}.eml")
        files[-1].write_bytes(mail(message_id=f"n{n}@acme.test", subject=f"Mail {n}"))

    run = maildesk("--config", config, "ingest", "--json", *files)

    assert [o["ticket"] for o in run.json_lines()] == ["TKT-1", "TKT-2", "TKT-3"]


def test_ingest_exits_tempfail_when_the_database_is_unreachable(
    tmp_path: Path, mail_file: Path
) -> None:
    url = f"postgresql+psycopg://maildesk@127.0.0.1:{free_port()}/maildesk"
    path = write_config(tmp_path / "unreachable.toml", database_url=url)

    run = maildesk("--config", path, "ingest", mail_file)

    assert run.code == EX_TEMPFAIL
    assert run.err.startswith("maildesk: cannot open database")


def test_an_unreachable_database_is_reported_in_one_line(tmp_path: Path, mail_file: Path) -> None:
    url = f"postgresql+psycopg://maildesk@127.0.0.1:{free_port()}/maildesk"
    path = write_config(tmp_path / "unreachable.toml", database_url=url)

    assert_one_line_error(maildesk("--config", path, "ingest", mail_file), code=EX_TEMPFAIL)


def test_ingest_exits_tempfail_when_the_sqlite_folder_cannot_be_created(
    tmp_path: Path, mail_file: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    path = write_config(tmp_path / "maildesk.toml", database_url=f"sqlite:///{blocker}/db/x.db")

    run = maildesk_process("--config", path, "ingest", mail_file)

    assert_one_line_error(run, code=EX_TEMPFAIL)


def test_ingest_of_an_unreadable_file_is_tempfail(config: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.eml"
    message = assert_one_line_error(maildesk("--config", config, "ingest", missing), EX_TEMPFAIL)

    assert "cannot read" in message


def envelope_recipients(config: Path) -> list[list[str]]:
    """The envelope recipients stored with each inbox item, oldest first."""
    engine = make_engine(load_settings(config).database_url())
    with unit_of_work(engine) as session:
        items = session.exec(select(InboxItem).order_by(col(InboxItem.id)))
        return [list(item.envelope_to) for item in items]


def test_ingest_takes_the_recipient_as_to_equals_before_a_file(
    config: Path, mail_file: Path
) -> None:
    run = maildesk("--config", config, "ingest", "--json", "--to=support@example.com", mail_file)

    assert run.code == 0, run.err
    assert [o["ticket"] for o in run.json_lines()] == ["TKT-1"]
    assert envelope_recipients(config) == [["support@example.com"]]


def test_ingest_takes_one_to_equals_per_recipient_as_postfix_expands_them(
    config: Path, mail_file: Path
) -> None:
    run = maildesk(
        "--config", config, "ingest", "--to=support@example.com", "--to=help@example.com", mail_file
    )

    assert run.code == 0, run.err
    assert envelope_recipients(config) == [["support@example.com", "help@example.com"]]


# --- a database that cannot be used ------------------------------------------------------------


def corrupt_database(tmp_path: Path) -> Path:
    """A config whose SQLite path holds a text file instead of a database."""
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "maildesk.db").write_text("these are notes, not a database\n" * 10)
    return write_config(tmp_path / "maildesk.toml")


def unreachable_database(tmp_path: Path) -> Path:
    url = f"postgresql+psycopg://maildesk@127.0.0.1:{free_port()}/maildesk"
    return write_config(tmp_path / "unreachable.toml", database_url=url)


def test_ingest_into_a_corrupt_database_exits_tempfail_so_postfix_retries(
    tmp_path: Path, mail_file: Path
) -> None:
    run = maildesk_process("--config", corrupt_database(tmp_path), "ingest", mail_file)

    message = assert_one_line_error(run, code=EX_TEMPFAIL)
    assert message == "maildesk: ingest: cannot open database: file is not a database"


def test_ingest_from_stdin_into_a_corrupt_database_exits_tempfail(tmp_path: Path) -> None:
    run = maildesk("--config", corrupt_database(tmp_path), "ingest", stdin=mail())

    assert_one_line_error(run, code=EX_TEMPFAIL)


def test_ingest_gives_up_on_a_silent_database_server_and_exits_tempfail(
    tmp_path: Path, mail_file: Path, silent_port: int
) -> None:
    url = f"postgresql+psycopg://maildesk@127.0.0.1:{silent_port}/maildesk"
    path = write_config(tmp_path / "silent.toml", database_url=url)

    # its own process, ended after 120 s: without a connect timeout libpq would wait forever
    run = maildesk_process("--config", path, "ingest", mail_file)

    message = assert_one_line_error(run, code=EX_TEMPFAIL)
    assert message.startswith("maildesk: ingest: cannot open database: ") and "timeout" in message


@pytest.mark.parametrize("database", [corrupt_database, unreachable_database])
@pytest.mark.parametrize("command", [("ticket", "list"), ("db", "upgrade"), ("inbox", "list")])
def test_a_command_on_an_unusable_database_is_one_line_and_exit_1(
    tmp_path: Path, database: Any, command: tuple[str, ...]
) -> None:
    run = maildesk("--config", database(tmp_path), *command)

    message = assert_one_line_error(run)
    assert message.startswith(("maildesk: cannot open database: ", "maildesk: cannot upgrade"))


@pytest.mark.parametrize("database", [corrupt_database, unreachable_database])
def test_config_check_names_an_unusable_database_in_one_line(tmp_path: Path, database: Any) -> None:
    path = database(tmp_path)

    run = maildesk("--config", path, "config", "check")

    assert (run.code, run.out) == (1, "")
    [line] = run.err.splitlines()
    assert line.startswith(f"{path}: database.url: cannot open database: ")


# --- tickets -----------------------------------------------------------------------------------


def test_ticket_list_json_has_exactly_the_stable_keys(config: Path, mail_file: Path) -> None:
    maildesk("--config", config, "ingest", mail_file)

    run = maildesk("--config", config, "ticket", "list", "--json")

    assert run.code == 0
    [ticket] = run.json()
    assert set(ticket) == SUMMARY_KEYS
    assert (ticket["ref"], ticket["status"], ticket["requester"]) == (
        "TKT-1",
        "new",
        "carol@acme.test",
    )
    assert ticket["created_at"].endswith("Z")


def test_ticket_list_filters_by_status(config: Path, mail_file: Path) -> None:
    maildesk("--config", config, "ingest", mail_file)

    def refs(status: str) -> list[str]:
        run = maildesk("--config", config, "ticket", "list", "--json", "--status", status)
        return [ticket["ref"] for ticket in run.json()]

    assert refs("new") == ["TKT-1"]
    assert refs("open") == []


def test_ticket_list_with_an_unknown_status_is_a_user_error(config: Path) -> None:
    message = assert_one_line_error(
        maildesk("--config", config, "ticket", "list", "--status", "bogus")
    )

    assert message == (
        "maildesk: unknown status 'bogus' (use new, open, pending, resolved, closed)"
    )


def test_ticket_show_json_has_the_contract_keys(config: Path, mail_file: Path) -> None:
    maildesk("--config", config, "ingest", mail_file)

    run = maildesk("--config", config, "ticket", "show", "tkt-1", "--json")

    assert run.code == 0
    ticket = run.json()
    assert set(ticket) == DETAIL_KEYS
    assert ticket["participants"] == ["carol@acme.test"]
    assert set(ticket["sla"]) >= {"policy", "first_response_due", "resolution_due", "breached"}
    assert ticket["rating"] is None
    [message] = ticket["messages"]
    assert set(message) == MESSAGE_KEYS
    assert (message["direction"], message["visibility"], message["role"]) == (
        "in",
        "public",
        "customer",
    )
    assert message["message_id"] == "m1@acme.test"
    data = b"%PDF-1.4 report"
    assert message["attachments"] == [
        {
            "filename": "report.pdf",
            "content_type": "application/pdf",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    ]
    assert all({"at", "actor", "type", "data"} <= set(event) for event in ticket["events"])
    assert ticket["events"][0]["type"] == "created"


def test_an_agent_added_by_the_cli_and_copied_in_is_no_participant(config: Path) -> None:
    assert (
        maildesk("--config", config, "agent", "add", "bob@example.com", "--name", "Bob").code == 0
    )

    ingest(config, mail(cc="Bob <bob@example.com>, Dave <dave@acme.test>"))

    participants = maildesk("--config", config, "ticket", "show", "TKT-1", "--json").json()
    assert participants["participants"] == ["carol@acme.test", "dave@acme.test"]


def test_ticket_show_of_an_unknown_ticket_is_one_line_on_stderr(config: Path) -> None:
    run = maildesk("--config", config, "ticket", "show", "TKT-999")

    assert assert_one_line_error(run) == "maildesk: no ticket TKT-999"
    assert run.out == ""


# --- inbox -------------------------------------------------------------------------------------


def test_inbox_list_shows_a_held_mail(config: Path) -> None:
    outcome = ingest(config, sample("two_from_headers.eml"))
    assert outcome["outcome"] == "held"

    run = maildesk("--config", config, "inbox", "list", "--json")

    assert run.code == 0
    [item] = run.json()
    assert item["state"] == "held"
    assert item["reason"].startswith("thread-match: no single sender: 2 From headers")
    assert maildesk("--config", config, "ticket", "list", "--json").json() == []


def test_inbox_requeue_processes_a_held_mail_after_the_config_is_fixed(config: Path) -> None:
    hops = b"".join(b"Received: from mx%d.example.org\r\n" % n for n in range(31))
    outcome = ingest(config, hops + mail(message_id="loop@acme.test"))
    assert outcome["outcome"] == "held"
    assert outcome["reason"] == "loop: mail loop: 31 Received headers, limit 30"
    [item] = maildesk("--config", config, "inbox", "list", "--json").json()
    write_config(config, desk_extra="max_received_hops = 40")

    run = maildesk("--config", config, "inbox", "requeue", str(item["id"]))

    assert run.code == 0, run.err
    assert run.out == f"inbox item {item['id']}: created TKT-1\n"
    assert maildesk("--config", config, "inbox", "list", "--json").json() == []


def test_inbox_requeue_of_a_processed_mail_is_a_user_error(config: Path) -> None:
    ingest(config, mail())

    message = assert_one_line_error(maildesk("--config", config, "inbox", "requeue", "1"))

    assert "only held or failed items requeue" in message


def test_inbox_list_with_an_unknown_state_is_a_user_error(config: Path) -> None:
    assert_one_line_error(maildesk("--config", config, "inbox", "list", "--state", "bogus"))


# --- blacklist -----------------------------------------------------------------------------


def test_blacklist_add_list_remove_and_the_sender_is_rejected_meanwhile(config: Path) -> None:
    added = maildesk("--config", config, "blacklist", "add", "Pest@Nuisance.test", "--note", "spam")
    assert (added.code, added.out) == (0, "blacklisted address pest@nuisance.test\n")

    listed = maildesk("--config", config, "blacklist", "list", "--json").json()
    assert {(e["kind"], e["value"], e["source"]) for e in listed} == {
        ("address", "spammer@example.net", "config"),
        ("address", "pest@nuisance.test", "database"),
    }

    rejected = ingest(config, mail(sender="pest@nuisance.test", message_id="p1@nuisance.test"))
    assert (rejected["outcome"], rejected["ticket"]) == ("rejected", None)
    assert "pest@nuisance.test" in rejected["reason"]

    removed = maildesk("--config", config, "blacklist", "remove", "pest@nuisance.test")
    assert (removed.code, removed.out) == (0, "removed 1 entry for pest@nuisance.test\n")
    welcome = ingest(config, mail(sender="pest@nuisance.test", message_id="p2@nuisance.test"))
    assert welcome["outcome"] == "created"


def test_blacklist_add_guesses_a_domain(config: Path) -> None:
    run = maildesk("--config", config, "blacklist", "add", "nuisance.test")

    assert run.out == "blacklisted domain nuisance.test\n"
    assert ingest(config, mail(sender="x@mail.nuisance.test"))["outcome"] == "rejected"


def test_blacklist_remove_of_an_absent_entry_is_a_user_error(config: Path) -> None:
    message = assert_one_line_error(
        maildesk("--config", config, "blacklist", "remove", "spammer@example.net")
    )

    assert "not on the blacklist" in message


# --- contacts ------------------------------------------------------------------------------


def test_contact_set_show_and_list_and_an_unknown_category_is_a_user_error(config: Path) -> None:
    ingest(config, mail(sender="Carol <carol@acme.test>", message_id="c1@acme.test"))

    chosen = maildesk(
        "--config", config, "contact", "set", "carol@acme.test", "--category", "standard"
    )
    shown = maildesk("--config", config, "contact", "show", "carol@acme.test", "--json").json()
    listed = maildesk("--config", config, "contact", "list", "--json").json()

    assert chosen.code == 0, chosen.err
    assert (shown["category"], shown["category_source"]) == ("standard", "set")
    assert [row["email"] for row in listed] == ["carol@acme.test"]
    message = assert_one_line_error(
        maildesk("--config", config, "contact", "set", "carol@acme.test", "--category", "gold")
    )
    assert message == "maildesk: unknown category 'gold' (use standard or auto)"


# --- what a shell sees -------------------------------------------------------------------------


def test_a_user_error_in_a_real_process_is_one_line_and_exit_1(config: Path) -> None:
    run = maildesk_process("--config", config, "ticket", "show", "TKT-999")

    assert assert_one_line_error(run) == "maildesk: no ticket TKT-999"


def test_a_bad_option_value_in_a_real_process_is_one_line_and_exit_1(config: Path) -> None:
    assert_one_line_error(maildesk_process("--config", config, "ticket", "list", "--status", "x"))


def test_ingest_in_a_real_process_reads_stdin_and_exits_0(config: Path) -> None:
    run = maildesk_process(
        "--config", config, "ingest", "--json", stdin=mail(message_id="p@x.test")
    )

    assert run.code == 0, run.err
    assert run.json_lines()[0]["outcome"] == "created"


def test_ingest_in_a_real_process_exits_75_without_a_database(
    tmp_path: Path, mail_file: Path
) -> None:
    url = f"postgresql+psycopg://maildesk@127.0.0.1:{free_port()}/maildesk"
    path = write_config(tmp_path / "unreachable.toml", database_url=url)

    run = maildesk_process("--config", path, "ingest", mail_file)

    assert run.code == EX_TEMPFAIL
    assert "Traceback" not in run.err


# --- outbox and tick ---------------------------------------------------------------------------


def delivered(config: Path) -> list[bytes]:
    """What the Maildir transport wrote (config's var/sent/new), oldest first."""
    folder = config.parent / "var" / "sent" / "new"
    return [p.read_bytes() for p in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns)]


def outbox_rows(config: Path, *state: str) -> list[dict[str, Any]]:
    run = maildesk("--config", config, "outbox", "list", "--json", *state)
    assert run.code == 0, run.err
    rows: list[dict[str, Any]] = run.json()
    return rows


def test_tick_delivers_due_mail_to_the_maildir_when_no_daemon_runs(config: Path) -> None:
    ingest(config, mail(message_id="m1@acme.test"))
    [ack] = outbox_rows(config)
    assert (ack["state"], ack["kind"], ack["recipients"]) == ("queued", "ack", ["carol@acme.test"])

    run = maildesk("--config", config, "tick")

    assert run.code == 0, run.err
    done = dict(part.split(": ") for part in run.out.strip().split(", "))
    assert {name: count for name, count in done.items() if count != "0"} == {"outbox": "1"}
    assert [r["state"] for r in outbox_rows(config)] == ["sent"]
    assert any(f"Message-ID: <{ack['message_id']}>".encode() in raw for raw in delivered(config))


def test_outbox_retry_queues_a_bounced_mail_and_tick_delivers_it_again(config: Path) -> None:
    ingest(config, mail(sender="nobody@example.net", message_id="m1@acme.test"))
    assert maildesk("--config", config, "tick").code == 0
    [ack] = [r for r in outbox_rows(config) if r["kind"] == "ack"]
    bounce = sample("dsn_bounce.eml").replace(
        b"ack.48.1717509598.c0de@desk.example.org", ack["message_id"].encode()
    )
    ingest(config, bounce)
    [failed] = outbox_rows(config, "--status", "failed")
    assert failed["id"] == ack["id"] and "User unknown" in failed["last_error"]

    run = maildesk("--config", config, "outbox", "retry", str(ack["id"]))

    assert (run.code, run.out) == (0, f"outbox item {ack['id']}: queued\n")
    assert [r["id"] for r in outbox_rows(config, "--status", "queued")] == [ack["id"]]
    assert "outbox: 1" in maildesk("--config", config, "tick").out
    copies = [raw for raw in delivered(config) if ack["message_id"].encode() in raw]
    assert len(copies) == 2
    assert outbox_rows(config, "--status", "failed") == []


def test_outbox_retry_of_a_mail_that_did_not_fail_is_a_user_error(config: Path) -> None:
    ingest(config, mail(message_id="m1@acme.test"))
    [ack] = [r for r in outbox_rows(config) if r["kind"] == "ack"]

    run = maildesk("--config", config, "outbox", "retry", str(ack["id"]))

    assert assert_one_line_error(run) == (
        f"maildesk: outbox item {ack['id']} is queued; only failed items are retried"
    )


def test_run_on_a_taken_smtp_port_says_so_in_one_line(config: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        text = config.read_text() + f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\n'
        config.write_text(text)

        run = maildesk_process("--config", config, "run")

    assert run.code == 1 and "Traceback" not in run.err  # the log lines before it may stay
    assert (
        run.err.splitlines()[-1] == f"maildesk: cannot listen on 127.0.0.1:{port}: address in use"
    )
