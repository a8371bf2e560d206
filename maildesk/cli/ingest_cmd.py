"""`maildesk ingest [FILE…]`: one raw mail per file (stdin if none), for MTA pipes.

Exit 0 once every mail is committed; 75 (EX_TEMPFAIL) when one could not be, so the MTA retries.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from maildesk.app import App, accept_raw, open_app
from maildesk.cli.output import print_json_line
from maildesk.cli.root import state
from maildesk.db import unit_of_work
from maildesk.errors import MaildeskError, TransientError
from maildesk.ingest.origin import Origin
from maildesk.models import Ticket
from maildesk.pipeline.runner import process_one
from maildesk.services.inbox import get_item

EX_TEMPFAIL = 75


def _ingest_one(app: App, raw: bytes, origin: Origin) -> dict[str, object]:
    stored = accept_raw(app, raw, origin)
    if stored.duplicate:
        with unit_of_work(app.engine) as session:
            item = get_item(session, item_id=stored.item_id)
            ticket = session.get(Ticket, item.ticket_id) if item.ticket_id else None
            return {
                "outcome": "duplicate",
                "ticket": ticket.ref if ticket else None,
                "reason": f"same mail as inbox item {item.id} ({item.state})",
                "message_id": item.message_id,
            }
    try:
        outcome = process_one(app.engine, app.desk, item_id=stored.item_id)
    except TransientError as exc:
        return {"outcome": "queued", "ticket": None, "reason": str(exc), "message_id": None}
    if outcome is None:
        return {
            "outcome": "queued",
            "ticket": None,
            "reason": "taken by another worker",
            "message_id": None,
        }
    return outcome.as_json()


def ingest(
    ctx: typer.Context,
    files: list[Path] | None = typer.Argument(None, help="Raw mail files; standard input if none."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON outcome per mail."),
    envelope_to: list[str] = typer.Option([], "--to", help="Envelope recipient (from the MTA)."),
) -> None:
    """Accept and process raw mails."""
    try:
        app = open_app(state(ctx).settings())
    except MaildeskError as exc:
        typer.echo(f"maildesk: {exc}", err=True)
        raise typer.Exit(EX_TEMPFAIL) from None
    origin = Origin(transport="pipe", envelope_to=tuple(envelope_to))
    sources: list[Path | None] = list(files) if files else [None]
    for source in sources:
        try:
            raw = source.read_bytes() if source else sys.stdin.buffer.read()
        except OSError as exc:
            typer.echo(f"maildesk: cannot read {source}: {exc.strerror}", err=True)
            raise typer.Exit(1) from None
        try:
            result = _ingest_one(app, raw, origin)
        except MaildeskError as exc:
            typer.echo(f"maildesk: {source or 'stdin'}: not accepted: {exc}", err=True)
            raise typer.Exit(EX_TEMPFAIL) from None
        if as_json:
            print_json_line(result)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
