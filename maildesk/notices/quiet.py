"""Quiet transactions: history told again (an import) queues no mail, whoever asks for it.

The pipeline runner makes a transaction quiet for an imported mail; `notify`, the one entry
point for mail the desk sends, then withholds every row with the reason given here. So no
handler, rule or command needs its own test for it, and none can forget it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

_QUIET = "quiet: why no mail"  # session.info key


@contextmanager
def quiet(session: Session, reason: str) -> Iterator[None]:
    """While inside, `notify` on this session queues nothing and says `reason`."""
    session.info[_QUIET] = reason
    try:
        yield
    finally:
        session.info.pop(_QUIET, None)


def why_quiet(session: Session) -> str | None:
    """The reason this transaction sends no mail; None: it sends as usual."""
    reason: str | None = session.info.get(_QUIET)
    return reason
