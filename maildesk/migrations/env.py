"""Alembic environment: runs migrations on the engine maildesk hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import maildesk.models  # noqa: F401  (registers the tables)
from maildesk.db import in_models

target_metadata = SQLModel.metadata


def run() -> None:
    engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_name=in_models,  # the full-text index is not in the models
        )
        with context.begin_transaction():
            context.run_migrations()


run()
