"""The rows of the million-ticket database of `bench/million.py`: three years of a busy desk,
made deterministically from a seed, one chunk of tickets at a time.

Contacts (CONTACTS at ORGANISATIONS company domains), tickets (a mix of statuses that grows
older towards closed, SLA deadlines on most), ~2.5 messages a ticket with their inbox items
(short raw bytes), participants, audit events and outbox rows (acknowledgements and agent
replies). Message-IDs end in `@million.example`, so no reply of the bench corpus matches them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from maildesk.inbox_row import received_row

START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)
ORGANISATIONS = 20_000
CONTACTS = 200_000
AGENTS = 3
QUEUES = ("general",)
WORDS = (
    "printer", "invoice", "refund", "login", "password", "reset", "vpn", "connection", "timeout",
    "error", "account", "billing", "upgrade", "licence", "server", "mail", "delivery", "bounce",
    "calendar", "sync", "mobile", "app", "crash", "export", "report", "slow", "dashboard",
    "access", "permission", "certificate", "expired", "backup", "restore", "order", "shipping",
    "delayed", "payment", "card", "declined", "contract", "renewal", "quote", "discount",
)  # fmt: skip
TABLES = (
    "organisation", "contact", "agent", "ticket", "inboxitem", "message", "participant",
    "event", "outboxitem",
)  # fmt: skip


def organisations() -> list[dict[str, Any]]:
    return [
        {"id": n, "domain": f"org{n}.example", "name": f"Org {n}"}
        for n in range(1, ORGANISATIONS + 1)
    ]


def contacts() -> list[dict[str, Any]]:
    return [
        {"id": n, "email": _email(n), "name": f"Customer {n}", "category": "",
         "organisation_id": n % ORGANISATIONS + 1, "created_at": START}
        for n in range(1, CONTACTS + 1)
    ]  # fmt: skip


def agents() -> list[dict[str, Any]]:
    """The agents bench/ingest.py configures (`--agents AGENTS`), with three years of work."""
    return [
        {"id": n, "email": f"agent{n}@example.com", "name": f"Agent {n}", "role": "agent",
         "level": 1, "queues": list(QUEUES), "away": False, "active": True}
        for n in range(1, AGENTS + 1)
    ]  # fmt: skip


def _email(contact: int) -> str:
    return f"c{contact}@org{contact % ORGANISATIONS + 1}.example"


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _status(rng: random.Random, age: timedelta) -> str:
    """Recent tickets are still being worked on; older ones are mostly closed."""
    if age < timedelta(days=30):
        return rng.choices(("new", "open", "pending", "resolved", "closed"), (5, 30, 15, 20, 30))[0]
    return rng.choices(("open", "pending", "resolved", "closed"), (1, 1, 3, 95))[0]


@dataclass
class Chunk:
    """The rows of one run of tickets, table by table."""

    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in TABLES}
    )

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows[table].append(row)


@dataclass
class Builder:
    """Makes tickets `first`..`last` with everything that goes with them; ids run on."""

    seed: int
    tickets: int
    now: datetime
    message_id: int = 0
    item_id: int = 0
    outbox_id: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def chunk(self, first: int, last: int) -> Chunk:
        chunk = Chunk()
        for n in range(first, last + 1):
            self._ticket(chunk, n)
        return chunk

    def _ticket(self, chunk: Chunk, n: int) -> None:
        rng = self.rng
        created = START + SPAN * (n / self.tickets) + timedelta(seconds=rng.uniform(0, 600))
        status = _status(rng, self.now - created)
        requester = rng.randint(1, CONTACTS)
        ticket = _ticket_row(rng, n, status, requester, created)
        chunk.add("ticket", ticket)
        chunk.add("participant", {"ticket_id": n, "contact_id": requester, "role": "requester"})
        if rng.random() < 0.1:
            colleague = (requester + ORGANISATIONS) % CONTACTS + 1  # same organisation
            chunk.add("participant", {"ticket_id": n, "contact_id": colleague, "role": "cc"})
        self._event(chunk, n, created, _email(requester), "created", {"queue": "general"})
        self._outbox(chunk, n, "ack", _email(requester), created)
        self._conversation(chunk, ticket, requester)
        if status in ("resolved", "closed"):
            at = ticket["resolved_at"]
            self._event(chunk, n, at, "agent1@example.com", "status", {"to": status})

    def _conversation(self, chunk: Chunk, ticket: dict[str, Any], requester: int) -> None:
        """The opening; an answer unless new; for 30% another question and answer."""
        at = ticket["created_at"]
        self._message(chunk, ticket, "customer", _email(requester), at)
        if ticket["status"] == "new":
            return
        self._message(chunk, ticket, "agent", "agent1@example.com", ticket["first_response_at"])
        if self.rng.random() < 0.3:
            asked = ticket["first_response_at"] + timedelta(hours=self.rng.uniform(1, 48))
            self._message(chunk, ticket, "customer", _email(requester), asked)
            answered = asked + timedelta(hours=self.rng.uniform(1, 8))
            self._message(chunk, ticket, "agent", "agent1@example.com", answered)

    def _message(
        self, chunk: Chunk, ticket: dict[str, Any], role: str, author: str, at: datetime
    ) -> None:
        self.message_id += 1
        n, text = ticket["id"], _sentence(self.rng, self.rng.randint(15, 60))
        message_id = f"{n}.{self.message_id}.{self.seed}@million.example"
        item = self._inbox_item(chunk, ticket, message_id, text, at) if role == "customer" else None
        if role == "agent":
            self._outbox(chunk, n, "agent-reply", _email(ticket["requester_id"]), at, message_id)
        chunk.add("message", {
            "id": self.message_id, "ticket_id": n, "direction": "in" if item else "out",
            "visibility": "public", "role": role, "author": author, "author_name": "",
            "subject": ticket["subject"], "text": text, "original": text, "html": None,
            "message_id": message_id, "inbox_item_id": item, "created_at": at,
        })  # fmt: skip
        kind = {"message_id": message_id, "role": role}
        self._event(chunk, n, at, author, "message", kind)

    def _inbox_item(
        self, chunk: Chunk, ticket: dict[str, Any], message_id: str, text: str, at: datetime
    ) -> int:
        self.item_id += 1
        raw = (
            f"From: {_email(ticket['requester_id'])}\r\nTo: support@example.com\r\n"
            f"Subject: {ticket['subject']}\r\nMessage-ID: <{message_id}>\r\n\r\n{text}\r\n"
        ).encode()
        row = received_row(raw, transport="smtp", now=at, envelope_to=["support@example.com"])
        row |= {"id": self.item_id, "state": "processed", "outcome": "appended", "attempts": 1}
        chunk.add("inboxitem", row | {"ticket_id": ticket["id"], "processed_at": at})
        return self.item_id

    def _event(
        self, chunk: Chunk, n: int, at: datetime, actor: str, kind: str, data: dict[str, Any]
    ) -> None:
        chunk.add("event", {"ticket_id": n, "at": at, "actor": actor, "type": kind,
                            "data": data, "source": "system"})  # fmt: skip

    def _outbox(
        self, chunk: Chunk, n: int, kind: str, to: str, at: datetime, message_id: str = ""
    ) -> None:
        self.outbox_id += 1
        automatic = kind == "ack"
        chunk.add("outboxitem", {
            "id": self.outbox_id, "ticket_id": n, "kind": kind,
            "message_id": message_id or f"out.{self.outbox_id}.{self.seed}@million.example",
            "envelope_from": "support@example.com", "recipients": [to], "raw": b"sent",
            "spec": None, "automatic": automatic, "rate_key": to if automatic else None,
            "state": "sent", "attempts": 1, "next_attempt_at": at, "last_error": None,
            "created_at": at, "sent_at": at,
        })  # fmt: skip


def _ticket_row(
    rng: random.Random, n: int, status: str, requester: int, created: datetime
) -> dict[str, Any]:
    done = status in ("resolved", "closed")
    answered = created + timedelta(minutes=rng.randint(5, 600)) if status != "new" else None
    resolved = created + timedelta(hours=rng.uniform(2, 200)) if done else None
    sla = rng.random() < 0.7
    open_sla = sla and not done
    return {
        "id": n, "ref": f"TKT-{n}", "subject": _sentence(rng, rng.randint(3, 8)), "status": status,
        "priority": rng.choice(("low", "normal", "normal", "high")), "queue": "general",
        "service": None, "type": rng.choice(("incident", "request")), "category": "standard",
        "level": 1, "assignee_id": rng.randint(1, AGENTS) if status != "new" else None,
        "requester_id": requester, "merged_into_id": None, "created_at": created,
        "updated_at": resolved or answered or created, "resolved_at": resolved,
        "closed_at": resolved + timedelta(days=3) if status == "closed" and resolved else None,
        "first_response_at": answered, "sla_policy": "standard" if sla else None,
        "first_response_due": created + timedelta(hours=4) if sla else None,
        "resolution_due": created + timedelta(days=3) if sla else None,
        "sla_next_at": created + timedelta(days=3) if open_sla else None,
        "paused_minutes": 0, "reopened": 0,
        "first_response_minutes": int((answered - created).total_seconds() // 60)
        if answered else None,
    }  # fmt: skip
