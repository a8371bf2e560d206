"""`maildesk contact list|show|set`: customers, their category and organisation."""

from __future__ import annotations

import typer

from maildesk.cli.output import emit, print_json
from maildesk.cli.root import state
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.services.categories import known_categories
from maildesk.services.contacts import get_contact, list_contacts, set_contact
from maildesk.services.views import contact_detail, contact_view

contact_app = typer.Typer(help="Customers: category and organisation.", no_args_is_help=True)


@contact_app.command("list")
def list_cmd(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Every contact, with the category new tickets of theirs get."""
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        rows = [contact_view(session, c, settings=app.settings) for c in list_contacts(session)]
    columns = ("email", "name", "organisation", "category", "category_source")
    emit(rows, as_json=as_json, title="Contacts", columns=columns)


@contact_app.command("show")
def show_cmd(ctx: typer.Context, email: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """One contact and the tickets they asked for."""
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        detail = contact_detail(session, get_contact(session, email=email), settings=app.settings)
    if as_json:
        print_json(detail)
        return
    typer.echo(f"{detail['email']}  {detail['name']}".rstrip())
    typer.echo(f"  organisation: {detail['organisation']}")
    typer.echo(f"  category: {detail['category']} ({detail['category_source']})")
    typer.echo(f"  since: {detail['created_at']}")
    for ticket in detail["tickets"]:
        typer.echo(f"  {ticket['ref']} {ticket['status']} {ticket['subject']}")


@contact_app.command("set")
def set_cmd(
    ctx: typer.Context,
    email: str,
    category: str | None = typer.Option(
        None, "--category", help="A [[categories]] name, 'standard', or 'auto' (the config's)."
    ),
    organisation: str | None = typer.Option(
        None, "--organisation", help="An organisation's name or domain (made if new)."
    ),
) -> None:
    """Set a customer's category or organisation; the contact is made if they never wrote."""
    if category is None and organisation is None:
        raise InvalidInput("nothing to set (use --category and/or --organisation)")
    app = state(ctx).app()
    settings = app.settings
    with unit_of_work(app.engine) as session:
        contact = set_contact(
            session,
            email=email,
            category=category,
            organisation=organisation,
            known_categories=known_categories(settings),
            free_mail=settings.desk.free_mail_domains,
            now=app.desk.clock.now(),
        )
        view = contact_view(session, contact, settings=settings)
    typer.echo(
        f"updated contact {view['email']}: category {view['category']}"
        f" ({view['category_source']}), organisation {view['organisation']}"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(contact_app, name="contact")
