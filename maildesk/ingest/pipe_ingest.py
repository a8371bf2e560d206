"""`maildesk ingest` without `--queue`: accept each mail, then process it, as an MTA pipe runs it.

Run by `maildesk.entry` with the command line read by the standard library (a pipe pays for
every import, typer's too). A mail that could not be committed raises `NotAccepted`: exit 75.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from maildesk.app import App, accept_raw, open_app
from maildesk.config import load_settings
from maildesk.config_file import config_path
from maildesk.db import first_line, unit_of_work
from maildesk.errors import MaildeskError
from maildesk.ingest.pipe_queue import QueueRequest, duplicate_outcome
from maildesk.models import Ticket
from maildesk.pipeline.batch import BATCH_LIMIT, process_batch
from maildesk.pipeline.runner import process_one
from maildesk.services.inbox import Stored, get_item
from maildesk.services.origin import Origin


class NotAccepted(MaildeskError):
    """A mail is not committed (or the desk cannot be opened): the MTA must try again."""


def one_line(exc: Exception) -> str:
    """A user error says itself; anything else is named by its type, never a traceback."""
    if isinstance(exc, MaildeskError):
        return str(exc)
    return f"{type(exc).__name__}: {first_line(exc)}"


def ingest_mails(request: QueueRequest, *, config: str | None) -> None:
    """Accept and process each file (stdin if none); with `--json`, one outcome line each.

    Several files are each accepted (committed) in turn, then processed up to `BATCH_LIMIT`
    to a transaction (maildesk.pipeline.batch).
    """
    app = _open(config)
    origin = Origin(transport="pipe", envelope_to=request.envelope_to)
    sources: tuple[Path | None, ...] = request.files or (None,)
    for start in range(0, len(sources), BATCH_LIMIT):
        _ingest_some(app, sources[start : start + BATCH_LIMIT], origin, request.as_json)


def _ingest_some(app: App, sources: tuple[Path | None, ...], origin: Origin, as_json: bool) -> None:
    """Accept each mail in turn (each its own commit), then process them together. A mail
    that cannot be accepted ends the command (exit 75) once those before it are processed."""
    stored: list[Stored] = []
    refused: NotAccepted | None = None
    for source in sources:
        try:
            stored.append(_accept(app, _read(source), origin, source))
        except NotAccepted as exc:
            refused = exc
            break
    for result in _outcomes(app, stored):
        if as_json:
            print(json.dumps(result, ensure_ascii=False, default=str), flush=True)
    if refused is not None:
        raise refused


def _open(config: str | None) -> App:
    try:
        return open_app(load_settings(config_path(Path(config) if config else None)))
    except Exception as exc:
        raise NotAccepted(one_line(exc)) from None


def _read(source: Path | None) -> bytes:
    if source is None:
        try:
            return sys.stdin.buffer.read()
        except Exception as exc:
            raise NotAccepted(f"stdin: not accepted: {one_line(exc)}") from None
    try:
        return source.read_bytes()
    except OSError as exc:
        raise NotAccepted(f"cannot read {source}: {exc.strerror}") from None


def _accept(app: App, raw: bytes, origin: Origin, source: Path | None) -> Stored:
    try:
        return accept_raw(app, raw, origin)
    except Exception as exc:
        raise NotAccepted(f"{source or 'stdin'}: not accepted: {one_line(exc)}") from None


def _outcome(app: App, stored: Stored) -> dict[str, object]:
    """What became of a committed mail. It is safe already: a failure here only postpones it."""
    try:
        if stored.duplicate:
            return _duplicate(app, stored.item_id)
        outcome = process_one(app.engine, app.desk, item_id=stored.item_id)
        return outcome.as_json() if outcome else _queued("taken by another worker")
    except Exception as exc:  # the daemon or `maildesk tick` processes the item later
        return _queued(one_line(exc))


def _batch(app: App, item_ids: list[int]) -> dict[int, dict[str, object]]:
    """The new items of several files processed in one transaction, by item id."""
    try:
        outcomes = process_batch(app.engine, app.desk, item_ids=item_ids, limit=len(item_ids))
    except Exception as exc:  # nothing of the batch committed: each item waits for later
        return {item_id: _queued(one_line(exc)) for item_id in item_ids}
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


def _queued(reason: str) -> dict[str, object]:
    return {"outcome": "queued", "ticket": None, "reason": reason, "message_id": None}


def _duplicate(app: App, item_id: int) -> dict[str, object]:
    with unit_of_work(app.engine) as session:
        item = get_item(session, item_id=item_id)
        ticket = session.get(Ticket, item.ticket_id) if item.ticket_id else None
        ref = ticket.ref if ticket else None
        return duplicate_outcome(item_id, item.state, ref, item.message_id)
