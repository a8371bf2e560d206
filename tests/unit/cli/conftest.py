"""The CLI group tests: a migrated SQLite desk in tmp_path and typer's runner on one module.

Each test drives the commands a module registers, on a root app that holds only them; the
`maildesk` runner of tests/integration/test_cli.py shows what a shell sees of user errors.
SQLite only: the CLI is the same on either database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import typer
from typer.testing import CliRunner, Result

from maildesk.app import App, accept_raw, open_app
from maildesk.cli.root import CliState
from maildesk.config import load_settings
from maildesk.db import make_engine, upgrade
from maildesk.pipeline.runner import Outcome, process_one
from maildesk.services.inbox import Stored
from maildesk.services.origin import Origin

SECRET = "kx4-Rt9w_Lq2Zp7yHv3N"  # strong enough for `config check`
CONFIG = f"""\
[desk]
name = "Example Support"
address = "support@example.com"
secret = "{SECRET}"

[database]
url = "sqlite:///var/maildesk.db"

[[queues]]
name = "general"
addresses = ["support@example.com"]

[[queues]]
name = "billing"
addresses = ["billing@example.com"]

[[agents]]
email = "alice@example.com"
name = "Alice"
role = "supervisor"
queues = ["general", "billing"]

[[agents]]
email = "bob@example.com"
name = "Bob"
queues = ["general"]

[blacklist]
addresses = ["spammer@example.net"]
"""


def cli_of(module: ModuleType) -> typer.Typer:
    """A root app holding only what `module.register` adds (a group, or a command)."""
    root = typer.Typer()
    root.callback()(lambda: None)  # a group even when the module adds a single command
    module.register(root)
    return root


@dataclass
class Shell:
    config: Path

    def run(self, module: ModuleType, *args: str | Path, input: bytes | None = None) -> Result:
        """The module's commands as `maildesk --config CONFIG …` would run them."""
        return CliRunner().invoke(
            cli_of(module), [str(a) for a in args], input=input, obj=CliState(self.config)
        )

    def app(self) -> App:
        return open_app(load_settings(self.config))

    def accepts(self, raw: bytes) -> Stored:
        """A mail arrives and is stored, not yet processed."""
        app = self.app()
        stored = accept_raw(app, raw, Origin(transport="pipe"))
        app.engine.dispose()
        return stored

    def receives(self, raw: bytes) -> Outcome:
        """A mail arrives and is processed, as `maildesk ingest` does it."""
        app = self.app()
        stored = accept_raw(app, raw, Origin(transport="pipe"))
        outcome = process_one(app.engine, app.desk, item_id=stored.item_id)
        app.engine.dispose()
        assert outcome is not None
        return outcome


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "maildesk.toml"
    path.write_text(CONFIG)
    (tmp_path / "var").mkdir()  # the folder the database url names; maildesk makes none
    engine = make_engine(load_settings(path).database_url())
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def shell(config: Path) -> Shell:
    return Shell(config)
