"""How maildesk connects to its database, in plain values: standard library only.

`db.py` builds SQLAlchemy engines from these; the queue-only accept of
`maildesk ingest --queue` connects with the drivers themselves (sqlite3, psycopg) and the
same settings, so both see the database alike.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

# Run on every new SQLite connection: WAL, foreign keys, and a wait for the write lock.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)
CONNECT_TIMEOUT_SECONDS = 5  # libpq waits 130 s by default; an MTA pipe must not hang that long
_SQLITE = "sqlite:///"
_POSTGRES = ("postgresql://", "postgresql+psycopg://", "postgresql+psycopg2://")


def sqlite_file(url: str) -> str | None:
    """The file of a `sqlite:///PATH` URL; None for another database or an in-memory one."""
    if not url.startswith(_SQLITE):
        return None
    path = url.removeprefix(_SQLITE).split("?", 1)[0]
    return path if path and not path.startswith(":") else None


def libpq_url(url: str) -> str | None:
    """A PostgreSQL URL as libpq reads it (no `+driver`); None for another database."""
    for prefix in _POSTGRES:
        if url.startswith(prefix):
            return "postgresql://" + url.removeprefix(prefix)
    return None


def has_connect_timeout(url: str) -> bool:
    """The URL sets its own `?connect_timeout=`."""
    return "connect_timeout" in parse_qs(urlsplit(url).query)
