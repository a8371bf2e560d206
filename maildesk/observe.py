"""What the desk tells an observer once an outcome is known (and committed): the few points
where a mail is accepted or settled, an outbox row is queued or sent, an IMAP poll fails, an
SLA notice or a rating is recorded.

The daemon observes with its log lines and, when `[metrics]` is enabled, Prometheus counters
(`maildesk.daemon`); everything else runs with `NO_OBSERVER`. Observers only count and log:
they never decide anything and never raise into the code that tells them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

SOURCES = {"smtp": "smtp", "imap": "imap", "pipe": "ingest", "import": "import", "lmtp": "lmtp"}


def source_of(transport: str) -> str:
    """The metrics and log name of an inbox item's transport (`pipe` is `maildesk ingest`)."""
    return SOURCES.get(transport, transport)


@dataclass(frozen=True)
class Processed:
    """One inbox item settled: how, by which source, in how long."""

    item_id: int
    source: str
    outcome: str  # created | appended | reopened | rejected | dropped | held | failed
    ticket: str | None
    reason: str | None
    seconds: float


@dataclass(frozen=True)
class Delivered:
    """One outbox row tried: `sent`, `retrying` (a temporary failure) or `failed`."""

    outbox_id: int
    kind: str
    recipients: int
    result: str
    answer: str | None = None


class Observer(Protocol):
    def accepted(self, source: str, *, duplicate: bool) -> None: ...
    def processed(self, mail: Processed) -> None: ...
    def queued(self, count: int) -> None: ...
    def delivered(self, mail: Delivered) -> None: ...
    def poll_failed(self, mailbox: str) -> None: ...
    def sla_notices(self, *, warnings: int, breaches: int) -> None: ...
    def rated(self, score: int) -> None: ...


class Observers:
    """Tells each of its observers in turn; with none, it is the observer that does nothing."""

    def __init__(self, observers: Sequence[Observer] = ()) -> None:
        self.observers = tuple(observers)

    def accepted(self, source: str, *, duplicate: bool) -> None:
        for observer in self.observers:
            observer.accepted(source, duplicate=duplicate)

    def processed(self, mail: Processed) -> None:
        for observer in self.observers:
            observer.processed(mail)

    def queued(self, count: int) -> None:
        for observer in self.observers:
            observer.queued(count)

    def delivered(self, mail: Delivered) -> None:
        for observer in self.observers:
            observer.delivered(mail)

    def poll_failed(self, mailbox: str) -> None:
        for observer in self.observers:
            observer.poll_failed(mailbox)

    def sla_notices(self, *, warnings: int, breaches: int) -> None:
        for observer in self.observers:
            observer.sla_notices(warnings=warnings, breaches=breaches)

    def rated(self, score: int) -> None:
        for observer in self.observers:
            observer.rated(score)


NO_OBSERVER: Observer = Observers()
