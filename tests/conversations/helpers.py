"""The conversation tests' shared vocabulary: who speaks, what they say, what the outbox holds.

A customer writes and an agent replies to a notice, as their mail clients would; the readers
pick the mails each person received out of what the desk sent.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from maildesk.pipeline.runner import Outcome
from tests.conftest import Desk
from tests.mails import mail

ALICE = "Alice <alice@example.com>"
BOB = "Bob <bob@example.com>"
CAROL = "carol@acme.test"


# --- reading the outbox ------------------------------------------------------------------------


def to_of(message: EmailMessage) -> list[str]:
    return [a.lower() for _, a in getaddresses([str(message.get("To", ""))])]


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def reply_to_of(message: EmailMessage) -> str:
    return getaddresses([str(message["Reply-To"])])[0][1]


def mails_to(sent: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [m for m in sent if address in to_of(m)]


def one_to(sent: list[EmailMessage], address: str) -> EmailMessage:
    found = mails_to(sent, address)
    assert len(found) == 1, [(to_of(m), m["Subject"]) for m in sent]
    return found[0]


# --- saying things -----------------------------------------------------------------------------


def customer_writes(
    desk: Desk, *, sender: str = f"Carol Customer <{CAROL}>", **fields: Any
) -> tuple[str, dict[str, EmailMessage]]:
    """A customer opens a ticket; returns its ref and what each got (agents' notices, ack)."""
    outcome = desk.receives(mail(sender=sender, **fields))
    assert outcome.outcome == "created" and outcome.ticket is not None
    notices = {to_of(m)[0]: m for m in desk.sent()}
    return outcome.ticket, notices


def agent_replies(
    desk: Desk, notice: EmailMessage, body: str, *, sender: str = ALICE, **fields: Any
) -> Outcome:
    """An agent answers a notice from their mail client: to its Reply-To, in its thread."""
    return desk.receives(
        mail(
            sender=sender,
            to=reply_to_of(notice),
            subject=f"Re: {notice['Subject']}",
            in_reply_to=str(notice["Message-ID"]).strip("<>"),
            body=body,
            **fields,
        )
    )


def agent_messages(ticket: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in ticket["messages"] if m["role"] == "agent"]
