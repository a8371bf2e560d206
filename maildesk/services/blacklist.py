"""The sender blacklist: exact addresses, whole domains and glob patterns, from config and DB."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from maildesk.config import BlacklistSettings
from maildesk.db import forget_transaction_cached, transaction_cached
from maildesk.errors import InvalidInput, NotFound
from maildesk.models import BlacklistEntry

KINDS = ("address", "domain", "pattern")


def _matches(kind: str, value: str, address: str) -> bool:
    value = value.lower()
    if kind == "address":
        return address == value
    if kind == "domain":
        domain = address.rpartition("@")[2]
        return domain == value or domain.endswith("." + value)
    return fnmatch.fnmatchcase(address, value)


def blacklist_reason(
    session: Session, *, config: BlacklistSettings, addresses: Sequence[str]
) -> str | None:
    """Why one of these senders is blacklisted (the first found, in order), or None."""
    rules = _rules(session, config)
    for address in (a.lower() for a in addresses):
        entry = _first_match(rules, address)
        if entry is not None:
            return f"blacklisted sender {address} ({entry})"
    return None


def blacklist_entry(session: Session, *, config: BlacklistSettings, address: str) -> str | None:
    """The entry that blacklists this address ("domain blocked.example in config"), or None."""
    return _first_match(_rules(session, config), address.lower())


_ENTRIES = "blacklist entries"  # transaction_cached key: (kind, value) of the table's rows


def _rules(session: Session, config: BlacklistSettings) -> list[tuple[str, str, str]]:
    rules = [(kind, value, " in config") for kind, value in _configured(config)]
    entries: list[tuple[str, str]] = transaction_cached(
        session, _ENTRIES, lambda: [(e.kind, e.value) for e in session.exec(select(BlacklistEntry))]
    )
    return rules + [(kind, value, "") for kind, value in entries]


def _first_match(rules: list[tuple[str, str, str]], address: str) -> str | None:
    for kind, value, where in rules:
        if _matches(kind, value, address):
            return f"{kind} {value}{where}"
    return None


def _configured(config: BlacklistSettings) -> list[tuple[str, str]]:
    return (
        [("address", v) for v in config.addresses]
        + [("domain", v) for v in config.domains]
        + [("pattern", v) for v in config.patterns]
    )


def guess_kind(value: str) -> str:
    if any(ch in value for ch in "*?["):
        return "pattern"
    return "address" if "@" in value else "domain"


def add_entry(
    session: Session, *, value: str, now: datetime, kind: str | None = None, note: str = ""
) -> BlacklistEntry:
    value = value.strip().lower()
    kind = kind or guess_kind(value)
    if kind not in KINDS:
        raise InvalidInput(f"unknown blacklist kind {kind!r} (use {', '.join(KINDS)})")
    if not value or (kind == "domain" and ("@" in value or "." not in value)):
        raise InvalidInput(f"not a {kind}: {value!r}")
    existing = session.exec(
        select(BlacklistEntry).where(BlacklistEntry.kind == kind, BlacklistEntry.value == value)
    ).first()
    if existing is not None:
        return existing
    entry = BlacklistEntry(kind=kind, value=value, note=note, created_at=now)
    session.add(entry)
    session.flush()
    forget_transaction_cached(session, _ENTRIES)
    return entry


def remove_entry(session: Session, *, value: str) -> int:
    entries = session.exec(
        select(BlacklistEntry).where(BlacklistEntry.value == value.lower())
    ).all()
    if not entries:
        raise NotFound(f"{value} is not on the blacklist (entries in the config file stay there)")
    for entry in entries:
        session.delete(entry)
    forget_transaction_cached(session, _ENTRIES)
    return len(entries)


def list_entries(session: Session) -> list[BlacklistEntry]:
    return list(session.exec(select(BlacklistEntry).order_by(col(BlacklistEntry.id))))
