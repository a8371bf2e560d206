"""Each agent's load, kept by the database: `agent.open_tickets`

The number of tickets assigned to the agent in new, open or pending, so least-loaded
assignment reads one row per candidate instead of counting tickets. Triggers on `ticket`
keep it: every insert, delete and change of `status` or `assignee_id`, whoever writes it, moves
the count by the row the database actually replaced (OLD and NEW), so processes sharing one
PostgreSQL database never count one ticket twice. Existing tickets are counted here, after
the triggers exist (on PostgreSQL creating them holds off writers of `ticket` until this
commits: nothing slips between the count and the triggers).

SQLite drops a table's triggers with the table: a later migration that rebuilds `ticket`
(batch mode's copy) must create them again (`maildesk doctor` finds a load that drifted).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LOAD = "('new', 'open', 'pending')"
# the agent a row version counts for (NULL: none), in SQL over the trigger's OLD or NEW row
_COUNTS_FOR = "CASE WHEN {row}.status IN " + LOAD + " THEN {row}.assignee_id END"
WAS, IS = _COUNTS_FOR.format(row="old"), _COUNTS_FOR.format(row="new")
# one statement for both agents (one row lock each, taken in the index's order)
MOVE = (
    "UPDATE agent SET open_tickets = open_tickets"
    " + CASE WHEN id = {now} THEN 1 ELSE 0 END - CASE WHEN id = {was} THEN 1 ELSE 0 END"
    " WHERE id IN ({was}, {now})"
)
# per trigger: its event, and when the count moves at all (the agents before and after differ)
TRIGGERS = {
    "insert": ("INSERT", f"({IS}) IS NOT NULL", ("NULL", IS)),
    "delete": ("DELETE", f"({WAS}) IS NOT NULL", (WAS, "NULL")),
    "update": ("UPDATE OF status, assignee_id", f"({WAS}) IS DISTINCT FROM ({IS})", (WAS, IS)),
}

SQLITE_UP = [
    f"CREATE TRIGGER ticket_load_{name} AFTER {event} ON ticket"
    f" WHEN {when.replace('IS DISTINCT FROM', 'IS NOT')}"
    f" BEGIN {MOVE.format(was=was, now=now)}; END"
    for name, (event, when, (was, now)) in TRIGGERS.items()
]
SQLITE_DOWN = [f"DROP TRIGGER ticket_load_{name}" for name in TRIGGERS]

# PostgreSQL: one function; OLD exists for update and delete, NEW for insert and update
POSTGRESQL_FUNCTION = (
    "CREATE FUNCTION ticket_load() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "DECLARE was_agent integer; is_agent integer;\n"
    "BEGIN\n"
    f"  IF TG_OP <> 'INSERT' THEN was_agent := {WAS}; END IF;\n"
    f"  IF TG_OP <> 'DELETE' THEN is_agent := {IS}; END IF;\n"
    "  IF was_agent IS DISTINCT FROM is_agent THEN\n"
    f"    {MOVE.format(was='was_agent', now='is_agent')};\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END\n$$"
)
POSTGRESQL_UP = [
    POSTGRESQL_FUNCTION,
    *(
        f"CREATE TRIGGER ticket_load_{name} AFTER {event} ON ticket"
        f" FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION ticket_load()"
        for name, (event, when, _) in TRIGGERS.items()
    ),
]
POSTGRESQL_DOWN = [
    *(f"DROP TRIGGER ticket_load_{name} ON ticket" for name in TRIGGERS),
    "DROP FUNCTION ticket_load()",
]

BACKFILL = (
    "UPDATE agent SET open_tickets = (SELECT count(*) FROM ticket"
    f" WHERE ticket.assignee_id = agent.id AND ticket.status IN {LOAD})"
)


def upgrade() -> None:
    op.add_column(
        "agent", sa.Column("open_tickets", sa.Integer(), nullable=False, server_default="0")
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_UP if sqlite else POSTGRESQL_UP:
        op.execute(statement)
    op.execute(BACKFILL)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_DOWN if sqlite else POSTGRESQL_DOWN:
        op.execute(statement)
    op.drop_column("agent", "open_tickets")  # SQLite 3.35+ in place: tickets refer to agents
