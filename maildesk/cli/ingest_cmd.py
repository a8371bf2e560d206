"""`maildesk ingest [FILE…] [--queue]`: one raw mail per file (stdin if none), for MTA pipes.

Exit 0 once every mail is committed; 75 (EX_TEMPFAIL) when one could not be, whatever the
reason — a FILE that cannot be read too (an MTA's `--to ${recipient}` with several
recipients makes the second one a FILE) — so the MTA retries instead of bouncing.
`--queue` only stores (maildesk.ingest.pipe_queue); the daemon processes the items. An MTA
starts neither through typer: `maildesk.entry` runs `ingest_mails` or `queue_mails` itself,
guarded, and this command only for `--help` and for scripts that call the whole CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer

from maildesk.cli.root import new_app, state
from maildesk.ingest.pipe_ingest import NotAccepted, ingest_mails, one_line
from maildesk.ingest.pipe_queue import QueueRequest, queue_mails

EX_TEMPFAIL = 75


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"maildesk: {message}", err=True)
    return typer.Exit(code)


def ingest(
    ctx: typer.Context,
    files: list[Path] | None = typer.Argument(None, help="Raw mail files; standard input if none."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON outcome per mail."),
    envelope_to: list[str] = typer.Option(
        [], "--to", help="Envelope recipient (from the MTA); write --to=ADDRESS, once each."
    ),
    queue: bool = typer.Option(
        False, "--queue", help="Only store each mail; the daemon (or `maildesk tick`) processes it."
    ),
) -> None:
    """Accept and process raw mails."""
    request = QueueRequest(tuple(files or ()), as_json, tuple(envelope_to))
    config = str(state(ctx).config)
    try:
        if queue:
            queue_mails(request, config=config)
        else:
            ingest_mails(request, config=config)
    except NotAccepted as exc:
        raise _fail(str(exc), EX_TEMPFAIL) from None
    except Exception as exc:
        raise _fail(one_line(exc), EX_TEMPFAIL) from None


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)


def run_alone(argv: Sequence[str]) -> int:
    """`maildesk [--config PATH] ingest …` on a root app that holds only this command: the
    exit code, or a usage error raised (click's, one line in `format_message()`)."""
    root = new_app()
    register(root)
    code = root(args=list(argv), prog_name="maildesk", standalone_mode=False)
    return code if isinstance(code, int) else 0
