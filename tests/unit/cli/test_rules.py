"""`maildesk rules check` and `--replay`, and `config check` naming every rule and calendar
problem: through the CLI, on a real SQLite desk, writing nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from sqlalchemy import event, text

from maildesk.cli import config_cmd, rules
from maildesk.db import make_engine, read_only_unit
from tests.mails import mail
from tests.unit.cli.conftest import CONFIG, Shell

RULES = """
[[services]]
name = "invoicing"
queue = "billing"
type = "request"

[[rules]]
name = "invoices"
when = { subject_contains = "invoice" }
then = { service = "invoicing", priority = "high", tags = ["money"] }

[[rules]]
name = "vip"
when = { from_domain = "vip.test" }
then = { assign = "bob@example.com", acknowledge = false }
"""
COUNTED = ("ticket", "message", "event", "inboxitem", "outboxitem", "contact")


def _with(config: Path, extra: str) -> None:
    config.write_text(CONFIG + extra)


def _counts(config: Path) -> dict[str, int]:
    engine = make_engine(f"sqlite:///{config.parent / 'var' / 'maildesk.db'}")
    with engine.connect() as connection:
        found = {
            t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in COUNTED
        }
    engine.dispose()
    return found


def test_check_says_which_rules_match_and_what_the_ticket_would_be(
    shell: Shell, tmp_path: Path
) -> None:
    _with(shell.config, RULES)
    shell.receives(mail(subject="first"))  # something in the database already
    files = [tmp_path / "a.eml", tmp_path / "b.eml"]
    files[0].write_bytes(mail(subject="Wrong invoice"))
    files[1].write_bytes(mail(sender="ceo@vip.test", subject="Hello"))
    before = _counts(shell.config)

    result = shell.run(rules, "rules", "check", *files, "--json")

    assert result.exit_code == 0, result.output
    first, second = json.loads(result.stdout)
    assert [(r["name"], r["matched"], r["failed"]) for r in first["rules"]] == [
        ("invoices", True, None),
        ("vip", False, "from_domain"),
    ]
    assert (first["service"], first["type"], first["queue"]) == ("invoicing", "request", "billing")
    assert (first["priority"], first["tags"], first["ack"]) == ("high", ["money"], True)
    assert (second["assignee"], second["ack"], second["event"]) == ("bob@example.com", False, "new")
    assert _counts(shell.config) == before  # wrote nothing


def test_check_prints_a_table_too(shell: Shell, tmp_path: Path) -> None:
    _with(shell.config, RULES)
    (tmp_path / "a.eml").write_bytes(mail(subject="invoice"))
    result = shell.run(rules, "rules", "check", tmp_path / "a.eml")
    assert result.exit_code == 0 and "invoices: matched" in result.stdout


def test_check_reads_in_a_deferred_transaction_that_never_waits_for_a_writer(
    shell: Shell, tmp_path: Path
) -> None:
    _with(shell.config, RULES)
    (tmp_path / "a.eml").write_bytes(mail(subject="invoice"))
    writer = sqlite3.connect(shell.config.parent / "var" / "maildesk.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        result = shell.run(rules, "rules", "check", tmp_path / "a.eml", "--json")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["priority"] == "high"


def test_a_read_only_unit_begins_deferred_and_keeps_no_write(shell: Shell) -> None:
    shell.receives(mail())
    engine = make_engine(f"sqlite:///{shell.config.parent / 'var' / 'maildesk.db'}")
    said: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: said.append(args[2]))
    with read_only_unit(engine) as session:
        session.execute(text("UPDATE contact SET name = 'changed'"))  # rolled back at the end
    with engine.connect() as connection:
        names = connection.execute(text("SELECT name FROM contact")).scalars().all()
        assert "changed" not in names
    engine.dispose()
    assert said[0] == "BEGIN DEFERRED"


def test_replay_reports_what_the_current_rules_would_change(shell: Shell) -> None:
    shell.receives(mail(subject="old invoice"))  # before any rule: nothing recorded
    _with(shell.config, RULES)
    shell.receives(mail(subject="new invoice"))
    shell.receives(mail(subject="plain question"))
    _with(shell.config, RULES.replace('priority = "high"', 'priority = "urgent"'))

    result = shell.run(rules, "rules", "check", "--replay", "5", "--json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["status"] for r in rows] == ["same", "differs", "no recorded outcome"]
    assert rows[1]["differences"] == {"priority": {"then": "high", "now": "urgent"}}


def test_rules_check_needs_files_or_replay(shell: Shell) -> None:
    result = shell.run(rules, "rules", "check")
    assert result.exit_code != 0


def test_config_check_names_every_rule_and_calendar_problem_in_one_run(shell: Shell) -> None:
    _with(
        shell.config,
        """
[[calendars]]
name = "office"
timezone = "Mars/Olympus"
[calendars.hours]
mon = ["09:00-25:00"]

[[rules]]
name = "bad"
when = { subject_regex = "(", business_hours = "nowhere" }
then = { queue = "sales", auto_reply = "no_such_template" }

[[rules]]
name = "bad"
then = { frobnicate = true }
""",
    )

    result = shell.run(config_cmd, "config", "check")

    assert result.exit_code == 1
    said = result.stderr
    for expected in (
        "calendars[",
        "Mars/Olympus",
        "rules[bad].when.subject_regex",
        "rules[1].name",
        "frobnicate: unknown action",
    ):
        assert expected in said, said
    assert len(said.splitlines()) >= 5


def test_config_check_names_unknown_references_of_a_valid_rule(shell: Shell) -> None:
    _with(shell.config, '[[rules]]\nname = "r"\nthen = { queue = "sales", auto_reply = "nope" }\n')
    result = shell.run(config_cmd, "config", "check")
    assert result.exit_code == 1
    assert "rules[r].then.queue: unknown queue 'sales'" in result.stderr
    assert "rules[r].then.auto_reply: unknown template 'nope'" in result.stderr
