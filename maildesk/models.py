"""SQLModel tables: tickets, contacts, messages, inbox items, audit events.

Imports nothing of maildesk.

Datetimes are aware UTC; SQLModel's UTCDateTime stores them the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Dialect, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer
    RESOLVED = "resolved"  # rating requested
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TicketType(StrEnum):
    INCIDENT = "incident"  # something that worked is broken
    REQUEST = "request"  # something is asked for


class MessageRole(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"  # shown to agents, never sent to a customer


class ParticipantRole(StrEnum):
    REQUESTER = "requester"
    CC = "cc"


class Relation(StrEnum):
    """Who the sender of a threaded mail is to its ticket."""

    REQUESTER = "requester"
    PARTICIPANT = "participant"
    COLLEAGUE = "colleague"
    AGENT = "agent"
    STRANGER = "stranger"


STATUSES = tuple(TicketStatus)
PRIORITIES = tuple(Priority)
TICKET_TYPES = tuple(TicketType)
STANDARD_CATEGORY = "standard"  # a customer no [[categories]] entry matches
INBOX_STATES = ("received", "processed", "held", "failed", "dropped", "rejected")


class EnumString(TypeDecorator[Any]):
    """A StrEnum stored as its plain value in a VARCHAR (the schema knows no enum types)."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


class Organisation(SQLModel, table=True):
    """Made for each non-free-mail domain (named by it), or by name from `maildesk contact set`."""

    id: int | None = Field(default=None, primary_key=True)
    domain: str | None = Field(default=None, max_length=255, unique=True)
    name: str = Field(default="", max_length=255)


