"""`maildesk status [--json]`: the inbox, the outbox and the SLA at a glance, from the database."""

from __future__ import annotations

import typer

from maildesk.cli.output import print_json
from maildesk.cli.root import state
from maildesk.db import read_only_unit
from maildesk.services.desk_status import DeskStatus, Waiting, desk_status
from maildesk.timing.durations import spoken_minutes


def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Inbox and outbox by state, held and failed mail, SLA at risk and breached, oldest waits."""
    app = state(ctx).app()
    with read_only_unit(app.engine) as session:
        found = desk_status(session, now=app.desk.clock.now())
    if as_json:
        print_json(found.view())
        return
    for line in lines(found):
        typer.echo(line)


def lines(found: DeskStatus) -> list[str]:
    def counts(table: dict[str, int]) -> str:
        return ", ".join(f"{name} {count}" for name, count in table.items())

    view = found.view()
    return [
        f"inbox:  {counts(found.inbox)}",
        f"outbox: {counts(found.outbox)}",
        f"held: {view['held']}, failed: {view['failed']} (inbox and outbox)",
        f"sla:    at risk {found.sla_at_risk}, breached {found.sla_breached} (open tickets)",
        f"oldest waiting inbox item: {_waited(found.oldest_waiting_inbox)}",
        f"oldest queued outbox mail: {_waited(found.oldest_queued_outbox)}",
    ]


def _waited(waiting: Waiting | None) -> str:
    if waiting is None:
        return "none"
    return f"since {waiting.view()['since']} ({spoken_minutes(waiting.age_seconds // 60)})"


def register(app: typer.Typer) -> None:
    app.command("status")(status)
