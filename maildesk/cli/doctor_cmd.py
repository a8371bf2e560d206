"""`maildesk doctor [--json]`: what the desk depends on, checked; one line per finding."""

from __future__ import annotations

import typer

from maildesk.cli.output import print_json
from maildesk.cli.root import state
from maildesk.doctor.dns import lookup_mx
from maildesk.doctor.findings import Level, Probe, worst
from maildesk.doctor.run import diagnose

PROBE = Probe(lookup_mx=lookup_mx)  # the system's nameserver; bounded to 2 s


def doctor(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Check the database, mailboxes, relay, templates, secret and MX; say what to fix.

    Exits 1 when anything is wrong, 0 when all is well or there are only warnings.
    """
    findings = diagnose(state(ctx).settings(), PROBE)
    level = worst(findings)
    if as_json:
        print_json({"status": level.value, "findings": [f.view() for f in findings]})
    else:
        for finding in findings:
            typer.echo(finding.line())
    if level is Level.ERROR:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
