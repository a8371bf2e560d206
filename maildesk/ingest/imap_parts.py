"""IMAP building blocks: mailbox settings, the UID cursor and its store, response parsing.

Pure values and functions; the poller in `imap.py` does the talking.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import aioimaplib


@dataclass(frozen=True)
class ImapMailboxSettings:
    """One configured IMAP mailbox and how to talk to it; invalid values fail at load time."""

    name: str
    host: str
    username: str
    password: str = field(repr=False)
    port: int = 993
    tls: bool = True  # implicit TLS (imaps)
    starttls: bool = False  # plain connect, then STARTTLS before LOGIN
    folder: str = "INBOX"
    processed_folder: str | None = None  # None: flag \Seen and leave it; else move it there
    poll_seconds: float = 60.0  # polling interval, and the longest IDLE before a re-check
    timeout_seconds: float = 30.0  # each IMAP step; a FETCH may take longer while data flows
    backoff_min_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    ca_file: str | None = None  # extra CA certificates to trust (self-hosted servers)

    def __post_init__(self) -> None:
        if self.tls and self.starttls:
            raise ValueError(f"imap {self.name}: choose tls (implicit) or starttls, not both")
        if min(self.poll_seconds, self.timeout_seconds, self.backoff_min_seconds) <= 0:
            raise ValueError(f"imap {self.name}: poll, timeout and backoff must be positive")
        if self.backoff_min_seconds > self.backoff_max_seconds:
            raise ValueError(f"imap {self.name}: backoff_min_seconds > backoff_max_seconds")
        for folder in filter(None, (self.folder, self.processed_folder)):
            if not folder.isascii() or not folder.isprintable():
                raise ValueError(f"imap {self.name}: folder {folder!r} must be printable ASCII")
        if self.processed_folder == self.folder:
            raise ValueError(f"imap {self.name}: processed_folder must differ from folder")


class ImapCursor(NamedTuple):
    """How far a mailbox has been acknowledged: every UID up to last_uid is done."""

    uidvalidity: int
    last_uid: int


class ImapStateStore(Protocol):
    """Where each mailbox's cursor survives restarts (the daemon's is DB-backed)."""

    async def load(self, mailbox_name: str) -> ImapCursor | None: ...

    async def save(self, mailbox_name: str, uidvalidity: int, last_uid: int) -> None: ...


class MemoryImapState:
    """An ImapStateStore in a dict, for tests and one-off runs."""

    def __init__(self) -> None:
        self.cursors: dict[str, ImapCursor] = {}

    async def load(self, mailbox_name: str) -> ImapCursor | None:
        return self.cursors.get(mailbox_name)

    async def save(self, mailbox_name: str, uidvalidity: int, last_uid: int) -> None:
        self.cursors[mailbox_name] = ImapCursor(uidvalidity, last_uid)


class ImapError(Exception):
    """The server refused a command, said BYE, or the connection dropped; reconnect."""


_FETCH_START = re.compile(rb"\d+ FETCH \(")
_FETCH_UID = re.compile(rb"(?:^|[ (])UID (\d+)")
_LITERAL = re.compile(rb"\{(\d+)\}$")
_BODY_LITERAL = re.compile(rb"BODY\[\] \{\d+\}$")


def parse_fetched_bodies(lines: Sequence[bytes | bytearray]) -> list[tuple[int, bytes]]:
    """(uid, raw bytes) for each message whose `BODY[]` a FETCH response carries.

    aioimaplib strips `* `, ends a line at each `{size}` and gives the literal as the next
    item; UID may come before or after it. Entries lacking a UID or body (e.g. a pushed
    flag change) are skipped; other literals are never mistaken for the body.
    """
    found: list[tuple[int, bytes]] = []
    uid: int | None = None
    body: bytes | None = None
    next_is: str | None = None  # "body" or "other" when the next item is a literal
    for line in lines:
        item = bytes(line)
        if next_is is not None:
            body = item if next_is == "body" else body
            next_is = None
            continue
        if _FETCH_START.match(item):
            if uid is not None and body is not None:
                found.append((uid, body))
            uid, body = None, None
        if match := _FETCH_UID.search(item):
            uid = int(match.group(1))
        if _LITERAL.search(item):
            next_is = "body" if _BODY_LITERAL.search(item) else "other"
    if uid is not None and body is not None:
        found.append((uid, body))
    return found


def search_uids(lines: Sequence[bytes | bytearray]) -> list[int]:
    """UIDs from a UID SEARCH response: aioimaplib drops `* SEARCH`, the last line is the status."""
    uids: list[int] = []
    for line in lines[:-1]:
        words = bytes(line).split()
        uids.extend(int(word) for word in words if word.isdigit())
    return uids


def ok_response(response: aioimaplib.Response, what: str) -> aioimaplib.Response:
    if response.result != "OK":
        text = b" ".join(bytes(line) for line in response.lines[-1:]).decode(errors="replace")
        raise ImapError(f"{what} failed: {response.result} {text}")
    return response
