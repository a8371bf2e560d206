"""A rendered report as a mail in the outbox: text with an HTML alternative, the chart
attached, from the desk to the people who asked for it.

Not an automatic reply: the recipients asked for it, so it is neither rate-limited nor kept
from anyone; it is marked auto-generated (RFC 3834) so nobody's autoresponder answers it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Protocol

from sqlmodel import Session

from maildesk.addresses import new_message_id
from maildesk.errors import InvalidInput
from maildesk.models import OutboxItem
from maildesk.outbound.compose import POLICY, DeskIdentity, bounce_address
from maildesk.report_values import RenderedReport

KIND = "report"


class Sender(Protocol):
    """What the mail needs of the desk (a `maildesk.desk.Desk`)."""

    @property
    def identity(self) -> DeskIdentity: ...


def report_subject(identity: DeskIdentity, report: RenderedReport) -> str:
    """`[Example Support] SLA report 2026-11-01 - 2026-11-30` (an en dash between the days)."""
    return f"[{identity.name}] {report.title}"


def compose_report(
    identity: DeskIdentity,
    report: RenderedReport,
    recipients: Sequence[str],
    *,
    now: datetime,
    message_id: str,
) -> bytes:
    message = EmailMessage(policy=POLICY)
    message["From"] = formataddr((identity.name, identity.address))
    message["To"] = ", ".join(recipients)
    message["Subject"] = report_subject(identity, report)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{message_id}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Loop"] = identity.address
    message.set_content(report.text, subtype="plain", charset="utf-8")
    message.add_alternative(report.html, subtype="html", charset="utf-8")
    if report.chart is not None and report.chart_filename:
        subtype = "svg+xml" if report.chart_filename.endswith(".svg") else "png"
        message.add_attachment(
            report.chart, maintype="image", subtype=subtype, filename=report.chart_filename
        )
    return message.as_bytes()


def queue_report_mail(
    session: Session,
    *,
    desk: Sender,
    report: RenderedReport,
    recipients: Sequence[str],
    now: datetime,
) -> OutboxItem:
    """Compose the report's mail and write it to the outbox, due now."""
    if not recipients:
        raise InvalidInput("a report mail needs at least one recipient")
    for address in recipients:
        if parseaddr(address)[1] != address or "@" not in address:
            raise InvalidInput(f"not a mail address: {address!r}")
    identity = desk.identity
    message_id = new_message_id(identity.domain)
    item = OutboxItem(
        kind=KIND,
        message_id=message_id,
        envelope_from=bounce_address(identity.address),
        recipients=list(recipients),
        raw=compose_report(identity, report, recipients, now=now, message_id=message_id),
        automatic=False,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    session.flush()
    return item
