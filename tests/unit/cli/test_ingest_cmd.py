"""`maildesk ingest [FILE…]`: what an MTA pipe sees — one JSON line per mail, exit 0 or 75."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from maildesk.cli import ingest_cmd
from maildesk.cli.ingest_cmd import EX_TEMPFAIL
from maildesk.ingest import pipe_ingest
from tests.mails import mail
from tests.unit.cli.conftest import CONFIG, Shell


def lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_a_mail_on_stdin_is_processed_and_the_same_mail_again_is_a_duplicate(
    shell: Shell,
) -> None:
    raw = mail(message_id="m1@acme.test")

    first = shell.run(ingest_cmd, "ingest", "--json", input=raw)
    again = shell.run(ingest_cmd, "ingest", "--json", input=raw)

    assert (first.exit_code, again.exit_code) == (0, 0)
    assert lines(first.stdout) == [
        {"outcome": "created", "ticket": "TKT-1", "reason": None, "message_id": "m1@acme.test"}
    ]
    assert lines(again.stdout) == [
        {
            "outcome": "duplicate",
            "ticket": "TKT-1",
            "reason": "same mail as inbox item 1 (processed)",
            "message_id": "m1@acme.test",
        }
    ]


def test_each_file_is_one_mail_and_one_line_in_order(shell: Shell, tmp_path: Path) -> None:
    files = [tmp_path / "a.eml", tmp_path / "b.eml"]
    files[0].write_bytes(mail(message_id="a@acme.test"))
    files[1].write_bytes(mail(message_id="b@acme.test", in_reply_to="a@acme.test"))

    result = shell.run(ingest_cmd, "ingest", "--json", *files)

    assert [(o["outcome"], o["message_id"]) for o in lines(result.stdout)] == [
        ("created", "a@acme.test"),
        ("appended", "b@acme.test"),
    ]


def test_several_files_give_the_lines_one_file_at_a_time_gives_a_duplicate_seen_once_processed(
    shell: Shell, tmp_path: Path
) -> None:
    first = mail(message_id="a@acme.test")
    mails = {
        "a.eml": first,
        "b.eml": mail(message_id="b@acme.test", in_reply_to="a@acme.test"),
        "spam.eml": mail(message_id="s@acme.test", sender="spammer@example.net"),
        "a-again.eml": first,
        "c.eml": mail(message_id="c@acme.test", subject="Another thing"),
    }
    for name, raw in mails.items():
        (tmp_path / name).write_bytes(raw)

    result = shell.run(ingest_cmd, "ingest", "--json", *(tmp_path / name for name in mails))

    assert result.exit_code == 0
    assert [(o["outcome"], o["ticket"], o["message_id"]) for o in lines(result.stdout)] == [
        ("created", "TKT-1", "a@acme.test"),
        ("appended", "TKT-1", "b@acme.test"),
        ("rejected", None, "s@acme.test"),
        ("duplicate", "TKT-1", "a@acme.test"),
        ("created", "TKT-2", "c@acme.test"),
    ]
    assert lines(result.stdout)[3]["reason"] == "same mail as inbox item 1 (processed)"


def test_a_file_that_cannot_be_read_after_others_is_tempfail_once_those_are_processed(
    shell: Shell, tmp_path: Path
) -> None:
    files = [tmp_path / "a.eml", tmp_path / "b.eml", tmp_path / "missing.eml", tmp_path / "c.eml"]
    files[0].write_bytes(mail(message_id="a@acme.test"))
    files[1].write_bytes(mail(message_id="b@acme.test", subject="Another thing"))
    files[3].write_bytes(mail(message_id="c@acme.test"))

    result = shell.run(ingest_cmd, "ingest", "--json", *files)

    assert result.exit_code == EX_TEMPFAIL
    assert [(o["outcome"], o["ticket"]) for o in lines(result.stdout)] == [
        ("created", "TKT-1"),
        ("created", "TKT-2"),
    ]
    assert result.stderr == f"maildesk: cannot read {files[2]}: No such file or directory\n"


def test_the_files_of_one_ingest_are_accepted_in_one_commit_up_to_a_group_s_bytes(
    shell: Shell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files are read and committed together (an MTA waits for the exit code of all), one
    accept commit a group, then processed together: five files commit as often as one."""
    files = [tmp_path / f"{n}.eml" for n in range(11)]
    for n, file in enumerate(files):
        file.write_bytes(mail(message_id=f"{n}@acme.test", subject=f"Thing {n}"))
    with commits() as one:
        shell.run(ingest_cmd, "ingest", "--json", files[0])

    with commits() as five:
        result = shell.run(ingest_cmd, "ingest", "--json", *files[1:6])

    assert [o["outcome"] for o in lines(result.stdout)] == ["created"] * 5
    assert len(five) == len(one)
    monkeypatch.setattr(pipe_ingest, "GROUP_BYTES", 2 * files[6].stat().st_size)
    with commits() as grouped:
        result = shell.run(ingest_cmd, "ingest", "--json", *files[6:])
    assert [o["outcome"] for o in lines(result.stdout)] == ["created"] * 5
    assert len(grouped) == len(one) + 2  # accepted in groups of 2, 2 and 1


