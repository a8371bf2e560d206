"""`maildesk tick [--at TIME]`: the timed work that is due, once, for cron or without a daemon.

And `maildesk run`: what it says before the daemon starts.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from maildesk.app import App
from maildesk.cli import run_cmd
from maildesk.daemon.tick import TICK
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.models import OutboxItem
from maildesk.services.tickets import get_ticket
from tests.mails import mail
from tests.unit.cli.conftest import SECRET, Shell


def counts(line: str) -> dict[str, int]:
    """What a tick said it did, job by job: "inbox: 1, snoozes: 0, …"."""
    return {name: int(count) for name, count in (part.split(": ") for part in line.split(", "))}


def test_with_nothing_due_tick_says_so_job_by_job(shell: Shell) -> None:
    result = shell.run(run_cmd, "tick")

    assert result.exit_code == 0
    assert result.stdout == ", ".join(f"{name}: 0" for name, _job in TICK) + "\n"
    assert "inbox: 0, snoozes: 0, " in result.stdout and result.stdout.endswith("outbox: 0\n")


def test_tick_processes_waiting_mail_and_delivers_what_it_caused(shell: Shell) -> None:
    shell.accepts(mail())

    result = shell.run(run_cmd, "tick")

    done = counts(result.stdout.strip())
    assert (done["inbox"], done["snoozes"], done["outbox"]) == (1, 0, 3)  # ack and two notices
    assert sum(done.values()) == 4
    sent = shell.config.parent / "var" / "sent" / "new"
    assert len(list(sent.iterdir())) == 3


def test_tick_at_a_later_time_wakes_the_tickets_snoozed_until_then(shell: Shell) -> None:
    shell.receives(mail())
    until = datetime.now(UTC) + timedelta(days=2)
    app = shell.app()
    with unit_of_work(app.engine) as session:
        ticket = get_ticket(session, ref="TKT-1")
        ticket.status, ticket.snoozed_until = "pending", until
    app.engine.dispose()

    early = shell.run(run_cmd, "tick", "--at", (until - timedelta(minutes=1)).isoformat())
    due = shell.run(run_cmd, "tick", "--at", until.isoformat())

    assert "snoozes: 0" in early.stdout
    assert "snoozes: 1" in due.stdout


def test_an_at_that_is_no_time_is_a_user_error(shell: Shell) -> None:
    result = shell.run(run_cmd, "tick", "--at", "tomorrow")

    assert isinstance(result.exception, InvalidInput)
    assert str(result.exception) == "--at: not an ISO 8601 time: 'tomorrow'"


class StoppedDaemon:
    """Stands in for the daemon: `run` returns as if SIGTERM came at once."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def run_until_stopped(self) -> None:
        self.app.engine.dispose()


def test_the_daemon_runs_with_a_weak_secret_and_logs_a_warning_naming_it(
    shell: Shell, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    shell.config.write_text(shell.config.read_text().replace(SECRET, "s3cret"))
    monkeypatch.setattr(run_cmd, "Daemon", StoppedDaemon)

    with caplog.at_level(logging.WARNING, logger="maildesk"):
        result = shell.run(run_cmd, "run")

    assert result.exit_code == 0, result.output
    assert [r.getMessage() for r in caplog.records if r.name == "maildesk"] == [
        "desk.secret: too weak, shorter than 16 characters"
        " (whoever guesses it can forge reply addresses)"
    ]


def test_a_log_level_that_is_no_level_is_a_user_error_naming_the_flag(shell: Shell) -> None:
    result = shell.run(run_cmd, "run", "--log-level", "loud")

    assert isinstance(result.exception, InvalidInput)
    assert str(result.exception).startswith("--log-level: Input should be 'DEBUG'")


def test_a_log_format_that_is_no_format_is_a_user_error_naming_the_flag(shell: Shell) -> None:
    result = shell.run(run_cmd, "run", "--log-format", "xml")

    assert isinstance(result.exception, InvalidInput)
    assert str(result.exception).startswith("--log-format: Input should be 'text' or 'json'")


def test_the_flags_win_over_the_logging_section_and_the_daemon_logs_json_lines(
    shell: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    shell.config.write_text(shell.config.read_text() + '\n[logging]\nlevel = "error"\n')
    monkeypatch.setattr(run_cmd, "Daemon", TalkativeDaemon)

    result = shell.run(run_cmd, "run", "--log-level", "info", "--log-format", "json")

    assert result.exit_code == 0, result.output
    [line] = [json.loads(x) for x in result.stderr.splitlines() if '"maildesk.daemon' in x]
    assert (line["level"], line["message"], line["smtp_port"]) == ("INFO", "maildesk running", 2525)


class TalkativeDaemon(StoppedDaemon):
    """Stops at once, after one INFO line with a field, as the daemon says it runs."""

    async def run_until_stopped(self) -> None:
        fields = {"smtp_port": self.app.settings.smtp.port}
        logging.getLogger("maildesk.daemon.loop").info("maildesk running", extra={"fields": fields})
        await super().run_until_stopped()


def test_a_mail_whose_template_fails_is_one_line_and_failed_while_the_others_go(
    shell: Shell, caplog: pytest.LogCaptureFixture
) -> None:
    override = shell.config.parent / "templates"
    override.mkdir()
    (override / "ack.txt").write_text("Dear {{ customer.no_such_field }}\n")
    shell.config.write_text(shell.config.read_text() + '[outbound]\ntemplates_dir = "templates"\n')
    shell.accepts(mail())

    result = shell.run(run_cmd, "tick")

    assert result.exit_code == 0, result.output
    assert counts(result.stdout.strip())["outbox"] == 2  # the agents' two notices
    [logged] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert (
        logged.getMessage() == "outbox 1: composing failed: UndefinedError: 'customer' is undefined"
    )
    assert logged.exc_info is None  # one line on stderr, no traceback
    app = shell.app()
    with unit_of_work(app.engine) as session:
        [ack] = [i for i in session.exec(select(OutboxItem)) if i.kind == "ack"]
    app.engine.dispose()
    assert ack.state == "failed"
    assert ack.last_error is not None and ack.last_error.startswith("composing failed: ")
    assert "Traceback (most recent call last)" in ack.last_error
