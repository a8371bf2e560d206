"""`maildesk ticket list|show|do`; search, similar and export are in their own modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from maildesk.agent.do import do_commands
from maildesk.cli import ticket_export, ticket_search
from maildesk.cli.output import emit, moment_option, print_json
from maildesk.cli.root import state
from maildesk.cli.ticket_view import conversation_lines
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.services.ticket_query import DEFAULT_LIMIT, TicketFilter, find_tickets
from maildesk.services.tickets import get_ticket
from maildesk.services.views import ticket_detail, ticket_summary

ticket_app = typer.Typer(help="Tickets.", no_args_is_help=True)


DUE_BEFORE = "Only those with a running target due before this ISO 8601 time."


@ticket_app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="new|open|pending|resolved|closed"),
    queue: str | None = typer.Option(None, "--queue"),
    assignee: str | None = typer.Option(None, "--assignee", help="Email or name, or 'none'."),
    priority: str | None = typer.Option(None, "--priority", help="low|normal|high|urgent"),
    requester: str | None = typer.Option(None, "--requester", help="The customer's email."),
    organisation: str | None = typer.Option(None, "--organisation", help="Name or domain."),
    tag: str | None = typer.Option(None, "--tag"),
    service: str | None = typer.Option(None, "--service"),
    type: str | None = typer.Option(None, "--type", help="incident|request"),
    category: str | None = typer.Option(None, "--category"),
    level: int | None = typer.Option(None, "--level"),
    breached: bool = typer.Option(False, "--breached", help="Only those that missed a target."),
    due_before: str | None = typer.Option(None, "--due-before", help=DUE_BEFORE),
    created_since: str | None = typer.Option(None, "--created-since", help="ISO 8601 time."),
    updated_since: str | None = typer.Option(None, "--updated-since", help="ISO 8601 time."),
    sort: str = typer.Option("-created", "--sort", help="FIELD[,-FIELD]: - for descending."),
    limit: int = typer.Option(DEFAULT_LIMIT, "--limit", help="At most this many; 0: all."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List tickets, newest first unless sorted otherwise."""
    given = {k: v for k, v in locals().items() if k in TicketFilter.__dataclass_fields__}
    _list(ctx, given, sort=sort, limit=limit, as_json=as_json)


_MOMENTS = ("due_before", "created_since", "updated_since")


def _list(
    ctx: typer.Context, given: dict[str, Any], *, sort: str, limit: int, as_json: bool
) -> None:
    for name in _MOMENTS:
        if given[name] is not None:
            given[name] = moment_option(given[name], "--" + name.replace("_", "-"))
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        found = find_tickets(
            session, settings=app.settings, wanted=TicketFilter(**given), sort=sort, limit=limit
        )
        rows = [ticket_summary(session, t) for t in found.tickets]
    columns = ("ref", "status", "priority", "queue", "assignee", "requester", "subject")
    emit(rows, as_json=as_json, title="Tickets", columns=columns)
    if found.total > len(rows):
        shown = f"{len(rows)} of {found.total} tickets shown (--limit 0 shows all)"
        typer.echo(f"maildesk: {shown}", err=True)


@ticket_app.command("show")
def show_cmd(ctx: typer.Context, ref: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Everything about one ticket: its facts, then its messages and changes as they came."""
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        detail = ticket_detail(session, get_ticket(session, ref=ref), settings=app.settings)
    if as_json:
        print_json(detail)
        return
    for line in conversation_lines(detail):
        typer.echo(line)


@ticket_app.command("do")
def do_cmd(
    ctx: typer.Context,
    ref: str,
    commands: list[str] = typer.Argument(..., help='Command lines, e.g. "#assign bob".'),
    as_agent: str = typer.Option(..., "--as", help="The agent acting (trusted)."),
    message: str | None = typer.Option(None, "--message", help="Text for the customer."),
    message_file: Path | None = typer.Option(None, "--message-file"),
) -> None:
    """Run agent commands on a ticket, as if the agent had mailed them."""
    if message is not None and message_file is not None:
        raise InvalidInput("give --message or --message-file, not both")
    text = message_file.read_text(encoding="utf-8") if message_file else (message or "")
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        result = do_commands(
            session,
            desk=app.desk,
            ref=ref,
            agent_email=as_agent,
            lines=commands,
            text=text,
            now=app.desk.clock.now(),
        )
    if result.errors:
        for error in result.errors:
            typer.echo(f"maildesk: {error.line}: {error.reason}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"{result.ticket.ref}: {len(commands)} command(s) applied"
        + (", message relayed" if result.relayed else "")
    )


ticket_search.register(ticket_app)
ticket_export.register(ticket_app)


def register(app: typer.Typer) -> None:
    app.add_typer(ticket_app, name="ticket")
