"""automatic stage: machine-sent mail is marked (never auto-answered); the mail always goes on."""

from __future__ import annotations

import pytest

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.mail import parse_mail
from maildesk.outbound import bounces
from maildesk.outbound.bounces import Bounce, parse_bounce
from maildesk.pipeline.disposition import Verdict
from maildesk.pipeline.stages import automatic
from maildesk.pipeline.work import StageEnv, Work
from tests.conftest import Desk
from tests.mails import mail, sample


def marked(app: App, raw: bytes, *, envelope_from: str | None = None) -> Work:
    """The Work the stage hands on; it never stops a mail."""
    work = Work(item_id=1, raw=raw, mail=parse_mail(raw), envelope_from=envelope_from)
    with unit_of_work(app.engine) as session:
        env = StageEnv(session=session, desk=app.desk, now=app.desk.clock.now())
        disposition, work = automatic.run(work, env)
    assert disposition.verdict is Verdict.CONTINUE
    return work


def automatic_reason(app: App, raw: bytes, *, envelope_from: str | None = None) -> str | None:
    """Why the stage calls this mail automatic (None: a person wrote it).

    `envelope_from` is the SMTP MAIL FROM ("" the null sender); None when no envelope is known.
    """
    return marked(app, raw, envelope_from=envelope_from).automatic


def dsn() -> bytes:
    return (
        b"From: Mail Delivery System <bounces@mx.example.org>\r\n"
        b"To: support@example.com\r\nSubject: Delivery Status Notification\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\r\n\r\n'
        b"--R\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
        b"--R\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; x@acme.test\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n\r\n--R--\r\n"
    )


def test_a_mail_a_person_wrote_is_not_automatic(app: App) -> None:
    assert automatic_reason(app, mail()) is None


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
        ({"Auto-Submitted": "auto-generated"}, "Auto-Submitted: auto-generated"),
        ({"Auto-Submitted": "Auto-Replied; owner=x@acme.test"}, "Auto-Submitted: auto-replied"),
        ({"Precedence": "bulk"}, "Precedence: bulk"),
        ({"Precedence": "Junk"}, "Precedence: junk"),
        ({"Precedence": "list"}, "Precedence: list"),
        ({"X-Autoreply": "yes"}, "X-Autoreply header"),
        ({"X-Autorespond": "Out of office"}, "X-Autorespond header"),
        ({"Return-Path": "<>"}, "null return path <>"),
        ({"X-Loop": "support@example.com"}, "our own X-Loop header"),
        ({"List-Id": "Printers <printers.lists.acme.test>"}, "mailing list (List-Id)"),
    ],
)
def test_a_machine_header_makes_a_mail_automatic(
    app: App, headers: dict[str, str], reason: str
) -> None:
    assert automatic_reason(app, mail(headers=headers)) == reason


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "no"},
        {"Auto-Submitted": "No"},
        {"Precedence": "first-class"},
        {"X-Loop": "helpdesk@elsewhere.test"},
        {"Return-Path": "<carol@acme.test>"},
    ],
)
def test_a_harmless_header_does_not_make_a_mail_automatic(
    app: App, headers: dict[str, str]
) -> None:
    assert automatic_reason(app, mail(headers=headers)) is None


@pytest.mark.parametrize(
    "sender", ["MAILER-DAEMON@mx.example.org", "Postmaster <postmaster@acme.test>"]
)
def test_a_mail_system_sender_is_automatic(app: App, sender: str) -> None:
    address = sender.lower().split("<")[-1].rstrip(">")

    assert automatic_reason(app, mail(sender=sender)) == f"system sender {address}"


def test_a_delivery_status_report_is_automatic(app: App) -> None:
    assert automatic_reason(app, dsn()) == "delivery status report (multipart/report)"


def test_a_delivery_status_report_is_parsed_here_once_and_carried_on(app: App) -> None:
    raw = sample("dsn_bounce.eml")

    bounce = marked(app, raw).bounce

    assert bounce is not None and bounce == parse_bounce(raw)
    assert bounce.failed and "ack.48.1717509598.c0de@desk.example.org" in bounce.message_ids
    assert marked(app, dsn()).bounce == Bounce(
        message_ids=(), failed=True, diagnostic="x@acme.test: 5.1.1"
    )


def test_a_delivery_report_is_read_once_on_its_whole_way_through_the_desk(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = []
    read_report = bounces._report
    monkeypatch.setattr(bounces, "_report", lambda part: reports.append(part) or read_report(part))

    outcome = desk.receives(sample("dsn_bounce.eml"))  # thread-match, decide, outbox all look

    assert outcome.outcome == "dropped" and "no mail we sent" in (outcome.reason or "")
    assert len(reports) == 1


@pytest.mark.parametrize("name", ["vacation_autoreply.eml", "mailing_list.eml"])
def test_automatic_mail_that_is_no_delivery_report_carries_no_bounce(app: App, name: str) -> None:
    work = marked(app, sample(name))

    assert work.automatic is not None and work.bounce is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("vacation_autoreply.eml", "Auto-Submitted: auto-replied (vacation)"),
        ("mailing_list.eml", "Precedence: list"),
        ("dsn_bounce.eml", "Auto-Submitted: auto-replied"),
    ],
)
def test_machine_samples_are_automatic(app: App, name: str, reason: str) -> None:
    assert automatic_reason(app, sample(name)) == reason


def test_auto_submitted_no_with_a_comment_is_not_automatic(app: App) -> None:
    raw = mail(headers={"Auto-Submitted": "no (sent by a person)"})

    assert automatic_reason(app, raw) is None


def test_our_own_x_loop_wins_over_every_other_sign(app: App) -> None:
    raw = mail(headers={"Precedence": "bulk", "X-Loop": "Support@Example.com"})

    assert automatic_reason(app, raw) == "our own X-Loop header"


def test_a_plain_mail_sent_with_a_null_envelope_sender_is_automatic(app: App) -> None:
    assert automatic_reason(app, mail(), envelope_from="") == "null envelope sender MAIL FROM:<>"


@pytest.mark.parametrize("envelope_from", [None, "carol@acme.test", "bounces@lists.acme.test"])
def test_a_known_or_unknown_envelope_sender_does_not_make_a_mail_automatic(
    app: App, envelope_from: str | None
) -> None:
    assert automatic_reason(app, mail(), envelope_from=envelope_from) is None


def test_our_own_x_loop_is_recognised_on_every_desk_address(app: App) -> None:
    """Mail about a billing ticket carries the billing queue's address in its X-Loop."""
    raw = mail(headers={"X-Loop": "Billing@Example.com"})

    assert automatic_reason(app, raw) == "our own X-Loop header"
