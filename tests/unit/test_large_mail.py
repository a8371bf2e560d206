"""What keeps a large mail's memory down: the gate that lets one large mail in at a time, the
declared SIZE the SMTP listener gates on, and the in-place digest and sliced decoding that
give the same results as the whole-mail copies they replace."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import random
import re
import threading

import pytest

from maildesk.inbox_row import _TRACE, digest_of, raw_message_id
from maildesk.ingest.smtp import declared_size
from maildesk.mail import _base64, parse_mail
from maildesk.pipeline.large_mail import LargeMailGate
from tests.mails import mail


def test_a_second_large_mail_waits_until_the_first_has_left() -> None:
    gate = LargeMailGate(threshold=100)
    events: list[str] = []

    def second() -> None:
        with gate.admit(500):
            events.append("second in")

    with gate.admit(200):
        events.append("first in")
        waiter = threading.Thread(target=second)
        waiter.start()
        waiter.join(timeout=0.2)  # the second would be in by now if it could
        events.append("first out")
    waiter.join(timeout=5)

    assert events == ["first in", "first out", "second in"]


def test_a_small_mail_passes_while_a_large_one_is_inside() -> None:
    gate = LargeMailGate(threshold=100)
    with gate.admit(200), gate.admit(99):
        passed = True
    assert passed


async def test_the_event_loop_waits_its_turn_without_blocking() -> None:
    gate = LargeMailGate(threshold=100)
    order: list[str] = []

    async def large(name: str) -> None:
        async with gate.admit_async(1000):
            order.append(f"{name} in")
            await asyncio.sleep(0.1)
            order.append(f"{name} out")

    await asyncio.gather(large("a"), large("b"))

    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


@pytest.mark.parametrize(
    ("options", "size"),
    [(["SIZE=21523872"], 21523872), (["BODY=8BITMIME", "size=7"], 7), ([], 0), (["SIZE=x"], 0)],
)
def test_the_size_a_client_declares_in_mail_from(options: list[str], size: int) -> None:
    assert declared_size(options) == size


def _digest_of_lines(raw: bytes) -> str:
    """The definition: the lines after the leading trace headers, joined again and hashed."""
    lines = raw.splitlines(keepends=True)
    start, skipping = len(lines), False
    for index, line in enumerate(lines):
        if skipping and line[:1] in (b" ", b"\t"):
            continue
        skipping = bool(_TRACE.match(line))
        if not skipping:
            start = index
            break
    return hashlib.sha256(b"".join(lines[start:])).hexdigest()


PIECES = [b"Received: by mx", b" folded", b"\tfolded", b"Delivered-To: a@b", b"Subject: s", b""]


def test_the_digest_hashed_in_place_is_the_digest_of_the_lines() -> None:
    shapes = random.Random(3)
    for _ in range(3000):
        raw = b"".join(
            shapes.choice(PIECES) + shapes.choice([b"\r\n", b"\n", b"\r", b""])
            for _ in range(shapes.randrange(7))
        )
        assert digest_of(raw) == _digest_of_lines(raw), raw


def test_a_redelivery_with_new_trace_headers_has_the_same_digest() -> None:
    raw = mail(message_id="once@acme.test")
    again = b"Received: from mx2\r\n\tby desk\r\nDelivered-To: support@example.com\r\n" + raw
    assert digest_of(again) == digest_of(raw)
    assert raw_message_id(again) == "once@acme.test"


def _former_base64(payload: str) -> bytes:
    cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
    cleaned = cleaned[: len(cleaned) - len(cleaned) % 4 if len(cleaned) % 4 == 1 else None]
    return binascii.a2b_base64(cleaned + "=" * (-len(cleaned) % 4))


@pytest.mark.parametrize("tail", ["", "=", "==", "A", "AB", "ABC", " !junk\r\n"])
def test_a_base64_attachment_decoded_in_slices_is_the_whole_decoded(tail: str) -> None:
    data = random.Random(7).randbytes(300_000)  # several slices
    payload = base64.encodebytes(data).decode().replace("\n", "\r\n").replace("Q", "Q\x00") + tail
    assert _base64(payload) == _former_base64(payload)


def test_a_large_attachment_parses_byte_for_byte() -> None:
    data = random.Random(8).randbytes(1_000_000)
    raw = mail(attachments=[("big.bin", "application/octet-stream", data)])
    [attachment] = parse_mail(raw).attachments
    assert attachment.data == data
