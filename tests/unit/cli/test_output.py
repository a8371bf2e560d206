"""CLI printing: stable JSON for scripts (one document or one line each), tables for people."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from maildesk.cli.output import print_json, print_json_line, print_table

ROW = {"subject": "Принтер горит", "at": datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "n": None}


def test_print_json_keeps_non_ascii_and_writes_times_as_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_json([ROW])

    out = capsys.readouterr().out
    assert "Принтер горит" in out
    assert json.loads(out) == [
        {"subject": "Принтер горит", "at": "2026-11-23 09:00:00+00:00", "n": None}
    ]


def test_print_json_line_writes_exactly_one_line_per_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_json_line(ROW)
    print_json_line({"outcome": "created"})

    lines = capsys.readouterr().out.splitlines()
    assert [
        json.loads(line)["subject" if i == 0 else "outcome"] for i, line in enumerate(lines)
    ] == [
        "Принтер горит",
        "created",
    ]


def test_print_table_shows_the_title_the_columns_and_none_as_blank(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_table("Tickets", ["ref", "assignee"], [["TKT-1", None], ["TKT-2", "bob"]])

    out = capsys.readouterr().out
    assert "Tickets" in out and "ref" in out and "assignee" in out
    assert "None" not in out
    assert out.index("TKT-1") < out.index("TKT-2") and "bob" in out
