"""Rules that may withhold a notice row: each returns why not, or None to send it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session

from maildesk.addresses import local_part_matches
from maildesk.notices.events import NoticeEvent
from maildesk.notices.occasion import Occasion, Reader
from maildesk.outbound.outbox import auto_reply_allowed, sent_recently

Gate = Callable[[Occasion, list[Reader]], str | None]


def may_acknowledge(occasion: Occasion, readers: list[Reader]) -> str | None:
    """Only if the queue acknowledges, never to a desk address, `outbound.ack_limit` an hour.

    The limit counts every automatic mail the recipient got in the last hour.
    """
    settings, ticket = occasion.desk.settings, occasion.ticket
    assert ticket is not None
    queues = {q.name: q for q in settings.effective_queues()}
    if ticket.queue in queues and not queues[ticket.queue].acknowledge:
        return f"queue {ticket.queue} sends no acknowledgements"
    return may_auto_reply(occasion, readers)


def may_auto_reply(occasion: Occasion, readers: list[Reader]) -> str | None:
    """Never to a desk address, `outbound.ack_limit` automatic mails an hour (the ack's own)."""
    settings = occasion.desk.settings
    for reader in readers:
        email = reader.address.email
        if local_part_matches(email, settings.desk_addresses()):
            return "the requester is one of the desk's own addresses"
        limit = settings.outbound.ack_limit
        session, now = occasion.session, occasion.now
        if not auto_reply_allowed(session, recipient=email, now=now, limit_per_hour=limit):
            return f"{email} already had {limit} automatic mails this hour"
    return None


SPOOF_WARNING_KIND = str(NoticeEvent.SPOOF_WARNING)  # the outbox kind these warnings carry


def warned_within_the_hour(session: Session, *, agent_email: str, now: datetime) -> bool:
    """Whether this agent was sent a spoof warning in the hour before `now`."""
    since = now - timedelta(hours=1)
    kind = SPOOF_WARNING_KIND
    return sent_recently(session, kind=kind, recipient=agent_email, since=since) > 0


def first_warning_this_hour(occasion: Occasion, readers: list[Reader]) -> str | None:
    """At most one an hour per agent (a spoofer must not mail-bomb them through the desk)."""
    for reader in readers:
        email = reader.address.email
        if warned_within_the_hour(occasion.session, agent_email=email, now=occasion.now):
            return f"{email} was already warned within the hour"
    return None


LOW_RATINGS = (1, 2)  # the scores a supervisor hears of


def low_rating(occasion: Occasion, readers: list[Reader]) -> str | None:
    """Only for a rating of 1 or 2."""
    score = occasion.facts.get("score")
    return None if score in LOW_RATINGS else f"a rating of {score} alerts nobody"
