"""How `ticket show` draws a ticket's history: who said what, notes apart, changes between."""

from __future__ import annotations

from typing import Any

from maildesk.cli.ticket_view import conversation_lines, message_lines


def message(role: str, visibility: str, text: str, at: str, **more: Any) -> dict[str, Any]:
    direction = "in" if role == "customer" else "out"
    return {
        "role": role,
        "visibility": visibility,
        "text": text,
        "created_at": at,
        "direction": direction,
        "author": f"{role}@example.com",
        "message_id": None,
        "attachments": [],
        **more,
    }


def event(type: str, at: str, **data: Any) -> dict[str, Any]:
    return {"type": type, "at": at, "actor": "bob@example.com", "data": data}


def test_an_attachment_is_listed_under_its_message() -> None:
    photo = {"filename": "jam.jpg", "content_type": "image/jpeg", "size": 12345}
    lines = message_lines(
        message("customer", "public", "See photo.", "2026-11-23T09:00:00Z", attachments=[photo])
    )
    assert lines[-1] == "│ attached: jam.jpg (image/jpeg, 12,345 bytes)"


def test_a_message_stands_where_its_event_stands_and_one_without_an_event_by_time() -> None:
    detail = {
        "ref": "TKT-1",
        "subject": "Jam",
        "status": "open",
        "priority": "high",
        "queue": "general",
        "service": None,
        "type": "incident",
        "category": "standard",
        "level": 1,
        "assignee": None,
        "requester": "c@example.com",
        "participants": [],
        "tags": [],
        "sla": {
            "policy": "gold",
            "first_response_due": "2026-11-23T10:00:00Z",
            "resolution_due": None,
            "paused": False,
            "breached": ["first_response"],
        },
        "rating": None,
        "lifecycle": {},
        "messages": [
            message("customer", "public", "Help.", "2026-11-23T09:00:00Z"),
            message("agent", "internal", "Hm.", "2026-11-23T09:05:00Z"),
        ],
        "events": [
            event("created", "2026-11-23T09:00:00Z"),
            event("priority", "2026-11-23T09:05:00Z", to="high"),
            event("message", "2026-11-23T09:05:00Z", role="agent", visibility="internal"),
        ],
    }
    lines = conversation_lines(detail)
    sla = "gold · first response due 2026-11-23 10:00 · resolution due - · running"
    assert f"  sla: {sla} · breached first_response" in lines
    body = [line for line in lines if line.startswith(("│", "┆", "    ·"))]
    assert body == [
        "    · 2026-11-23 09:00 bob@example.com: created",
        "│ Help.",  # no event announced it: it comes by its time
        "    · 2026-11-23 09:05 bob@example.com: priority to=high",
        "┆ Hm.",
    ]
