"""Checks across a config's sections, and of the desk secret's strength.

The cross-checks read the TOML tables as written, not the validated settings, so they run
(and name their problems) even when a field elsewhere is invalid: `maildesk config check`
reports every mistake of a file in one run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from maildesk.models import STANDARD_CATEGORY

Data = Mapping[str, Any]
Check = Callable[[Data], list[str]]

DEFAULT_QUEUE = "general"  # the one queue there is when no [[queues]] is declared
ALWAYS_OPEN = "24x7"  # the calendar that exists without being declared
STANDARD = STANDARD_CATEGORY  # the category of a contact no [[categories]] entry matches
AUTO = "auto"  # `contact set --category auto`: the contact's category comes from [[categories]]
RESERVED_CATEGORIES = {
    STANDARD: "the category of a contact no category matches",
    AUTO: "what `maildesk contact set --category` takes to follow [[categories]] again",
}
MIN_SECRET_LENGTH = 16
MIN_SECRET_SYMBOLS = 8  # different characters: "aaaaaaaaaaaaaaaa" is long but no secret
# what people write when they mean "fill this in", compared without case and punctuation
PLACEHOLDERS = frozenset(
    {"changeme", "secret", "password", "example", "placeholder", "replaceme", "yoursecret"}
)


def weak_secret(secret: str) -> str | None:
    """Why a secret is too weak to sign reply addresses with, or None when it will do.

    Anyone who guesses it can sign reply addresses: write to any ticket as its customer, and
    act as any agent.
    """
    folded = re.sub(r"[^a-z0-9]", "", secret.lower())
    if folded in PLACEHOLDERS or folded.startswith(("changeme", "replaceme")):
        return "a well-known placeholder"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(secret)) < MIN_SECRET_SYMBOLS:
        return f"fewer than {MIN_SECRET_SYMBOLS} different characters"
    return None


def _tables(data: Data, section: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each table of an array of tables, with its dotted key; anything else is skipped."""
    value = data.get(section)
    if isinstance(value, list):
        for index, table in enumerate(value):
            if isinstance(table, dict):
                yield f"{section}[{index}]", table


def _text(table: Mapping[str, Any], key: str) -> str | None:
    value = table.get(key)
    return value if isinstance(value, str) else None


def _texts(table: Mapping[str, Any], key: str) -> list[str]:
    value = table.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _names(data: Data, section: str) -> list[str]:
    return [name for _, table in _tables(data, section) if (name := _text(table, "name"))]


def queue_names(data: Data) -> list[str]:
    """The queues there are: as declared, or the default one when none is."""
    declared = list(_tables(data, "queues"))
    return _names(data, "queues") if declared else [DEFAULT_QUEUE]


def _unique(section: str, key: str, *, fold: bool = False) -> Check:
    """No two tables of `section` with the same `key` (case-insensitive when `fold`)."""

    def check(data: Data) -> list[str]:
        seen: dict[str, str] = {}
        found = []
        for where, table in _tables(data, section):
            value = _text(table, key)
            if value is None:
                continue
            folded = value.lower() if fold else value
            if folded in seen:
                found.append(f"{where}.{key}: {value!r} is already taken by {seen[folded]}")
            else:
                seen[folded] = where
        return found

    return check


def _one_queue_per_address(data: Data) -> list[str]:
    """Mail to an address lands in one queue: two queues cannot share it."""
    owner: dict[str, str] = {}
    found = []
    for where, table in _tables(data, "queues"):
        for address in dict.fromkeys(a.lower() for a in _texts(table, "addresses")):
            first = owner.setdefault(address, where)
            if first != where:
                found.append(f"{where}.addresses: {address} is already an address of {first}")
    return found


def _known(kind: str, names: list[str]) -> str:
    kinds = kind[:-1] + "ies" if kind.endswith("y") else kind + "s"
    return f"unknown {kind} {{!r}} ({kinds}: {', '.join(dict.fromkeys(names)) or 'none'})"


def _agents_name_known_queues_and_calendars(data: Data) -> list[str]:
    queues = queue_names(data)
    calendars = [ALWAYS_OPEN, *_names(data, "calendars")]
    found = []
    for where, table in _tables(data, "agents"):
        for queue in _texts(table, "queues"):
            if queue not in queues:
                found.append(f"{where}.queues: " + _known("queue", queues).format(queue))
        calendar = _text(table, "calendar")
        if calendar is not None and calendar not in calendars:
            found.append(f"{where}.calendar: " + _known("calendar", calendars).format(calendar))
    return found


