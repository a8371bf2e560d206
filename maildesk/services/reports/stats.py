"""Median and p90 by nearest rank, in the database: the ⌈q·n⌉-th smallest value.

One query per measure: each value is numbered in order (ROW_NUMBER) beside how many there
are (COUNT over all), and the rows whose number is a quantile's rank are kept — so SQLite and
PostgreSQL give the same figure and no value is interpolated. The rank is integer arithmetic
in SQL, (n·a + b - 1) / b for the fraction a/b, the same on both databases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlmodel import Session

QUANTILES = {"median": (1, 2), "p90": (9, 10)}  # exact fractions: no float rounding in the rank


def nearest_rank(count: int, numerator: int, denominator: int) -> int:
    """⌈count · numerator / denominator⌉, at least 1: the rank of the quantile's value."""
    return max(1, -(-count * numerator // denominator))


def _rank_in_sql(count: Any, numerator: int, denominator: int) -> Any:
    return (count * numerator + (denominator - 1)) // denominator  # integer division on both


def spread(session: Session, values: Select[Any]) -> dict[str, int | None]:
    """`count`, `median` and `p90` of the one column `values` selects (NULLs left out)."""
    inner = values.subquery()
    value = inner.c[0]
    numbered = (
        select(
            value.label("value"),
            func.row_number().over(order_by=value).label("rank"),
            func.count().over().label("n"),
        )
        .where(value.is_not(None))
        .subquery()
    )
    ranks = {name: _rank_in_sql(numbered.c.n, a, b) for name, (a, b) in QUANTILES.items()}
    query = select(numbered.c.value, numbered.c.rank, numbered.c.n).where(
        or_(*(numbered.c.rank == rank for rank in ranks.values()))
    )
    rows = session.execute(query).all()
    count = rows[0].n if rows else 0
    found: dict[str, int | None] = {"count": count}
    for name, (a, b) in QUANTILES.items():
        wanted = nearest_rank(count, a, b)
        found[name] = next((row.value for row in rows if row.rank == wanted), None)
    return found