class Contact(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(default="", max_length=255)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    category: str = Field(default="", max_length=64)  # set by an operator; "": from the config
    created_at: datetime


class Agent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(default="", max_length=255)
    role: str = Field(default="agent", max_length=16)
    level: int = 1
    queues: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    away: bool = False
    active: bool = True
    calendar: str | None = Field(default=None, max_length=64)  # working hours; None: always
    last_assigned_at: datetime | None = None  # automatic assignment: who waited longest
    # tickets assigned to the agent in new, open or pending: kept by the database itself
    # (triggers on `ticket`, migration 0006) and read in SQL; never set here, a flush of a
    # value read earlier would overwrite what other transactions counted since
    open_tickets: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Queue(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    addresses: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Ticket(SQLModel, table=True):
    __table_args__ = (
        Index("ix_ticket_status_queue", "status", "queue"),
        # an agent's tickets: unassigned when they leave; their load counted (doctor, recount)
        Index("ix_ticket_assignee_status", "assignee_id", "status"),
        # resolved tickets waiting for a rating, oldest first (auto-close)
        Index("ix_ticket_status_resolved", "status", "resolved_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str | None = Field(default=None, max_length=32, unique=True)
    subject: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: TicketStatus = Field(
        default=TicketStatus.NEW, sa_type=EnumString(TicketStatus, 16), nullable=False
    )
    priority: Priority = Field(
        default=Priority.NORMAL, sa_type=EnumString(Priority, 16), nullable=False
    )
    queue: str = Field(default="general", max_length=64)
    service: str | None = Field(default=None, max_length=64)  # from the [[services]] catalogue
    type: TicketType = Field(
        default=TicketType.INCIDENT, sa_type=EnumString(TicketType, 16), nullable=False
    )
    category: str = Field(default=STANDARD_CATEGORY, max_length=64)  # the requester's, at creation
    level: int = 1
    assignee_id: int | None = Field(default=None, foreign_key="agent.id")
    requester_id: int = Field(foreign_key="contact.id", index=True)
    merged_into_id: int | None = Field(default=None, foreign_key="ticket.id")
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    first_response_at: datetime | None = None
    snoozed_until: datetime | None = Field(default=None, index=True)
    sla_policy: str | None = Field(default=None, max_length=64)
    first_response_due: datetime | None = Field(default=None, index=True)
    resolution_due: datetime | None = Field(default=None, index=True)
    next_reply_due: datetime | None = Field(default=None, index=True)
    # the next moment the SLA sweep must look at this ticket (a warning or a deadline); None
    # while the clock stands still or no target runs: the sweep is one indexed range query
    sla_next_at: datetime | None = Field(default=None, index=True)
    # the clock: stopped since (pending, resolved, closed); business minutes stopped in all
    paused_since: datetime | None = None
    paused_minutes: int = 0
    customer_waiting_since: datetime | None = None  # a customer reply no agent has answered
    first_response_minutes: int | None = None  # business minutes, pauses left out
    resolution_minutes: int | None = None  # to the last resolution
    reopened: int = 0  # times a resolved or closed ticket went back to work
    close_reason: str | None = Field(default=None, max_length=255)  # `#reason`
    kb_reference: str | None = Field(default=None, max_length=255)  # `#kb`
    rating: int | None = None  # 1 to 5
    rating_comment: str | None = Field(default=None, sa_column=Column(Text))
    rated_at: datetime | None = None


class TicketTag(SQLModel, table=True):
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    tag: str = Field(max_length=64, primary_key=True, index=True)


class Watcher(SQLModel, table=True):
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", primary_key=True, index=True)


class TimeEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    minutes: int
    at: datetime


class Participant(SQLModel, table=True):
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", primary_key=True, index=True)
    role: ParticipantRole = Field(
        default=ParticipantRole.CC, sa_type=EnumString(ParticipantRole, 16), nullable=False
    )


class TicketLink(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    other_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=32)  # follow-up-of | named-by-stranger | merged-into


class InboxItem(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("imap_mailbox", "imap_uidvalidity", "imap_uid", name="uq_inbox_imap"),
    )

    id: int | None = Field(default=None, primary_key=True)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    digest: str = Field(max_length=64, unique=True)
    message_id: str | None = Field(default=None, max_length=998, index=True)
    size: int = 0
    transport: str = Field(max_length=16)
    peer: str | None = Field(default=None, max_length=255)
    envelope_from: str | None = Field(default=None, max_length=998)
    envelope_to: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    imap_mailbox: str | None = Field(default=None, max_length=255)
    imap_uidvalidity: int | None = None
    imap_uid: int | None = None
    state: str = Field(default="received", max_length=16, index=True)
    outcome: str | None = Field(default=None, max_length=16)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    attempts: int = 0
    received_at: datetime
    processed_at: datetime | None = None


class Message(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    direction: str = Field(max_length=8)  # in | out
    visibility: Visibility = Field(
        default=Visibility.PUBLIC, sa_type=EnumString(Visibility, 16), nullable=False
    )
    role: MessageRole = Field(sa_type=EnumString(MessageRole, 16), nullable=False)
    author: str = Field(default="", max_length=320)
    author_name: str = Field(default="", max_length=255)
    subject: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    original: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    html: str | None = Field(default=None, sa_column=Column(Text))
    message_id: str | None = Field(default=None, max_length=998, index=True)
    inbox_item_id: int | None = Field(default=None, foreign_key="inboxitem.id", index=True)
    created_at: datetime


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=255)
    size: int = 0
    sha256: str = Field(max_length=64, index=True)


class Event(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    at: datetime
    actor: str = Field(max_length=320)
    type: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    source: str = Field(default="", max_length=64)  # "mail:<inbox item id>" | "cli" | "system"


class ReportRun(SQLModel, table=True):
    """A mailed report sent for one period: the unique key makes each mailing happen once,
    also with several daemons ticking at once."""

    __table_args__ = (UniqueConstraint("key", "due", name="uq_reportrun_key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=400)  # which `[[reports]]` entry: report, every and filters
    due: datetime  # the due moment of the period it covers (the period ends there)
    at: datetime


class TicketNotice(SQLModel, table=True):
    """A timed notice sent: the unique key makes each one happen once, also with several
    processes ticking at once (the second insert of a key inserts nothing, so sends nothing).
    """

    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", "target", "due", name="uq_ticketnotice_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=32)  # sla-warning | sla-breach | pending-reminder | …
    target: str = Field(default="", max_length=32)  # first_response | resolution | next_reply
    due: datetime  # the deadline (or moment) it is about: a moved deadline is a new key
    at: datetime


class BlacklistEntry(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_blacklist_kind_value"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # address | domain | pattern
    value: str = Field(max_length=320)
    note: str = Field(default="", max_length=255)
    created_at: datetime


class MailboxState(SQLModel, table=True):
    name: str = Field(primary_key=True, max_length=255)
    uidvalidity: int
    last_uid: int = 0


class OutboxItem(SQLModel, table=True):
    """One outbound mail, written in the same transaction as the change that caused it."""

    __table_args__ = (Index("ix_outbox_state_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=32)  # ack | agent-reply | notify | status | command-error | …
    message_id: str = Field(max_length=998, index=True)  # without angle brackets
    envelope_from: str = Field(max_length=320)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    raw: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # Until it is sent, a mail may be a draft (maildesk.outbound.draft): raw is composed then.
    spec: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    automatic: bool = False  # auto-generated (ack, notice): rate-limited, never answers robots
    rate_key: str | None = Field(default=None, max_length=320, index=True)  # the one recipient
    state: str = Field(default="queued", max_length=16)  # queued | sent | failed
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    sent_at: datetime | None = None
