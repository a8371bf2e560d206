"""`maildesk ticket export REF|--all [--since D] --format json|eml|mbox [--output PATH]`.

json and mbox go to --output FILE (written beside it, then moved into place, so a failed
export leaves no half file) or to stdout; eml needs --output DIR: one file per mail, named
in their order (`001.eml`), a folder per ticket with --all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import typer
from sqlmodel import Session

from maildesk.cli.output import moment_option
from maildesk.cli.root import state
from maildesk.config import Settings
from maildesk.db import read_only_unit
from maildesk.errors import InvalidInput
from maildesk.mail.archive import eml_name, mbox_entry
from maildesk.models import Ticket
from maildesk.services.export import (
    FORMATS,
    chosen_tickets,
    iter_raw,
    ticket_document,
    ticket_mails,
)

FORMAT_HELP = "json: ticket show --json with the raw mails; eml: .eml files; mbox: one mbox."


def export_cmd(
    ctx: typer.Context,
    ref: str | None = typer.Argument(None, help="The ticket; or --all."),
    every: bool = typer.Option(False, "--all", help="Every ticket."),
    since: str | None = typer.Option(None, "--since", help="With --all: updated since (ISO)."),
    format: str = typer.Option(..., "--format", help=FORMAT_HELP),
    output: Path | None = typer.Option(None, "--output", help="FILE (json, mbox) or DIR (eml)."),
) -> None:
    """Write tickets' whole history with their original mails."""
    if format not in FORMATS:
        raise InvalidInput(f"--format: one of {', '.join(FORMATS)}, not {format!r}")
    moment = moment_option(since, "--since") if since is not None else None
    if format == "eml":
        _check_folder(output)
    app = state(ctx).app()
    with read_only_unit(app.engine) as session:
        tickets = chosen_tickets(session, ref=ref, every=every, since=moment)
        if format == "eml":
            assert output is not None
            _write_eml(session, tickets, output, per_ticket=every)
            return
        with _sink(output) as out:
            if format == "json":
                _write_json(session, tickets, out, settings=app.settings)
            else:
                _write_mbox(session, tickets, out)


def _check_folder(output: Path | None) -> None:
    if output is None:
        raise InvalidInput("--format eml writes one file per mail: give --output DIR")
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise InvalidInput(f"--output: not an empty folder: {output}")


@contextmanager
def _sink(output: Path | None) -> Iterator[BinaryIO]:
    """stdout, or a file next to `output` moved over it once everything is written."""
    if output is None:
        stream = typer.get_binary_stream("stdout")
        yield stream
        stream.flush()
        return
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("wb") as file:
            yield file
        os.replace(partial, output)
    except OSError as exc:
        raise InvalidInput(f"--output: cannot write {output}: {exc.strerror}") from exc
    finally:
        partial.unlink(missing_ok=True)


def _write_json(
    session: Session, tickets: Sequence[Ticket], out: BinaryIO, *, settings: Settings
) -> None:
    """A JSON list of the tickets' documents, written one ticket at a time."""
    out.write(b"[")
    for n, ticket in enumerate(tickets):
        document = ticket_document(session, ticket, settings=settings)
        text = json.dumps(document, ensure_ascii=False, indent=2, default=str)
        out.write((",\n" if n else "\n").encode() + text.encode("utf-8"))
    out.write(b"\n]\n")


def _write_mbox(session: Session, tickets: Sequence[Ticket], out: BinaryIO) -> None:
    mails = ticket_mails(session, [t.id for t in tickets if t.id is not None])
    for mail, raw in iter_raw(session, mails):
        out.write(mbox_entry(raw, sender=mail.sender, moment=mail.at))


def _write_eml(
    session: Session, tickets: Sequence[Ticket], folder: Path, *, per_ticket: bool
) -> None:
    try:
        for ticket in tickets:
            assert ticket.id is not None and ticket.ref is not None
            target = folder / ticket.ref if per_ticket else folder
            target.mkdir(parents=True, exist_ok=True)
            mails = ticket_mails(session, [ticket.id])
            for n, (_, raw) in enumerate(iter_raw(session, mails), start=1):
                (target / eml_name(n, len(mails))).write_bytes(raw)
    except OSError as exc:
        raise InvalidInput(f"--output: cannot write in {folder}: {exc.strerror}") from exc


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
