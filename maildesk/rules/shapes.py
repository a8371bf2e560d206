"""The argument shapes conditions share — addresses, domains, text — checked and compiled once.

Conventions (the README's "Rules" section): a list means "any of"; text matching ignores case
unless `case_sensitive = true`; a regex is always a table `{ regex = "…" }` (or the value of a
`*_regex` condition); a string with `*`, `?` or `[` in an address or domain is a glob.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_GLOB = frozenset("*?[")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
_TAG = re.compile(r"^[\w.\-]{1,64}$")  # as `#tag` takes them


@dataclass(frozen=True)
class Reference:
    """The config names a compiled argument refers to (queues, calendars…), for `config check`."""

    kind: str  # queue | service | category | calendar | mailbox | agent | template
    names: Callable[[Any], Iterable[str]]


def compile_regex(pattern: str, *, case_sensitive: bool = False) -> re.Pattern[str]:
    """Every regex the rules use is compiled here, once, when the rules are loaded; `^` and `$`
    match at each line, as in grep (`\\A` and `\\Z` hold the whole text)."""
    flags = re.MULTILINE if case_sensitive else re.MULTILINE | re.IGNORECASE
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise ValueError(f"bad regex: {exc}") from None


def table(
    value: object, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    """An inline table with exactly the known keys; anything else is named."""
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a table with {', '.join(required + optional)}")
    known = required + optional
    unknown = [str(key) for key in value if key not in known]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (known: {', '.join(known)})")
    missing = [key for key in required if key not in value]
    if missing:
        raise ValueError(f"{missing[0]} is required")
    return dict(value)


def strings(value: object, what: str) -> tuple[str, ...]:
    """A non-empty string, or a non-empty list of them."""
    items: list[object] = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError(f"expected {what} or a list of them, got an empty list")
    found = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValueError(f"expected {what} or a list of them, got {item!r}")
        found.append(item.strip())
    return tuple(found)


def tags(value: object) -> tuple[str, ...]:
    """A tag or a list of them, lower-cased."""
    found = tuple(t.lower() for t in strings(value, "a tag"))
    for tag in found:
        if not _TAG.match(tag):
            raise ValueError(f"{tag!r} is not a tag (letters, digits, . _ -)")
    return found


def flag(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, got {value!r}")
    return value


def base_address(address: str) -> str:
    """`support+anything@x` → `support@x`; any other address is its own base."""
    local, at, domain = address.partition("@")
    return f"{local.split('+', 1)[0]}{at}{domain}"


@functools.lru_cache(maxsize=8)
def lowered(text: str) -> str:
    """The text lower-cased, once however many conditions ask: how case is ignored cheaply
    (Python's `re` searches ten times slower when told to ignore case)."""
    return text.lower()


@dataclass(frozen=True)
class TextTest:
    """Found when any of its needles or patterns is found in the text."""

    patterns: tuple[re.Pattern[str], ...] = ()  # searched in the text as it is
    folded: tuple[re.Pattern[str], ...] = ()  # lower-case patterns, in the lower-cased text
    needles: tuple[str, ...] = ()  # lower-case texts, in the lower-cased text

    def search(self, text: str) -> bool:
        for pattern in self.patterns:
            if pattern.search(text):
                return True
        if not (self.folded or self.needles):
            return False
        low = lowered(text)
        for needle in self.needles:
            if needle in low:
                return True
        return bool(self.folded) and any(pattern.search(low) for pattern in self.folded)


def _case_table(value: object, key: str) -> tuple[object, bool]:
    """`value`, or `{ <key> = value, case_sensitive = true }`: the value and its case flag."""
    if not isinstance(value, Mapping):
        return value, False
    spec = table(value, required=(key,), optional=("case_sensitive",))
    return spec[key], flag(spec.get("case_sensitive", False), "case_sensitive")


def contains(value: object) -> TextTest:
    """`"text"`, `["a", "b"]` (any), or `{ text = "…" or [...], case_sensitive = true }`."""
    value, case_sensitive = _case_table(value, "text")
    needles = strings(value, "a text")
    if not case_sensitive:
        return TextTest(needles=tuple(n.lower() for n in needles))
    return TextTest((compile_regex("|".join(map(re.escape, needles)), case_sensitive=True),))


def equals(value: object, *, case_sensitive: bool = False) -> TextTest:
    """The whole text, surrounding space aside, is one of these."""
    wanted = strings(value, "a text")
    pattern = r"\A\s*(?:" + "|".join(map(re.escape, wanted)) + r")\s*\Z"
    return TextTest((compile_regex(pattern, case_sensitive=case_sensitive),))


def regexes(value: object) -> TextTest:
    """`"regex"`, `["r1", "r2"]` (any), or `{ regex = "…" or [...], case_sensitive = true }`.

    A regex without upper-case letters (`outage|down`, `e-\\d+`) ignores case by searching
    the lower-cased text; any other one (`\\Aerror`, `[A-Z]{3}`) is searched ignoring case.
    """
    value, case_sensitive = _case_table(value, "regex")
    plain, folded = [], []
    for pattern in strings(value, "a regex"):
        if case_sensitive or pattern != pattern.lower() or "(?-" in pattern:
            plain.append(compile_regex(pattern, case_sensitive=case_sensitive))
        else:
            folded.append(compile_regex(pattern, case_sensitive=True))
    return TextTest(tuple(plain), tuple(folded))


def _entries(value: object, what: str) -> tuple[list[str], list[re.Pattern[str]]]:
    """Split strings (exact or glob, lower-cased) from `{ regex = "…" }` tables."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError(f"expected {what} or a list of them, got an empty list")
    plain: list[str] = []
    found: list[re.Pattern[str]] = []
    for item in items:
        if isinstance(item, Mapping):
            pattern = table(item, required=("regex",))["regex"]
            if not isinstance(pattern, str) or not pattern:
                raise ValueError(f"regex must be a non-empty string, got {pattern!r}")
            found.append(compile_regex(pattern))
        elif isinstance(item, str) and item.strip() and not _SPACE_OR_CONTROL.search(item.strip()):
            plain.append(item.strip().lower())
        else:
            raise ValueError(f'expected {what}, a glob or {{ regex = "…" }}, got {item!r}')
    return plain, found


def glob_patterns(globs: list[str]) -> list[re.Pattern[str]]:
    """All globs of one argument (lower-case, for lower-case names) as one anchored pattern."""
    if not globs:
        return []
    pattern = r"\A(?:" + "|".join(fnmatch.translate(g.lower()) for g in globs) + ")"
    return [compile_regex(pattern, case_sensitive=True)]


@dataclass(frozen=True)
class AddressTest:
    """Exact addresses, globs and regexes; `support@x` also matches `support+anything@x`."""

    exact: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, address: str) -> bool:
        base = base_address(address)
        if address in self.exact or base in self.exact:
            return True
        return any(p.search(address) or (base != address and p.search(base)) for p in self.patterns)

    def any(self, addresses: Iterable[str]) -> bool:
        return any(self.matches(a) for a in addresses)


def addresses(value: object) -> AddressTest:
    plain, found = _entries(value, "an address")
    exact = [a for a in plain if not _GLOB & set(a)]
    for address in exact:
        local, at, domain = address.partition("@")
        if not (local and at and domain) or "@" in domain:
            hint = " (a domain goes in a *_domain condition)" if not at else ""
            raise ValueError(f"{address!r} is not an address{hint}")
    globs = [a for a in plain if _GLOB & set(a)]
    return AddressTest(frozenset(exact), tuple(glob_patterns(globs) + found))


@dataclass(frozen=True)
class DomainTest:
    """Domains (each with its subdomains), globs and regexes over an address's domain."""

    exact: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    subdomains: tuple[str, ...] = field(init=False, repr=False, compare=False)  # ".<exact>"

    def __post_init__(self) -> None:
        object.__setattr__(self, "subdomains", tuple("." + d for d in self.exact))

    def matches(self, address: str) -> bool:
        domain = address.rpartition("@")[2]
        if domain in self.exact or domain.endswith(self.subdomains):
            return True
        return any(p.search(domain) for p in self.patterns)

    def any(self, addresses: Iterable[str]) -> bool:
        return any(self.matches(a) for a in addresses)


def domains(value: object) -> DomainTest:
    plain, found = _entries(value, "a domain")
    for domain in plain:
        if "@" in domain:
            raise ValueError(f"{domain!r} is not a domain (an address goes in from, to or cc)")
    exact = tuple(d.rstrip(".") for d in plain if not _GLOB & set(d))
    globs = [d for d in plain if _GLOB & set(d)]
    return DomainTest(exact, tuple(glob_patterns(globs) + found))
