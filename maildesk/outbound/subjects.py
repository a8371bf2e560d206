"""Outbound subjects: reply/forward prefixes and old ticket tags removed, our tag exactly once."""

from __future__ import annotations

import re

# Reply markers in the languages mail clients localise them into; `Re[2]:`, `Re^2:`, `Re(2):`.
_REPLY = r"re|aw|sv|svar|vs|antw|odp|ynt|atb|ответ|отв|回复|回覆|答复"
_FORWARD = r"fwd?|fw|wg|tr|rv|enc|doorst|vl"
_COUNTER = r"(?:\[\d+\]|\^\d+|\(\d+\))?"
_PREFIX = re.compile(
    rf"^(?:(?P<reply>{_REPLY})|{_FORWARD}){_COUNTER}\s*[:\uff1a]\s*", re.IGNORECASE
)
_ANY_TAG = re.compile(r"\[[A-Z][A-Z0-9]{0,9}-\d+\]", re.IGNORECASE)


def _tag_pattern(ref: str | None) -> re.Pattern[str]:
    """Tags of this desk's prefix (any number); any ticket-looking tag when there is no ref."""
    if ref is None or "-" not in ref:
        return _ANY_TAG
    prefix = re.escape(ref.rsplit("-", 1)[0])
    return re.compile(rf"\[{prefix}-\d+\]", re.IGNORECASE)


def strip_subject(subject: str, *, ref: str | None = None) -> tuple[str, bool]:
    """The subject without leading prefixes and without ticket tags; True if it was a reply."""
    tags = _tag_pattern(ref)
    text = " ".join(tags.sub(" ", subject).split())
    was_reply = False
    while match := _PREFIX.match(text):
        was_reply = was_reply or match["reply"] is not None
        text = text[match.end() :]
    return text, was_reply


def tagged_subject(subject: str, *, ref: str | None) -> str:
    """`Re: [TKT-42] Printer on fire`: one tag, `Re: ` only when the subject was a reply."""
    core, was_reply = strip_subject(subject, ref=ref)
    head = "Re: " if was_reply else ""
    if ref is None:
        return f"{head}{core}".strip()
    return f"{head}[{ref}] {core}".rstrip()
