"""IMAP building blocks: mailbox settings that fail at load time, cursors, response parsing."""

from __future__ import annotations

from typing import Any

import aioimaplib
import pytest

from maildesk.ingest.imap_parts import (
    ImapCursor,
    ImapError,
    ImapMailboxSettings,
    MemoryImapState,
    ok_response,
    search_uids,
)

GOOD: dict[str, Any] = {"name": "support", "host": "imap.example.com", "username": "u"}


def mailbox(**changes: Any) -> ImapMailboxSettings:
    return ImapMailboxSettings(**{**GOOD, "password": "pw", **changes})


def test_sound_settings_keep_their_defaults_and_hide_the_password() -> None:
    settings = mailbox()

    assert (settings.port, settings.tls, settings.folder) == (993, True, "INBOX")
    assert "pw" not in repr(settings)


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"tls": True, "starttls": True}, "tls (implicit) or starttls, not both"),
        ({"poll_seconds": 0}, "must be positive"),
        ({"timeout_seconds": -1}, "must be positive"),
        ({"backoff_min_seconds": 10, "backoff_max_seconds": 5}, "backoff_min_seconds >"),
        ({"folder": "Eingänge"}, "must be printable ASCII"),
        ({"processed_folder": "Done\n"}, "must be printable ASCII"),
        ({"processed_folder": "INBOX"}, "processed_folder must differ from folder"),
    ],
)
def test_bad_settings_are_refused_naming_the_mailbox(
    changes: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match="imap support: ") as raised:
        mailbox(**changes)

    assert complaint in str(raised.value)


async def test_the_memory_store_gives_back_the_last_saved_cursor_per_mailbox() -> None:
    store = MemoryImapState()
    await store.save("support", 7, 10)
    await store.save("support", 7, 12)

    assert await store.load("support") == ImapCursor(uidvalidity=7, last_uid=12)
    assert await store.load("billing") is None


def test_search_uids_reads_every_uid_and_ignores_the_status_line() -> None:
    lines = [b"3 5 8", bytearray(b"13"), b"Search completed (0.001 secs) 21."]

    assert search_uids(lines) == [3, 5, 8, 13]


def test_an_empty_search_finds_nothing() -> None:
    assert search_uids([b"Search completed."]) == []


def test_ok_response_passes_an_ok_through() -> None:
    response = aioimaplib.Response("OK", [b"LOGIN completed"])

    assert ok_response(response, "LOGIN") is response


def test_a_refused_command_raises_with_the_servers_words() -> None:
    response = aioimaplib.Response("NO", [b"[AUTHENTICATIONFAILED] Authentication failed."])

    with pytest.raises(ImapError, match=r"LOGIN failed: NO \[AUTHENTICATIONFAILED\]"):
        ok_response(response, "LOGIN")
