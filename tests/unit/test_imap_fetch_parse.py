"""Reading (uid, raw bytes) out of the lines aioimaplib makes of a UID FETCH response."""

from __future__ import annotations

from maildesk.ingest.imap import parse_fetched_bodies

Lines = list[bytes | bytearray]  # as aioimaplib gives them: literals are bytearrays
DONE = b"Fetch completed (0.001 + 0.000 secs)."


def test_one_message_as_dovecot_sends_it() -> None:
    lines: Lines = [
        b"1 FETCH (UID 7 BODY[] {23}",
        bytearray(b"Subject: two\r\n\r\nbody2\r\n"),
        b")",
        DONE,
    ]

    assert parse_fetched_bodies(lines) == [(7, b"Subject: two\r\n\r\nbody2\r\n")]


def test_uid_may_follow_the_literal() -> None:
    lines: Lines = [b"3 FETCH (BODY[] {4}", bytearray(b"abcd"), b" UID 12)", DONE]

    assert parse_fetched_bodies(lines) == [(12, b"abcd")]


def test_a_body_that_looks_like_protocol_is_taken_verbatim() -> None:
    body = b"* 9 FETCH (UID 99 BODY[] {5}\r\n)"
    lines: Lines = [b"1 FETCH (UID 4 FLAGS (\\Recent) BODY[] {32}", bytearray(body), b")", DONE]

    assert parse_fetched_bodies(lines) == [(4, body)]


def test_several_messages_keep_their_order() -> None:
    lines: Lines = [
        b"1 FETCH (UID 1 BODY[] {1}", bytearray(b"a"), b")",
        b"2 FETCH (UID 2 BODY[] {1}", bytearray(b"b"), b")",
        DONE,
    ]  # fmt: skip

    assert parse_fetched_bodies(lines) == [(1, b"a"), (2, b"b")]


def test_pushed_flag_changes_between_bodies_are_skipped() -> None:
    lines: Lines = [
        b"1 FETCH (UID 1 BODY[] {1}", bytearray(b"a"), b")",
        b"5 FETCH (FLAGS (\\Seen) UID 30)",
        b"2 FETCH (UID 2 BODY[] {1}", bytearray(b"b"), b")",
        DONE,
    ]  # fmt: skip

    assert parse_fetched_bodies(lines) == [(1, b"a"), (2, b"b")]


def test_other_literals_are_not_mistaken_for_the_body() -> None:
    lines: Lines = [
        b"1 FETCH (UID 6 BODY[HEADER.FIELDS (X-UID)] {10}", bytearray(b"X-UID: 3\r\n"),
        b" BODY[] {2}", bytearray(b"hi"), b")",
        DONE,
    ]  # fmt: skip

    assert parse_fetched_bodies(lines) == [(6, b"hi")]


def test_an_empty_body_is_still_a_body() -> None:
    lines: Lines = [b"1 FETCH (UID 8 BODY[] {0}", bytearray(b""), b")", DONE]

    assert parse_fetched_bodies(lines) == [(8, b"")]


def test_nothing_fetched_gives_nothing() -> None:
    assert parse_fetched_bodies([DONE]) == []
    assert parse_fetched_bodies([]) == []
