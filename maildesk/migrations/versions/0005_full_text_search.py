"""Full-text search over the messages' subjects and texts

SQLite: an external-content FTS5 table `message_fts` over `message(subject, text)` (the
rowid is the message's id), kept current by three triggers and built here from every message
stored so far. PostgreSQL: a generated `search_vector` column (the 'simple' configuration:
no language is assumed; the subject weighted A, the text D) and its GIN index; adding a
stored generated column computes it for every existing row.

Neither is part of the SQLModel metadata: `maildesk.db.in_models` keeps them out of the
models-against-migrations comparison.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE message_fts USING fts5(subject, text, content='message',"
    " content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN"
    " INSERT INTO message_fts (rowid, subject, text) VALUES (new.id, new.subject, new.text);"
    " END",
    "CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN"
    " INSERT INTO message_fts (message_fts, rowid, subject, text)"
    " VALUES ('delete', old.id, old.subject, old.text);"
    " END",
    "CREATE TRIGGER message_fts_update AFTER UPDATE OF subject, text ON message BEGIN"
    " INSERT INTO message_fts (message_fts, rowid, subject, text)"
    " VALUES ('delete', old.id, old.subject, old.text);"
    " INSERT INTO message_fts (rowid, subject, text) VALUES (new.id, new.subject, new.text);"
    " END",
    "INSERT INTO message_fts (message_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER message_fts_update",
    "DROP TRIGGER message_fts_delete",
    "DROP TRIGGER message_fts_insert",
    "DROP TABLE message_fts",
]

# A tsvector holds at most 1 MB: the text is cut to its first 100,000 characters, so that a
# huge pasted log can never make storing its message fail.
POSTGRESQL_UP = [
    "ALTER TABLE message ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, left(subject, 10000)), 'A')"
    " || setweight(to_tsvector('simple'::regconfig, left(text, 100000)), 'D')) STORED",
    "CREATE INDEX ix_message_search_vector ON message USING gin (search_vector)",
]
POSTGRESQL_DOWN = [
    "DROP INDEX ix_message_search_vector",
    "ALTER TABLE message DROP COLUMN search_vector",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(SQLITE_UP if sqlite else POSTGRESQL_UP)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(SQLITE_DOWN if sqlite else POSTGRESQL_DOWN)
