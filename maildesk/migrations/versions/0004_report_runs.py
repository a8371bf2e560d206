"""Reports by mail: one `reportrun` row per mailing and period

Its unique key (the `[[reports]]` entry's key, the period's due moment) makes each mailing
happen once, also with several daemons ticking at once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

AutoString = sqlmodel.sql.sqltypes.AutoString
UTCDateTime = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "reportrun",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", AutoString(length=400), nullable=False),
        sa.Column("due", UTCDateTime(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "due", name="uq_reportrun_key"),
    )


def downgrade() -> None:
    op.drop_table("reportrun")
