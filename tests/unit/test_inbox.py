"""The inbox: raw mail stored once on accept, processed once, and reviewable when held or failed."""

from __future__ import annotations

import email.policy
import hashlib
import logging
from collections.abc import Callable
from email import message_from_bytes

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import col, select

from maildesk.app import App, accept_raw
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput, NotFound
from maildesk.inbox_row import digest_of
from maildesk.models import Attachment, Contact, InboxItem, Message, Ticket
from maildesk.pipeline import runner
from maildesk.pipeline.batch import drain
from maildesk.pipeline.disposition import CONTINUE
from maildesk.pipeline.runner import process_one
from maildesk.pipeline.work import StageEnv, Step, Work
from maildesk.services.inbox import requeue
from maildesk.services.origin import Origin
from tests.mails import mail, sample

PIPE = Origin(transport="pipe")


def imap(uid: int, uidvalidity: int = 7) -> Origin:
    return Origin(transport="imap", mailbox="main", uidvalidity=uidvalidity, uid=uid)


def items(app: App) -> list[InboxItem]:
    with unit_of_work(app.engine) as session:
        return list(session.exec(select(InboxItem).order_by(col(InboxItem.id))))


def item(app: App, item_id: int) -> InboxItem:
    with unit_of_work(app.engine) as session:
        found = session.get(InboxItem, item_id)
        assert found is not None
        return found


# --- accept and dedupe ---------------------------------------------------------------------------


def test_the_same_bytes_twice_are_one_item(app: App) -> None:
    raw = mail(message_id="m1@acme.test")

    first = accept_raw(app, raw, PIPE)
    second = accept_raw(app, raw, PIPE)

    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.item_id == first.item_id
    assert len(items(app)) == 1


@pytest.mark.parametrize(
    "trace",
    [
        b"Received: from mx2.example.org by mx1.example.org; Mon, 23 Nov 2026 09:01:00 +0000\r\n",
        b"Delivered-To: support@example.com\r\n",
        b"Return-Path: <carol@acme.test>\r\nX-Original-To: support@example.com\r\n",
        b"Received: from mx2.example.org\r\n\tby mx1.example.org;\r\n\tMon, 23 Nov 2026\r\n",
    ],
    ids=["received", "delivered-to", "return-path-and-original-to", "folded-received"],
)
def test_a_redelivery_with_new_trace_headers_on_top_is_a_duplicate(app: App, trace: bytes) -> None:
    raw = mail(message_id="m1@acme.test")

    first = accept_raw(app, raw, PIPE)
    again = accept_raw(app, trace + raw, PIPE)

    assert again.duplicate and again.item_id == first.item_id


# What an MTA puts on top of a mail on each delivery: trace fields, any case, maybe folded.
TRACE_NAMES = ("Received", "Return-Path", "Delivered-To", "X-Original-To", "X-Delivered-To")
FIELD_TEXT = st.text(st.characters(codec="ascii", exclude_characters="\r\n"), max_size=30)


@st.composite
def trace_fields(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from((*TRACE_NAMES, "Envelope-To")))
    name = draw(st.sampled_from([name, name.upper(), name.lower()]))
    end = draw(st.sampled_from(["\r\n", "\n"]))
    field = f"{name}{draw(st.sampled_from(['', ' ']))}: {draw(FIELD_TEXT)}{end}"
    for folded in draw(st.lists(FIELD_TEXT, max_size=2)):
        field += f"{draw(st.sampled_from([' ', chr(9)]))}{folded}{end}"
    return field.encode()


TRACES = st.lists(trace_fields(), max_size=5)
# A mail as it arrives: its own header fields first (never a trace field), then a body.
MAILS = st.builds(
    lambda subject, body: b"From: carol@acme.test\r\nSubject: " + subject + b"\r\n\r\n" + body,
    st.binary(max_size=30).filter(lambda v: b"\r" not in v and b"\n" not in v),
    st.binary(max_size=200),
)


@given(raw=MAILS, on_top=TRACES, data=st.data())
def test_adding_removing_or_reordering_trace_fields_on_top_never_changes_the_dedupe_key(
    raw: bytes, on_top: list[bytes], data: st.DataObject
) -> None:
    reordered = data.draw(st.permutations(on_top))
    fewer = data.draw(st.lists(st.sampled_from(on_top), max_size=len(on_top))) if on_top else []
    more = data.draw(st.lists(trace_fields(), max_size=3))

    keys = {digest_of(b"".join(fields) + raw) for fields in (on_top, reordered, fewer, more)}
    assert keys == {digest_of(raw)}


@given(raw=MAILS, on_top=TRACES, data=st.data())
def test_changing_any_byte_of_the_mail_itself_changes_the_dedupe_key(
    raw: bytes, on_top: list[bytes], data: st.DataObject
) -> None:
    position = data.draw(st.integers(0, len(raw) - 1))
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != raw[position]))
    changed = raw[:position] + bytes([byte]) + raw[position + 1 :]

    assert digest_of(b"".join(on_top) + changed) != digest_of(b"".join(on_top) + raw)


