"""`maildesk db upgrade`: every pending migration applied, and running it again is harmless;
`maildesk db recount`: a drifted agent load is counted again and said."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from maildesk.cli import db_cmd
from maildesk.config import load_settings
from maildesk.db import current_revision, head_revision, make_engine
from tests.unit.cli.conftest import CONFIG, Shell


def test_upgrade_brings_a_new_database_to_the_head_revision_and_may_run_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text(CONFIG)
    shell = Shell(path)

    first, second = shell.run(db_cmd, "db", "upgrade"), shell.run(db_cmd, "db", "upgrade")

    expected = f"database at revision {head_revision()}\n"
    assert (first.exit_code, first.stdout) == (0, expected)
    assert (second.exit_code, second.stdout) == (0, expected)
    engine = make_engine(load_settings(path).database_url())
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_upgrade_creates_the_database_and_its_folder_as_it_is_asked_to(tmp_path: Path) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text(CONFIG.replace("sqlite:///var/maildesk.db", "sqlite:///data/desk/x.db"))

    result = Shell(path).run(db_cmd, "db", "upgrade")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "desk" / "x.db").is_file()


def test_recount_corrects_a_drifted_load_names_it_and_then_finds_nothing(shell: Shell) -> None:
    app = shell.app()
    with app.engine.begin() as connection:  # a hand-made change that went around the triggers
        connection.execute(
            text("UPDATE agent SET open_tickets = 5 WHERE email = 'bob@example.com'")
        )
    app.engine.dispose()

    first, second = shell.run(db_cmd, "db", "recount"), shell.run(db_cmd, "db", "recount")

    assert (first.exit_code, first.stdout) == (
        0,
        "bob@example.com: 5 -> 0\nagent loads recounted: 1 corrected\n",
    )
    assert (second.exit_code, second.stdout) == (0, "agent loads recounted: 0 corrected\n")
