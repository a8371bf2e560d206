"""The typed values that flow through the stages: the mail at hand and what is known of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from maildesk.desk import Desk
from maildesk.mail import InboundMail
from maildesk.models import MessageRole, Relation, Visibility
from maildesk.outbound.bounces import Bounce
from maildesk.pipeline.disposition import Disposition


@dataclass(frozen=True)
class StageEnv:
    session: Session
    desk: Desk
    now: datetime


@dataclass(frozen=True)
class ThreadMatch:
    """The ticket a mail belongs to, the evidence that located it, and who the sender is to it."""

    ticket_id: int
    evidence: str
    relation: Relation
    agent_proof: bool = False


@dataclass(frozen=True)
class Create:
    queue: str
    linked_to: int | None = None
    link_kind: str | None = None


@dataclass(frozen=True)
class Append:
    ticket_id: int
    role: MessageRole
    visibility: Visibility
    reopen: bool = False


@dataclass(frozen=True)
class AgentNew:
    """A proven agent writes to the desk itself: `#to customer@…` starts a ticket for them."""

    agent_email: str
    queue: str


@dataclass(frozen=True)
class HoldUnproven:
    """A mail claims an agent's From without proof: held, and the real agent is told."""

    agent_email: str
    ticket_id: int | None
    reason: str


@dataclass(frozen=True)
class MatchBounce:
    """A delivery report that locates no ticket: match it to its outbox row, answer nothing."""

    automatic: str  # why the mail counts as automatic


Plan = Create | Append | AgentNew | HoldUnproven | MatchBounce


@dataclass(frozen=True)
class Work:
    """One inbox item on its way through the stages; each stage returns a new Work."""

    item_id: int
    raw: bytes
    envelope_to: tuple[str, ...] = ()
    envelope_from: str | None = None  # SMTP MAIL FROM; "": the null sender <>; None: unknown
    mail: InboundMail | None = None
    automatic: str | None = None  # why the mail counts as automatic (never auto-answered)
    bounce: Bounce | None = None  # the delivery status report it is, parsed once by `automatic`
    thread: ThreadMatch | None = None
    plan: Plan | None = None

    def parsed(self) -> InboundMail:
        assert self.mail is not None, "the parse stage runs first"
        return self.mail


Step = tuple[Disposition, Work]
