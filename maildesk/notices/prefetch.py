"""What notices about many tickets at once read, read once: their watchers and their threads.

A sweep that mails about a thousand tickets would otherwise ask the database twice per
ticket. Inside `prefetched`, `recipients.watchers` and `ticket_thread` answer from what was
read for the tickets given; nothing that changes watchers or messages may run inside it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlmodel import Session, col, select

from maildesk.models import Message, Ticket, Watcher
from maildesk.notices.addressing import THREADS, Thread
from maildesk.notices.recipients import WATCHERS


@contextmanager
def prefetched(session: Session, tickets: Sequence[Ticket]) -> Iterator[None]:
    """The watchers and public threads of `tickets`, read in two queries, for this block."""
    ids = [t.id for t in tickets if t.id is not None]
    watchers: dict[int, set[int]] = {i: set() for i in ids}
    query = select(Watcher).where(col(Watcher.ticket_id).in_(ids))
    for row in session.exec(query) if ids else ():
        watchers[row.ticket_id].add(row.agent_id)
    threads: dict[int, list[str]] = {i: [] for i in ids}
    public = (
        select(Message.ticket_id, Message.message_id)
        .where(col(Message.ticket_id).in_(ids), Message.visibility == "public")
        .order_by(col(Message.id))
    )
    for ticket_id, message_id in session.exec(public) if ids else ():
        if message_id:
            threads[ticket_id].append(message_id)
    session.info[WATCHERS] = watchers
    session.info[THREADS] = {
        i: Thread(found[-1] if found else None, tuple(found)) for i, found in threads.items()
    }
    try:
        yield
    finally:
        session.info.pop(WATCHERS, None)
        session.info.pop(THREADS, None)
