"""`maildesk ingest --queue`: accept only — each raw mail becomes a `received` inbox item,
committed, and the daemon's inbox sweep processes it later.

An MTA runs this once per mail, so it loads little: the standard library, and psycopg for
PostgreSQL. The row is the full accept's (`inbox_row.received_row`: same dedupe key, same
columns), written with the driver itself under the connection settings of `db_connect`.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import UTC
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote

from maildesk.argv import UsageError
from maildesk.config_file import config_path, database_url
from maildesk.db_connect import (
    CONNECT_TIMEOUT_SECONDS,
    SQLITE_PRAGMAS,
    has_connect_timeout,
    libpq_url,
    sqlite_file,
)
from maildesk.errors import ConfigError
from maildesk.inbox_row import received_row
from maildesk.timing.clock import Clock, SystemClock

_LOOKUP = (
    "SELECT i.id, i.state, i.message_id, t.ref FROM inboxitem i"
    " LEFT JOIN ticket t ON t.id = i.ticket_id WHERE i.digest = {digest}"
)


class QueueRequest(NamedTuple):  # not a dataclass: `ingest --queue` must not import dataclasses
    """`ingest --queue [--json] [--to=ADDRESS…] [FILE…]`: what to read and say."""

    files: tuple[Path, ...] = ()
    as_json: bool = False
    envelope_to: tuple[str, ...] = ()


def _value(words: Iterator[str], option: str) -> str:
    value = next(words, None)
    if value is None:
        raise UsageError(f"option {option} requires an argument")
    return value


def parse_request(args: Sequence[str]) -> QueueRequest:
    """The words after `ingest`, read as the full CLI reads them."""
    files: list[Path] = []
    to: list[str] = []
    as_json, options = False, True
    words = iter(args)
    for word in words:
        if not options or word == "-" or not word.startswith("-"):
            files.append(Path(word))
        elif word == "--":
            options = False
        elif word in ("--queue", "--json"):
            as_json = as_json or word == "--json"
        elif word == "--to" or word.startswith("--to="):
            to.append(word[5:] if word.startswith("--to=") else _value(words, word))
        else:
            raise UsageError(f"no such option: {word}")
    return QueueRequest(tuple(files), as_json, tuple(to))


def queued_outcome(item_id: int, message_id: str | None) -> dict[str, object]:
    reason = f"stored as inbox item {item_id}; the daemon processes it"
    return {"outcome": "queued", "ticket": None, "reason": reason, "message_id": message_id}


def duplicate_outcome(
    item_id: int, state: str, ticket: str | None, message_id: str | None
) -> dict[str, object]:
    """The `--json` line of a mail stored already (the full `ingest` prints it too)."""
    reason = f"same mail as inbox item {item_id} ({state})"
    return {"outcome": "duplicate", "ticket": ticket, "reason": reason, "message_id": message_id}


class Inbox(Protocol):
    def store(self, row: dict[str, Any]) -> dict[str, object]: ...

    def close(self) -> None: ...


def _insert_sql(row: dict[str, Any], mark: str, json_cast: str) -> str:
    names = ", ".join(row)
    values = ", ".join(mark.format(n) + (json_cast if n == "envelope_to" else "") for n in row)
    return f"INSERT INTO inboxitem ({names}) VALUES ({values}) ON CONFLICT DO NOTHING RETURNING id"


def _outcome(found: Any, new_id: Any, row: dict[str, Any]) -> dict[str, object]:
    if new_id is not None:
        return queued_outcome(int(new_id[0]), row["message_id"])
    if found is None:
        raise RuntimeError("the inbox insert conflicted, yet no item holds these bytes")
    return duplicate_outcome(int(found[0]), str(found[1]), found[3], found[2])


class SqliteInbox:
    """The inbox table of a SQLite file that exists already (never creates one)."""

    def __init__(self, path: str) -> None:
        uri = f"file:{quote(path)}?mode=rw"
        self.connection = sqlite3.connect(uri, uri=True, timeout=10, isolation_level=None)
        for pragma in SQLITE_PRAGMAS:
            self.connection.execute(pragma)

    def store(self, row: dict[str, Any]) -> dict[str, object]:
        values = {**row, "envelope_to": json.dumps(row["envelope_to"])}
        values["received_at"] = row["received_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        db = self.connection
        db.execute("BEGIN IMMEDIATE")
        try:
            new_id = db.execute(_insert_sql(row, ":{}", ""), values).fetchone()
            found = None if new_id else db.execute(_LOOKUP.format(digest=":digest"), row).fetchone()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return _outcome(found, new_id, row)

    def close(self) -> None:
        self.connection.close()


class PostgresInbox:
    """The inbox table on PostgreSQL, through psycopg (imported only here)."""

    def __init__(self, url: str) -> None:
        import psycopg

        if has_connect_timeout(url):
            self.connection = psycopg.connect(url)
        else:
            self.connection = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS)

    def store(self, row: dict[str, Any]) -> dict[str, object]:
        values = {**row, "envelope_to": json.dumps(row["envelope_to"])}
        with self.connection.transaction(), self.connection.cursor() as cursor:
            new_id = cursor.execute(_insert_sql(row, "%({})s", "::json"), values).fetchone()
            found = None
            if new_id is None:
                found = cursor.execute(_LOOKUP.format(digest="%(digest)s"), row).fetchone()
        return _outcome(found, new_id, row)

    def close(self) -> None:
        self.connection.close()


def open_inbox(url: str) -> Inbox:
    path, libpq = sqlite_file(url), libpq_url(url)
    if path is not None:
        return SqliteInbox(path)
    if libpq is not None:
        return PostgresInbox(libpq)
    raise ConfigError(f"ingest --queue: unsupported database URL {url!r}")


def _read(source: Path | None) -> bytes:
    if source is None:
        return sys.stdin.buffer.read()
    try:
        return source.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from exc


def queue_mails(
    request: QueueRequest, *, config: str | None, clock: Clock | None = None
) -> list[dict[str, object]]:
    """Store every mail of the request, each committed on its own; their `--json` lines."""
    url = database_url(config_path(Path(config) if config is not None else None))
    now = (clock or SystemClock()).now
    results = []
    with closing(open_inbox(url)) as inbox:
        for source in request.files or (None,):
            row = received_row(
                _read(source), transport="pipe", now=now(), envelope_to=request.envelope_to
            )
            results.append(inbox.store(row))
            if request.as_json:
                print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    return results
