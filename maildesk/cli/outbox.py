"""`maildesk outbox list|show|retry`: outbound mail and its delivery state."""

from __future__ import annotations

from typing import Any

import typer

from maildesk.cli.output import emit, print_json
from maildesk.cli.root import state
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput, NotFound
from maildesk.models import OutboxItem, Ticket
from maildesk.outbound.outbox import list_items, raw_of, retry
from maildesk.timing.clock import iso

outbox_app = typer.Typer(help="Outbound mail.", no_args_is_help=True)
STATES = ("queued", "sent", "failed")


def outbox_view(item: OutboxItem, ref: str | None) -> dict[str, Any]:
    return {
        "id": item.id,
        "ticket": ref,
        "kind": item.kind,
        "state": item.state,
        "recipients": item.recipients,
        "message_id": item.message_id,
        "attempts": item.attempts,
        "next_attempt_at": iso(item.next_attempt_at) if item.state == "queued" else None,
        "last_error": item.last_error,
        "created_at": iso(item.created_at),
        "sent_at": iso(item.sent_at),
    }


@outbox_app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", "--state", help="queued|sent|failed"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Outbound mails, oldest first (the order the queue is worked off)."""
    if status and status not in STATES:
        raise InvalidInput(f"unknown outbox status {status!r} (use {', '.join(STATES)})")
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        rows = []
        for item in list_items(session, state=status):
            ticket = session.get(Ticket, item.ticket_id) if item.ticket_id else None
            rows.append(outbox_view(item, ticket.ref if ticket else None))
    columns = ("id", "ticket", "kind", "state", "recipients", "attempts", "last_error")
    emit(rows, as_json=as_json, title="Outbox", columns=columns)


@outbox_app.command("show")
def show_cmd(ctx: typer.Context, item_id: int, raw: bool = typer.Option(False, "--raw")) -> None:
    """One outbound mail (--raw: its bytes, composed now if it is not sent yet)."""
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        item = session.get(OutboxItem, item_id)
        if item is None:
            raise NotFound(f"no outbox item {item_id}")
        if raw:
            typer.echo(raw_of(item).decode("utf-8", "replace"))
            return
        ticket = session.get(Ticket, item.ticket_id) if item.ticket_id else None
        print_json(outbox_view(item, ticket.ref if ticket else None))


@outbox_app.command("retry")
def retry_cmd(ctx: typer.Context, item_id: int) -> None:
    """Send a failed mail again (the sender or `maildesk tick` delivers it)."""
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        retry(session, item_id=item_id, now=app.desk.clock.now())
    typer.echo(f"outbox item {item_id}: queued")


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_app, name="outbox")
