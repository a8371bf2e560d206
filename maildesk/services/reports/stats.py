"""Median and p90 by nearest rank, in the database: the ⌈q·n⌉-th smallest value.

The rank is counted, then the one value fetched with ORDER BY … LIMIT 1 OFFSET rank-1, so
SQLite and PostgreSQL give the same figure and no value is interpolated.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session

QUANTILES = {"median": (1, 2), "p90": (9, 10)}  # exact fractions: no float rounding in the rank


def nearest_rank(count: int, numerator: int, denominator: int) -> int:
    """⌈count · numerator / denominator⌉, at least 1: the rank of the quantile's value."""
    return max(1, -(-count * numerator // denominator))


def spread(session: Session, values: Select[Any]) -> dict[str, int | None]:
    """`count`, `median` and `p90` of the one column `values` selects (NULLs left out)."""
    inner = values.subquery()
    value = inner.c[0]
    present = select(value).where(value.is_not(None))
    count = int(session.execute(select(func.count()).select_from(present.subquery())).scalar_one())
    found: dict[str, int | None] = {"count": count}
    for name, (numerator, denominator) in QUANTILES.items():
        if not count:
            found[name] = None
            continue
        offset = nearest_rank(count, numerator, denominator) - 1
        ranked = present.order_by(value).limit(1).offset(offset)
        found[name] = session.execute(ranked).scalar_one()
    return found
