"""`ticket show` for people: the ticket's facts, then its history read as a conversation.

Public messages are drawn with a solid bar, internal notes with a dotted one under an
INTERNAL NOTE heading; what changed (the audit events) sits between them where it happened.
The JSON (`--json`) carries the same, keyed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from maildesk.cli.output import rating_line

PUBLIC_BAR, INTERNAL_BAR = "│ ", "┆ "
QUIET_EVENTS = frozenset({"message", "command"})  # shown as the messages and changes they made
FACTS = ("status", "priority", "queue", "service", "type", "category", "level")


def _shown(value: Any) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _when(iso: str | None) -> str:
    """`2026-11-23T09:00:00Z` → `2026-11-23 09:00` (UTC, as the JSON)."""
    return "-" if not iso else iso.replace("T", " ")[:16]


def header_lines(detail: Mapping[str, Any]) -> list[str]:
    """The ticket's facts, one a line: fields, people, SLA, rating and lifecycle."""
    lines = [f"{detail['ref']}  {detail['subject']}"]
    keys = (*FACTS, "assignee", "requester", "participants", "tags")
    lines += [f"  {key}: {_shown(detail[key])}" for key in keys]
    lines.append("  sla: " + _sla(detail["sla"]))
    lines.append("  rating: " + rating_line(detail.get("rating")))
    lines.append("  lifecycle:")
    lines += [f"    {key}: {_shown(value)}" for key, value in detail["lifecycle"].items()]
    return lines


def _sla(sla: Mapping[str, Any]) -> str:
    if not sla.get("policy"):
        return "none"
    dues = (("first response due", "first_response_due"), ("resolution due", "resolution_due"))
    parts = [str(sla["policy"])]
    parts += [f"{label} {_when(sla.get(key))}" for label, key in dues]
    if sla.get("next_reply_due"):
        parts.append(f"next reply due {_when(sla['next_reply_due'])}")
    parts.append("paused" if sla.get("paused") else "running")
    parts.append("breached " + _shown(sla.get("breached")))
    return " · ".join(parts)


def message_lines(message: Mapping[str, Any]) -> list[str]:
    """One message: who and when, then its text behind the bar of its visibility."""
    internal = message["visibility"] == "internal"
    what = "INTERNAL NOTE" if internal else f"{message['role']}, {message['direction']}"
    bar = INTERNAL_BAR if internal else PUBLIC_BAR
    lines = [f"{_when(message['created_at'])}  {message['author'] or '-'}  ({what})"]
    lines += [bar + line for line in (message["text"] or "").splitlines() or [""]]
    for attachment in message.get("attachments") or []:
        size = f"{attachment['size']:,} bytes"
        lines.append(
            f"{bar}attached: {attachment['filename']} ({attachment['content_type']}, {size})"
        )
    return lines


def event_line(event: Mapping[str, Any]) -> str:
    data = event["data"] or {}
    said = " ".join(f"{key}={_shown(value)}" for key, value in data.items())
    return f"    · {_when(event['at'])} {event['actor']}: {event['type']} {said}".rstrip()


def _history(
    messages: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
) -> Iterator[list[str]]:
    """Messages and events in the order they happened: a message where its `message` event
    stands (else by time), each other event between them."""
    waiting = list(messages)
    for event in events:
        while waiting and waiting[0]["created_at"] < event["at"]:
            yield message_lines(waiting.pop(0))
        if event["type"] == "message":
            found = next((i for i, m in enumerate(waiting) if _stored_by(event, m)), -1)
            for _ in range(found + 1):  # it, and any before it that no event announced
                yield message_lines(waiting.pop(0))
        elif event["type"] not in QUIET_EVENTS:
            yield [event_line(event)]
    for message in waiting:
        yield message_lines(message)


def _stored_by(event: Mapping[str, Any], message: Mapping[str, Any]) -> bool:
    """Whether this `message` event records this message."""
    data = event["data"] or {}
    same = data.get("role") == message["role"] and data.get("visibility") == message["visibility"]
    return same and data.get("message_id") in (None, message["message_id"])


def conversation_lines(detail: Mapping[str, Any]) -> list[str]:
    """The whole `ticket show` text."""
    lines = [*header_lines(detail), ""]
    for block in _history(detail["messages"], detail["events"]):
        lines += [""] * (len(block) > 1 and lines[-1] != "") + block
    return lines
