"""Similar tickets: three printer tickets, two VPN tickets and one invoice, all written the
way customers write (hello, please, thanks): each finds its own kind, never itself."""

from __future__ import annotations

from collections import Counter

import pytest

from maildesk.db import read_only_unit, unit_of_work
from maildesk.services.similar import (
    Alike,
    cosine,
    similar_row,
    similar_tickets,
    terms,
    tfidf,
)
from maildesk.services.tickets import get_ticket
from tests.conftest import Desk
from tests.mails import mail

TICKETS = [
    (
        "Printer jams on the third floor",
        "Hello, the printer on the third floor jams every morning. Paper is stuck in tray 2. "
        "Thanks, Carol",
    ),
    (
        "Printer paper jam again",
        "Hello, the office printer has a paper jam in tray 2 again. Please help. Thanks",
    ),
    (
        "Printer toner empty",
        "Hello, our printer says the toner is empty and nothing prints. Thanks",
    ),
    (
        "VPN disconnects",
        "Hello, the VPN client disconnects every ten minutes when I work from home. Thanks",
    ),
    (
        "Cannot connect to the VPN",
        "Hello, the VPN client cannot connect since the update. Please help. Thanks",
    ),
    (
        "Invoice address wrong",
        "Hello, invoice 2026-113 shows our old address. Please correct it. Thanks",
    ),
]


@pytest.fixture
def refs(desk: Desk) -> list[str]:
    """TKT-1 to TKT-3 printers, TKT-4 and TKT-5 the VPN, TKT-6 an invoice."""
    return [
        desk.receives(mail(sender=f"c{n}@acme{n}.test", subject=subject, body=body)).ticket or ""
        for n, (subject, body) in enumerate(TICKETS)
    ]


def alike(desk: Desk, ref: str) -> list[Alike]:
    with read_only_unit(desk.app.engine) as session:
        return similar_tickets(session, ticket=get_ticket(session, ref=ref))


def test_a_printer_ticket_finds_the_other_printer_tickets_best_first(
    desk: Desk, refs: list[str]
) -> None:
    found = alike(desk, "TKT-1")

    assert [a.ref for a in found] == ["TKT-2", "TKT-3"]  # the other paper jam first
    assert 1 >= found[0].score > found[1].score > 0


def test_each_ticket_finds_its_own_kind_and_never_itself(desk: Desk, refs: list[str]) -> None:
    assert {a.ref for a in alike(desk, "TKT-3")} == {"TKT-1", "TKT-2"}
    assert [a.ref for a in alike(desk, "TKT-4")] == ["TKT-5"]
    assert [a.ref for a in alike(desk, "TKT-5")] == ["TKT-4"]


def test_a_ticket_like_no_other_has_no_similar_tickets(desk: Desk, refs: list[str]) -> None:
    assert alike(desk, "TKT-6") == []


def test_a_merged_ticket_is_not_offered(desk: Desk, refs: list[str]) -> None:
    with unit_of_work(desk.app.engine) as session:
        get_ticket(session, ref="TKT-2").merged_into_id = get_ticket(session, ref="TKT-3").id

    assert [a.ref for a in alike(desk, "TKT-1")] == ["TKT-3"]


def test_a_reply_counts_as_the_ticket_s_text(desk: Desk, refs: list[str]) -> None:
    desk.receives(
        mail(
            sender="c5@acme5.test",
            subject="Re: [TKT-6] Invoice address wrong",
            body="Also, the VPN client cannot connect from home since the update.",
        )
    )
    assert [a.ref for a in alike(desk, "TKT-6")][:1] == ["TKT-5"]


def test_the_row_has_stable_keys(desk: Desk, refs: list[str]) -> None:
    row = similar_row(alike(desk, "TKT-4")[0])
    assert list(row) == ["ref", "subject", "status", "score"]
    assert row["ref"] == "TKT-5" and 0 < row["score"] <= 1


def test_terms_are_words_of_two_letters_or_more_lower_cased() -> None:
    assert terms("The VPN-client, a 2nd_try: Übergröße!") == [
        "the",
        "vpn",
        "client",
        "2nd",
        "try",
        "übergrösse",  # casefolded
    ]


def test_cosine_is_one_for_the_same_proportions_and_zero_for_nothing_shared() -> None:
    assert cosine({"a": 1.0, "b": 2.0}, {"a": 2.0, "b": 4.0}) == pytest.approx(1.0)
    assert cosine({"a": 1.0}, {"b": 1.0}) == 0.0
    assert cosine({}, {"b": 1.0}) == 0.0


def test_a_term_every_ticket_has_weighs_nothing_and_a_rare_one_the_most() -> None:
    corpus = {
        1: Counter(["hello", "vpn", "client"]),
        2: Counter(["hello", "client"]),
        3: Counter(["hello"]),
    }
    vectors = tfidf({1: corpus[1]}, corpus)
    assert vectors[1]["hello"] == 0
    assert vectors[1]["vpn"] > vectors[1]["client"] > 0
