"""The root app and the config file every command reads: --config, else $MAILDESK_CONFIG, else
./maildesk.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from maildesk.cli.commands import app as full_app  # the root app with every group registered
from maildesk.cli.root import CliState, app


def check(*args: str, env: dict[str, str | None]) -> str:
    result = CliRunner().invoke(app, [*args, "config", "check"], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_group_hangs_off_the_one_root_app() -> None:
    assert full_app is app
    names = {group.name for group in app.registered_groups}
    assert names >= {"ticket", "inbox", "outbox", "agent", "blacklist", "config", "db", "import"}


def test_the_config_option_wins_over_the_environment(config: Path, tmp_path: Path) -> None:
    other = str(tmp_path / "elsewhere.toml")

    assert check("--config", str(config), env={"MAILDESK_CONFIG": other}) == f"{config}: ok\n"


def test_without_the_option_maildesk_config_names_the_file(config: Path) -> None:
    assert check(env={"MAILDESK_CONFIG": str(config)}) == f"{config}: ok\n"


def test_without_either_it_is_maildesk_toml_in_the_current_folder(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(config.parent)

    assert check(env={"MAILDESK_CONFIG": None}) == "maildesk.toml: ok\n"


def test_the_state_loads_the_settings_and_opens_the_desk_they_describe(config: Path) -> None:
    opened = CliState(config).app()

    assert opened.settings.desk.address == "support@example.com"
    assert opened.settings.database_url() == f"sqlite:///{config.parent / 'var' / 'maildesk.db'}"
    opened.engine.dispose()


def test_a_script_installed_before_the_entry_still_runs_the_whole_cli(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from maildesk.cli import main  # `maildesk = "maildesk.cli:main"` of an older install

    with pytest.raises(SystemExit) as exited:
        main(["--help"])

    assert exited.value.code == 0
    assert "ingest" in capsys.readouterr().out
