"""The first stage of `maildesk`: it finds the command without the CLI, and `ingest` runs
guarded — anything that goes wrong before the accept commit is exit 75 and one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk.argv import CommandLine, UsageError, split_command
from maildesk.config_file import DEFAULT_DATABASE_URL, anchored_url, config_path, database_url
from maildesk.db_connect import has_connect_timeout, libpq_url, sqlite_file
from maildesk.entry import EX_TEMPFAIL, guarded, main, one_line
from maildesk.errors import ConfigError


def test_global_options_come_before_the_command() -> None:
    assert split_command(["--config", "/etc/m.toml", "ingest", "--queue"]) == CommandLine(
        "/etc/m.toml", "ingest", ("--queue",)
    )
    assert split_command(["-c", "a.toml", "tick"]) == CommandLine("a.toml", "tick", ())
    assert split_command(["--config=b.toml", "ingest"]) == CommandLine("b.toml", "ingest", ())
    assert split_command(["-cc.toml", "ingest"]) == CommandLine("c.toml", "ingest", ())
    assert split_command(["--help"]) == CommandLine(None, None, ("--help",))
    assert split_command([]) == CommandLine(None, None, ())


def test_a_config_option_without_its_path_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--config requires an argument"):
        split_command(["--config"])


def raises(exc: BaseException) -> int:
    raise exc


@pytest.mark.parametrize(
    ("failure", "line"),
    [
        (ImportError("No module named 'sqlalchemy'"), "ImportError: No module named 'sqlalchemy'"),
        (ConfigError("config file not found: m.toml"), "config file not found: m.toml"),
        (OSError(13, "Permission denied"), "PermissionError: [Errno 13] Permission denied"),
        (UsageError("no such option: --frobnicate"), "no such option: --frobnicate"),
        (RuntimeError("first\nsecond"), "RuntimeError: first"),
    ],
)
def test_any_failure_of_ingest_is_tempfail_and_one_line(
    failure: BaseException, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert guarded(lambda: raises(failure)) == EX_TEMPFAIL == 75
    assert capsys.readouterr().err == f"maildesk: ingest: {line}\n"


def test_an_exit_code_other_than_success_becomes_tempfail() -> None:
    assert guarded(lambda: raises(SystemExit(2))) == EX_TEMPFAIL  # click's usage error
    assert guarded(lambda: 1) == EX_TEMPFAIL
    assert guarded(lambda: raises(SystemExit(0))) == 0
    assert guarded(lambda: 0) == 0


def test_a_click_usage_error_is_its_own_message() -> None:
    class NoSuchOption(Exception):
        def format_message(self) -> str:
            return "No such option: --frobnicate"

    assert one_line(NoSuchOption()) == "No such option: --frobnicate"


def test_the_database_url_is_read_from_the_config_and_anchored_at_its_folder(
    tmp_path: Path,
) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text('[database]\nurl = "sqlite:///var/desk.db"\n')
    bare = tmp_path / "bare.toml"
    bare.write_text('[desk]\nname = "Support"\n')

    assert database_url(path) == f"sqlite:///{tmp_path.resolve() / 'var' / 'desk.db'}"
    assert database_url(bare) == anchored_url(DEFAULT_DATABASE_URL, tmp_path)
    assert anchored_url("sqlite:////srv/m.db", tmp_path) == "sqlite:////srv/m.db"
    assert anchored_url("postgresql://h/db", tmp_path) == "postgresql://h/db"


@pytest.mark.parametrize(
    ("text", "problem"),
    [("[database]\nurl = 5\n", "url must be a string"), ("[database\n", "not valid TOML")],
)
def test_a_bad_database_url_is_a_config_error(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text(text)

    with pytest.raises(ConfigError, match=problem):
        database_url(path)


def test_a_config_that_is_a_folder_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        database_url(tmp_path)


def test_the_config_path_is_the_option_else_the_environment_else_the_working_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAILDESK_CONFIG", "/etc/maildesk.toml")
    assert config_path(Path("x.toml")) == Path("x.toml")
    assert config_path(None) == Path("/etc/maildesk.toml")
    monkeypatch.delenv("MAILDESK_CONFIG")
    assert config_path(None) == Path("maildesk.toml")


def test_database_urls_become_what_the_drivers_open() -> None:
    assert sqlite_file("sqlite:////var/lib/m.db") == "/var/lib/m.db"
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("postgresql://h/db") is None
    assert libpq_url("postgresql+psycopg://u@h:5432/db?x=1") == "postgresql://u@h:5432/db?x=1"
    assert libpq_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert libpq_url("sqlite:///m.db") is None
    assert has_connect_timeout("postgresql://h/db?connect_timeout=2")
    assert not has_connect_timeout("postgresql://h/db?options=-csearch_path%3Dx")


def test_ingest_help_is_typer_s_and_an_unknown_option_is_tempfail(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as helped:
        main(["ingest", "--help"])
    assert helped.value.code == 0 and "Accept and process raw mails." in capsys.readouterr().out

    with pytest.raises(SystemExit) as wrong:
        main(["ingest", "--frobnicate"])
    assert wrong.value.code == EX_TEMPFAIL
    assert capsys.readouterr().err == "maildesk: ingest: no such option: --frobnicate\n"
