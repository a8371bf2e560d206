"""A rating in what a customer wrote: the seed's five-point scale, by digit or stars, and a comment.

Only the first line of the reply's own text (quoted history already stripped) can rate:

- a lone digit 1-5 (`4`), also as `4/5`;
- stars: `★`, `⭐` or `*`, 1 to 5 of them, padded with `☆` if the writer likes (`★★★☆☆`);
- either followed by punctuation (`.` `,` `:` `;` `!` `)`, a hyphen, an en or em dash; up to
  three) and then the end of the line or a space: `5 - thanks!`, `4. Quick, but…`, `3: ok`, `5!`.

The comment is the rest of that line and every line after it. A digit followed by a space and
a word (`4 printers are still down`), by a number (`3:30`, `2-3 days`, `5.5`) or by anything
else is no rating; neither is the first item of a numbered list (`1. …` over `2. …`).
Pure functions; every pattern is anchored and linear in the text size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FILLED = "★⭐*"
_EMPTY = "☆"
_TOKEN = re.compile(
    rf"(?P<digit>[1-5])(?:/5)?(?![\d/])|(?P<stars>[{_FILLED}]{{1,5}})(?P<empty>{_EMPTY}{{0,4}})"
    rf"(?![{_FILLED}{_EMPTY}])"
)
_AFTER = re.compile(r"[ \t]*(?:(?P<sep>[.,:;!)\-\u2013\u2014]{1,3})(?:\s+|$)|$)")
_FIRST_LINE = re.compile(r"\s*(?P<line>[^\n]*)")  # after any blank lines; always matches
_LIST_ITEM = re.compile(r"\d{1,3}[.)]\s")
_VARIATION = "\ufe0f"  # the emoji presentation selector some clients put after ⭐


@dataclass(frozen=True)
class Rating:
    """A score of 1 to 5 and what the customer said with it ("" if nothing)."""

    score: int
    comment: str


def read_rating(text: str) -> Rating | None:
    """The rating the first line of `text` gives, with the rest as its comment; None if none."""
    head = _FIRST_LINE.match(text)
    assert head is not None
    first = head["line"].strip().replace(_VARIATION, "")
    token = _TOKEN.match(first)
    after = _AFTER.match(first, token.end()) if token else None
    if token is None or after is None:
        return None
    score, rest = _score(token), text[head.end() :]
    if score is None or _numbered_list(after["sep"], rest):
        return None
    return Rating(score, _comment(first[after.end() :], rest.removeprefix("\n")))


def _comment(first: str, rest: str) -> str:
    """The words after the rating as written: each line without its trailing blanks."""
    return "\n".join(line.rstrip() for line in (first, *rest.split("\n"))).strip()


def _score(token: re.Match[str]) -> int | None:
    """A digit is its score; stars count, and with the empty ones make at most five."""
    if token["digit"]:
        return int(token["digit"])
    stars, empty = len(token["stars"]), len(token["empty"])
    return stars if stars + empty <= 5 else None


def _numbered_list(separator: str | None, rest: str) -> bool:
    """`1.` or `1)` whose next line starts the same way is a list, not a rating."""
    if separator not in (".", ")"):
        return False
    return _LIST_ITEM.match(rest.lstrip()) is not None


def comment_of(text: str) -> str:
    """What a mail to a rating address says: its text, without a rating it may start with
    (the mailto link prefills the score, and the address already carries it)."""
    rating = read_rating(text)
    return rating.comment if rating is not None else text.strip()
