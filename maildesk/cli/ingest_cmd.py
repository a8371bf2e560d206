"""`maildesk ingest [FILE…] [--queue]`: one raw mail per file (stdin if none), for MTA pipes.

Exit 0 once every mail is committed; 75 (EX_TEMPFAIL) when one could not be, whatever the
reason — a FILE that cannot be read too (an MTA's `--to ${recipient}` with several
recipients makes the second one a FILE) — so the MTA retries instead of bouncing.
Several FILEs are each accepted (committed) in turn, then processed up to `BATCH_LIMIT` to a
transaction (maildesk.pipeline.batch). `--queue` only stores (maildesk.ingest.pipe_queue);
the daemon processes the items.
`maildesk.entry` runs this command alone (`run_alone`), guarded, as an MTA starts it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import typer

from maildesk.app import App, accept_raw, open_app
from maildesk.cli.output import print_json_line
from maildesk.cli.root import new_app, state
from maildesk.db import first_line, unit_of_work
from maildesk.errors import MaildeskError
from maildesk.ingest.pipe_queue import QueueRequest, duplicate_outcome, queue_mails
from maildesk.models import Ticket
from maildesk.pipeline.batch import BATCH_LIMIT, process_batch
from maildesk.pipeline.runner import process_one
from maildesk.services.inbox import Stored, get_item
from maildesk.services.origin import Origin

EX_TEMPFAIL = 75


def _one_line(exc: Exception) -> str:
    """A user error says itself; anything else is named by its type, never a traceback."""
    if isinstance(exc, MaildeskError):
        return str(exc)
    return f"{type(exc).__name__}: {first_line(exc)}"


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"maildesk: {message}", err=True)
    return typer.Exit(code)


def _queued(reason: str) -> dict[str, object]:
    return {"outcome": "queued", "ticket": None, "reason": reason, "message_id": None}


def _duplicate(app: App, item_id: int) -> dict[str, object]:
    with unit_of_work(app.engine) as session:
        item = get_item(session, item_id=item_id)
        ticket = session.get(Ticket, item.ticket_id) if item.ticket_id else None
        ref = ticket.ref if ticket else None
        return duplicate_outcome(item_id, item.state, ref, item.message_id)


def _processed(app: App, item_id: int) -> dict[str, object]:
    outcome = process_one(app.engine, app.desk, item_id=item_id)
    return outcome.as_json() if outcome else _queued("taken by another worker")


def _outcome(app: App, stored: Stored) -> dict[str, object]:
    """What became of a committed mail. It is safe already: a failure here only postpones it."""
    try:
        if stored.duplicate:
            return _duplicate(app, stored.item_id)
        return _processed(app, stored.item_id)
    except Exception as exc:  # the daemon or `maildesk tick` processes the item later
        return _queued(_one_line(exc))


def _batch(app: App, item_ids: list[int]) -> dict[int, dict[str, object]]:
    """The new items of several files processed in one transaction, by item id."""
    try:
        outcomes = process_batch(app.engine, app.desk, item_ids=item_ids, limit=len(item_ids))
    except Exception as exc:  # nothing of the batch committed: each item waits for later
        return {item_id: _queued(_one_line(exc)) for item_id in item_ids}
    return {outcome.item_id: outcome.as_json() for outcome in outcomes}


def _outcomes(app: App, stored: list[Stored]) -> list[dict[str, object]]:
    """What became of each committed mail, in order; a duplicate is looked at once the new
    mails are processed (it may be one of them, as when one mail is ingested twice)."""
    new = [each.item_id for each in stored if not each.duplicate]
    if len(new) < 2:
        return [_outcome(app, each) for each in stored]
    done = _batch(app, new)
    taken = _queued("taken by another worker")
    return [
        _outcome(app, each) if each.duplicate else done.get(each.item_id, taken) for each in stored
    ]


def _open(ctx: typer.Context) -> App:
    try:
        return open_app(state(ctx).settings())
    except Exception as exc:
        raise _fail(_one_line(exc), EX_TEMPFAIL) from None


def _read(source: Path | None) -> bytes:
    if source is None:
        try:
            return sys.stdin.buffer.read()
        except Exception as exc:
            raise _fail(f"stdin: not accepted: {_one_line(exc)}", EX_TEMPFAIL) from None
    try:
        return source.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {source}: {exc.strerror}", EX_TEMPFAIL) from None


def _accept(app: App, raw: bytes, origin: Origin, source: Path | None) -> Stored:
    try:
        return accept_raw(app, raw, origin)
    except Exception as exc:
        raise _fail(f"{source or 'stdin'}: not accepted: {_one_line(exc)}", EX_TEMPFAIL) from None


def _queue(ctx: typer.Context, request: QueueRequest) -> None:
    try:
        queue_mails(request, config=str(state(ctx).config))
    except Exception as exc:
        raise _fail(_one_line(exc), EX_TEMPFAIL) from None


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
    if queue:
        _queue(ctx, QueueRequest(tuple(files or ()), as_json, tuple(envelope_to)))
        return
    app = _open(ctx)
    origin = Origin(transport="pipe", envelope_to=tuple(envelope_to))
    sources: list[Path | None] = list(files) if files else [None]
    for start in range(0, len(sources), BATCH_LIMIT):
        _ingest_some(app, sources[start : start + BATCH_LIMIT], origin, as_json)


def _ingest_some(app: App, sources: list[Path | None], origin: Origin, as_json: bool) -> None:
    """Accept each mail in turn (each its own commit), then process them together. A mail
    that cannot be accepted ends the command with 75 once those before it are processed."""
    stored: list[Stored] = []
    refused: typer.Exit | None = None
    for source in sources:
        try:
            stored.append(_accept(app, _read(source), origin, source))
        except typer.Exit as exc:
            refused = exc
            break
    for result in _outcomes(app, stored):
        if as_json:
            print_json_line(result)
    if refused is not None:
        raise refused


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)


def run_alone(argv: Sequence[str]) -> int:
    """`maildesk [--config PATH] ingest …` on a root app that holds only this command: the
    exit code, or a usage error raised (click's, one line in `format_message()`)."""
    root = new_app()
    register(root)
    code = root(args=list(argv), prog_name="maildesk", standalone_mode=False)
    return code if isinstance(code, int) else 0
