"""Reports by mail: each `[[reports]]` entry is mailed once per period, when its time comes.

The due moment comes from `timing/schedule.py` in the desk's time zone; the mailing is claimed
(`services/report_runs.py`), rendered and queued in one transaction, so with two daemons
ticking at once exactly one of them mails it, and a crash before the commit mails it again.
A daemon that was down mails the latest period it missed, once, when it is back.
"""

from __future__ import annotations

import logging
from datetime import datetime

from maildesk.app import App
from maildesk.config import ReportMailSettings
from maildesk.db import unit_of_work
from maildesk.errors import TransientError
from maildesk.outbound.report_mail import queue_report_mail
from maildesk.reports.render import ReportScope, render_report
from maildesk.services.report_runs import claim_report_run
from maildesk.timing.schedule import last_due, period

log = logging.getLogger(__name__)


def mail_reports(app: App) -> int:
    """Mail every report whose period has ended and is not mailed yet; how many were."""
    now = app.desk.clock.now()
    return sum(_mail_safely(app, entry, now) for entry in app.settings.reports)


def _mail_safely(app: App, entry: ReportMailSettings, now: datetime) -> bool:
    """One report that fails to render is one log line; the next tick tries it again."""
    try:
        return _mail_if_due(app, entry, now)
    except TransientError:
        raise
    except Exception as exc:
        log.error(
            "report %s (%s) not mailed: %s: %s", entry.report, entry.every, type(exc).__name__, exc
        )
        return False


def _mail_if_due(app: App, entry: ReportMailSettings, now: datetime) -> bool:
    zone = app.settings.desk.zone
    due = last_due(entry.every, now, zone)
    since, until = period(entry.every, due, zone)
    scope = ReportScope(since=since, until=until, **entry.filters())
    chart = "png" if entry.chart else None
    with unit_of_work(app.engine) as session:
        if not claim_report_run(session, key=entry.key, due=due, now=now):
            return False
        report = render_report(
            session, desk=app.desk, name=entry.report, scope=scope, chart_format=chart
        )
        queue_report_mail(session, desk=app.desk, report=report, recipients=entry.to, now=now)
    log.info("report %s for %s - %s queued to %s", entry.report, since, until, ", ".join(entry.to))
    return True
