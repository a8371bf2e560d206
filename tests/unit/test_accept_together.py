"""Mails that arrive together are stored in one transaction; one that cannot be stored fails
alone, and an outage fails them all (each sender is told to try again)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import Session, col, select

import maildesk.app
from maildesk.app import App, accept_together, async_accept, in_groups
from maildesk.errors import TransientError
from maildesk.models import InboxItem
from maildesk.services.inbox import Stored, store_raw
from maildesk.services.origin import Accepted, Origin
from tests.mails import mail

SMTP = Origin(transport="smtp", peer="192.0.2.1:25", envelope_to=("support@example.com",))


def stored_subjects(app: App) -> list[bytes]:
    with Session(app.engine) as session:
        rows = session.exec(select(InboxItem.raw).order_by(col(InboxItem.id)))
        return [raw.split(b"Subject: ", 1)[1].split(b"\n", 1)[0] for raw in rows]


def test_mails_accepted_together_are_each_stored_once(app: App) -> None:
    first, second = mail(subject="One"), mail(subject="Two")

    found = accept_together(app, [(first, SMTP), (second, SMTP), (first, SMTP)])

    one, two, again = found
    assert isinstance(one, Stored) and isinstance(again, Stored) and isinstance(two, Stored)
    assert not one.duplicate and not two.duplicate
    assert again.duplicate and again.item_id == one.item_id
    assert stored_subjects(app) == [b"One", b"Two"]


def test_a_mail_that_cannot_be_stored_fails_alone(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    def picky(session: Session, *, raw: bytes, **rest: Any) -> Stored:
        if b"Poison" in raw:
            raise ValueError("cannot store this one")
        return store_raw(session, raw=raw, **rest)

    monkeypatch.setattr(maildesk.app, "store_raw", picky)
    mails = [mail(subject="Fine"), mail(subject="Poison"), mail(subject="Also fine")]

    found = accept_together(app, [(raw, SMTP) for raw in mails])

    assert isinstance(found[0], Stored) and isinstance(found[2], Stored)
    assert isinstance(found[1], ValueError)
    assert stored_subjects(app) == [b"Fine", b"Also fine"]


def test_an_outage_fails_every_mail_of_the_group(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    def gone(session: Session, **anything: Any) -> Stored:
        raise TransientError("database unavailable: connection lost")

    monkeypatch.setattr(maildesk.app, "store_raw", gone)

    with pytest.raises(TransientError):
        accept_together(app, [(mail(subject="One"), SMTP), (mail(subject="Two"), SMTP)])


async def test_the_accept_transports_call_answers_each_mail_for_itself(app: App) -> None:
    accept = async_accept(app)
    first = mail(subject="First")

    answers = await asyncio.gather(
        accept(first, SMTP), accept(mail(subject="Second"), SMTP), accept(first, SMTP)
    )

    assert answers == [Accepted.STORED, Accepted.STORED, Accepted.DUPLICATE]
    assert stored_subjects(app) == [b"First", b"Second"]


def test_a_reader_holds_mails_in_groups_up_to_a_byte_limit_a_larger_one_alone() -> None:
    raws = [b"a" * 3, b"b" * 4, b"c" * 9, b"d" * 2, b"e" * 2, b"f" * 2]

    groups = list(in_groups(raws, limit=8))

    assert groups == [[b"aaa", b"bbbb"], [b"c" * 9], [b"dd", b"ee", b"ff"]]
    assert list(in_groups([])) == []
