"""SLA clocks, ratings and the ticket's lifecycle

Tickets get a next-reply deadline and the moment the SLA sweep must next look at them (both
indexed: the sweep is one range query), the clock's pause (since when, business minutes in
all), the customer's unanswered reply, business minutes to first response and resolution,
times reopened, closure information (`#reason`, `#kb`) and their rating. `ticketnotice` holds
one row per timed notice sent: its unique key makes each one happen once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

AutoString = sqlmodel.sql.sqltypes.AutoString
UTCDateTime = sqlmodel.sql.sqltypes.UTCDateTime


def _ticket_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("next_reply_due", UTCDateTime(), nullable=True),
        sa.Column("sla_next_at", UTCDateTime(), nullable=True),
        sa.Column("paused_since", UTCDateTime(), nullable=True),
        sa.Column("paused_minutes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("customer_waiting_since", UTCDateTime(), nullable=True),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.Column("reopened", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("close_reason", AutoString(length=255), nullable=True),
        sa.Column("kb_reference", AutoString(length=255), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("rated_at", UTCDateTime(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        for column in _ticket_columns():
            batch_op.add_column(column)
        batch_op.create_index("ix_ticket_next_reply_due", ["next_reply_due"], unique=False)
        batch_op.create_index("ix_ticket_sla_next_at", ["sla_next_at"], unique=False)
        batch_op.create_index(
            "ix_ticket_status_resolved", ["status", "resolved_at"], unique=False
        )
    op.execute(
        "UPDATE ticket SET paused_since = updated_at"
        " WHERE status IN ('pending', 'resolved', 'closed')"
    )
    op.create_table(
        "ticketnotice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", AutoString(length=32), nullable=False),
        sa.Column("target", AutoString(length=32), nullable=False),
        sa.Column("due", UTCDateTime(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "kind", "target", "due", name="uq_ticketnotice_key"),
    )
    op.create_index("ix_ticketnotice_ticket_id", "ticketnotice", ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ticketnotice_ticket_id", table_name="ticketnotice")
    op.drop_table("ticketnotice")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_status_resolved")
        batch_op.drop_index("ix_ticket_sla_next_at")
        batch_op.drop_index("ix_ticket_next_reply_due")
        for column in reversed(_ticket_columns()):
            batch_op.drop_column(column.name)
