"""Rules from `[[rules]]` tables: every key checked and every problem named, all in one pass.

`compile_rules` checks what the rules say on their own; `check_references` checks the names
they use (queues, services, calendars, agents, templates…) against the rest of the config.
Both report lines like `rules[premium outage].when.subject_regex: bad regex: …`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from maildesk.rules.actions import ACTIONS
from maildesk.rules.conditions import CONDITIONS
from maildesk.rules.facts import EVENTS, Event
from maildesk.rules.language import Detector, LanguageTest

RULE_KEYS = ("name", "on", "when", "then", "stop")
ALWAYS_THERE = {"calendar": {"24x7"}, "category": {"standard"}}

Entry = tuple[str, Any]  # (condition or action name, its compiled argument)


@dataclass(frozen=True)
class Rule:
    name: str
    on: frozenset[Event] = frozenset({"new"})
    when: tuple[Entry, ...] = ()  # all must hold, tested in this order
    then: tuple[Entry, ...] = ()  # applied in this order
    stop: bool = False  # a match ends the evaluation


def compile_rules(tables: Sequence[object]) -> tuple[tuple[Rule, ...], list[str]]:
    """The rules that are well-formed, and one line per problem; run none if there are any."""
    rules: list[Rule] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(tables):
        rule = _compile_one(index, table, seen, problems)
        if rule is not None:
            rules.append(rule)
    return _share_detector(tuple(rules)), problems


def _compile_one(
    index: int, table: object, seen: dict[str, int], problems: list[str]
) -> Rule | None:
    if not isinstance(table, Mapping):
        problems.append(f"rules[{index}]: must be a table")
        return None
    before = len(problems)
    name = table.get("name")
    label = f"rules[{index}]"
    if name is None:
        problems.append(f"{label}: name is required")
    elif not isinstance(name, str) or not name.strip():
        problems.append(f"{label}.name: must be a non-empty string")
    elif name.strip() in seen:
        problems.append(f"{label}.name: {name.strip()!r} is already rules[{seen[name.strip()]}]")
    else:
        name = name.strip()
        seen[name] = index
        label = f"rules[{name}]"
    problems += [f"{label}.{key}: unknown key" for key in table if key not in RULE_KEYS]
    on = _events(table.get("on", ["new"]), label, problems)
    stop = table.get("stop", False)
    if not isinstance(stop, bool):
        problems.append(f"{label}.stop: must be true or false")
    when = _entries(table.get("when", {}), CONDITIONS, f"{label}.when", "condition", problems)
    then = _entries(table.get("then", {}), ACTIONS, f"{label}.then", "action", problems)
    if not table.get("then") and stop is not True:
        problems.append(f"{label}: does nothing (give it then, or stop = true)")
    if len(problems) > before:
        return None
    return Rule(str(name), on, when, then, stop)


def _events(value: object, label: str, problems: list[str]) -> frozenset[Event]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        problems.append(f"{label}.on: expected a list of {' and '.join(EVENTS)}")
        return frozenset()
    found = frozenset(e for e in EVENTS if e in items)
    for item in items:
        if item not in EVENTS:
            problems.append(f"{label}.on: {item!r} is not one of {', '.join(EVENTS)}")
    return found


def _entries(
    value: object, registry: Mapping[str, Any], label: str, what: str, problems: list[str]
) -> tuple[Entry, ...]:
    if not isinstance(value, Mapping):
        problems.append(f"{label}: must be a table of {what}s")
        return ()
    found = []
    for key, argument in value.items():
        entry = registry.get(key)
        if entry is None:
            close = difflib.get_close_matches(str(key), list(registry), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"{label}.{key}: unknown {what}{hint}")
            continue
        try:
            found.append((str(key), entry.compile(argument)))
        except ValueError as exc:
            problems.append(f"{label}.{key}: {exc}")
    return tuple(found)


def _share_detector(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """One language detector for the whole rule set, over every language any rule names."""
    named = {
        code
        for rule in rules
        for _, arg in rule.when
        if isinstance(arg, LanguageTest)
        for code in arg.codes
    }
    if not named:
        return rules
    detector = Detector(named)

    def bound(entry: Entry) -> Entry:
        key, arg = entry
        return (key, replace(arg, detector=detector)) if isinstance(arg, LanguageTest) else entry

    return tuple(replace(rule, when=tuple(map(bound, rule.when))) for rule in rules)


def check_references(
    rules: Iterable[Rule],
    *,
    queues: Iterable[str],
    services: Iterable[str],
    categories: Iterable[str],
    calendars: Iterable[str],
    agents: Iterable[str],
    templates: Iterable[str],
    mailboxes: Iterable[str] | None = None,
) -> list[str]:
    """One line per name a rule uses that the config does not have ("24x7" and "standard"
    always exist); `mailboxes=None` leaves mailbox names unchecked."""
    known: dict[str, set[str]] = {
        "queue": set(queues),
        "service": set(services),
        "category": set(categories),
        "calendar": set(calendars),
        "agent": {a.lower() for a in agents},
        "template": set(templates),
    }
    if mailboxes is not None:
        known["mailbox"] = set(mailboxes)
    for kind, names in ALWAYS_THERE.items():
        known[kind] |= names
    return [problem for rule in rules for problem in _unknown_names(rule, known)]


def _unknown_names(rule: Rule, known: dict[str, set[str]]) -> list[str]:
    """The names one rule uses that are not in `known`, one line each."""
    problems = []
    for part, entries, registry in (("when", rule.when, CONDITIONS), ("then", rule.then, ACTIONS)):
        for key, arg in entries:
            refers = registry[key].refers
            if refers is None or refers.kind not in known:
                continue
            problems += [
                f"rules[{rule.name}].{part}.{key}: unknown {refers.kind} {name!r}"
                for name in sorted(refers.names(arg))
                if name not in known[refers.kind]
            ]
    return problems
