"""`maildesk contact list|show|set`: customers, the category of their tickets, organisation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from maildesk.cli import contact
from maildesk.errors import InvalidInput, NotFound
from tests.mails import mail
from tests.unit.cli.conftest import Shell

CATEGORIES = """
[[categories]]
name = "premium"
domains = ["bigcorp.example"]

[[categories]]
name = "partner"
organisations = ["ACME"]
"""


@pytest.fixture
def desk(shell: Shell) -> Shell:
    shell.config.write_text(shell.config.read_text() + CATEGORIES)
    shell.receives(mail(sender="Dave <dave@bigcorp.example>", message_id="m1@bigcorp.example"))
    shell.receives(mail(sender="Carol <carol@acme.test>", message_id="m2@acme.test"))
    return shell


def listed(shell: Shell) -> dict[str, dict[str, Any]]:
    result = shell.run(contact, "contact", "list", "--json")
    assert result.exit_code == 0, result.output
    return {row["email"]: row for row in json.loads(result.stdout)}


def test_list_shows_each_contacts_organisation_and_category_with_its_source(desk: Shell) -> None:
    rows = listed(desk)

    assert {
        email: (r["organisation"], r["category"], r["category_source"]) for email, r in rows.items()
    } == {
        "carol@acme.test": ("acme.test", "standard", "config"),
        "dave@bigcorp.example": ("bigcorp.example", "premium", "config"),
    }
    table = desk.run(contact, "contact", "list")
    assert "dave@bigcorp.example" in table.stdout and "premium" in table.stdout


def test_set_puts_a_contact_in_an_organisation_and_a_category_that_wins(desk: Shell) -> None:
    joined = desk.run(contact, "contact", "set", "Carol@Acme.test", "--organisation", "ACME")
    chosen = desk.run(contact, "contact", "set", "dave@bigcorp.example", "--category", "standard")

    assert joined.stdout == (
        "updated contact carol@acme.test: category partner (config), organisation ACME\n"
    )
    assert chosen.stdout == (
        "updated contact dave@bigcorp.example: category standard (set),"
        " organisation bigcorp.example\n"
    )
    back = desk.run(contact, "contact", "set", "dave@bigcorp.example", "--category", "auto")
    assert "category premium (config)" in back.stdout


def test_set_of_someone_who_never_wrote_makes_the_contact(desk: Shell) -> None:
    result = desk.run(contact, "contact", "set", "ceo@newco.example", "--category", "premium")

    assert result.exit_code == 0, result.output
    assert listed(desk)["ceo@newco.example"]["category_source"] == "set"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ("x@acme.test", "--category", "gold"),
            "unknown category 'gold' (use standard, premium, partner or auto)",
        ),
        (("x@acme.test",), "nothing to set (use --category and/or --organisation)"),
        (("not-an-address", "--category", "premium"), "not an email address: 'not-an-address'"),
        (("x@acme.test", "--organisation", " "), "--organisation needs a name"),
    ],
)
def test_bad_input_to_set_is_one_clear_error_and_writes_nothing(
    desk: Shell, args: tuple[str, ...], error: str
) -> None:
    result = desk.run(contact, "contact", "set", *args)

    assert isinstance(result.exception, InvalidInput)
    assert str(result.exception) == error
    assert sorted(listed(desk)) == ["carol@acme.test", "dave@bigcorp.example"]


def test_show_names_the_contact_and_the_tickets_they_asked_for(desk: Shell) -> None:
    as_json = desk.run(contact, "contact", "show", "DAVE@bigcorp.example", "--json")
    plain = desk.run(contact, "contact", "show", "dave@bigcorp.example")

    detail = json.loads(as_json.stdout)
    assert detail["name"] == "Dave"
    assert detail["tickets"] == [
        {"ref": "TKT-1", "status": "new", "category": "premium", "subject": "Printer on fire"}
    ]
    assert plain.stdout.splitlines()[:3] == [
        "dave@bigcorp.example  Dave",
        "  organisation: bigcorp.example",
        "  category: premium (config)",
    ]
    assert plain.stdout.splitlines()[-1] == "  TKT-1 new Printer on fire"


def test_show_of_an_unknown_contact_is_not_found(desk: Shell) -> None:
    result = desk.run(contact, "contact", "show", "nobody@acme.test")

    assert isinstance(result.exception, NotFound)
    assert str(result.exception) == "no contact nobody@acme.test"
