"""Search: tickets whose subjects and messages hold every word, ranked, with a snippet; on
SQLite's FTS5 index and PostgreSQL's tsvector alike. No text a user types is query syntax."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from maildesk.db import read_only_unit, unit_of_work
from maildesk.services import fulltext
from maildesk.services.search import (
    MAX_WORDS,
    Fragment,
    fragments,
    hit_row,
    search_tickets,
    search_words,
)
from maildesk.services.tickets import get_ticket
from tests.conftest import Desk
from tests.mails import mail


@pytest.fixture
def refs(desk: Desk) -> list[str]:
    """TKT-1 a printer on fire, TKT-2 an invoice (100% of my_order), TKT-3 a printer's toner
    (toner said three times), TKT-4 a scanner that mentions toner once."""
    sent = [
        mail(message_id="p1@acme.test", subject="Printer broken", body="It is on FIRE."),
        mail(sender="dan@acme.test", subject="Invoice", body="Refund 100% of my_order please"),
        mail(
            sender="eve@acme.test",
            subject="Printer toner",
            body="The toner is empty again. New toner, please.",
        ),
        mail(
            sender="fay@acme.test",
            subject="Scanner",
            body="The scanner stopped after we changed the printer's toner cartridge.",
        ),
    ]
    return [desk.receives(raw).ticket or "" for raw in sent]


def found(session: Session, text: str) -> list[str | None]:
    return [hit.ref for hit in search_tickets(session, text=text)]


def test_the_ticket_saying_the_word_three_times_ranks_above_the_one_saying_it_once(
    desk: Desk, refs: list[str]
) -> None:
    with read_only_unit(desk.app.engine) as session:
        hits = search_tickets(session, text="toner")

    assert [hit.ref for hit in hits] == ["TKT-3", "TKT-4"]
    assert hits[0].score > hits[1].score > 0
    assert all("toner" in hit.snippet_text.lower() for hit in hits)


def test_the_snippet_marks_the_words_searched_for(desk: Desk, refs: list[str]) -> None:
    with read_only_unit(desk.app.engine) as session:
        (hit,) = search_tickets(session, text="fire")

    marked = [f.text.lower() for f in hit.snippet if f.matched]
    assert marked == ["fire"]
    assert hit_row(hit) == {
        "ref": "TKT-1",
        "subject": "Printer broken",
        "status": "new",
        "score": float(f"{hit.score:.6g}"),
        "snippet": hit.snippet_text.strip(),
    }
    assert "\x02" not in hit_row(hit)["snippet"] and "FIRE" in hit_row(hit)["snippet"]


def test_a_word_in_the_subject_or_a_message_finds_the_ticket_whatever_the_case(
    desk: Desk, refs: list[str]
) -> None:
    with read_only_unit(desk.app.engine) as session:
        assert sorted(found(session, "PRINTER")) == ["TKT-1", "TKT-3", "TKT-4"]
        assert found(session, "fire") == ["TKT-1"]


def test_every_word_must_occur_somewhere_in_the_ticket_even_in_different_messages(
    desk: Desk, refs: list[str]
) -> None:
    desk.receives(
        mail(
            message_id="p2@acme.test",
            in_reply_to="p1@acme.test",
            subject="Re: Printer broken",
            body="The smoke alarm went off too.",
        )
    )
    with read_only_unit(desk.app.engine) as session:
        assert found(session, "fire smoke") == ["TKT-1"]
        assert found(session, "printer refund") == []


def test_punctuation_in_a_word_reads_as_the_index_reads_it(desk: Desk, refs: list[str]) -> None:
    with read_only_unit(desk.app.engine) as session:
        assert found(session, "100%") == ["TKT-2"]
        assert found(session, "my_order") == ["TKT-2"]  # the phrase "my order"
        assert found(session, "order-my") == []


@pytest.mark.parametrize(
    "text",
    [
        '"printer',
        'printer"',
        "printer*",
        "-printer",
        "printer & !",
        "printer:*",
        "(printer)",
        "'printer'",
        "printer\\",
    ],
)
def test_query_syntax_is_plain_text(desk: Desk, refs: list[str], text: str) -> None:
    with read_only_unit(desk.app.engine) as session:
        assert sorted(found(session, text)) == ["TKT-1", "TKT-3", "TKT-4"]


def test_operators_and_column_names_are_words_like_any_other(desk: Desk, refs: list[str]) -> None:
    with read_only_unit(desk.app.engine) as session:
        assert found(session, "printer OR invoice") == []  # no ticket says "or"
        assert found(session, "NEAR(printer toner)") == []  # nor "near"
        assert found(session, "subject:printer") == []  # the phrase "subject printer"
        assert found(session, "printer AND toner") == []


def test_words_the_index_cannot_read_are_left_out(desk: Desk, refs: list[str]) -> None:
    with read_only_unit(desk.app.engine) as session:
        assert found(session, "   ") == []
        assert found(session, "% -- !!") == []
        assert found(session, "fire %") == ["TKT-1"]


def test_a_ticket_merged_into_another_is_not_found_again(desk: Desk, refs: list[str]) -> None:
    with unit_of_work(desk.app.engine) as session:
        get_ticket(session, ref="TKT-3").merged_into_id = get_ticket(session, ref="TKT-1").id

    with read_only_unit(desk.app.engine) as session:
        assert sorted(found(session, "printer")) == ["TKT-1", "TKT-4"]


def test_the_limit_keeps_the_best(desk: Desk, refs: list[str]) -> None:
    with read_only_unit(desk.app.engine) as session:
        assert [h.ref for h in search_tickets(session, text="toner", limit=1)] == ["TKT-3"]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(text=st.text(max_size=60))
def test_any_text_is_a_search_that_never_fails(desk: Desk, text: str) -> None:
    if not getattr(desk, "_filled", False):
        desk.receives(mail(subject='Printer "jams" -- NEAR the door*', body="a:b OR c AND (d)"))
        desk._filled = True  # type: ignore[attr-defined]
    with read_only_unit(desk.app.engine) as session:
        hits = search_tickets(session, text=text)
    assert all(hit.ref == "TKT-1" and hit.score > 0 for hit in hits)


def test_the_words_of_a_search_are_split_at_white_space_each_once() -> None:
    assert search_words("Printer  printer\tTONER %\x00 fire") == ["Printer", "TONER", "fire"]
    assert len(search_words(" ".join(f"w{n}" for n in range(100)))) == MAX_WORDS


def test_a_snippet_becomes_fragments_with_the_matches_marked() -> None:
    marked = f"the {fulltext.START}printer{fulltext.STOP}\n is  on {fulltext.START}fire"
    assert fragments(marked + fulltext.STOP) == (
        Fragment("the ", False),
        Fragment("printer", True),
        Fragment(" is on ", False),
        Fragment("fire", True),
    )


def test_a_phrase_for_fts5_doubles_its_quotes() -> None:
    assert fulltext.fts5_phrase('say "hi"') == '"say ""hi"""'
