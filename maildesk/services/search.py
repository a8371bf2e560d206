"""Full-text search over ticket subjects and message texts (case-insensitive substring)."""

from __future__ import annotations

from sqlmodel import Session, col, or_, select

from maildesk.models import Message, Ticket


def search_tickets(session: Session, *, text: str, limit: int = 200) -> list[Ticket]:
    """Tickets whose subject or any message contains every word of `text`, newest first."""
    words = [w for w in text.split() if w]
    if not words:
        return []
    query = select(Ticket).where(col(Ticket.merged_into_id).is_(None))
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = "%" + escaped + "%"
        in_messages = select(Message.ticket_id).where(col(Message.text).ilike(pattern, escape="\\"))
        query = query.where(
            or_(col(Ticket.subject).ilike(pattern, escape="\\"), col(Ticket.id).in_(in_messages))
        )
    return list(session.exec(query.order_by(col(Ticket.id).desc()).limit(limit)))
