"""evaluate: rules in order, `on` and `stop`, what later rules see, and why a rule missed."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from maildesk.rules import shapes
from maildesk.rules.decision import Decision
from maildesk.rules.engine import Evaluation, RuleResult, evaluate, facts_read
from tests.mails import mail
from tests.unit.rules.given import facts, rules

URGENT = facts(mail(subject="Server down", body="Nothing works."))


def test_every_matching_rule_applies_in_order_and_is_a_hit() -> None:
    compiled = rules(
        {"name": "down", "when": {"subject_contains": "down"}, "then": {"priority": "high"}},
        {"name": "invoice", "when": {"subject_contains": "invoice"}, "then": {"queue": "billing"}},
        {"name": "all", "then": {"priority": "urgent", "tags": "seen"}},
    )

    evaluation = evaluate(compiled, URGENT)

    assert evaluation.decision.priority == "urgent"
    assert evaluation.decision.queue is None
    assert evaluation.decision.tags == ("seen",)
    assert evaluation.decision.hits == ("down", "all")


def test_stop_ends_the_evaluation_after_a_matching_rule_only() -> None:
    compiled = rules(
        {"name": "missed", "when": {"subject_contains": "invoice"}, "stop": True},
        {"name": "down", "when": {"subject_contains": "down"}, "then": {"tags": "a"}, "stop": True},
        {"name": "never", "then": {"tags": "b"}},
    )

    evaluation = evaluate(compiled, URGENT)

    assert evaluation.decision.tags == ("a",)
    assert [r.name for r in evaluation.results] == ["missed", "down"]
    assert evaluation.stopped_by == "down"
    assert evaluation.explain()[-1] == "stopped by down"


@pytest.mark.parametrize(("event", "hits"), [("new", ("both", "new")), ("follow-up", ("both",))])
def test_a_rule_runs_on_new_mail_unless_it_says_follow_up(
    event: str, hits: tuple[str, ...]
) -> None:
    compiled = rules(
        {"name": "both", "on": ["new", "follow-up"], "then": {"tags": "a"}},
        {"name": "new", "then": {"tags": "b"}},
    )

    evaluation = evaluate(compiled, facts(event=event))

    assert evaluation.decision.hits == hits
    assert evaluation.results[-1].applies_to_event is (event == "new")


def test_a_follow_up_only_rule_skips_new_mail() -> None:
    compiled = rules({"name": "reply", "on": "follow-up", "then": {"tags": "reply"}})

    assert evaluate(compiled, facts(event="new")).decision.hits == ()
    assert evaluate(compiled, facts(event="follow-up")).decision.hits == ("reply",)


def test_the_explanation_names_the_first_condition_that_failed() -> None:
    compiled = rules(
        {
            "name": "premium outage",
            "when": {"subject_contains": "down", "category": "premium", "priority": "urgent"},
            "then": {"priority": "urgent"},
        },
        {"name": "replies", "on": ["follow-up"], "then": {"tags": "x"}},
        {"name": "anything", "then": {"tags": "y"}},
    )

    evaluation = evaluate(compiled, URGENT)

    assert evaluation.results == (
        RuleResult("premium outage", applies_to_event=True, matched=False, failed="category"),
        RuleResult("replies", applies_to_event=False, matched=False),
        RuleResult("anything", applies_to_event=True, matched=True),
    )
    assert evaluation.explain() == [
        "premium outage: category did not hold",
        "replies: not for this event",
        "anything: matched",
    ]


def test_conditions_after_the_first_false_one_are_not_tested() -> None:
    asked: list[str] = []

    def is_open(calendar: str, when: datetime) -> bool:
        asked.append(calendar)
        return True

    compiled = rules(
        {
            "name": "r",
            "when": {"queue": "billing", "business_hours": "office"},
            "then": {"tags": "x"},
        }
    )

    evaluate(compiled, facts(is_open=is_open))

    assert asked == []


def test_later_rules_see_the_fields_earlier_matching_rules_set() -> None:
    compiled = rules(
        {"name": "to billing", "when": {"subject_contains": "down"}, "then": {"queue": "billing"}},
        {"name": "billing urgent", "when": {"queue": "billing"}, "then": {"priority": "urgent"}},
        {"name": "urgent tag", "when": {"priority": "urgent"}, "then": {"tags": "hot"}},
        {"name": "hot note", "when": {"tags": "hot"}, "then": {"note": "hot"}},
        {"name": "gold", "then": {"category": "gold", "service": "mail"}},
        {
            "name": "gold mail",
            "when": {"category": "gold", "service": "mail"},
            "then": {"level": 2},
        },
    )

    evaluation = evaluate(compiled, URGENT)

    assert evaluation.decision.hits == tuple(rule.name for rule in compiled)
    assert evaluation.decision.level == 2


def test_no_rules_decide_nothing() -> None:
    assert evaluate((), URGENT) == Evaluation(Decision(), ())


class Counted:
    """A compiled regex that counts its searches."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.calls = 0

    def search(self, text: str) -> re.Match[str] | None:
        self.calls += 1
        return self.pattern.search(text)


def test_fifty_rules_search_each_compiled_regex_at_most_once_and_compile_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[Counted] = []
    real = shapes.compile_regex

    def counting(pattern: str, *, case_sensitive: bool = False) -> Any:
        made.append(Counted(real(pattern, case_sensitive=case_sensitive)))
        return made[-1]

    monkeypatch.setattr(shapes, "compile_regex", counting)
    compiled = rules(
        *(
            {
                "name": f"rule {i}",
                "when": {
                    "subject_regex": "down" if i % 5 == 0 else f"nothing{i}",
                    "body_contains": ["works", f"word{i}"],
                    "from": ["*@acme.test", {"regex": "^carol@"}],
                    "header": {"name": "Subject", "regex": "^server"},
                },
                "then": {"tags": f"t{i}"},
            }
            for i in range(50)
        )
    )
    monkeypatch.setattr(re, "compile", lambda *a, **k: pytest.fail("compiled while evaluating"))

    evaluation = evaluate(compiled, URGENT)

    assert len(evaluation.decision.hits) == 10
    assert max(c.calls for c in made) == 1
    assert sum(c.calls for c in made) == 50 + 10 * 2  # every subject; from and header on hits


def test_the_costly_facts_are_those_some_rule_names() -> None:
    plain = rules(
        {"name": "down", "when": {"subject_contains": "down"}, "then": {"priority": "high"}},
        {"name": "vip", "when": {"from_domain": "vip.test"}, "then": {"tags": "vip"}},
    )
    body = rules({"name": "words", "when": {"body_regex": "refund"}, "then": {"tags": "money"}})
    lang = rules({"name": "german", "when": {"language": "de"}, "then": {"queue": "de"}})
    tagged = rules({"name": "vip reply", "when": {"tags": "vip"}, "then": {"priority": "high"}})

    assert facts_read(plain) == frozenset()  # tags a rule sets are not tags it reads
    assert facts_read(body) == facts_read(lang) == {"body"}
    assert facts_read(tagged) == {"tags"}
    assert facts_read(plain + body + tagged) == {"body", "tags"}
