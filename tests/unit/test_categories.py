"""Customer categories: by address, domain or organisation, first match wins, else standard.

An operator's category on the contact wins over the config; a ticket keeps the category its
requester had when it was made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from maildesk.app import App
from maildesk.config import Settings, parse_settings
from maildesk.db import unit_of_work
from maildesk.errors import InvalidInput
from maildesk.models import Organisation
from maildesk.services.categories import categorise, contact_category, known_categories
from maildesk.services.contacts import get_or_create_contact, set_contact
from tests.conftest import START, Desk, make_settings
from tests.mails import mail

CATEGORIES: list[dict[str, Any]] = [
    {"name": "vip", "addresses": ["Ceo@Acme.test"]},
    {
        "name": "premium",
        "domains": ["bigcorp.example"],
        "organisations": ["ACME", "holding.example"],
    },
    {"name": "partner", "domains": ["acme.test"]},
]
CATALOGUE = parse_settings({"categories": CATEGORIES}, Path("."))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, categories=CATEGORIES)


@pytest.mark.parametrize(
    ("email", "organisation", "category"),
    [
        ("ceo@acme.test", None, "vip"),  # the address, before its domain's category
        ("dave@bigcorp.example", None, "premium"),
        ("dave@eu.BigCorp.example", None, "premium"),  # a subdomain
        ("dave@notbigcorp.example", None, "standard"),  # not a subdomain
        ("carol@acme.test", None, "partner"),
        ("eve@gmail.com", Organisation(name="Acme", domain=None), "premium"),  # by name
        ("eve@holding.example", Organisation(name="Holding", domain="holding.example"), "premium"),
        ("eve@gmail.com", None, "standard"),
    ],
)
def test_the_first_category_naming_the_address_domain_or_organisation_wins(
    email: str, organisation: Organisation | None, category: str
) -> None:
    assert categorise(CATALOGUE, email=email, organisation=organisation) == category


def test_without_categories_everyone_is_standard() -> None:
    no_categories = parse_settings({}, Path("."))

    assert categorise(no_categories, email="ceo@acme.test", organisation=None) == "standard"
    assert known_categories(CATALOGUE) == ["standard", "vip", "premium", "partner"]


def test_a_category_set_on_the_contact_wins_and_auto_gives_it_back_to_the_config(
    app: App,
) -> None:
    settings = app.settings
    with unit_of_work(app.engine) as session:
        carol = get_or_create_contact(
            session, email="carol@acme.test", name="", free_mail=(), now=START
        )
        assert contact_category(session, settings=settings, contact=carol) == "partner"

        for category, expected in (("standard", "standard"), ("auto", "partner")):
            set_contact(
                session,
                email="Carol@Acme.test",
                category=category,
                known_categories=known_categories(settings),
                free_mail=(),
                now=START,
            )
            assert contact_category(session, settings=settings, contact=carol) == expected
        with pytest.raises(InvalidInput, match="unknown category 'gold' \\(use standard, vip"):
            set_contact(
                session,
                email="carol@acme.test",
                category="gold",
                known_categories=known_categories(settings),
                free_mail=(),
                now=START,
            )


def test_a_contact_put_in_a_named_organisation_takes_its_category(app: App) -> None:
    settings = app.settings
    with unit_of_work(app.engine) as session:
        eve = set_contact(
            session,
            email="eve@gmail.com",
            organisation="acme",
            known_categories=known_categories(settings),
            free_mail=("gmail.com",),
            now=START,
        )
        again = set_contact(
            session,
            email="frank@gmail.com",
            organisation="ACME",
            known_categories=known_categories(settings),
            free_mail=("gmail.com",),
            now=START,
        )

        assert eve.organisation_id == again.organisation_id  # found by name, any case
        assert contact_category(session, settings=settings, contact=eve) == "premium"


def test_a_new_ticket_gets_its_requesters_category_and_keeps_it(desk: Desk) -> None:
    first = desk.receives(mail(sender="dave@eu.bigcorp.example", message_id="m1@bigcorp.example"))
    other = desk.receives(mail(sender="eve@gmail.com", message_id="m2@gmail.com"))

    assert first.ticket is not None and other.ticket is not None
    assert desk.ticket(first.ticket)["category"] == "premium"
    assert desk.ticket(other.ticket)["category"] == "standard"
    with unit_of_work(desk.app.engine) as session:
        set_contact(
            session,
            email="dave@eu.bigcorp.example",
            category="vip",
            known_categories=known_categories(desk.app.settings),
            free_mail=(),
            now=START,
        )
    assert desk.ticket(first.ticket)["category"] == "premium"  # the ticket keeps its own

    later = desk.receives(mail(sender="dave@eu.bigcorp.example", message_id="m3@bigcorp.example"))

    assert later.ticket is not None and desk.ticket(later.ticket)["category"] == "vip"
