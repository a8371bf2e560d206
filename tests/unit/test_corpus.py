"""The sample mails in tests/data parse and still show the trait each one is there for."""

# ruff: noqa: RUF001  (the samples are multilingual: Cyrillic letters and dashes are meant)

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import mailparser
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLES = sorted(DATA.glob("*.eml"))
WITHOUT_MESSAGE_ID = {"no_charset_8bit.eml"}  # a PHP contact form: nobody added one


def _stdlib(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_corpus_is_all_there() -> None:
    assert len(SAMPLES) == 15


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_parses_with_mail_parser(path: Path) -> None:
    parsed = mailparser.parse_from_bytes(path.read_bytes())

    assert parsed.from_
    assert parsed.subject


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_has_a_message_id_unless_it_is_meant_not_to(path: Path) -> None:
    parsed = mailparser.parse_from_bytes(path.read_bytes())

    if path.name in WITHOUT_MESSAGE_ID:
        assert not parsed.message_id
    else:
        assert parsed.message_id.startswith("<") and parsed.message_id.endswith(">")


def _filenames(message: EmailMessage) -> list[str]:
    return [part.get_filename() or "" for part in message.iter_attachments()]


def _body_bytes(message: EmailMessage) -> bytes:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


TRAITS: dict[str, Callable[[EmailMessage], bool]] = {
    "outlook_reply.eml": lambda m: (
        bool(m["Thread-Index"]) and m.get_content_subtype() == "alternative"
    ),
    "gmail_reply.eml": lambda m: m["Message-ID"].endswith("@mail.gmail.com>"),
    "apple_mail_reply.eml": lambda m: m.get_param("format") == "flowed",
    "inline_reply.eml": lambda m: m["User-Agent"] == "Mozilla Thunderbird",
    "koi8r.eml": lambda m: m.get_content_charset() == "koi8-r" and "Не работает" in m["Subject"],
    "iso8859_1.eml": lambda m: m["Subject"] == "AW: [TKT-46] Rechnung für März",
    "utf8_encoded_words.eml": lambda m: (
        m["Subject"].endswith("請求書が届きません")
        and m["From"].addresses[0].display_name == "Jürgen Müller"
    ),
    "rfc2231_attachment.eml": lambda m: (
        _filenames(m)
        == [
            "Rechnung März 2024 – Kunde № 42 Übersicht.pdf",
            "../../etc/passwd",
            "../../invoice\u202efdp.exe",
        ]
    ),
    "dsn_bounce.eml": lambda m: (
        m.get_content_type() == "multipart/report"
        and m["Return-Path"] == "<>"
        and [p.get_content_type() for p in m.iter_parts()][1] == "message/delivery-status"
    ),
    "vacation_autoreply.eml": lambda m: (
        m["Auto-Submitted"].startswith("auto-replied") and m["X-Autoreply"] == "yes"
    ),
    "tnef.eml": lambda m: (
        [p.get_content_type() for p in m.iter_attachments()] == ["application/ms-tnef"]
        and _body_bytes(next(m.iter_attachments()))[:4] == b"\x78\x9f\x3e\x22"
    ),
    "no_charset_8bit.eml": lambda m: m.get_param("charset") is None and b"\x80" in _body_bytes(m),
    "wrong_charset.eml": lambda m: (
        m.get_content_charset() == "utf-8" and b"Gr\xfc\xdfe" in _body_bytes(m)
    ),
    "mailing_list.eml": lambda m: m["Precedence"] == "list" and bool(m["List-Id"]),
    "two_from_headers.eml": lambda m: len(m.get_all("From") or []) == 2,
}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_still_has_the_trait_it_is_there_for(path: Path) -> None:
    assert TRAITS[path.name](_stdlib(path))
