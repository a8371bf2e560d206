"""Facts: the frozen value the rule engine reads about one mail and its ticket."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from maildesk.mail import InboundMail

Event = Literal["new", "follow-up"]
EVENTS: tuple[Event, ...] = ("new", "follow-up")


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What the conditions look at. The ticket fields are as they stand before the rules; the
    engine hands later rules a copy updated by earlier matching rules' actions."""

    mail: InboundMail
    now: datetime
    is_open: Callable[[str, datetime], bool]  # (calendar name, instant) → inside business hours
    event: Event = "new"
    envelope_to: tuple[str, ...] = ()  # SMTP RCPT TO / --to, as delivered (subaddress and all)
    body: str | None = None  # what body conditions read; None: the mail's whole text
    mailbox: str | None = None  # the [[imap]] mailbox the mail came from; None: not IMAP
    category: str = "standard"
    queue: str = "general"
    service: str | None = None
    priority: str = "normal"
    status: str = "new"
    tags: frozenset[str] = frozenset()

    def senders(self) -> tuple[str, ...]:
        return tuple(a.email for a in self.mail.from_)

    def to_addresses(self) -> tuple[str, ...]:
        """To, Delivered-To and the envelope recipients: where the mail really went."""
        mail = self.mail
        found = [a.email for a in mail.to + mail.delivered_to]
        return (*found, *(a.strip().lower() for a in self.envelope_to))

    def cc_addresses(self) -> tuple[str, ...]:
        return tuple(a.email for a in self.mail.cc)

    def body_text(self) -> str:
        return self.mail.text if self.body is None else self.body
