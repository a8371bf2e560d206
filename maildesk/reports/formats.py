"""A report's document as plain text, HTML and CSV (the JSON is the document itself)."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from typing import Any

from maildesk.reports.document import sections

NONE = "-"


def cell(value: Any) -> str:
    return NONE if value is None else str(value)


def columns_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    return list(rows[0]) if rows else []


def heading(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _text_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["(none)"]
    columns = columns_of(rows)
    cells = [columns, *[[cell(r[c]) for c in columns] for r in rows]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def as_text(document: dict[str, Any]) -> str:
    """The title, then each section as a fixed-width table."""
    lines = [document["title"], ""]
    for name, rows in sections(document).items():
        lines += [heading(name), *_text_table(rows), ""]
    return "\n".join(lines)


def _html_table(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    columns = columns_of(rows)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell(r[c]))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f'<table border="1" cellpadding="4"><tr>{head}</tr>{body}</table>'


def as_html(document: dict[str, Any]) -> str:
    """A small HTML page: the title and each section's table."""
    parts = [f"<h1>{html.escape(document['title'])}</h1>"]
    for name, rows in sections(document).items():
        parts += [f"<h2>{html.escape(heading(name))}</h2>", _html_table(rows)]
    return "<html><body>" + "\n".join(parts) + "</body></html>"


def as_csv(document: dict[str, Any]) -> str:
    """One CSV table: a `section` column, then every section's columns; empty where a row has
    no such column, `-` for a missing value."""
    found = sections(document)
    columns: list[str] = []
    for rows in found.values():
        columns += [c for c in columns_of(rows) if c not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["section", *columns], lineterminator="\n")
    writer.writeheader()
    for name, rows in found.items():
        for row in rows:
            writer.writerow({"section": name, **{k: cell(v) for k, v in row.items()}})
    return out.getvalue()
