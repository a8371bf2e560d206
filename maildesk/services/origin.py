"""Where a raw mail came from, and the accept callback every transport calls.

The inbox stores it; transports (`maildesk.ingest`) import it from here, below them.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Origin:
    """The transport facts about one raw mail, stored beside its bytes."""

    transport: str  # "smtp" | "imap" | "pipe" | "import"
    peer: str | None = None
    envelope_from: str | None = None
    envelope_to: tuple[str, ...] = field(default_factory=tuple)
    mailbox: str | None = None  # IMAP: the configured mailbox name
    uidvalidity: int | None = None
    uid: int | None = None


class Accepted(enum.Enum):
    """What accepting one raw mail did; both mean the source may forget it."""

    STORED = "stored"
    DUPLICATE = "duplicate"


AcceptFn = Callable[[bytes, Origin], Awaitable[Accepted]]
"""Store raw bytes durably (commit) and say so; raise on any failure so the source retries."""

IMPORT = "import"
"""The transport of `maildesk import`: its mail is history, told again quietly."""
