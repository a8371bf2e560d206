"""parse stage: raw bytes become an InboundMail, or the mail is held with the reason why."""

from __future__ import annotations

from dataclasses import replace

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.pipeline.disposition import Disposition, Verdict
from maildesk.pipeline.parse_pool import parse as parse_ahead
from maildesk.pipeline.stages import parse
from maildesk.pipeline.work import StageEnv, Work
from tests.mails import mail


def run_parse(app: App, raw: bytes) -> tuple[Disposition, Work]:
    return run_parse_work(app, Work(item_id=1, raw=raw))


def run_parse_work(app: App, work: Work) -> tuple[Disposition, Work]:
    with unit_of_work(app.engine) as session:
        env = StageEnv(session=session, desk=app.desk, now=app.desk.clock.now())
        return parse.run(work, env)


def with_desk(app: App, **desk: object) -> App:
    settings = app.settings.model_copy(update={"desk": app.settings.desk.model_copy(update=desk)})
    return replace(app, desk=replace(app.desk, settings=settings))


def with_smtp(app: App, **smtp: object) -> App:
    settings = app.settings.model_copy(update={"smtp": app.settings.smtp.model_copy(update=smtp)})
    return replace(app, desk=replace(app.desk, settings=settings))


def nested_mail(depth: int) -> bytes:
    opening = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (level, level)
        for level in range(depth - 1)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % level for level in reversed(range(depth - 1)))
    head = b"From: carol@acme.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    return head + opening + b"Content-Type: text/plain\r\n\r\nbottom\r\n" + closing


def test_a_mail_is_parsed_and_goes_on(app: App) -> None:
    disposition, work = run_parse(app, mail(subject="Printer on fire"))

    assert disposition.verdict is Verdict.CONTINUE
    assert work.mail is not None
    assert work.mail.subject == "Printer on fire"
    assert work.mail.sender is not None and work.mail.sender.email == "carol@acme.test"


def test_a_mail_over_the_size_limit_is_held_unparsed(app: App) -> None:
    raw = mail(body="x" * 5000)
    limited = with_smtp(app, max_message_bytes=2048)

    disposition, work = run_parse(limited, raw)

    assert disposition.verdict is Verdict.HOLD
    assert disposition.reason == f"oversize: {len(raw)} bytes, limit 2048"
    assert work.mail is None


def test_a_mail_exactly_at_the_size_limit_goes_on(app: App) -> None:
    raw = mail()

    disposition, _ = run_parse(with_smtp(app, max_message_bytes=len(raw)), raw)

    assert disposition.verdict is Verdict.CONTINUE


def test_bytes_that_are_no_mail_are_held(app: App) -> None:
    disposition, work = run_parse(app, b"\x00\xff" * 100)

    assert disposition.verdict is Verdict.HOLD
    assert disposition.reason == "no mail headers found"
    assert work.mail is None


def test_mime_nested_deeper_than_the_configured_limit_is_held(app: App) -> None:
    disposition, _ = run_parse(with_desk(app, max_mime_depth=5), nested_mail(6))

    assert disposition.verdict is Verdict.HOLD
    assert disposition.reason == "MIME nesting 6 deeper than the limit 5"


def test_mime_nested_to_the_configured_limit_goes_on(app: App) -> None:
    disposition, work = run_parse(with_desk(app, max_mime_depth=5), nested_mail(5))

    assert disposition.verdict is Verdict.CONTINUE
    assert work.mail is not None and work.mail.mime_depth == 5


def test_absurd_nesting_is_held_not_crashed(app: App) -> None:
    disposition, _ = run_parse(app, nested_mail(5000))

    assert disposition.verdict is Verdict.HOLD
    assert disposition.reason.startswith("cannot parse mail")


def test_the_default_limit_lets_a_hundred_levels_through(app: App) -> None:
    assert app.settings.desk.max_mime_depth == 100

    disposition, work = run_parse(app, nested_mail(100))

    assert disposition.verdict is Verdict.CONTINUE
    assert work.mail is not None and work.mail.mime_depth == 100
    assert work.mail.text.strip() == "bottom"


def test_the_default_limit_holds_a_hundred_and_one_levels_with_the_reason(app: App) -> None:
    disposition, work = run_parse(app, nested_mail(101))

    assert disposition.verdict is Verdict.HOLD
    assert disposition.reason == "MIME nesting 101 deeper than the limit 100"
    assert work.mail is None


def test_a_mail_parsed_ahead_is_taken_as_the_pool_parsed_it(app: App) -> None:
    raw = mail(subject="Printer on fire")
    ahead = parse_ahead(raw, app.settings.desk.max_mime_depth)

    disposition, work = run_parse_work(app, Work(item_id=1, raw=raw, parsed_ahead=ahead))

    assert disposition.verdict is Verdict.CONTINUE
    assert work.mail is ahead.mail


def test_a_mail_the_pool_found_unparseable_is_held_with_the_pools_reason(app: App) -> None:
    raw = nested_mail(101)
    ahead = parse_ahead(raw, app.settings.desk.max_mime_depth)

    disposition, work = run_parse_work(app, Work(item_id=1, raw=raw, parsed_ahead=ahead))

    assert disposition.verdict is Verdict.HOLD
    assert disposition.reason == "MIME nesting 101 deeper than the limit 100"
    assert disposition == run_parse(app, raw)[0]  # as inline
    assert work.mail is None


def test_the_size_limit_holds_a_mail_even_when_it_was_parsed_ahead(app: App) -> None:
    raw = mail(body="x" * 5000)
    ahead = parse_ahead(raw, app.settings.desk.max_mime_depth)
    limited = with_smtp(app, max_message_bytes=2048)

    disposition, _ = run_parse_work(limited, Work(item_id=1, raw=raw, parsed_ahead=ahead))

    assert disposition.reason == f"oversize: {len(raw)} bytes, limit 2048"
