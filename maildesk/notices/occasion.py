"""What a notice is about (the event, its ticket, who caused it, the facts) and who reads it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlmodel import Session

from maildesk.desk import Desk
from maildesk.mail import Address
from maildesk.models import Agent, Ticket
from maildesk.notices.addressing import NO_THREAD, Thread, ticket_thread
from maildesk.notices.events import NoticeEvent


@dataclass(frozen=True)
class Occasion:
    """One event that sends mail, as the notice table's functions see it."""

    session: Session
    desk: Desk
    event: NoticeEvent
    ticket: Ticket | None
    now: datetime
    actor_agent: Agent | None  # the agent who caused it (or, for a spoof warning, was named)
    facts: Mapping[str, Any]  # what the caller knows: template context of this event
    given_thread: Thread | None = None

    @cached_property
    def thread(self) -> Thread:
        """The thread given, else the ticket's public thread (looked up only when needed)."""
        if self.given_thread is not None:
            return self.given_thread
        return ticket_thread(self.session, self.ticket) if self.ticket else NO_THREAD


@dataclass(frozen=True)
class Reader:
    """One recipient: an address, and the agent behind it when it is one."""

    address: Address
    agent: Agent | None = None

    @classmethod
    def of_agent(cls, agent: Agent) -> Reader:
        return cls(Address(agent.email, agent.name), agent)
