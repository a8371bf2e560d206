"""The lifecycle's timed jobs: tickets the customer left waiting are closed, or reminded once,
and the customer is told (`services/lifecycle.py` decides which, each once per occasion).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.notices import NoticeEvent, notify
from maildesk.services.lifecycle import Waited, close_pending, close_unrated, remind_pending

_UNITS = (("week", 7 * 24 * 60), ("day", 24 * 60), ("hour", 60))  # in minutes


def in_words(value: timedelta) -> str:
    """A duration as a mail says it, in the largest unit it is a whole number of ("3 days")."""
    minutes = max(round(value.total_seconds() / 60), 1)
    for unit, size in _UNITS:
        if minutes % size == 0:
            return _counted(minutes // size, unit)
    return _counted(minutes, "minute")


def _counted(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


Find = Callable[..., list[Waited]]  # (session, *, desk, now) → the tickets acted on


def _run(app: App, find: Find, event: NoticeEvent, facts: dict[str, Any]) -> int:
    """Act on what is due in one transaction; each ticket's customers hear of it."""
    desk, now = app.desk, app.desk.clock.now()
    with unit_of_work(app.engine) as session:
        done = find(session, desk=desk, now=now)
        for waited in done:
            notify(session, desk=desk, event=event, ticket=waited.ticket, now=now, facts=facts)
        return len(done)


def close_unrated_tickets(app: App) -> int:
    """Resolved tickets nobody rated within `[ratings] wait` close; the customer is told."""
    facts = {"was": "resolved", "waited": in_words(app.settings.ratings.wait)}
    return _run(app, close_unrated, NoticeEvent.AUTO_CLOSE, facts)


def close_pending_tickets(app: App) -> int:
    """Pending tickets unanswered for `[lifecycle] pending_close` close; the customer is told."""
    after = app.settings.lifecycle.pending_close
    if after is None:
        return 0
    facts = {"was": "pending", "waited": in_words(after)}
    return _run(app, close_pending, NoticeEvent.AUTO_CLOSE, facts)


def remind_pending_tickets(app: App) -> int:
    """Pending tickets unanswered for `[lifecycle] pending_reminder`: the customer is reminded
    once, and told when the ticket will close if `pending_close` is set."""
    lifecycle = app.settings.lifecycle
    if lifecycle.pending_reminder is None:
        return 0
    closes = lifecycle.pending_close
    rest = closes - lifecycle.pending_reminder if closes is not None else None
    facts = {
        "waited": in_words(lifecycle.pending_reminder),
        "closes_in": in_words(rest) if rest is not None and rest > timedelta(0) else "",
    }
    return _run(app, remind_pending, NoticeEvent.PENDING_REMINDER, facts)
