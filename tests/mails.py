"""A small builder for test mails: who writes to whom, about what, replying to which mail."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

DATA = Path(__file__).parent / "data"


def mail(
    *,
    sender: str = "Carol Customer <carol@acme.test>",
    to: str = "support@example.com",
    subject: str = "Printer on fire",
    body: str = "Help, it burns.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    cc: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
    date: datetime | None = datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
) -> bytes:
    """Raw bytes of a plain mail; ids are given without angle brackets; `date` None: no Date."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = format_datetime(date)
    msg["Message-ID"] = f"<{message_id}>" if message_id else make_msgid(domain="test.example")
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = " ".join(f"<{r}>" for r in (references or [in_reply_to]))
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, content_type, data in attachments or []:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def sample(name: str) -> bytes:
    """A real-world sample from tests/data."""
    return (DATA / name).read_bytes()
