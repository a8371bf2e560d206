"""`maildesk db upgrade`: schema migrations with alembic; `maildesk db recount`: each agent's
stored load made the number of their tickets in work again."""

from __future__ import annotations

import typer

from maildesk.cli.root import state
from maildesk.db import (
    create_database_folder,
    current_revision,
    make_engine,
    unit_of_work,
    upgrade,
)
from maildesk.services.agent_loads import recount_loads

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_cmd(ctx: typer.Context) -> None:
    """Apply every pending schema migration (creating the database, and a SQLite file's folder)."""
    settings = state(ctx).settings()
    create_database_folder(settings.database_url())
    engine = make_engine(settings.database_url())
    upgrade(engine)
    typer.echo(f"database at revision {current_revision(engine)}")


@db_app.command("recount")
def recount_cmd(ctx: typer.Context) -> None:
    """Count each agent's tickets in new/open/pending again and store what differs (what
    least-loaded assignment reads; `maildesk doctor` says when it drifted)."""
    app = state(ctx).app()
    with unit_of_work(app.engine) as session:
        corrected = recount_loads(session)
    for found in corrected:
        typer.echo(f"{found.email}: {found.stored} -> {found.counted}")
    typer.echo(f"agent loads recounted: {len(corrected)} corrected")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
