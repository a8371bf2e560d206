"""The floor under ingest on this machine: what the bare minimum per mail costs.

Issue #2 states its target against "parse + thread lookup + commit per mail". This measures
exactly that on the same corpus, with no maildesk code at all, so the ingest figures can be
read against the machine they ran on:

- `mail-parser`: `mailparser.parse_from_bytes` alone.
- `bare`: mail-parser parse, a SELECT by the In-Reply-To Message-ID, an INSERT of the message,
  and a COMMIT per mail, with the stdlib sqlite3 module in WAL mode (synchronous=NORMAL), as
  maildesk configures SQLite.

Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import mailparser

try:
    from bench.corpus import generate
except ImportError:  # run as `python bench/baseline.py`
    from corpus import generate  # type: ignore[no-redef]


def _rate(label: str, mails: list[bytes], each: Callable[[bytes], None]) -> float:
    start = time.perf_counter()
    for raw in mails:
        each(raw)
    seconds = time.perf_counter() - start
    rate = len(mails) / seconds
    print(f"{label}: {len(mails)} mails in {seconds:.2f} s = {rate:.0f} msgs/s", flush=True)
    return rate


class Bare:
    """The bare figure's work, a mail at a time, on its own database in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.db = sqlite3.connect(directory / "bare.db", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE message (id INTEGER PRIMARY KEY, ticket_id INTEGER, message_id TEXT, "
            "subject TEXT, sender TEXT, body TEXT)"
        )
        self.db.execute("CREATE INDEX ix_message_id ON message (message_id)")
        self.tickets = iter(range(1, 10**9))

    def one(self, raw: bytes) -> None:
        mail = mailparser.parse_from_bytes(raw)
        parent = (mail.headers.get("In-Reply-To") or "").strip()
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        row = db.execute("SELECT ticket_id FROM message WHERE message_id = ?", (parent,)).fetchone()
        ticket_id = row[0] if row else next(self.tickets)
        db.execute(
            "INSERT INTO message (ticket_id, message_id, subject, sender, body) "
            "VALUES (?, ?, ?, ?, ?)",
            (ticket_id, mail.message_id, mail.subject, str(mail.from_), "\n".join(mail.text_plain)),
        )
        db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


def bare_rate(mails: list[bytes], directory: Path) -> float:
    """The bare figure (printed, and returned in msgs/s), with its database in `directory`."""
    bare = Bare(directory)
    try:
        return _rate("bare (parse + thread lookup + commit)", mails, bare.one)
    finally:
        bare.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="mails in the corpus")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed")
    args = parser.parse_args()
    mails = generate(args.n, seed=args.seed)
    _rate("mail-parser alone", mails, mailparser.parse_from_bytes)
    with tempfile.TemporaryDirectory(prefix="maildesk-baseline-") as tmp:
        bare_rate(mails, Path(tmp))


if __name__ == "__main__":
    main()
