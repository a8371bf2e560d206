"""`maildesk report NAME`: the November of tests/report_history.py as a table, JSON, CSV,
a chart file, or a mail in the outbox."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from maildesk.cli import report
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.models import OutboxItem
from tests.report_history import write_history
from tests.unit.cli.conftest import Shell

NOVEMBER = ("--since", "2026-11-01", "--until", "2026-11-30")


@pytest.fixture
def desk(shell: Shell) -> Shell:
    app = shell.app()
    with unit_of_work(app.engine) as session:
        write_history(session)
    app.engine.dispose()
    return shell


def as_json(desk: Shell, *args: str) -> dict[str, Any]:
    result = desk.run(report, "report", *args, *NOVEMBER, "--json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_until_a_day_takes_that_whole_day(desk: Shell) -> None:
    document = as_json(desk, "volume")
    assert document["scope"]["until"] == "2026-12-01T00:00:00Z"
    assert document["volume"][-1] == {"day": "2026-11-22", "queue": "general", "created": 2}
    to_the_21st = desk.run(report, "report", "volume", "--until", "2026-11-21", "--json")
    assert json.loads(to_the_21st.stdout)["volume"][-1]["day"] == "2026-11-20"


def test_the_table_shows_each_section(desk: Shell) -> None:
    result = desk.run(report, "report", "summary", *NOVEMBER)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Summary report 2026-11-01 \u2013 2026-11-30\n")
    assert "Counts" in result.stdout and "Times" in result.stdout
    assert "first_response" in result.stdout and "open_backlog" in result.stdout


def test_csv_has_the_rows_of_the_json(desk: Shell) -> None:
    document = as_json(desk, "agents")
    result = desk.run(report, "report", "agents", *NOVEMBER, "--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["section"] for r in rows] == ["agents", "agents"]
    assert [
        {k: int(r[k]) for k in ("new", "open", "resolved", "minutes_logged")} for r in rows
    ] == [
        {k: a[k] for k in ("new", "open", "resolved", "minutes_logged")} for a in document["agents"]
    ]


def test_a_chart_file_is_written_beside_the_json(desk: Shell, tmp_path: Path) -> None:
    for name in ("ratings.svg", "ratings.png"):
        result = desk.run(
            report, "report", "ratings", *NOVEMBER, "--json", "--chart", tmp_path / name
        )
        assert json.loads(result.stdout)["csat"] == [{"ratings": 5, "average": 3.2}]
    assert (tmp_path / "ratings.svg").read_bytes().lstrip().startswith(b"<?xml")
    assert (tmp_path / "ratings.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("summary", "--queue", "sales"), "unknown queue 'sales'"),
        (("sla", "--service", "hosting"), "unknown service 'hosting'"),
        (("agents", "--category", "vip"), "unknown category 'vip'"),
        (("speed",), "unknown report 'speed'"),
        (("summary", "--since", "last monday"), "--since: not an ISO 8601 time"),
        (("summary", "--chart", "out.pdf"), "not a .png or .svg file"),
        (("summary", "--json", "--csv"), "--json and --csv: choose one"),
    ],
)
def test_a_bad_name_or_option_is_a_user_error(
    desk: Shell, args: tuple[str, ...], error: str
) -> None:
    result = desk.run(report, "report", *args)
    assert isinstance(result.exception, InvalidInput)
    assert error in str(result.exception)


def test_mail_to_queues_one_report_mail_and_says_so(desk: Shell) -> None:
    result = desk.run(
        report,
        "report",
        "sla",
        *NOVEMBER,
        "--mail-to",
        "lead@example.com",
        "--mail-to",
        "cto@example.com",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1
    assert "queued for lead@example.com, cto@example.com" in result.stdout
    app = desk.app()
    with unit_of_work(app.engine) as session:
        [item] = session.exec(select(OutboxItem)).all()
        assert item.kind == "report" and item.recipients == ["lead@example.com", "cto@example.com"]
        assert item.raw is not None and b"Content-Type: image/png" in item.raw
    app.engine.dispose()


SHOW_MATPLOTLIB = """
import sys
from maildesk.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("matplotlib" in sys.modules, file=sys.stderr)
"""


def imports_matplotlib(desk: Shell, *args: str | Path) -> bool:
    command = [
        sys.executable,
        "-c",
        SHOW_MATPLOTLIB,
        "--config",
        str(desk.config),
        "report",
        *map(str, args),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, check=True, cwd=desk.config.parent
    )
    return result.stderr.strip().splitlines()[-1] == "True"


def test_matplotlib_is_imported_only_for_a_chart(desk: Shell, tmp_path: Path) -> None:
    assert not imports_matplotlib(desk, "volume", "--json")
    assert imports_matplotlib(desk, "volume", "--json", "--chart", tmp_path / "v.png")
