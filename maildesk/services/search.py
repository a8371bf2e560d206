"""Ticket search: the tickets whose subjects and messages hold every word asked for, ranked,
each with a snippet of its best matching message (the full-text index of services/fulltext).

Any text is a valid search: it is cut at white space into words; a word is searched as the
phrase the index reads in it (`my_order` is "my order", `e-mail` is "e mail"), and a word in
which the index reads nothing (`%`, `--`) is left out. Nothing the user types is syntax.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from maildesk.models import Ticket
from maildesk.services import fulltext

DEFAULT_LIMIT = 20
MAX_WORDS = 64  # the words after these are left out (each is one more lookup in the index)


@dataclass(frozen=True)
class Fragment:
    text: str
    matched: bool  # a word the search asked for


@dataclass(frozen=True)
class Hit:
    ref: str
    subject: str
    status: str
    score: float  # higher is better; comparable within one search on one database
    snippet: tuple[Fragment, ...]

    @property
    def snippet_text(self) -> str:
        return "".join(f.text for f in self.snippet)


def _indexable(word: str) -> bool:
    """Whether the index reads a token in the word: a letter, a digit or a private-use sign
    (FTS5's unicode61 token characters; PostgreSQL's parser reads letters and digits)."""
    return any(unicodedata.category(c)[0] in "LN" or unicodedata.category(c) == "Co" for c in word)


def search_words(text: str) -> list[str]:
    """The words of a search: split at white space, control characters dropped, each once,
    in order, at most MAX_WORDS."""
    printable = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)
    words: list[str] = []
    for word in printable.split():
        if _indexable(word) and word.casefold() not in (w.casefold() for w in words):
            words.append(word)
    return words[:MAX_WORDS]


def search_tickets(session: Session, *, text: str, limit: int = DEFAULT_LIMIT) -> list[Hit]:
    """The best `limit` tickets holding every word of `text`, best first."""
    words = search_words(text)
    if not words:
        return []
    all_of = words if len(words) > 1 else []  # one word: matching any is matching all
    ranked = fulltext.rank_tickets(session, any_of=words, all_of=all_of, limit=limit)
    tickets = _tickets(session, [ticket_id for ticket_id, _ in ranked])
    return [
        Hit(
            ref=tickets[ticket_id].ref or "",
            subject=tickets[ticket_id].subject,
            status=tickets[ticket_id].status.value,
            score=score,
            snippet=fragments(fulltext.snippet(session, ticket_id=ticket_id, terms=words)),
        )
        for ticket_id, score in ranked
    ]


def _tickets(session: Session, ids: list[int]) -> dict[int, Ticket]:
    if not ids:
        return {}
    rows = session.exec(select(Ticket).where(col(Ticket.id).in_(ids)))
    return {ticket.id: ticket for ticket in rows if ticket.id is not None}


def fragments(marked: str) -> tuple[Fragment, ...]:
    """A snippet with its matches between fulltext.START and STOP as fragments, its white
    space (line breaks too) each one space."""
    flat = " ".join(marked.split())
    pieces = flat.replace(fulltext.STOP, fulltext.START).split(fulltext.START)
    return tuple(Fragment(p, matched=n % 2 == 1) for n, p in enumerate(pieces) if p)


def hit_row(hit: Hit) -> dict[str, Any]:
    """The stable keys of `ticket search --json`."""
    return {
        "ref": hit.ref,
        "subject": hit.subject,
        "status": hit.status,
        "score": float(f"{hit.score:.6g}"),  # six significant digits
        "snippet": hit.snippet_text.strip(),
    }
