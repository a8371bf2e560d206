"""`maildesk report NAME`: a report over a window of time, as a table, JSON or CSV, with a
chart file, or queued as a mail."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from maildesk.app import App
from maildesk.cli.output import moment_option, print_json, print_table
from maildesk.cli.root import state
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.outbound.report_mail import queue_report_mail
from maildesk.report_values import ReportScope
from maildesk.reports.charts import chart, chart_format
from maildesk.reports.document import build, check_report, sections
from maildesk.reports.formats import as_csv, columns_of, heading
from maildesk.reports.render import render_report
from maildesk.services.reports.catalogue import REPORTS

NAMES = "|".join(REPORTS)


def window_end(text: str, option: str) -> datetime:
    """`--until`: a bare date means through that day (its end is the next day's midnight)."""
    moment = moment_option(text, option)
    try:
        date.fromisoformat(text)
    except ValueError:
        return moment
    return moment + timedelta(days=1)


def scope_of(
    since: str | None,
    until: str | None,
    queue: str | None,
    service: str | None,
    category: str | None,
) -> ReportScope:
    return ReportScope(
        since=moment_option(since, "--since") if since else None,
        until=window_end(until, "--until") if until else None,
        queue=queue,
        service=service,
        category=category,
    )


def report_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help=NAMES),
    since: str | None = typer.Option(None, "--since", help="ISO 8601 date or time (included)."),
    until: str | None = typer.Option(None, "--until", help="ISO 8601 date (included) or time."),
    queue: str | None = typer.Option(None, "--queue"),
    service: str | None = typer.Option(None, "--service"),
    category: str | None = typer.Option(None, "--category"),
    as_json: bool = typer.Option(False, "--json"),
    as_csv_: bool = typer.Option(False, "--csv"),
    chart_file: Path | None = typer.Option(None, "--chart", help="Write a chart: FILE.png|.svg"),
    mail_to: list[str] = typer.Option([], "--mail-to", help="Queue it as a mail (repeatable)."),
) -> None:
    """A report: summary|sla|agents|customers|ratings|volume|backlog."""
    check_report(name)
    if as_json and as_csv_:
        raise InvalidInput("--json and --csv: choose one")
    fmt = chart_format(chart_file.name) if chart_file else None
    scope = scope_of(since, until, queue, service, category)
    app = state(ctx).app()
    if mail_to:
        _mail(app, name, scope, mail_to)
        return
    with unit_of_work(app.engine) as session:
        document = build(session, desk=app.desk, name=name, scope=scope)
    if chart_file and fmt:
        chart_file.write_bytes(chart(document, fmt).data)
    _print(document, as_json=as_json, as_csv_=as_csv_)


def _print(document: dict[str, Any], *, as_json: bool, as_csv_: bool) -> None:
    """The document as JSON, CSV, or its title and a table per section."""
    if as_json:
        print_json(document)
        return
    if as_csv_:
        typer.echo(as_csv(document), nl=False)
        return
    typer.echo(document["title"])
    for section, rows in sections(document).items():
        columns = columns_of(rows)
        print_table(heading(section), columns, [[r[c] for c in columns] for r in rows])


def _mail(app: App, name: str, scope: ReportScope, recipients: list[str]) -> None:
    with unit_of_work(app.engine) as session:
        rendered = render_report(session, desk=app.desk, name=name, scope=scope)
        item = queue_report_mail(
            session, desk=app.desk, report=rendered, recipients=recipients, now=app.desk.clock.now()
        )
        item_id = item.id
    typer.echo(f"{rendered.title}: queued for {', '.join(recipients)} (outbox item {item_id})")


def register(app: typer.Typer) -> None:
    app.command("report")(report_cmd)
