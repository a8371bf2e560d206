"""`maildesk db upgrade`: schema migrations with alembic."""

from __future__ import annotations

import typer

from maildesk.cli.root import state
from maildesk.db import create_database_folder, current_revision, make_engine, upgrade

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_cmd(ctx: typer.Context) -> None:
    """Apply every pending schema migration (creating the database, and a SQLite file's folder)."""
    settings = state(ctx).settings()
    create_database_folder(settings.database_url())
    engine = make_engine(settings.database_url())
    upgrade(engine)
    typer.echo(f"database at revision {current_revision(engine)}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
