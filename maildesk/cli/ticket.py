"""`maildesk ticket list|show`."""

from __future__ import annotations

import typer

from maildesk.cli.output import print_json, print_table
from maildesk.cli.root import state
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.models import STATUSES
from maildesk.services.tickets import get_ticket, list_tickets
from maildesk.services.views import ticket_detail, ticket_summary

ticket_app = typer.Typer(help="Tickets.", no_args_is_help=True)


@ticket_app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="new|open|pending|resolved|closed"),
    queue: str | None = typer.Option(None, "--queue"),
    assignee: str | None = typer.Option(None, "--assignee", help="Agent email, or 'none'."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List tickets, newest first."""
    if status and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r} (use {', '.join(STATUSES)})")
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        tickets = list_tickets(session, status=status, queue=queue, assignee=assignee)
        rows = [ticket_summary(session, t) for t in tickets]
    if as_json:
        print_json(rows)
        return
    columns = ("ref", "status", "priority", "queue", "assignee", "requester", "subject")
    print_table("Tickets", columns, [[r[c] for c in columns] for r in rows])


@ticket_app.command("show")
def show_cmd(ctx: typer.Context, ref: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Everything about one ticket: messages, participants, audit trail."""
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        detail = ticket_detail(session, get_ticket(session, ref=ref))
    if as_json:
        print_json(detail)
        return
    typer.echo(f"{detail['ref']}  {detail['subject']}")
    for key in ("status", "priority", "queue", "assignee", "requester", "participants", "tags"):
        typer.echo(f"  {key}: {detail[key]}")
    for message in detail["messages"]:
        typer.echo(
            f"\n--- {message['created_at']} {message['direction']} {message['role']} "
            f"{message['visibility']} {message['author']}"
        )
        typer.echo(message["text"])
    typer.echo("\nevents:")
    for event in detail["events"]:
        typer.echo(f"  {event['at']} {event['actor']} {event['type']} {event['data']}")


def register(app: typer.Typer) -> None:
    app.add_typer(ticket_app, name="ticket")
