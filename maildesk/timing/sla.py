"""SLA policies and their arithmetic, on plain values: which policy a ticket falls under, when a
target is due, when its warning is due, how much business time has passed.

A target is counted in business minutes of the policy's calendar from its origin (the ticket's
creation; for `next_reply`, the customer's reply). Time the clock stood still (pending) is
added to the target, so a deadline moves on by the business time it was paused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from maildesk.timing.calendars import Calendar, add_business, business_between

FIRST_RESPONSE, RESOLUTION, NEXT_REPLY = "first_response", "resolution", "next_reply"
TARGETS = (FIRST_RESPONSE, RESOLUTION, NEXT_REPLY)
TARGET_NAMES = {
    FIRST_RESPONSE: "first response",
    RESOLUTION: "resolution",
    NEXT_REPLY: "next reply",
}
MATCH_KEYS = ("service", "queue", "priority", "category")


@dataclass(frozen=True)
class SlaPolicy:
    """One `[[sla]]` policy: targets (business minutes) in a calendar, and what it matches.

    `match` maps each key of MATCH_KEYS it constrains to the names it accepts.
    """

    name: str
    calendar: Calendar
    targets: Mapping[str, int]
    match: Mapping[str, frozenset[str]] = field(default_factory=dict)
    warn_at: float = 0.8
    escalate_on_breach: bool = False

    def matches(self, facts: Mapping[str, str | None]) -> bool:
        return all(facts.get(key) in names for key, names in self.match.items())

    def due(self, target: str, origin: datetime, paused: int = 0) -> datetime | None:
        """When `target` is due, counted from `origin` with `paused` business minutes added."""
        minutes = self.targets.get(target)
        if minutes is None:
            return None
        return add_business(self.calendar, origin, minutes + max(paused, 0))

    def warning(self, target: str, origin: datetime, due: datetime) -> datetime:
        """When the warning for a target counted from `origin` and due at `due` is due: once
        `warn_at` of its business minutes have passed, the paused time in between included."""
        minutes = self.targets[target]
        paused = max(business_between(self.calendar, origin, due) - minutes, 0)
        return add_business(self.calendar, origin, math.ceil(minutes * self.warn_at) + paused)

    def minutes_between(self, start: datetime, end: datetime) -> int:
        return business_between(self.calendar, start, end)


@dataclass(frozen=True)
class SlaBook:
    """Every policy, in declared order, and the calendars (by name) they count in."""

    policies: tuple[SlaPolicy, ...] = ()

    def pick(self, facts: Mapping[str, str | None]) -> SlaPolicy | None:
        """The most specific policy matching `facts` (the most match keys); declared order
        breaks ties; None when no policy matches."""
        best: SlaPolicy | None = None
        for policy in self.policies:
            if policy.matches(facts) and (best is None or len(policy.match) > len(best.match)):
                best = policy
        return best

    def named(self, name: str | None) -> SlaPolicy | None:
        return next((p for p in self.policies if p.name == name), None)
