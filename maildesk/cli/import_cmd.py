"""`maildesk import mbox|maildir PATH`: bulk import with a progress bar."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer
from rich.progress import Progress

from maildesk.app import accept_raw
from maildesk.cli.root import state
from maildesk.ingest.importer import count_messages, read_messages
from maildesk.pipeline.runner import process_one
from maildesk.services.origin import Origin

import_app = typer.Typer(help="Bulk import old mail.", no_args_is_help=True)


def _import(ctx: typer.Context, kind: str, path: Path) -> None:
    app = state(ctx).app()
    messages = read_messages(kind, path)
    outcomes: Counter[str] = Counter()
    origin = Origin(transport="import")
    with Progress(transient=False) as progress:
        task = progress.add_task(f"importing {path.name}", total=count_messages(kind, path))
        for raw in messages:
            stored = accept_raw(app, raw, origin)
            if stored.duplicate:
                outcomes["duplicate"] += 1
            else:
                outcome = process_one(app.engine, app.desk, item_id=stored.item_id)
                outcomes[outcome.outcome if outcome else "queued"] += 1
            progress.advance(task)
    typer.echo(
        ", ".join(f"{name}: {count}" for name, count in sorted(outcomes.items()))
        or "nothing to import"
    )


@import_app.command("mbox")
def mbox_cmd(ctx: typer.Context, path: Path) -> None:
    """Import every message of an mbox file."""
    _import(ctx, "mbox", path)


@import_app.command("maildir")
def maildir_cmd(ctx: typer.Context, path: Path) -> None:
    """Import every message of a Maildir folder."""
    _import(ctx, "maildir", path)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
