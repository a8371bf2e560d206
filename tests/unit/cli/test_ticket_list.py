"""`maildesk ticket list`: every filter, `--sort`, `--limit` and its warning, and names that
name nothing as errors, not as an empty list."""

from __future__ import annotations

import json

import pytest

from maildesk.cli import ticket
from tests.mails import mail
from tests.unit.cli.conftest import Shell

CATALOGUE = """
[[services]]
name = "printing"
queue = "general"
type = "request"

[[categories]]
name = "premium"
domains = ["bigcorp.example"]
"""


@pytest.fixture
def desk(shell: Shell) -> Shell:
    """TKT-1 Carol's printer; TKT-2 Dan's invoice (billing); TKT-3 Pat of BigCorp, urgent
    printing, Bob's, tagged; TKT-4 Carol again."""
    shell.config.write_text(shell.config.read_text() + CATALOGUE)
    shell.receives(mail(message_id="m1@acme.test"))
    shell.receives(mail(sender="dan@acme.test", to="billing@example.com", subject="Invoice"))
    shell.receives(mail(sender="Pat <pat@bigcorp.example>", subject="Printer down"))
    shell.receives(mail(message_id="m4@acme.test", subject="Toner"))
    done = shell.run(
        ticket,
        "ticket",
        "do",
        "TKT-3",
        "#assign Bob",
        "#priority urgent",
        "#service printing",
        "#tag vip",
        "--as",
        "alice@example.com",
    )
    assert done.exit_code == 0, done.output
    return shell


def listed(shell: Shell, *options: str) -> list[str]:
    result = shell.run(ticket, "ticket", "list", "--json", *options)
    assert result.exit_code == 0, result.output
    return [row["ref"] for row in json.loads(result.stdout)]


def test_each_filter_narrows_the_list(desk: Shell) -> None:
    assert listed(desk) == ["TKT-4", "TKT-3", "TKT-2", "TKT-1"]
    assert listed(desk, "--priority", "urgent") == ["TKT-3"]
    assert listed(desk, "--requester", "CAROL@acme.test") == ["TKT-4", "TKT-1"]
    assert listed(desk, "--organisation", "bigcorp.example") == ["TKT-3"]
    assert listed(desk, "--tag", "vip") == ["TKT-3"]
    assert listed(desk, "--service", "printing") == ["TKT-3"]
    assert listed(desk, "--type", "request") == ["TKT-3"]  # the service's type
    assert listed(desk, "--category", "premium") == ["TKT-3"]
    assert listed(desk, "--level", "1", "--queue", "billing") == ["TKT-2"]
    assert listed(desk, "--assignee", "bob") == ["TKT-3"]  # a name, as #assign takes it
    assert listed(desk, "--created-since", "2000-01-01") == ["TKT-4", "TKT-3", "TKT-2", "TKT-1"]
    assert listed(desk, "--updated-since", "2999-01-01T00:00:00+00:00") == []


def test_sort_takes_several_keys_and_descending_ones(desk: Shell) -> None:
    assert listed(desk, "--sort", "ref") == ["TKT-1", "TKT-2", "TKT-3", "TKT-4"]
    assert listed(desk, "--sort", "-priority,ref") == ["TKT-3", "TKT-1", "TKT-2", "TKT-4"]
    assert listed(desk, "--sort", "queue,-ref") == ["TKT-2", "TKT-4", "TKT-3", "TKT-1"]


def test_limit_cuts_and_says_so_on_stderr_and_zero_shows_all(desk: Shell) -> None:
    result = desk.run(ticket, "ticket", "list", "--json", "--limit", "2")
    assert [row["ref"] for row in json.loads(result.stdout)] == ["TKT-4", "TKT-3"]
    assert "2 of 4 tickets shown (--limit 0 shows all)" in result.stderr
    everything = desk.run(ticket, "ticket", "list", "--json", "--limit", "0")
    assert len(json.loads(everything.stdout)) == 4 and everything.stderr == ""


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (("--queue", "sales"), "unknown queue 'sales' (use general, billing)"),
        (("--service", "faxing"), "unknown service 'faxing' (use printing)"),
        (("--assignee", "zed"), "no such agent: 'zed'"),
        (("--category", "gold"), "unknown category 'gold' (use standard, premium)"),
        (("--organisation", "nowhere.example"), "no such organisation: 'nowhere.example'"),
        (("--requester", "who@nowhere.example"), "no such contact: 'who@nowhere.example'"),
        (("--priority", "asap"), "unknown priority 'asap'"),
        (("--sort", "colour"), "cannot sort by 'colour'"),
        (("--limit", "-1"), "--limit must be 0 (all) or more, not -1"),
        (("--created-since", "yesterday"), "--created-since: not an ISO 8601 time: 'yesterday'"),
    ],
)
def test_a_name_that_names_nothing_is_an_error_naming_it(
    desk: Shell, options: tuple[str, ...], error: str
) -> None:
    result = desk.run(ticket, "ticket", "list", *options)
    assert result.exit_code != 0
    assert error in str(result.exception)


def test_piped_tables_print_full_values(desk: Shell) -> None:
    long_address = "a.very.long.name.indeed.for.testing.width@a-rather-long-domain.example"
    desk.receives(mail(sender=long_address, subject="Wide"))
    result = desk.run(ticket, "ticket", "list", "--requester", long_address)
    assert long_address in result.stdout  # no terminal: nothing is cut at 80 columns
