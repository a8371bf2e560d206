"""Delivery status notifications (RFC 3464): which mail of ours came back, and why."""

from __future__ import annotations

import pytest

from maildesk.outbound.bounces import parse_bounce
from tests.mails import mail, sample


def report(
    *,
    blocks: str,
    returned: str = "text/rfc822-headers",
    report_type: str = "delivery-status",
    thread: str = "",
) -> bytes:
    """A DSN about our mail <ours@example.com> whose per-recipient blocks are `blocks`."""
    original = "From: support@example.com\r\nMessage-ID: <ours@example.com>\r\n"
    if returned == "message/rfc822":
        original += "Subject: Hello\r\n\r\nthe body\r\n"
    return (
        "From: MAILER-DAEMON@relay.test\r\nTo: support+bounces@example.com\r\n"
        f"Subject: Delivery Status Notification\r\n{thread}MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type={report_type}; boundary="b"\r\n'
        "\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n"
        "\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; relay.test\r\n\r\n{blocks}"
        f"\r\n--b\r\nContent-Type: {returned}\r\n\r\n{original}"
        "\r\n--b--\r\n"
    ).encode()


FAILED = "Final-Recipient: rfc822; a@acme.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"


def test_the_postfix_sample_names_our_ack_the_recipient_and_the_servers_words() -> None:
    bounce = parse_bounce(sample("dsn_bounce.eml"))

    assert bounce is not None
    assert bounce.message_ids == ("ack.48.1717509598.c0de@desk.example.org",)
    assert bounce.failed
    assert bounce.diagnostic == (
        "nobody@example.net: 5.1.1 smtp; 550 5.1.1 <nobody@example.net>: Recipient address "
        "rejected: User unknown in virtual mailbox table"
    )


@pytest.mark.parametrize("returned", ["text/rfc822-headers", "message/rfc822"])
def test_the_returned_mail_is_found_as_headers_or_as_a_whole_message(returned: str) -> None:
    bounce = parse_bounce(report(blocks=FAILED, returned=returned))

    assert bounce is not None and bounce.message_ids == ("ours@example.com",)


def test_the_returned_mails_id_comes_before_the_reports_own_thread_ids() -> None:
    thread = "In-Reply-To: <reply@example.com>\r\nReferences: <first@example.com>\r\n"

    bounce = parse_bounce(report(blocks=FAILED, thread=thread))

    assert bounce is not None
    assert bounce.message_ids == ("ours@example.com", "reply@example.com", "first@example.com")


def test_every_recipient_of_a_report_is_named() -> None:
    second = "Final-Recipient: rfc822; b@acme.test\r\nAction: delivered\r\nStatus: 2.0.0\r\n"

    bounce = parse_bounce(report(blocks=FAILED + "\r\n" + second))

    assert bounce is not None and bounce.failed
    assert bounce.diagnostic == "a@acme.test: 5.1.1; b@acme.test: 2.0.0"


@pytest.mark.parametrize(
    ("blocks", "failed"),
    [
        ("Final-Recipient: rfc822; a@acme.test\r\nAction: delayed\r\nStatus: 4.4.1\r\n", False),
        ("Final-Recipient: rfc822; a@acme.test\r\nAction: relayed\r\nStatus: 2.0.0\r\n", False),
        ("Final-Recipient: rfc822; a@acme.test\r\nStatus: 5.7.1\r\n", True),
        ("Final-Recipient: rfc822; a@acme.test\r\nStatus: 4.2.2\r\n", False),
    ],
)
def test_only_a_failed_action_or_a_permanent_status_fails_the_mail(
    blocks: str, failed: bool
) -> None:
    bounce = parse_bounce(report(blocks=blocks))

    assert bounce is not None and bounce.failed is failed


def test_a_report_of_another_type_and_a_plain_mail_are_no_bounces() -> None:
    assert parse_bounce(report(blocks=FAILED, report_type="disposition-notification")) is None
    assert parse_bounce(mail(subject="Undelivered Mail Returned to Sender")) is None