@contextmanager
def commits() -> Iterator[list[object]]:
    """The transactions that commit meanwhile, on any engine."""
    seen: list[object] = []

    def commit(connection: object) -> None:
        seen.append(connection)

    event.listen(Engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(Engine, "commit", commit)


def test_without_json_ingest_prints_nothing(shell: Shell) -> None:
    result = shell.run(ingest_cmd, "ingest", input=mail())

    assert (result.exit_code, result.stdout) == (0, "")


def test_a_file_that_cannot_be_read_is_tempfail_in_one_line(shell: Shell, tmp_path: Path) -> None:
    # `--to ${recipient}` with two recipients makes the second a FILE: retried, never bounced
    missing = tmp_path / "missing.eml"

    result = shell.run(ingest_cmd, "ingest", missing)

    assert result.exit_code == EX_TEMPFAIL
    assert result.stderr == f"maildesk: cannot read {missing}: No such file or directory\n"


def test_a_database_that_cannot_be_reached_is_tempfail_so_the_mta_retries(
    tmp_path: Path, closed_port: int
) -> None:
    path = tmp_path / "maildesk.toml"
    url = f"postgresql+psycopg://maildesk@127.0.0.1:{closed_port}/maildesk"
    path.write_text(CONFIG.replace("sqlite:///var/maildesk.db", url))

    result = Shell(path).run(ingest_cmd, "ingest", input=mail())

    assert result.exit_code == EX_TEMPFAIL == 75
    assert result.stderr.startswith("maildesk: ") and result.stderr.count("\n") == 1


def test_a_database_in_a_folder_that_does_not_exist_is_tempfail_and_no_folder_is_made(
    tmp_path: Path,
) -> None:
    path = tmp_path / "maildesk.toml"
    missing = tmp_path / "nonexistent" / "dir"
    path.write_text(CONFIG.replace("sqlite:///var/maildesk.db", f"sqlite:///{missing}/x.db"))

    result = Shell(path).run(ingest_cmd, "ingest", input=mail())

    assert result.exit_code == EX_TEMPFAIL
    assert result.stderr.startswith("maildesk: ") and result.stderr.count("\n") == 1
    assert not (tmp_path / "nonexistent").exists()


def test_with_queue_the_mail_is_only_stored_for_the_daemon(shell: Shell) -> None:
    result = shell.run(
        ingest_cmd, "ingest", "--queue", "--json", input=mail(message_id="q@acme.test")
    )

    [line] = lines(result.stdout)
    assert (result.exit_code, line["outcome"], line["ticket"]) == (0, "queued", None)
    assert line["message_id"] == "q@acme.test"
    with shell.app().engine.connect() as connection:
        states = connection.exec_driver_sql("SELECT state FROM inboxitem").scalars().all()
    assert states == ["received"]


def test_with_queue_a_missing_config_is_tempfail(tmp_path: Path) -> None:
    result = Shell(tmp_path / "missing.toml").run(ingest_cmd, "ingest", "--queue", input=mail())

    assert result.exit_code == EX_TEMPFAIL
    assert result.stderr.startswith("maildesk: config file not found")
