"""The root typer app and the global --config option."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from maildesk.app import App, open_app
from maildesk.config import Settings, load_settings
from maildesk.config_file import config_path


def new_app(*, completion: bool = False) -> typer.Typer:
    """The root app with the global --config and no commands yet; the whole CLI's offers
    shell completion (`--install-completion`, `--show-completion`)."""
    root_app = typer.Typer(
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=completion,
        help="maildesk: an email-first helpdesk.",
    )
    root_app.callback()(root)
    return root_app


@dataclass
class CliState:
    config: Path

    def settings(self) -> Settings:
        return load_settings(self.config)

    def app(self) -> App:
        return open_app(self.settings())


def root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Config file (else $MAILDESK_CONFIG, else ./maildesk.toml)."
    ),
) -> None:
    ctx.obj = CliState(config=config_path(config))


app = new_app(completion=True)


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)
    return obj
