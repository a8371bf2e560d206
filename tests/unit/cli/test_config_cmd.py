"""`maildesk init` and `maildesk config check`: a working desk in one step, problems by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk.cli import config_cmd
from maildesk.config import load_settings
from maildesk.db import current_revision, head_revision, make_engine
from tests.unit.cli.conftest import SECRET, Shell


def test_init_writes_a_private_config_with_a_fresh_secret_and_a_migrated_database(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "one", tmp_path / "two"

    results = [Shell(d / "maildesk.toml").run(config_cmd, "init", d) for d in (first, second)]

    assert [r.exit_code for r in results] == [0, 0]
    secrets = [load_settings(d / "maildesk.toml").desk.resolved_secret() for d in (first, second)]
    assert secrets[0] and secrets[0] != secrets[1]
    assert (first / "maildesk.toml").stat().st_mode & 0o777 == 0o600
    engine = make_engine(load_settings(first / "maildesk.toml").database_url())
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_init_beside_an_existing_config_keeps_it_and_says_so(shell: Shell) -> None:
    before = shell.config.read_text()

    result = shell.run(config_cmd, "init", shell.config.parent)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"kept the existing config {shell.config}",
        f"database ready: {load_settings(shell.config).database_url()}",
    ]
    assert shell.config.read_text() == before


def test_check_passes_a_sound_desk(shell: Shell) -> None:
    result = shell.run(config_cmd, "config", "check")

    assert (result.exit_code, result.stdout) == (0, f"{shell.config}: ok\n")


def test_check_names_every_problem_on_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text(
        '[desk]\naddress = "support@example.com"\nsecret_env = "NO_SUCH_VARIABLE_SET"\n'
        '[outbound]\ntemplates_dir = "templates"\n'
    )
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "ack.txt").write_text("Hello {{ requester_name\n")

    result = Shell(path).run(config_cmd, "config", "check")

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}: desk.secret: not set (set $NO_SUCH_VARIABLE_SET or desk.secret)"
    assert lines[1].startswith(f"{path}: templates: template {tmp_path}/templates/ack.txt:1: ")
    assert lines[2].startswith(f"{path}: templates: template ack: the override directory has only")
    assert lines[3:] == [
        f"{path}: database.url: sqlite:///{tmp_path / 'var' / 'maildesk.db'} does not exist yet"
        " (run `maildesk db upgrade`)"
    ]


def test_check_of_a_config_that_does_not_validate_names_each_bad_key_and_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAILDESK_SECRET", raising=False)
    path = tmp_path / "maildesk.toml"
    path.write_text('[desk]\ncolour = "blue"\n[smtp]\nport = 70000\n')

    result = Shell(path).run(config_cmd, "config", "check")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}: desk.colour: unknown key",
        f"{path}: smtp.port: Input should be less than or equal to 65535",
        f"{path}: desk.secret: not set (set $MAILDESK_SECRET or desk.secret)",
    ]


def test_check_names_a_weak_secret_and_a_service_queue_that_does_not_exist(shell: Shell) -> None:
    text = shell.config.read_text().replace(SECRET, "change-me")
    shell.config.write_text(text + '\n[[services]]\nname = "email"\nqueue = "sales"\n')

    result = shell.run(config_cmd, "config", "check")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{shell.config}: services[0].queue: unknown queue 'sales' (queues: general, billing)",
        f"{shell.config}: desk.secret: too weak, a well-known placeholder"
        " (whoever guesses it can forge reply addresses)",
    ]
