"""The whole `maildesk` command line: every group module registered on the root app.

User errors (MaildeskError) print one line to stderr and exit 1; nothing is half-written
because every command does its writing in one unit of work. So does a database error that
slipped past the boundary in maildesk.db: one line, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer
from sqlalchemy.exc import DBAPIError

from maildesk.cli import (
    agent,
    blacklist,
    config_cmd,
    contact,
    db_cmd,
    doctor_cmd,
    import_cmd,
    inbox,
    ingest_cmd,
    outbox,
    report,
    rules,
    run_cmd,
    status_cmd,
    ticket,
)
from maildesk.cli.root import app
from maildesk.db import first_line
from maildesk.errors import MaildeskError

_GROUPS = (
    config_cmd,
    db_cmd,
    ingest_cmd,
    import_cmd,
    run_cmd,
    ticket,
    inbox,
    outbox,
    agent,
    contact,
    blacklist,
    rules,
    doctor_cmd,
    status_cmd,
    report,
)
for _module in _GROUPS:
    _module.register(app)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        app(args=list(argv) if argv is not None else None, prog_name="maildesk")
    except MaildeskError as exc:
        typer.echo(f"maildesk: {exc}", err=True)
        sys.exit(1)
    except DBAPIError as exc:
        typer.echo(f"maildesk: database error: {first_line(exc.orig)}", err=True)
        sys.exit(1)


__all__ = ["app", "main"]
