"""The full-text index's queries on either database (migration 0005 builds the index).

SQLite: the FTS5 table `message_fts` over `message(subject, text)`, ranked by bm25 (the
subject weighted twice), snippets by `snippet()`. PostgreSQL: `message.search_vector`
(configuration 'simple'), ranked by ts_rank with the same weights, snippets by ts_headline.

A term here is one word or phrase the index's own tokenizer reads: it is always bound as a
parameter and quoted as a phrase (FTS5 `"…"`, `phraseto_tsquery`), so no user text is ever
query syntax. A ticket's score adds up the scores of its matching messages; a merged ticket
is never a hit (its messages live in the ticket it was merged into).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

START, STOP = "\x02", "\x03"  # around each matched word of a snippet
SNIPPET_WORDS = 16
_WEIGHTS = "2.0, 1.0"  # bm25: subject, text
_PG_WEIGHTS = "'{0.5, 0, 0, 1}'::float4[]"  # ts_rank: D (text), C, B, A (subject)
_PG_TEXT = "m.subject || ' — ' || left(m.text, 100000)"  # as much as the column indexes
_PG_HEADLINE = (
    f"StartSel={START}, StopSel={STOP}, MaxWords={SNIPPET_WORDS}, MinWords=6, ShortWord=1,"
    ' MaxFragments=2, FragmentDelimiter=" … "'
)


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def fts5_phrase(term: str) -> str:
    """An FTS5 string: `"` doubled inside, so `"`, `*`, `-`, `:` or NEAR are plain text."""
    return '"' + term.replace('"', '""') + '"'


def _params(terms: Sequence[str], prefix: str) -> dict[str, str]:
    return {f"{prefix}{n}": term for n, term in enumerate(terms)}


def _any_of(session: Session, terms: Sequence[str]) -> tuple[str, dict[str, str]]:
    """The match for messages holding any of the terms, and its parameters."""
    if _postgresql(session):
        query = " || ".join(f"phraseto_tsquery('simple', :any{n})" for n in range(len(terms)))
        return f"({query})", _params(terms, "any")
    return ":any", {"any": " OR ".join(fts5_phrase(t) for t in terms)}


def _holding(session: Session, n: int) -> str:
    """SQL: the ids of tickets with a message holding term `:all<n>`."""
    if _postgresql(session):
        return (
            "SELECT ticket_id FROM message"
            f" WHERE search_vector @@ phraseto_tsquery('simple', :all{n})"
        )
    return (
        "SELECT ticket_id FROM message WHERE id IN"
        f" (SELECT rowid FROM message_fts WHERE message_fts MATCH :all{n})"
    )


def rank_tickets(
    session: Session,
    *,
    any_of: Sequence[str],
    all_of: Sequence[str] = (),
    limit: int,
    exclude: int | None = None,
) -> list[tuple[int, float]]:
    """(ticket id, score), best first: tickets with a message holding one of `any_of` and,
    for each of `all_of`, a message holding it (not necessarily the same message)."""
    if not any_of:
        return []
    match, params = _any_of(session, any_of)
    quote = (lambda t: t) if _postgresql(session) else fts5_phrase
    params.update(_params([quote(t) for t in all_of], "all"))
    conditions = [f" AND m.ticket_id IN ({_holding(session, n)})" for n in range(len(all_of))]
    if exclude is not None:
        conditions.append(" AND m.ticket_id <> :exclude")
    sql = _ranking_sql(session, match, "".join(conditions))
    rows = session.execute(text(sql), {**params, "limit": limit, "exclude": exclude})
    return [(int(ticket_id), float(score)) for ticket_id, score in rows]


def _ranking_sql(session: Session, match: str, conditions: str) -> str:
    live = " JOIN ticket t ON t.id = m.ticket_id AND t.merged_into_id IS NULL"
    grouped = " GROUP BY m.ticket_id ORDER BY score DESC, m.ticket_id DESC LIMIT :limit"
    if _postgresql(session):
        return (
            f"SELECT m.ticket_id, sum(ts_rank({_PG_WEIGHTS}, m.search_vector, {match})) AS score"
            f" FROM message m{live} WHERE m.search_vector @@ {match}{conditions}{grouped}"
        )
    # bm25() is not allowed inside an aggregate: the hits are materialized first
    return (
        "WITH hits AS MATERIALIZED (SELECT rowid AS id, bm25(message_fts, "
        f"{_WEIGHTS}) AS rank FROM message_fts WHERE message_fts MATCH {match})"
        " SELECT m.ticket_id, sum(-hits.rank) AS score FROM hits"
        f" JOIN message m ON m.id = hits.id{live} WHERE true{conditions}{grouped}"
    )


def snippet(session: Session, *, ticket_id: int, terms: Sequence[str]) -> str:
    """Words around the terms in the ticket's best matching message, each match between
    START and STOP; "" when no message of the ticket holds any term."""
    if not terms:
        return ""
    match, params = _any_of(session, terms)
    if _postgresql(session):
        sql = (
            f"SELECT ts_headline('simple', {_PG_TEXT}, {match}, :options) FROM message m"
            f" WHERE m.ticket_id = :ticket AND m.search_vector @@ {match}"
            f" ORDER BY ts_rank({_PG_WEIGHTS}, m.search_vector, {match}) DESC, m.id LIMIT 1"
        )
        params = {**params, "options": _PG_HEADLINE}
    else:
        sql = (
            f"SELECT snippet(message_fts, -1, '{START}', '{STOP}', '…', {SNIPPET_WORDS})"
            " FROM message_fts JOIN message m ON m.id = message_fts.rowid"
            f" WHERE message_fts MATCH {match} AND m.ticket_id = :ticket"
            f" ORDER BY bm25(message_fts, {_WEIGHTS}), m.id LIMIT 1"
        )
    found: Any = session.execute(text(sql), {**params, "ticket": ticket_id}).scalar()
    return str(found or "")


def message_frequency(session: Session, term: str) -> int:
    """How many messages hold the term."""
    if _postgresql(session):
        sql = "SELECT count(*) FROM message WHERE search_vector @@ phraseto_tsquery('simple', :t)"
        return int(session.execute(text(sql), {"t": term}).scalar_one())
    sql = "SELECT count(*) FROM message_fts WHERE message_fts MATCH :t"
    return int(session.execute(text(sql), {"t": fts5_phrase(term)}).scalar_one())


def message_count(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM message")).scalar_one())
