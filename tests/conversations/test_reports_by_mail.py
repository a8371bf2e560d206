"""Reports by mail: the lead gets the weekly volume report each Monday morning, once, even
with two daemons ticking on the same database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from maildesk.app import App, open_app
from maildesk.config import Settings
from maildesk.timed.reports import mail_reports
from maildesk.timing.clock import FixedClock
from tests.conftest import Desk, make_settings
from tests.conversations.helpers import body_of, customer_writes, mails_to
from tests.mails import mail

LEAD = "lead@example.com"
WEEKLY = {"report": "volume", "every": "monday 08:00", "to": [LEAD]}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, reports=[WEEKLY])


@pytest.fixture
def second_daemon(settings: Settings, clock: FixedClock) -> Iterator[App]:
    """Another daemon on the same database, with the same config and the same time."""
    other = open_app(settings, clock=clock)
    yield other
    other.engine.dispose()


def reports_to_lead(desk: Desk) -> list[EmailMessage]:
    return [m for m in mails_to(desk.sent(), LEAD) if "report" in str(m["Subject"]).lower()]


def test_the_weekly_report_is_mailed_once_per_week_with_two_daemons(
    desk: Desk, clock: FixedClock, second_daemon: App
) -> None:
    customer_writes(desk, subject="Printer on fire")  # Monday 23 November, 09:00 UTC
    customer_writes(desk, sender="dave@acme.test", subject="VPN down")
    desk.sent()

    clock.advance(timedelta(days=6, hours=23))  # Monday 30 November, 08:00
    assert clock.now() == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert mail_reports(desk.app) + mail_reports(second_daemon) == 1

    (report,) = reports_to_lead(desk)
    assert "Volume" in str(report["Subject"]) and "2026-11-23" in str(report["Subject"])
    assert "2" in body_of(report)  # two tickets that week
    html = report.get_body(preferencelist=("html",))
    assert html is not None and "<table" in str(html.get_content())
    (chart,) = [p for p in report.iter_attachments() if p.get_content_type() == "image/png"]
    assert chart.get_content()[:8] == b"\x89PNG\r\n\x1a\n"

    clock.advance(timedelta(hours=1))  # later that Monday: nothing new is due
    assert mail_reports(desk.app) + mail_reports(second_daemon) == 0
    clock.advance(timedelta(days=7))  # the next Monday: the next week's report
    assert mail_reports(second_daemon) + mail_reports(desk.app) == 1
    (next_week,) = reports_to_lead(desk)
    assert "2026-11-30" in str(next_week["Subject"])


def test_a_report_is_not_mailed_before_its_time_on_the_day(desk: Desk, clock: FixedClock) -> None:
    clock.advance(timedelta(days=6, hours=22, minutes=59))  # Monday 30 November, 07:59
    assert mail_reports(desk.app) == 1  # the week before's report, missed while it was down
    assert mail_reports(desk.app) == 0
    clock.advance(timedelta(minutes=1))
    assert mail_reports(desk.app) == 1


def test_the_report_covers_the_week_before_only(desk: Desk, clock: FixedClock) -> None:
    desk.receives(mail(sender="carol@acme.test", subject="First week"))
    clock.advance(timedelta(days=7))  # Monday 30 November, 09:00: one ticket last week
    desk.receives(mail(sender="carol@acme.test", subject="Second week"))
    desk.sent()
    mail_reports(desk.app)
    (report,) = reports_to_lead(desk)
    assert "2026-11-23" in str(report["Subject"])


def test_a_report_that_fails_to_render_is_one_log_line_and_is_tried_again(
    desk: Desk, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("no such figure")

    clock.advance(timedelta(days=7))  # Monday 30 November, 09:00
    monkeypatch.setattr("maildesk.timed.reports.render_report", broken)
    assert mail_reports(desk.app) == 0
    assert "report volume (monday 08:00) not mailed: ValueError: no such figure" in caplog.text
    monkeypatch.undo()
    assert mail_reports(desk.app) == 1  # the claim was rolled back with the failure