def _services_name_known_queues(data: Data) -> list[str]:
    queues = queue_names(data)
    return [
        f"{where}.queue: " + _known("queue", queues).format(queue)
        for where, table in _tables(data, "services")
        if (queue := _text(table, "queue")) is not None and queue not in queues
    ]


def _one_or_many(table: Mapping[str, Any], key: str) -> list[str]:
    value = table.get(key)
    return [value] if isinstance(value, str) else _texts(table, key)


def _sla_names_known(data: Data) -> list[str]:
    """A policy's calendar and the queues, services and categories it matches exist."""
    known = {
        "queue": queue_names(data),
        "service": _names(data, "services"),
        "category": [STANDARD, *_names(data, "categories")],
    }
    calendars = [ALWAYS_OPEN, *_names(data, "calendars")]
    found = []
    for where, table in _tables(data, "sla"):
        calendar = _text(table, "calendar")
        if calendar is not None and calendar not in calendars:
            found.append(f"{where}.calendar: " + _known("calendar", calendars).format(calendar))
        match = table.get("match")
        if not isinstance(match, dict):
            continue
        for key, names in known.items():
            found += [
                f"{where}.match.{key}: " + _known(key, names).format(name)
                for name in _one_or_many(match, key)
                if name not in names
            ]
    return found


def _report_filters_known(data: Data) -> list[str]:
    """A mailed report's queue, service and category filters name what exists."""
    known = {
        "queue": queue_names(data),
        "service": _names(data, "services"),
        "category": [STANDARD, *_names(data, "categories")],
    }
    return [
        f"{where}.{key}: " + _known(key, names).format(name)
        for where, table in _tables(data, "reports")
        for key, names in known.items()
        if (name := _text(table, key)) is not None and name not in names
    ]


def _no_reserved_category(data: Data) -> list[str]:
    return [
        f"{where}.name: {name!r} is reserved ({RESERVED_CATEGORIES[name.lower()]})"
        for where, table in _tables(data, "categories")
        if (name := _text(table, "name") or "").lower() in RESERVED_CATEGORIES
    ]


def _tls_or_starttls(data: Data) -> list[str]:
    sections = [(where, table) for where, table in _tables(data, "imap")]
    if isinstance(data.get("outbound"), dict):
        sections.append(("outbound", data["outbound"]))
    return [
        f"{where}: tls and starttls are exclusive"
        for where, table in sections
        if table.get("tls") is True and table.get("starttls") is True
    ]


LISTENER_DEFAULTS = {"smtp": (True, 2525), "lmtp": (False, 2424), "metrics": (False, 9469)}


def _listener_address(data: Data, section: str) -> tuple[str, object] | None:
    """host:port an enabled TCP listener binds (port 0 = any free one), else None."""
    table = data.get(section, {})
    if not isinstance(table, dict) or "socket" in table:
        return None
    enabled, port = LISTENER_DEFAULTS[section]
    if table.get("enabled", enabled) is not True or table.get("port", port) == 0:
        return None
    return _text(table, "host") or "127.0.0.1", table.get("port", port)


def _listeners_apart(data: Data) -> list[str]:
    """The SMTP, LMTP and metrics listeners cannot share a port: the daemon could not start."""
    found: list[str] = []
    taken: dict[tuple[str, object], str] = {}
    for section in LISTENER_DEFAULTS:
        where = _listener_address(data, section)
        if where is None:
            continue
        if where in taken:
            other = taken[where]
            found.append(
                f"{section}.port: {where[1]} on {where[0]} is already the"
                f" {other.upper() if other != 'metrics' else other} listener's ({other}.port)"
            )
        taken.setdefault(where, section)
    return found


CHECKS: tuple[Check, ...] = (
    _listeners_apart,
    _unique("queues", "name"),
    _one_queue_per_address,
    _unique("agents", "email", fold=True),
    _agents_name_known_queues_and_calendars,
    _unique("imap", "name"),
    _tls_or_starttls,
    _unique("services", "name", fold=True),  # `#service` finds a service in any case
    _services_name_known_queues,
    _unique("categories", "name", fold=True),
    _no_reserved_category,
    _unique("sla", "name"),
    _sla_names_known,
    _report_filters_known,
)


def cross_problems(data: Data) -> list[str]:
    """Every problem between sections (names that must exist, or be unique), one line each."""
    return [line for check in CHECKS for line in check(data)]
