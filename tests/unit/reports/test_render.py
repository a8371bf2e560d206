"""A report rendered for mail, and queued to the outbox as one composed mail."""

from __future__ import annotations

import csv
import email.policy
import io
from email import message_from_bytes
from email.message import EmailMessage

import pytest
from sqlmodel import select

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.models import OutboxItem
from maildesk.outbound.report_mail import queue_report_mail
from maildesk.reports.formats import as_csv, as_html, as_text, cell
from maildesk.reports.render import RenderedReport, render_report
from tests.conftest import Desk
from tests.report_history import NOVEMBER
from tests.unit.reports.conftest import report_of


def test_the_csv_holds_every_section_row_of_the_json(history: App) -> None:
    document = report_of(history, "sla")
    rows = list(csv.DictReader(io.StringIO(as_csv(document))))
    for section in ("compliance", "breaching"):
        expected = [{k: cell(v) for k, v in row.items()} for row in document[section]]
        listed = [row for row in rows if row["section"] == section]
        assert [{k: row[k] for k in expected[0]} for row in listed] == expected


def test_text_and_html_show_each_section(history: App) -> None:
    document = report_of(history, "ratings")
    text, html = as_text(document), as_html(document)
    assert text.startswith("Ratings report 2026-11-01 \u2013 2026-11-30\n")
    assert "Low" in text and "Too slow" in text
    assert "<h2>Distribution</h2>" in html and "<td>Too slow</td>" in html


def test_render_report_gives_text_html_data_and_a_png(history: App) -> None:
    with unit_of_work(history.engine) as session:
        report = render_report(session, desk=history.desk, name="sla", scope=NOVEMBER)
        bare = render_report(
            session, desk=history.desk, name="sla", scope=NOVEMBER, chart_format=None
        )
    assert report.title == "SLA report 2026-11-01 \u2013 2026-11-30"
    assert report.data["compliance"][0]["name"] == "premium" and "TKT-3" in report.text
    assert report.chart is not None and report.chart.startswith(b"\x89PNG")
    assert report.chart_filename == "sla.png"
    assert (bare.chart, bare.chart_filename) == (None, None)


def parts_of(raw: bytes) -> dict[str, EmailMessage]:
    message = message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return {part.get_content_type(): part for part in message.walk()} | {"root": message}


def test_a_report_mail_is_queued_from_the_desk_with_text_html_and_the_chart(
    history: App,
) -> None:
    now = history.desk.clock.now()
    with unit_of_work(history.engine) as session:
        report = render_report(session, desk=history.desk, name="sla", scope=NOVEMBER)
        queue_report_mail(
            session, desk=history.desk, report=report, recipients=["lead@example.com"], now=now
        )
    with unit_of_work(history.engine) as session:
        [item] = session.exec(select(OutboxItem)).all()
        assert (item.kind, item.recipients, item.automatic, item.state) == (
            "report", ["lead@example.com"], False, "queued",
        )  # fmt: skip
        assert item.raw is not None
        parts = parts_of(item.raw)
    root = parts["root"]
    assert root["From"] == "Example Support <support@example.com>"
    assert root["Subject"] == "[Example Support] SLA report 2026-11-01 \u2013 2026-11-30"
    assert "TKT-6" in parts["text/plain"].get_content()
    assert "<td>TKT-6</td>" in parts["text/html"].get_content()
    png = parts["image/png"]
    assert png.get_filename() == "sla.png" and png.get_content() == report.chart


def test_a_report_mail_needs_real_addresses(history: App) -> None:
    report = RenderedReport("sla", "SLA report", "", "", {}, None, None)
    with unit_of_work(history.engine) as session, pytest.raises(InvalidInput, match="not a mail"):
        queue_report_mail(
            session,
            desk=history.desk,
            report=report,
            recipients=["lead"],
            now=history.desk.clock.now(),
        )


def test_the_sender_delivers_a_queued_report_mail(history: App, desk: Desk) -> None:
    with unit_of_work(history.engine) as session:
        report = render_report(session, desk=history.desk, name="volume", scope=NOVEMBER)
        queue_report_mail(
            session,
            desk=history.desk,
            report=report,
            recipients=["lead@example.com"],
            now=history.desk.clock.now(),
        )
    [delivered] = desk.sent()
    assert delivered["To"] == "lead@example.com"
    assert delivered["Subject"] == "[Example Support] Volume report 2026-11-01 \u2013 2026-11-30"
    with unit_of_work(history.engine) as session:
        assert session.exec(select(OutboxItem.state)).all() == ["sent"]
