"""Remembered IMAP position per mailbox: UIDVALIDITY and the last UID taken."""

from __future__ import annotations

from sqlmodel import Session

from maildesk.models import MailboxState


def load_state(session: Session, *, name: str) -> tuple[int, int] | None:
    row = session.get(MailboxState, name)
    return (row.uidvalidity, row.last_uid) if row else None


def save_state(session: Session, *, name: str, uidvalidity: int, last_uid: int) -> None:
    row = session.get(MailboxState, name) or MailboxState(name=name, uidvalidity=uidvalidity)
    row.uidvalidity = uidvalidity
    row.last_uid = last_uid
    session.add(row)
