"""`maildesk blacklist list|add|remove`."""

from __future__ import annotations

import typer

from maildesk.cli.output import emit
from maildesk.cli.root import state
from maildesk.db import unit_of_work
from maildesk.services.blacklist import add_entry, list_entries, remove_entry
from maildesk.timing.clock import iso

blacklist_app = typer.Typer(help="Senders whose mail never becomes a ticket.", no_args_is_help=True)


@blacklist_app.command("list")
def list_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Entries from the config file and from the database."""
    app = state(ctx).app()
    config = app.settings.blacklist
    rows = [
        {"kind": "address", "value": v, "source": "config", "note": "", "created_at": None}
        for v in config.addresses
    ]
    rows += [
        {"kind": "domain", "value": v, "source": "config", "note": "", "created_at": None}
        for v in config.domains
    ]
    rows += [
        {"kind": "pattern", "value": v, "source": "config", "note": "", "created_at": None}
        for v in config.patterns
    ]
    with unit_of_work(app.engine) as session:
        rows += [
            {
                "kind": e.kind,
                "value": e.value,
                "source": "database",
                "note": e.note,
                "created_at": iso(e.created_at),
            }
            for e in list_entries(session)
        ]
    emit(rows, as_json=as_json, title="Blacklist", columns=("kind", "value", "source", "note"))


@blacklist_app.command("add")
def add_cmd(
    ctx: typer.Context,
    value: str = typer.Argument(..., help="An address, a domain, or a glob such as *@spam.example"),
    kind: str | None = typer.Option(None, "--kind", help="address|domain|pattern (guessed)"),
    note: str = typer.Option("", "--note"),
) -> None:
    """Refuse mail from an address, a domain (and its subdomains) or a glob."""
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        entry = add_entry(session, value=value, kind=kind, note=note, now=app.desk.clock.now())
        typer.echo(f"blacklisted {entry.kind} {entry.value}")


@blacklist_app.command("remove")
def remove_cmd(ctx: typer.Context, value: str) -> None:
    """Take an entry added here off the blacklist (the config's own stay)."""
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        count = remove_entry(session, value=value)
    typer.echo(f"removed {count} entr{'y' if count == 1 else 'ies'} for {value}")


def register(app: typer.Typer) -> None:
    app.add_typer(blacklist_app, name="blacklist")
