"""Desk: what every use case needs besides a session — settings, time, files, secrets, templates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from maildesk.config import Settings
from maildesk.files import AttachmentStore
from maildesk.observe import NO_OBSERVER, Observer
from maildesk.outbound.compose import DeskIdentity
from maildesk.outbound.outbox import Backoff
from maildesk.outbound.render import Renderer
from maildesk.timing.calendars import ALWAYS, TWENTY_FOUR_SEVEN, Calendar, is_open
from maildesk.timing.clock import Clock
from maildesk.timing.sla import SlaBook


@dataclass(frozen=True)
class Desk:
    settings: Settings
    clock: Clock
    store: AttachmentStore
    secrets: tuple[str, ...]  # current first; older ones still verify
    renderer: Renderer
    # Compiled once, by `app.open_app`, never per mail. The desk sits below `rules` in the
    # layer chain, so it cannot name their type: `rules` holds `maildesk.rules.spec.Rule`s.
    calendars: Mapping[str, Calendar] = field(default_factory=lambda: {ALWAYS: TWENTY_FOUR_SEVEN})
    rules: tuple[Any, ...] = ()
    sla: SlaBook = field(default_factory=SlaBook)
    observer: Observer = NO_OBSERVER  # told of outcomes once committed (the daemon's metrics)

    def is_open(self, calendar: str, moment: datetime) -> bool:
        """Whether `moment` is inside the named calendar's business hours."""
        return is_open(self.calendars[calendar], moment)

    @property
    def secret(self) -> str:
        return self.secrets[0]

    @property
    def identity(self) -> DeskIdentity:
        return DeskIdentity(name=self.settings.desk.name, address=self.settings.desk.address)

    def local_time(self, moment: datetime) -> str:
        """A time as mail shows it to people: in the desk's time zone, which it names."""
        return moment.astimezone(self.settings.desk.zone).strftime("%Y-%m-%d %H:%M %Z")

    def backoff(self) -> Backoff:
        outbound = self.settings.outbound
        return Backoff(
            first=outbound.retry_first,
            cap=outbound.retry_max_interval,
            give_up_after=outbound.give_up_after,
        )
