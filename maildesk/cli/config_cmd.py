"""`maildesk init` and `maildesk config check`."""

from __future__ import annotations

import secrets
from pathlib import Path

import typer

from maildesk.app import compile_policy, raw_policy_problems, template_override
from maildesk.cli.root import state
from maildesk.config import Settings, config_problems, load_settings
from maildesk.config_file import read_config
from maildesk.db import create_database_folder, make_engine, require_current_schema, upgrade
from maildesk.errors import ConfigError, MaildeskError
from maildesk.outbound.render import Renderer, check_templates

INITIAL_CONFIG = """\
# maildesk configuration. Every key, with its default, is documented in config.example.toml.
[desk]
name = "Example Support"
address = "support@example.com"
ticket_prefix = "TKT"
secret = "{secret}"
timezone = "UTC"

[database]
url = "sqlite:///var/maildesk.db"

[smtp]
enabled = true
host = "127.0.0.1"
port = 2525

[outbound]
transport = "maildir"
maildir = "var/sent"
"""

config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


def init(
    directory: Path = typer.Argument(Path("."), help="Where to write maildesk.toml and var/."),
) -> None:
    """Write a config (unless one exists) and create the database."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "maildesk.toml"
    if not path.exists():
        path.write_text(INITIAL_CONFIG.format(secret=secrets.token_urlsafe(32)), encoding="utf-8")
        path.chmod(0o600)
        typer.echo(f"wrote {path}")
    else:
        typer.echo(f"kept the existing config {path}")
    settings = load_settings(path)
    settings.path("var").mkdir(parents=True, exist_ok=True)
    create_database_folder(settings.database_url())
    upgrade(make_engine(settings.database_url()))
    typer.echo(f"database ready: {settings.database_url()}")


def environment_problems(settings: Settings) -> list[str]:
    """Problems of what a valid config points at: mailbox passwords, templates, database."""
    found = [
        f"imap[{index}].password: not set (password or password_env)"
        for index, mailbox in enumerate(settings.imap)
        if not mailbox.resolved_password()
    ]
    found += [
        f"templates: {line}" for line in check_templates(Renderer(template_override(settings)))
    ]
    url = settings.database_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        found.append(f"database.url: {url} does not exist yet (run `maildesk db upgrade`)")
        return found
    try:
        require_current_schema(make_engine(url))
    except MaildeskError as exc:
        found.append(f"database.url: {exc}")
    return found


@config_app.command("check")
def check(ctx: typer.Context) -> None:
    """Validate the config file; name every problem, each on its own line, in one run.

    Field errors, cross-references and secrets are all checked at once; what the config
    points at (mailboxes, templates, database) once the file itself is valid.
    """
    path = state(ctx).config
    try:
        data = read_config(path)
    except ConfigError as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(1) from None
    settings, found = config_problems(data, path.resolve().parent)
    if settings is not None:
        renderer = Renderer(template_override(settings))
        found += compile_policy(settings, renderer).problems + environment_problems(settings)
    else:
        found += raw_policy_problems(data)
    for line in found:
        typer.echo(f"{path}: {line}", err=True)
    if found:
        raise typer.Exit(1)
    typer.echo(f"{path}: ok")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(config_app, name="config")
