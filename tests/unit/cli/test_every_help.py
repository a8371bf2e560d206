"""Every command's help is true to its form: each command and subcommand of the real
`maildesk` tree answers --help with exit 0 and a help line; bad input is one line, exit 1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from maildesk.cli import ticket
from maildesk.cli.commands import app, main
from tests.mails import mail
from tests.unit.cli.conftest import Shell


def command_tree() -> Iterator[tuple[tuple[str, ...], str]]:
    """Each command and group under the root, with its help text, from click's tree."""

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
        yield path, command.help or ""
        for name, sub in getattr(command, "commands", {}).items():  # a group's subcommands
            yield from walk(sub, (*path, name))

    yield from walk(typer.main.get_command(app), ())


TREE = dict(command_tree())


def test_the_walk_finds_the_commands_an_operator_needs() -> None:
    found = {" ".join(path) for path in TREE}

    assert {"doctor", "status", "outbox list", "agent list", "init", "tick", "run"} <= found


@pytest.mark.parametrize("path", list(TREE), ids=lambda path: " ".join(path) or "maildesk")
def test_help_exits_0_and_shows_a_help_line(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], prog_name="maildesk")

    assert result.exit_code == 0, result.output
    help_line = TREE[path].strip().splitlines()[0] if TREE[path].strip() else ""
    assert help_line, f"`maildesk {' '.join(path)}` has no help text"
    shown = " ".join(result.stdout.replace("│", " ").split())  # rich wraps it in a box
    assert " ".join(help_line.split()[:2]) in shown


def test_completion_is_offered() -> None:
    result = CliRunner().invoke(app, ["--help"], prog_name="maildesk")

    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("ticket", "show", "TKT-999"),
        ("ticket", "do", "TKT-999", "#close", "--as", "alice@example.com"),
        ("ticket", "list", "--due-before", "next tuesday"),
        ("ticket", "list", "--created-since", "yesterday"),
        ("ticket", "list", "--status", "lost"),
    ],
    ids=lambda args: " ".join(args),
)
def test_bad_input_is_one_line_and_exit_1(shell: Shell, args: tuple[str, ...]) -> None:
    shell.receives(mail())

    result = shell.run(ticket, *args)

    assert result.exit_code == 1
    assert result.exception is not None and "\n" not in str(result.exception)
    assert str(result.exception)


def test_through_the_real_entry_point_a_bad_ref_is_one_line_on_stderr(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "ticket", "show", "TKT-999"])

    captured = capsys.readouterr()
    assert exited.value.code == 1
    assert captured.err.startswith("maildesk: ") and captured.err.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ("ticket", "similar", "TKT-999"),
        ("ticket", "export", "TKT-999", "--format", "json"),
        ("ticket", "export", "--all", "--format", "zip"),
        ("ticket", "search", "printer", "--limit", "-1"),
        ("report", "volume", "--since", "last monday"),
        ("report", "sla", "--queue", "sales"),
        ("report", "speed"),
        ("inbox", "show", "999"),
        ("outbox", "retry", "999"),
        ("contact", "show", "nobody@acme.test"),
        ("import", "mbox", "/nonexistent/archive.mbox"),
        ("import", "mbox", "/dev/null", "--open-since", "spring"),
    ],
    ids=lambda args: " ".join(args),
)
def test_bad_input_to_any_command_is_one_line_on_stderr_and_exit_1(
    shell: Shell, args: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    shell.receives(mail())
    capsys.readouterr()

    with pytest.raises(SystemExit) as exited:
        main(["--config", str(shell.config), *args])

    captured = capsys.readouterr()
    assert exited.value.code == 1
    assert captured.err.startswith("maildesk: ") and captured.err.count("\n") == 1, captured.err
