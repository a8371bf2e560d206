"""Similar tickets: TF-IDF vectors of the tickets' stored text compared by cosine, in Python.

A ticket's text is its subject (counted SUBJECT_WEIGHT times) and its public messages.
Comparing it with every ticket would read the whole desk, so the candidates come first from
the full-text index: the tickets holding any of its QUERY_TERMS most distinctive terms
(frequent in it, rare in the desk's messages), at most CANDIDATES of them. A term in every
message says nothing, and one in more than COMMON of them and more than CANDIDATES messages
would only make the lookup slow: neither is looked for.

Then each term is weighed by how few tickets hold it (inverse document frequency over the
ticket, its candidates and the BACKGROUND newest other tickets: the candidates alone all
share the terms they were found by, which would make those look common), and each candidate
scores the cosine of its vector with the ticket's: 0 nothing alike, 1 the same words in the
same proportions. Below MIN_SCORE (a few shared everyday words) is no likeness.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from maildesk.models import Message, Ticket, Visibility
from maildesk.services import fulltext

SIMILAR_LIMIT = 10
SUBJECT_WEIGHT = 2
QUERY_TERMS = 12
LOOKED_UP = 40  # the ticket's most frequent terms whose rarity in the desk is looked up
COMMON = 0.5
CANDIDATES = 50
BACKGROUND = 200  # the newest tickets beside the candidates, for how common a term is
MIN_SCORE = 0.05
_TERM = re.compile(r"[^\W_]{2,40}")  # letters and digits; single characters say nothing

Vector = Mapping[str, float]


@dataclass(frozen=True)
class Alike:
    ref: str
    subject: str
    status: str
    score: float  # 0..1


def terms(text: str) -> list[str]:
    """The words of a text as compared: lower-cased runs of 2 to 40 letters or digits."""
    return _TERM.findall(text.casefold())


def _bags(session: Session, tickets: Iterable[Ticket]) -> dict[int, Counter[str]]:
    """Each ticket's terms and how often they occur: subject (weighted), public messages."""
    bags: dict[int, Counter[str]] = {}
    for ticket in tickets:
        assert ticket.id is not None
        bags[ticket.id] = Counter()
        for term in terms(ticket.subject):
            bags[ticket.id][term] += SUBJECT_WEIGHT
    query = select(Message.ticket_id, Message.text).where(
        col(Message.ticket_id).in_(list(bags)), Message.visibility == Visibility.PUBLIC
    )
    for ticket_id, text in session.exec(query):
        bags[ticket_id].update(terms(text))
    return bags


def distinctive(session: Session, bag: Counter[str]) -> list[str]:
    """The ticket's QUERY_TERMS terms with the highest frequency times rarity in the desk."""
    messages = max(fulltext.message_count(session), 1)
    weighed: list[tuple[float, str]] = []
    for term, count in bag.most_common(LOOKED_UP):
        holding = fulltext.message_frequency(session, term)
        if 0 < holding < messages and (holding <= COMMON * messages or holding <= CANDIDATES):
            weighed.append((count * math.log(messages / holding), term))
    weighed.sort(key=lambda pair: (-pair[0], pair[1]))
    return [term for _, term in weighed[:QUERY_TERMS]]


def tfidf(
    bags: Mapping[int, Counter[str]], corpus: Mapping[int, Counter[str]]
) -> dict[int, dict[str, float]]:
    """Each bag as a TF-IDF vector, idf = ln((1 + n) / (1 + df)) over the n bags of `corpus`
    (which holds `bags`): a term in every one of them weighs nothing."""
    holding: Counter[str] = Counter()
    for bag in corpus.values():
        holding.update(set(bag))
    n = len(corpus)
    idf = {term: math.log((1 + n) / (1 + df)) for term, df in holding.items()}
    return {key: {t: c * idf[t] for t, c in bag.items()} for key, bag in bags.items()}


def cosine(a: Vector, b: Vector) -> float:
    dot = sum(weight * b.get(term, 0.0) for term, weight in a.items())
    norms = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return min(dot / norms, 1.0) if norms else 0.0


def similar_tickets(session: Session, *, ticket: Ticket, limit: int = SIMILAR_LIMIT) -> list[Alike]:
    """The tickets most alike `ticket` (never itself, never a merged one), best first."""
    assert ticket.id is not None
    query_terms = distinctive(session, _bags(session, [ticket])[ticket.id])
    ranked = fulltext.rank_tickets(session, any_of=query_terms, limit=CANDIDATES, exclude=ticket.id)
    if not ranked:
        return []
    ids = [ticket_id for ticket_id, _ in ranked]
    candidates = list(session.exec(select(Ticket).where(col(Ticket.id).in_(ids))))
    recent = select(Ticket).where(col(Ticket.id).not_in([ticket.id, *ids]))
    others = session.exec(recent.order_by(col(Ticket.id).desc()).limit(BACKGROUND))
    corpus = _bags(session, [ticket, *candidates, *others])
    vectors = tfidf({key: corpus[key] for key in [ticket.id, *ids]}, corpus)
    scored = [(cosine(vectors[ticket.id], vectors[c.id or 0]), c) for c in candidates]
    scored.sort(key=lambda pair: (-pair[0], pair[1].id or 0))
    return [
        Alike(ref=c.ref or "", subject=c.subject, status=c.status.value, score=score)
        for score, c in scored[:limit]
        if score >= MIN_SCORE
    ]


def similar_row(alike: Alike) -> dict[str, Any]:
    """The stable keys of `ticket similar --json`."""
    return {
        "ref": alike.ref,
        "subject": alike.subject,
        "status": alike.status,
        "score": round(alike.score, 3),
    }
