"""CLI printing: stable JSON for scripts (one document or one line each), tables for people.

`emit` is how every listing command ends; its tables are never cut when read by a program.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from maildesk.cli.output import emit, print_json, print_json_line, print_table, rating_line

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


def test_emit_with_json_prints_every_key_of_every_row_and_no_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    emit([ROW, {"subject": "second"}], as_json=True, title="Tickets", columns=["subject"])

    out = capsys.readouterr().out
    assert json.loads(out)[0] == {
        "subject": "Принтер горит",
        "at": "2026-11-23 09:00:00+00:00",
        "n": None,
    }
    assert json.loads(out)[1] == {"subject": "second"} and "Tickets" not in out


def test_emit_without_json_prints_only_the_named_columns_under_the_title(
    capsys: pytest.CaptureFixture[str],
) -> None:
    emit([ROW], as_json=False, title="Tickets", columns=["subject", "n"])

    out = capsys.readouterr().out
    assert "Tickets" in out and "Принтер горит" in out
    assert "2026" not in out and "None" not in out


def test_a_table_read_by_a_program_keeps_long_values_whole_on_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = "a-very-long-local-part-that-no-terminal-column-holds@" + "sub." * 20 + "example"
    subject = "Printer on fire " * 12

    emit(
        [{"requester": address, "subject": subject.strip()}],
        as_json=False,
        title="Tickets",
        columns=["requester", "subject"],
    )

    out = capsys.readouterr().out
    assert any(address in line and subject.strip() in line for line in out.splitlines())


def test_a_rating_is_one_line_for_people() -> None:
    at = "2026-11-23T09:00:00Z"

    assert rating_line(None) == "none"
    assert rating_line({"score": 5, "comment": "", "at": at}) == f"5/5 at {at}"
    said = {"score": 2, "comment": "Slow.\n\n  Very slow.  ", "at": at}
    assert rating_line(said) == f"2/5 at {at}: Slow. / Very slow."
