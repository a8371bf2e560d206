"""Reading a rating: the first line of a customer's own text, a digit or stars, and a comment."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maildesk.mail.ratings import Rating, comment_of, read_rating
from tests.growth import LINEAR_AT_MOST, growth


@pytest.mark.parametrize(
    ("text", "score", "comment"),
    [
        ("5", 5, ""),
        ("  1  ", 1, ""),
        ("\n\n3\n", 3, ""),
        ("4/5", 4, ""),
        ("5 – thanks!", 5, "thanks!"),  # noqa: RUF001 - the en dash is what mail clients make
        ("5 — thanks!", 5, "thanks!"),
        ("5 - thanks", 5, "thanks"),
        ("5 -- thanks", 5, "thanks"),
        ("4. Quick, but…", 4, "Quick, but…"),
        ("3: ok", 3, "ok"),
        ("2, slow", 2, "slow"),
        ("5!", 5, ""),
        ("5!!! Wonderful", 5, "Wonderful"),
        ("4 -\nThe toner is low.", 4, "The toner is low."),
        ("4. Quick, but\nthe toner\n\nis low.", 4, "Quick, but\nthe toner\n\nis low."),
        ("2\n\nNobody called back.", 2, "Nobody called back."),
        ("★★★★", 4, ""),
        ("★★★☆☆", 3, ""),
        ("⭐⭐⭐⭐⭐", 5, ""),
        ("⭐\ufe0f⭐\ufe0f", 2, ""),  # the emoji presentation selector some clients add
        ("*", 1, ""),
        ("*****", 5, ""),
        ("★★ - meh", 2, "meh"),
    ],
)
def test_a_rating_is_read_with_its_comment(text: str, score: int, comment: str) -> None:
    assert read_rating(text) == Rating(score, comment)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Thanks!\n5",  # only the first line counts
        "4 printers are still down",
        "5 stars",
        "3:30 works for me",
        "2-3 days is too long",
        "5.5 hours without a printer",
        "1/2 of the printers",
        "5/10",
        "45",
        "0",
        "6",
        "5?",
        "******",  # six stars: not the five-point scale
        "★★★★☆☆",
        "☆☆☆",
        "* the printer\n* the scanner",  # a bullet list
        "**Urgent**",
        "1. The printer is down\n2. The scanner too",  # a numbered list
        "1) the printer\n2) the scanner",
    ],
)
def test_what_is_no_rating(text: str) -> None:
    assert read_rating(text) is None


@given(st.integers(1, 5), st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_a_digit_and_a_dash_before_any_comment_rate_with_that_comment(
    score: int, comment: str
) -> None:
    rating = read_rating(f"{score} - {comment}")

    assert rating is not None and rating.score == score
    assert rating.comment == as_kept(comment)


def as_kept(comment: str) -> str:
    """A comment as a rating keeps it: as written, but for the blanks that trail each line
    (and the emoji presentation selector a client may add on the rating's own line)."""
    first, *rest = comment.split("\n")
    lines = [first.replace("\ufe0f", ""), *rest]
    return "\n".join(line.rstrip() for line in lines).strip()


def test_a_comment_keeps_its_lines_as_written_without_their_trailing_blanks() -> None:
    rating = read_rating("4 - Quick \n  but the toner  \n\nis empty\n")
    assert rating is not None and rating.comment == "Quick\n  but the toner\n\nis empty"


def test_a_rating_addresses_mail_loses_a_leading_rating_from_its_comment() -> None:
    assert comment_of("") == ""
    assert comment_of("5 - ") == ""  # what the link prefilled, sent as it was
    assert comment_of("5 - Great\nthanks") == "Great\nthanks"
    assert comment_of("  Great, thanks  ") == "Great, thanks"
    assert comment_of("4 printers work again") == "4 printers work again"


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "5" + " " * n + "x",  # spaces the separator may not follow
        lambda n: "5 -" + " \t" * n + "x",
        lambda n: "*" * 5 + "☆" * n,
        lambda n: "\n \t" * n + "5",
    ],
    ids=["spaces", "space-after-dash", "empty-stars", "blank-lines"],
)
def test_reading_grows_linearly_with_hostile_text(make: Callable[[int], str]) -> None:
    assert growth(read_rating, make, 2_000) < LINEAR_AT_MOST