def test_the_same_message_id_with_other_content_is_a_second_item(app: App) -> None:
    first = accept_raw(app, mail(message_id="m1@acme.test", body="One."), PIPE)
    second = accept_raw(app, mail(message_id="m1@acme.test", body="Two."), PIPE)

    assert not second.duplicate
    assert second.item_id != first.item_id
    outcomes = drain(app.engine, app.desk)
    assert [o.item_id for o in outcomes] == [first.item_id, second.item_id]
    assert all(o.outcome in ("created", "appended") for o in outcomes)


def test_the_same_imap_uid_with_other_bytes_is_a_duplicate(app: App) -> None:
    first = accept_raw(app, mail(body="One."), imap(uid=42))
    second = accept_raw(app, mail(body="Two."), imap(uid=42))

    assert second.duplicate and second.item_id == first.item_id


def test_the_same_uid_under_a_new_uidvalidity_is_a_new_item(app: App) -> None:
    accept_raw(app, mail(body="One."), imap(uid=42, uidvalidity=7))
    second = accept_raw(app, mail(body="Two."), imap(uid=42, uidvalidity=8))

    assert not second.duplicate


def test_a_message_id_with_a_nul_byte_is_accepted_on_every_database(app: App) -> None:
    raw = mail(message_id="m1@acme.test").replace(b"m1@acme.test", b"m\x001@acme.test")

    stored = accept_raw(app, raw, PIPE)

    assert item(app, stored.item_id).message_id is None


def test_a_message_id_too_long_for_an_index_is_accepted_and_processed_on_every_database(
    app: App,
) -> None:
    long_id = "票" * 990 + "@acme.test"  # 990 characters, 2980 bytes: over PostgreSQL's index row
    raw = mail(subject="Printer on fire").replace(
        b"Message-ID: <", f"Message-ID: <{long_id}>\r\nX-Was: <".encode(), 1
    )

    stored = accept_raw(app, raw, PIPE)
    outcome = process_one(app.engine, app.desk, item_id=stored.item_id)

    assert item(app, stored.item_id).message_id is None
    assert outcome is not None and outcome.outcome == "created"


# --- requeue -----------------------------------------------------------------------------------


def held_mail() -> bytes:
    return b"From: alice@example.com\r\n" + mail(message_id="h1@acme.test")


def test_a_held_item_is_requeued_and_processed_again(app: App) -> None:
    stored = accept_raw(app, held_mail(), PIPE)
    outcome = process_one(app.engine, app.desk, item_id=stored.item_id)
    assert outcome is not None and outcome.outcome == "held"

    with unit_of_work(app.engine) as session:
        requeued = requeue(session, item_id=stored.item_id)
        assert requeued.state == "received"

    again = process_one(app.engine, app.desk)
    assert again is not None and again.item_id == stored.item_id
    assert again.outcome == "held"  # the same mail, still without a single sender
    assert item(app, stored.item_id).attempts == 2


def test_a_processed_item_cannot_be_requeued(app: App) -> None:
    stored = accept_raw(app, mail(), PIPE)
    process_one(app.engine, app.desk, item_id=stored.item_id)

    with (
        pytest.raises(InvalidInput, match="is processed; only held or failed items requeue"),
        unit_of_work(app.engine) as session,
    ):
        requeue(session, item_id=stored.item_id)
    assert item(app, stored.item_id).state == "processed"


def test_requeueing_an_unknown_item_is_not_found(app: App) -> None:
    with pytest.raises(NotFound, match="no inbox item 999"), unit_of_work(app.engine) as session:
        requeue(session, item_id=999)


# --- a crashing stage ----------------------------------------------------------------------------

StageFn = Callable[[Work, StageEnv], Step]


def exploding_on(word: str) -> StageFn:
    def stage(work: Work, env: StageEnv) -> Step:
        if word in work.parsed().subject:
            raise RuntimeError(f"boom: {word}")
        return CONTINUE, work

    return stage


def with_loop_stage(stage: StageFn) -> tuple[tuple[str, StageFn], ...]:
    """The stage table with `loop` swapped (runner imported STAGES by name: patch it there)."""
    return tuple((name, stage if name == "loop" else fn) for name, fn in runner.STAGES)


def test_a_crashing_stage_fails_its_item_and_the_next_item_still_processes(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "STAGES", with_loop_stage(exploding_on("explode")))
    bad = accept_raw(app, mail(subject="Please explode", message_id="x1@acme.test"), PIPE)
    good = accept_raw(app, mail(subject="Printer on fire", message_id="g1@acme.test"), PIPE)

    outcomes = drain(app.engine, app.desk)

    assert [(o.item_id, o.outcome) for o in outcomes] == [
        (bad.item_id, "failed"),
        (good.item_id, "created"),
    ]
    failed = item(app, bad.item_id)
    assert failed.state == "failed"
    assert failed.reason == "RuntimeError: boom: explode"
    assert failed.error is not None
    assert failed.error.startswith("Traceback (most recent call last)")
    assert "in stage" in failed.error  # the frame of the stage that raised


