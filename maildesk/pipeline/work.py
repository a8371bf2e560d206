"""The typed values that flow through the stages and handlers: the mail and what is known of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from maildesk.agent.lines import BadLine
from maildesk.desk import Desk
from maildesk.mail import Address, InboundMail
from maildesk.models import MessageRole, Relation, Visibility
from maildesk.notices import Thread
from maildesk.outbound.bounces import Bounce
from maildesk.pipeline.disposition import Disposition
from maildesk.pipeline.parse_pool import Parsed


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
    score: int | None = None  # a rating address located it: the score that address carries


@dataclass(frozen=True)
class Create:
    """A new ticket, in the queue the route handler chose; linked when it names another."""

    linked_to: int | None = None
    link_kind: str | None = None


@dataclass(frozen=True)
class Append:
    ticket_id: int
    role: MessageRole
    visibility: Visibility
    reopen: bool = False
    run_commands: bool = True  # an agent's mail runs its `#` lines; False: stored as it is


@dataclass(frozen=True)
class AgentNew:
    """A proven agent writes to the desk itself: `#to customer@…` starts a ticket for them."""

    agent_email: str


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


@dataclass(frozen=True)
class Rate:
    """A participant rates a resolved (or recently closed) ticket: the mail is stored, the
    rating recorded, a resolved ticket closed; never a reopen."""

    ticket_id: int
    score: int  # 1 to 5
    comment: str  # "" when they said nothing more
    by_address: bool = False  # the score came from a rating address, not from the text


Plan = Create | Append | AgentNew | HoldUnproven | MatchBounce | Rate


class Handled(StrEnum):
    """What the handlers did with a mail none of them stopped (the `ingest --json` outcome)."""

    CREATED = "created"
    APPENDED = "appended"
    REOPENED = "reopened"
    DROPPED = "dropped"  # done, yet no ticket touched: a delivery report on a ticketless mail


class NoticeKind(StrEnum):
    NEW_TICKET = "new-ticket"  # ack the requester; tell the assignee, else the queue's agents
    CUSTOMER_REPLY = "customer-reply"  # tell the assignee, else the queue's agents
    AUTO_REPLY = "auto-reply"  # a rule's reply to the requester, after the ack


@dataclass(frozen=True)
class Notice:
    """A mail the announce handler is to send about this mail's ticket."""

    kind: NoticeKind
    text: str  # what the customer wrote, quoted history stripped
    author: Address | None = None  # who wrote it, by the name their mail gave
    template: str | None = None  # an auto-reply's template


@dataclass(frozen=True)
class Refusal:
    """What an agent hears when their commands are refused: kept although the mail stops."""

    agent_email: str
    ticket_id: int | None  # on this ticket (an event and a notice); None: a mail of its own
    subject: str
    errors: tuple[BadLine, ...]
    answering: Thread  # the agent's own mail, which the command-error mail answers


@dataclass(frozen=True)
class History:
    """An imported mail: history told again, quietly (no mail at all) and at its own time."""

    open_since: datetime | None = None  # mail before it leaves its ticket closed; None: all
    written_at: datetime | None = None  # the mail's own time (the `history` stage), never ahead

    @property
    def keeps_open(self) -> bool:
        """Mail at or after `open_since` leaves its ticket open, its clock running."""
        return (
            self.open_since is not None
            and self.written_at is not None
            and self.written_at >= self.open_since
        )


@dataclass(frozen=True)
class Work:
    """One inbox item on its way through the stages and handlers; each returns a new Work."""

    item_id: int
    raw: bytes
    parsed_ahead: Parsed | None = None  # what the parse pool made of `raw`; None: parse it
    envelope_to: tuple[str, ...] = ()
    envelope_from: str | None = None  # SMTP MAIL FROM; "": the null sender <>; None: unknown
    mailbox: str | None = None  # the [[imap]] mailbox it was fetched from; None: not IMAP
    mail: InboundMail | None = None
    automatic: str | None = None  # why the mail counts as automatic (never auto-answered)
    bounce: Bounce | None = None  # the delivery status report it is, parsed once by `automatic`
    thread: ThreadMatch | None = None
    plan: Plan | None = None
    # What the handlers decided and did:
    queue: str | None = None  # where a new ticket goes (the route handler)
    ticket_id: int | None = None  # the ticket this mail created or was added to
    outcome: Handled | None = None
    summary: str | None = None  # the item's reason once done: the evidence, who started it, …
    acknowledge: bool = True  # a new ticket's requester gets the ack (a rule may say no)
    notices: tuple[Notice, ...] = ()  # sent by the announce handler, last
    rule_hits: tuple[str, ...] = ()  # the rules that matched, in order
    assign_to: str | None = None  # a new ticket's assignee by a rule: an agent's email or a
    # strategy name; None: the queue's own strategy (the assign handler)
    refusal: Refusal | None = None  # written by the stopping handler's on_stop
    history: History | None = None  # an imported mail (its origin says so); None: live mail

    @property
    def quiet(self) -> bool:
        """Imported: it sends nothing, answers nothing, runs no agent command."""
        return self.history is not None

    def parsed(self) -> InboundMail:
        assert self.mail is not None, "the parse stage runs first"
        return self.mail


Step = tuple[Disposition, Work]
