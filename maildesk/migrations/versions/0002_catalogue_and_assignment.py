"""service catalogue, ticket type, agent calendar and assignment

Tickets get a service and a type (incident or request); tickets made before categories
existed are "standard". Agents get working hours (a calendar name) and the time of their
last automatic assignment. "Open tickets per assignee" becomes one index scan. An
organisation may be known by name alone (from `maildesk contact set --organisation`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("calendar", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_assigned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.alter_column(
            "domain", existing_type=sa.VARCHAR(length=255), nullable=True
        )

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("service", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "type",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="incident",
            )
        )
        batch_op.drop_index("ix_ticket_assignee_id")
        batch_op.create_index(
            "ix_ticket_assignee_status", ["assignee_id", "status"], unique=False
        )
    op.execute("UPDATE ticket SET category = 'standard' WHERE category = ''")


def downgrade() -> None:
    op.execute("UPDATE ticket SET category = '' WHERE category = 'standard'")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_assignee_status")
        batch_op.create_index("ix_ticket_assignee_id", ["assignee_id"], unique=False)
        batch_op.drop_column("type")
        batch_op.drop_column("service")

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.alter_column(
            "domain", existing_type=sa.VARCHAR(length=255), nullable=False
        )

    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("last_assigned_at")
        batch_op.drop_column("calendar")
