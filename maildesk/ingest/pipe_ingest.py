"""`maildesk ingest` without `--queue`: accept each mail, then process it, as an MTA pipe runs it.

Run by `maildesk.entry` with the command line read by the standard library (a pipe pays for
every import, typer's too). A mail that could not be committed raises `NotAccepted`: exit 75.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from maildesk.app import GROUP_BYTES, App, accept_raw, accept_together, open_app, runs_within
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

    Several files are accepted (committed) in groups, then processed up to `BATCH_LIMIT`
    to a transaction (maildesk.pipeline.batch).
    """
    app = _open(config)
    origin = Origin(transport="pipe", envelope_to=request.envelope_to)
    sources: tuple[Path | None, ...] = request.files or (None,)
    for start in range(0, len(sources), BATCH_LIMIT):
        _ingest_some(app, sources[start : start + BATCH_LIMIT], origin, request.as_json)


def _ingest_some(app: App, sources: tuple[Path | None, ...], origin: Origin, as_json: bool) -> None:
    """Accept the mails, then process them together. A mail that cannot be read or accepted
    ends the command (exit 75) once those before it are processed."""
    stored, refused = _accept_all(app, sources, origin)
    for result in _outcomes(app, stored):
        if as_json:
            print(json.dumps(result, ensure_ascii=False, default=str), flush=True)
    if refused is not None:
        raise refused


def _accept_all(
    app: App, sources: tuple[Path | None, ...], origin: Origin
) -> tuple[list[Stored], NotAccepted | None]:
    """Each mail committed: files read and committed together in groups (one commit a
    group, as `app.accept_together` stores what arrives together), up to GROUP_BYTES read
    at a time; the mails accepted before the first that is not, and why that one is not."""
    stored: list[Stored] = []
    for group in runs_within(sources, _size, GROUP_BYTES):
        raws, unread = _read_all(group)
        done, refused = _accept_group(app, raws, origin, group)
        stored += done
        if refused is not None or unread is not None:
            return stored, refused or unread  # those read before an unread one are stored
    return stored, None


def _read_all(sources: Sequence[Path | None]) -> tuple[list[bytes], NotAccepted | None]:
    """The sources' bytes, in order, up to the first that cannot be read, and why it cannot."""
    raws: list[bytes] = []
    for source in sources:
        try:
            raws.append(_read(source))
        except NotAccepted as exc:
            return raws, exc
    return raws, None


def _size(source: Path | None) -> int:
    """A file's size, to group it by (stdin: a group's worth, so alone)."""
    try:
        return source.stat().st_size if source is not None else GROUP_BYTES
    except OSError:
        return 0  # reading it says why


def _accept_group(
    app: App, raws: list[bytes], origin: Origin, sources: Sequence[Path | None]
) -> tuple[list[Stored], NotAccepted | None]:
    """Store `raws` (read from `sources`, in order) in one commit; if they do not commit
    together, each alone: those accepted before the first that is not, and why."""
    if len(raws) == 1:
        try:
            return [accept_raw(app, raws[0], origin)], None
        except Exception as exc:
            return [], _not_accepted(sources[0], exc)
    try:
        found = accept_together(app, [(raw, origin) for raw in raws])
    except Exception as exc:  # an outage: none of them is committed
        return [], _not_accepted(sources[0], exc)
    stored: list[Stored] = []
    for source, result in zip(sources, found, strict=False):
        if isinstance(result, Exception):
            return stored, _not_accepted(source, result)
        stored.append(result)
    return stored, None


def _not_accepted(source: Path | None, exc: Exception) -> NotAccepted:
    return NotAccepted(f"{source or 'stdin'}: not accepted: {one_line(exc)}")


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
