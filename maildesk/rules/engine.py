"""evaluate: the rules in order against one mail's facts → a Decision, and why each rule did
or did not match. Pure: the caller carries the decision out and records each hit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import NamedTuple

from maildesk.rules.actions import ACTIONS
from maildesk.rules.conditions import CONDITIONS
from maildesk.rules.decision import Decision
from maildesk.rules.facts import Facts
from maildesk.rules.spec import Rule


class RuleResult(NamedTuple):  # a tuple: one is built for every rule on every mail
    name: str
    applies_to_event: bool  # the rule's `on` holds the mail's event
    matched: bool
    failed: str | None = None  # the first condition that did not hold

    def explain(self) -> str:
        if self.matched:
            return f"{self.name}: matched"
        if not self.applies_to_event:
            return f"{self.name}: not for this event"
        return f"{self.name}: {self.failed} did not hold"


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    results: tuple[RuleResult, ...]  # the rules evaluated, in order (none after a stop)
    stopped_by: str | None = None  # the matching rule with `stop = true` that ended it

    def explain(self) -> list[str]:
        lines = [result.explain() for result in self.results]
        return lines + ([f"stopped by {self.stopped_by}"] if self.stopped_by else [])


def first_failing(rule: Rule, facts: Facts) -> str | None:
    """The first condition of the rule that does not hold, in declared order; None: all do."""
    for name, argument in rule.when:
        if not CONDITIONS[name].test(facts, argument):
            return name
    return None


_READ: dict[int, tuple[tuple[Rule, ...], frozenset[str]]] = {}  # id → (rules, facts read)


def facts_read(rules: Iterable[Rule]) -> frozenset[str]:
    """The costly facts ("body", "tags") some rule's condition reads: the others need not be
    looked up for a mail. A desk's rules (a tuple) are gone through once, not per mail."""
    known = _READ.get(id(rules)) if isinstance(rules, tuple) else None
    if known is not None and known[0] is rules:
        return known[1]
    found = frozenset(
        reads for rule in rules for name, _ in rule.when if (reads := CONDITIONS[name].reads)
    )
    if isinstance(rules, tuple):
        if len(_READ) >= 8:  # a few desks' rules at most (tests, a reload)
            _READ.clear()
        _READ[id(rules)] = (rules, found)
    return found


def apply_rule(rule: Rule, decision: Decision) -> Decision:
    for name, argument in rule.then:
        decision = ACTIONS[name].apply(decision, argument)
    return decision


FACT_FIELDS = frozenset({"queue", "service", "priority", "category", "tags"})


def updated(facts: Facts, rule: Rule, decision: Decision) -> Facts:
    """The facts later rules see: the ticket fields as the matching rules so far set them."""
    if not any(name in FACT_FIELDS for name, _ in rule.then):
        return facts
    return replace(
        facts,
        queue=decision.queue or facts.queue,
        service=decision.service or facts.service,
        priority=decision.priority or facts.priority,
        category=decision.category or facts.category,
        tags=facts.tags | frozenset(decision.tags),
    )


def evaluate(rules: Iterable[Rule], facts: Facts) -> Evaluation:
    decision = Decision()
    results: list[RuleResult] = []
    hits: list[str] = []
    stopped_by = None
    for rule in rules:
        if facts.event not in rule.on:
            results.append(RuleResult(rule.name, applies_to_event=False, matched=False))
            continue
        failed = first_failing(rule, facts)
        results.append(RuleResult(rule.name, True, matched=failed is None, failed=failed))
        if failed is not None:
            continue
        decision = apply_rule(rule, decision)
        hits.append(rule.name)
        facts = updated(facts, rule, decision)
        if rule.stop:
            stopped_by = rule.name
            break
    return Evaluation(replace(decision, hits=tuple(hits)), tuple(results), stopped_by)
