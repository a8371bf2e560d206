"""`maildesk inbox list|show|requeue|discard`: held and failed mail, reviewed by an operator."""

from __future__ import annotations

from typing import Any

import typer

from maildesk.cli.output import emit, print_json
from maildesk.cli.root import state
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.models import INBOX_STATES, InboxItem
from maildesk.pipeline.runner import process_one
from maildesk.services.inbox import REVIEW_STATES, discard, get_item, list_items, requeue
from maildesk.timing.clock import iso

inbox_app = typer.Typer(help="Held and failed mail.", no_args_is_help=True)


def item_view(item: InboxItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "state": item.state,
        "outcome": item.outcome,
        "reason": item.reason,
        "message_id": item.message_id,
        "transport": item.transport,
        "size": item.size,
        "received_at": iso(item.received_at),
        "processed_at": iso(item.processed_at),
    }


@inbox_app.command("list")
def list_cmd(
    ctx: typer.Context,
    state_: str | None = typer.Option(None, "--state", help="Default: held and failed."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List inbox items (held and failed unless --state says otherwise)."""
    if state_ and state_ not in INBOX_STATES:
        raise InvalidInput(f"unknown state {state_!r} (use {', '.join(INBOX_STATES)})")
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        rows = [
            item_view(i) for i in list_items(session, states=(state_,) if state_ else REVIEW_STATES)
        ]
    columns = ("id", "state", "received_at", "message_id", "reason")
    emit(rows, as_json=as_json, title="Inbox", columns=columns)


@inbox_app.command("show")
def show_cmd(ctx: typer.Context, item_id: int, raw: bool = typer.Option(False, "--raw")) -> None:
    """One item with its reason and traceback (--raw: the mail's bytes)."""
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        item = get_item(session, item_id=item_id)
        if raw:
            typer.echo(item.raw.decode("utf-8", "replace"))
            return
        print_json({**item_view(item), "error": item.error})


@inbox_app.command("requeue")
def requeue_cmd(ctx: typer.Context, item_id: int) -> None:
    """Put a held or failed item back and process it now."""
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        requeue(session, item_id=item_id)
    outcome = process_one(app.engine, app.desk, item_id=item_id)
    typer.echo(
        f"inbox item {item_id}: {outcome.outcome if outcome else 'queued'}"
        + (f" {outcome.ticket}" if outcome and outcome.ticket else "")
        + (f" ({outcome.reason})" if outcome and outcome.reason else "")
    )


@inbox_app.command("discard")
def discard_cmd(
    ctx: typer.Context,
    item_id: int,
    reason: str = typer.Option("discarded by operator", "--reason"),
) -> None:
    """Give up on a held or failed item (kept, marked dropped)."""
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        discard(session, item_id=item_id, now=app.desk.clock.now(), reason=reason)
    typer.echo(f"inbox item {item_id}: dropped")


def register(app: typer.Typer) -> None:
    app.add_typer(inbox_app, name="inbox")
