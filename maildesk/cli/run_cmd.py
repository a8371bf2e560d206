"""`maildesk run` (the daemon) and `maildesk tick` (timed work, once)."""

from __future__ import annotations

import asyncio
import logging

import typer
from pydantic import ValidationError

from maildesk.app import open_app
from maildesk.cli.output import moment_option
from maildesk.cli.root import state
from maildesk.config import LoggingSettings, problems_of, secret_problems
from maildesk.daemon.logs import logging_to
from maildesk.daemon.loop import Daemon
from maildesk.daemon.tick import tick
from maildesk.errors import InvalidInput
from maildesk.timing.clock import FixedClock


def logging_settings(
    settings: LoggingSettings, level: str | None, style: str | None
) -> LoggingSettings:
    """`[logging]` with the command line's `--log-level` and `--log-format` over it."""
    given = {"level": level, "format": style}
    try:
        return LoggingSettings.model_validate(
            settings.model_dump() | {k: v for k, v in given.items() if v is not None}
        )
    except ValidationError as exc:
        problem = problems_of(exc)[0].replace("level:", "--log-level:", 1)
        raise InvalidInput(problem.replace("format:", "--log-format:", 1)) from exc


def run(
    ctx: typer.Context,
    log_level: str | None = typer.Option(
        None, "--log-level", help="debug, info, warning or error (else [logging] level)."
    ),
    log_format: str | None = typer.Option(
        None, "--log-format", help="text or json: one JSON object per line (else [logging])."
    ),
) -> None:
    """Run the daemon until SIGTERM: SMTP listener, IMAP pollers, worker, scheduler."""
    settings = state(ctx).settings()
    logs = logging_settings(settings.logging, log_level, log_format)
    with logging_to(logs.level, logs.format):
        for problem in secret_problems(settings.desk):  # a weak secret: told, not refused
            logging.getLogger("maildesk").warning("%s", problem)
        daemon = Daemon(open_app(settings))
        asyncio.run(daemon.run_until_stopped())


def tick_cmd(
    ctx: typer.Context,
    at: str | None = typer.Option(None, "--at", help="Pretend it is this ISO 8601 time."),
) -> None:
    """Run the timed work that is due, once (for cron, or when no daemon runs)."""
    clock = FixedClock(moment_option(at, "--at")) if at else None
    report = tick(open_app(state(ctx).settings(), clock=clock))
    typer.echo(report.line())


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("tick")(tick_cmd)
