"""`maildesk rules check FILE… | --replay N`: what the rules would do; writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from maildesk.app import open_app
from maildesk.cli.output import emit
from maildesk.cli.root import state
from maildesk.db import read_only_unit, require_current_schema
from maildesk.errors import InvalidInput
from maildesk.pipeline.rules_check import check_mail, replay, work_of

CHECK_COLUMNS = (
    *("file", "event", "rules", "service", "type", "queue", "priority", "category"),
    *("assignee", "tags", "ack", "stopped"),
)
REPLAY_COLUMNS = ("item", "ticket", "status", "differences")
rules_app = typer.Typer(help="Try the [[rules]] without changing anything.", no_args_is_help=True)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """A table row: the rules as `name: matched|failed condition` lines."""
    said = [
        f"{r['name']}: {'matched' if r['matched'] else (r['failed'] or 'not for this event')}"
        for r in row["rules"]
    ]
    return row | {"rules": "\n".join(said), "tags": ", ".join(row["tags"] or [])}


@rules_app.command("check")
def check_cmd(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(None, help="Raw mails, one per file."),
    replay_last: int = typer.Option(0, "--replay", help="The last N stored mails instead."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Each rule matched or not, and the resulting fields; in a read-only transaction."""
    if not files and replay_last <= 0:
        raise InvalidInput("give mail files, or --replay N")
    app = open_app(state(ctx).settings(), check_schema=False)  # no config sync: no writes
    require_current_schema(app.engine)
    with read_only_unit(app.engine) as session:
        if replay_last > 0:
            rows = replay(session, app.desk, last=replay_last)
            emit(rows, as_json=as_json, title="Rules replay", columns=REPLAY_COLUMNS)
            return
        rows = [
            {"file": str(path)} | check_mail(session, app.desk, work_of(_read(path)))
            for path in files
        ]
    shown = rows if as_json else [_flat(r) for r in rows]
    emit(shown, as_json=as_json, title="Rules", columns=CHECK_COLUMNS)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}") from None


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
