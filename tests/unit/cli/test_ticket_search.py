"""`maildesk ticket search TEXT` and `ticket similar REF`: ranked hits with a snippet, alike
tickets with a score, as people (matches highlighted on a terminal) and scripts see them."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from maildesk.cli import ticket_search
from maildesk.errors import InvalidInput, NotFound
from maildesk.services.search import Fragment, Hit
from tests.mails import mail
from tests.unit.cli.conftest import Shell


@pytest.fixture
def refs(shell: Shell) -> list[str]:
    """TKT-1 and TKT-2 printers (the second says "toner" thrice), TKT-3 an invoice."""
    sent = [
        mail(subject="Printer jams", body="The printer jams, tray 2, and needs toner."),
        mail(
            sender="dan@acme.test",
            subject="Printer toner empty",
            body="Our printer toner is empty. Which toner fits?",
        ),
        mail(sender="eve@other.test", subject="Invoice", body="Wrong VAT number"),
    ]
    return [shell.receives(raw).ticket or "" for raw in sent]


def test_search_json_has_ref_subject_status_score_and_a_plain_snippet(
    shell: Shell, refs: list[str]
) -> None:
    result = shell.run(ticket_search, "search", "toner", "--json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["ref"] for row in rows] == ["TKT-2", "TKT-1"]
    assert list(rows[0]) == ["ref", "subject", "status", "score", "snippet"]
    assert rows[0]["score"] > rows[1]["score"]
    assert "toner" in rows[0]["snippet"] and "\x02" not in rows[0]["snippet"]


def test_search_prints_each_hit_with_its_snippet(shell: Shell, refs: list[str]) -> None:
    result = shell.run(ticket_search, "search", "VAT")

    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("TKT-3  new  ") and lines[0].endswith("  Invoice")
    assert lines[1].strip() == "Wrong VAT number"


def test_search_limit_keeps_the_best_and_must_be_positive(shell: Shell, refs: list[str]) -> None:
    rows = json.loads(
        shell.run(ticket_search, "search", "printer toner", "--json", "--limit", "1").stdout
    )
    assert [row["ref"] for row in rows] == ["TKT-2"]
    refused = shell.run(ticket_search, "search", "printer", "--limit", "0")
    assert isinstance(refused.exception, InvalidInput)


def test_the_matched_words_are_highlighted_on_a_terminal() -> None:
    hit = Hit(
        ref="TKT-1",
        subject="Printer",
        status="open",
        score=1.5,
        snippet=(Fragment("the ", False), Fragment("toner", True), Fragment(" is out", False)),
    )
    console = Console(force_terminal=True, color_system="standard", width=80)
    with console.capture() as captured:
        console.print(ticket_search.hit_lines(hit))

    styled = captured.get()
    assert "\x1b[" in styled  # escape codes around the match
    plain = ticket_search.hit_lines(hit)
    assert plain.plain == "TKT-1  open  1.5  Printer\n    the toner is out"
    matched = [plain.plain[s.start : s.end] for s in plain.spans if s.style]
    assert matched == ["toner"]


def test_similar_lists_the_alike_tickets_with_scores(shell: Shell, refs: list[str]) -> None:
    result = shell.run(ticket_search, "similar", "TKT-1", "--json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["ref"] for row in rows] == ["TKT-2"]
    assert 0 < rows[0]["score"] <= 1
    table = shell.run(ticket_search, "similar", "tkt-1")
    assert "TKT-2" in table.stdout and "Tickets like TKT-1" in table.stdout


def test_similar_of_an_unknown_ticket_is_an_error(shell: Shell, refs: list[str]) -> None:
    result = shell.run(ticket_search, "similar", "TKT-99")
    assert isinstance(result.exception, NotFound)
    assert str(result.exception) == "no ticket TKT-99"
