"""Decision: what the matching rules want done to one mail, as data; the caller does it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """None (or empty) leaves a thing as it is. A later matching rule overrides an earlier
    one's single values; tags, cc, auto-replies and notes add up, in rule order."""

    queue: str | None = None
    service: str | None = None
    type: str | None = None  # incident | request
    priority: str | None = None  # low | normal | high | urgent
    category: str | None = None
    tags: tuple[str, ...] = ()  # to add
    assign: str | None = None  # an agent's email, or a strategy: least-loaded | round-robin
    level: int | None = None  # support level 1 to 9
    cc: tuple[str, ...] = ()  # participants to add
    auto_reply: tuple[str, ...] = ()  # template names
    acknowledge: bool | None = None  # False: no acknowledgement
    hold: str | None = None  # the reason
    drop: str | None = None  # the reason
    notes: tuple[str, ...] = ()  # internal notes to add
    hits: tuple[str, ...] = ()  # the names of the rules that matched, in order


def adding(existing: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    """`existing` then whatever of `new` it lacks, in order."""
    return existing + tuple(item for item in dict.fromkeys(new) if item not in existing)
