"""Printing for the CLI: stable JSON for scripts, rich tables for people.

`emit` is the one ending of every listing command: the rows as JSON, or as a table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from maildesk.errors import InvalidInput
from maildesk.timing.clock import aware

if TYPE_CHECKING:
    from rich.table import Table

UNBOUNDED = 1_000_000  # columns of the console a table is measured in when nothing is cut


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def print_json_line(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str), flush=True)


def emit(
    rows: Sequence[Mapping[str, Any]], *, as_json: bool, title: str, columns: Sequence[str]
) -> None:
    """The rows as one JSON document (every key), or as a table of `columns` under `title`."""
    if as_json:
        print_json(list(rows))
        return
    print_table(title, columns, [[row[c] for c in columns] for row in rows])


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A table on a terminal fits its width; into a pipe or file it is as wide as its values.

    rich is imported here, not above: `maildesk ingest`, run once per mail, prints no table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console = Console()
    if not console.is_terminal:
        console = Console(width=_natural_width(table))
    console.print(table)


def _natural_width(table: Table) -> int:
    from rich.console import Console
    from rich.measure import Measurement

    wide = Console(width=UNBOUNDED)
    return Measurement.get(wide, wide.options, table).maximum


def moment_option(text: str, option: str) -> datetime:
    """An ISO 8601 time given to an option, aware; one without an offset is UTC."""
    try:
        return aware(datetime.fromisoformat(text))
    except ValueError:
        raise InvalidInput(f"{option}: not an ISO 8601 time: {text!r}") from None


def rating_line(rating: Mapping[str, Any] | None) -> str:
    """`4/5 at 2026-11-23T09:00:00+00:00: Quick, but…` (the comment's lines joined), or `none`."""
    if rating is None:
        return "none"
    comment = " / ".join(
        line.strip() for line in str(rating["comment"]).splitlines() if line.strip()
    )
    return f"{rating['score']}/5 at {rating['at']}" + (f": {comment}" if comment else "")
