"""`maildesk import mbox|maildir PATH`: old mail becomes history — quiet, dated, closed.

Each mail is stored (committed) and then processed as an imported item, up to `[worker] batch_size`
to a transaction (maildesk.pipeline.batch): no mail is sent about it, its ticket and message
carry its own date, and its ticket is closed unless the mail is at or after `--open-since`.
A run killed half-way resumes where it stopped: a mail stored but not processed is processed
on the next run, one processed is counted as already imported. A progress bar (count, rate,
time left) shows on stderr when it is a terminal; the summary line goes to stdout.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import chain, islice
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from maildesk.app import App, accept_in_groups
from maildesk.cli.output import moment_option
from maildesk.cli.root import state
from maildesk.ingest.importer import count_messages, read_messages
from maildesk.pipeline.batch import BATCH_LIMIT, process_batch
from maildesk.services.origin import IMPORT, Origin

import_app = typer.Typer(help="Bulk import old mail.", no_args_is_help=True)

ALREADY = "already imported"
OpenSince = Annotated[
    str | None,
    typer.Option(
        "--open-since",
        help="Mail at or after this date (ISO 8601) leaves its ticket open; "
        "older mail is imported closed. Default: everything is imported closed.",
    ),
]


class RateColumn(ProgressColumn):
    """How many mails a second the import takes in."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} mails/s" if speed else "- mails/s", style="progress.data.speed")


@contextmanager
def progress_bar(total: int, name: str) -> Iterator[Callable[[], None]]:
    """A function to call per mail: a bar on stderr when it is a terminal, else nothing."""
    if not sys.stderr.isatty():
        yield lambda: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task(f"importing {name}", total=total)
        yield lambda: progress.advance(task)


def import_some(app: App, raws: Iterable[bytes], open_since: datetime | None) -> list[str]:
    """Store the mails (one commit for each group `app.in_groups` reads), then process them
    in one transaction; a mail a run before had stored is processed now if it was not yet,
    else it is already imported. A mail that cannot be stored ends the import: those stored
    are processed by the next run or the daemon."""
    stored = accept_in_groups(app, raws, Origin(transport=IMPORT))
    item_ids = list(dict.fromkeys(each.item_id for each in stored))
    done = {
        outcome.item_id: outcome.outcome
        for outcome in process_batch(
            app.engine, app.desk, item_ids=item_ids, limit=len(item_ids), open_since=open_since
        )
    }
    return [
        done.pop(each.item_id, "") or (ALREADY if each.duplicate else "queued") for each in stored
    ]


def import_one(app: App, raw: bytes, open_since: datetime | None) -> str:
    """One mail stored and processed (see `import_some`)."""
    return import_some(app, [raw], open_since)[0]


def in_batches(messages: Iterable[bytes], size: int = BATCH_LIMIT) -> Iterator[Iterator[bytes]]:
    """The messages `size` at a time, each batch read lazily: it must be read to its end
    before the next is asked for."""
    iterator = iter(messages)
    for first in iterator:
        yield chain((first,), islice(iterator, size - 1))


def summary(outcomes: Counter[str]) -> str:
    """`appended: 1, created: 2, rejected: 1; 4 already imported`"""
    done = ", ".join(f"{name}: {n}" for name, n in sorted(outcomes.items()) if name != ALREADY)
    already = f"{outcomes[ALREADY]} {ALREADY}" if outcomes[ALREADY] else ""
    return "; ".join(part for part in (done, already) if part) or "nothing to import"


def _import(ctx: typer.Context, kind: str, path: Path, open_since: str | None) -> None:
    since = moment_option(open_since, "--open-since") if open_since is not None else None
    messages = read_messages(kind, path)
    app = state(ctx).app()
    outcomes: Counter[str] = Counter()
    with progress_bar(count_messages(kind, path), path.name) as advance:
        for batch in in_batches(messages, app.settings.worker.batch_size):
            for outcome in import_some(app, batch, since):
                outcomes[outcome] += 1
                advance()
    typer.echo(summary(outcomes))


@import_app.command("mbox")
def mbox_cmd(ctx: typer.Context, path: Path, open_since: OpenSince = None) -> None:
    """Import every message of an mbox file, as closed history (see --open-since)."""
    _import(ctx, "mbox", path, open_since)


@import_app.command("maildir")
def maildir_cmd(ctx: typer.Context, path: Path, open_since: OpenSince = None) -> None:
    """Import every message of a Maildir folder, as closed history (see --open-since)."""
    _import(ctx, "maildir", path, open_since)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