def test_a_crashing_stage_is_one_error_line_with_the_traceback_only_at_debug(
    app: App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runner, "STAGES", with_loop_stage(exploding_on("explode")))
    bad = accept_raw(app, mail(subject="Please explode"), PIPE)
    caplog.set_level(logging.DEBUG, logger=runner.__name__)

    process_one(app.engine, app.desk, item_id=bad.item_id)

    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert error.getMessage() == (
        f"inbox item {bad.item_id} failed: RuntimeError: boom: explode"
        f" (see: maildesk inbox show {bad.item_id})"
    )
    assert error.exc_info is None and "\n" not in error.getMessage()
    [debug] = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert "Traceback (most recent call last)" in debug.getMessage()


def test_a_failed_item_is_requeued_after_the_fix_and_processes(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "STAGES", with_loop_stage(exploding_on("explode")))
    bad = accept_raw(app, mail(subject="Please explode"), PIPE)
    drain(app.engine, app.desk)
    monkeypatch.undo()  # the fix is deployed

    with unit_of_work(app.engine) as session:
        requeue(session, item_id=bad.item_id)
    outcome = process_one(app.engine, app.desk, item_id=bad.item_id)

    assert outcome is not None and outcome.outcome == "created"
    assert item(app, bad.item_id).error is None


# --- what any database stores ------------------------------------------------------------------


def test_a_mail_with_absurd_header_values_is_processed_on_every_database(app: App) -> None:
    raw = mail(
        sender=f'"{"N" * 400}" <carol@acme.test>',
        subject="S" * 5000,
        message_id="x" * 1200 + "@acme.test",
        cc=f"{'c' * 300}@acme.test, dan@partner.test",
        attachments=[("f" * 400 + ".pdf", "application/pdf", b"%PDF")],
    )
    stored = accept_raw(app, raw, PIPE)

    outcome = process_one(app.engine, app.desk, item_id=stored.item_id)

    assert outcome is not None and outcome.outcome == "created", item(app, stored.item_id).error


def mail_in_utf7_with_nul_and_lone_surrogates() -> bytes:
    """UTF-7 is how real mail reaches Python as NUL (+AAA-) and lone surrogates (+2AA-, +3K0-)."""
    return (
        b"From: =?utf-7?q?Ca+AAA-rol_+2AA-_Customer?= <carol@acme.test>\r\n"
        b"To: support@example.com\r\n"
        b"Subject: =?utf-7?q?Print+AAA-er_+3K0-_on_fire?=\r\n"
        b"Message-ID: <utf7@acme.test>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-7\r\n\r\n"
        b"Hel+AAA-lo, it +2AA- burns.\x00\r\n"
    )


def test_nul_and_lone_surrogates_are_read_back_alike_from_every_database(app: App) -> None:
    raw = mail_in_utf7_with_nul_and_lone_surrogates()
    stored = accept_raw(app, raw, PIPE)

    outcome = process_one(app.engine, app.desk, item_id=stored.item_id)

    assert outcome is not None and outcome.outcome == "created", item(app, stored.item_id).error
    with unit_of_work(app.engine) as session:
        [ticket] = session.exec(select(Ticket)).all()
        [message] = session.exec(select(Message)).all()
        contact = session.exec(select(Contact).where(Contact.email == "carol@acme.test")).one()
    assert ticket.subject == message.subject == "Printer \ufffd on fire"
    assert message.author_name == contact.name == "Carol \ufffd Customer"
    assert message.text == "Hello, it \ufffd burns."
    assert message.original.rstrip("\n") == "Hello, it \ufffd burns."
    assert item(app, stored.item_id).raw == raw  # the raw bytes keep even the NUL


# --- attachments ---------------------------------------------------------------------------------


def attachment_bytes(raw: bytes, filename: str) -> bytes:
    """The decoded bytes of one attachment, as the stdlib reads them (our parser not involved)."""
    message = message_from_bytes(raw, policy=email.policy.default)
    [data] = [
        part.get_payload(decode=True) for part in message.walk() if part.get_filename() == filename
    ]
    assert isinstance(data, bytes)
    return data


def test_an_outlook_winmail_dat_is_stored_as_it_came(app: App) -> None:
    raw = sample("tnef.eml")
    winmail = attachment_bytes(raw, "winmail.dat")
    stored = accept_raw(app, raw, PIPE)

    outcome = process_one(app.engine, app.desk, item_id=stored.item_id)

    assert outcome is not None and outcome.outcome == "created"
    with unit_of_work(app.engine) as session:
        [attachment] = session.exec(select(Attachment)).all()
    assert (attachment.filename, attachment.content_type) == ("winmail.dat", "application/ms-tnef")
    assert attachment.size == len(winmail) == 184
    assert attachment.sha256 == hashlib.sha256(winmail).hexdigest()
    assert app.desk.store.get(attachment.sha256) == winmail
    assert winmail.startswith(bytes.fromhex("789f3e22"))  # the TNEF signature, not re-encoded
