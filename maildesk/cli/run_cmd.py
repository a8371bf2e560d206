"""`maildesk run` (the daemon) and `maildesk tick` (timed work, once)."""

from __future__ import annotations

import asyncio
import logging

import typer

from maildesk.app import open_app
from maildesk.cli.output import moment_option
from maildesk.cli.root import state
from maildesk.config import secret_problems
from maildesk.daemon.loop import Daemon
from maildesk.daemon.tick import tick
from maildesk.timing.clock import FixedClock


def run(ctx: typer.Context) -> None:
    """Run the daemon until SIGTERM: SMTP listener, IMAP pollers, worker, scheduler."""
    settings = state(ctx).settings()
    logging.basicConfig(
        level=settings.logging.level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
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
