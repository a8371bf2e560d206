"""Each rule action: what it adds to the decision, and what its argument may not be."""

from __future__ import annotations

import pytest

from maildesk.rules.actions import ACTIONS
from maildesk.rules.decision import Decision


def applied(*actions: tuple[str, object], to: Decision | None = None) -> Decision:
    decision = to or Decision()
    for name, argument in actions:
        entry = ACTIONS[name]
        decision = entry.apply(decision, entry.compile(argument))
    return decision


def problem(action: str, argument: object) -> str:
    try:
        ACTIONS[action].compile(argument)
    except ValueError as exc:
        return str(exc)
    raise AssertionError(f"{action} = {argument!r} compiled")


@pytest.mark.parametrize(
    ("action", "argument", "field", "value"),
    [
        ("queue", "billing", "queue", "billing"),
        ("service", "email", "service", "email"),
        ("type", "Incident", "type", "incident"),
        ("type", "request", "type", "request"),
        ("priority", "URGENT", "priority", "urgent"),
        ("category", "premium", "category", "premium"),
        ("assign", "Bob@Example.com", "assign", "bob@example.com"),
        ("assign", "least-loaded", "assign", "least-loaded"),
        ("assign", "round-robin", "assign", "round-robin"),
        ("level", 2, "level", 2),
        ("acknowledge", False, "acknowledge", False),
        ("hold", "legal must look first", "hold", "legal must look first"),
        ("drop", " newsletter ", "drop", "newsletter"),
    ],
)
def test_an_action_sets_its_field(action: str, argument: object, field: str, value: object) -> None:
    assert getattr(applied((action, argument)), field) == value


def test_a_later_single_value_overrides_an_earlier_one() -> None:
    decision = applied(("priority", "high"), ("priority", "low"), ("assign", "round-robin"))

    assert decision.priority == "low"
    assert decision.assign == "round-robin"


def test_tags_cc_auto_replies_and_notes_add_up_in_order_without_repeats() -> None:
    decision = applied(
        ("tags", ["VIP", "outage"]),
        ("tags", "vip"),
        ("tags", "billing"),
        ("cc", "Lead@Example.com"),
        ("cc", ["lead@example.com", "legal@example.com"]),
        ("auto_reply", "outage_notice"),
        ("auto_reply", "outage_notice"),
        ("note", "premium customer"),
        ("note", "premium customer"),
    )

    assert decision.tags == ("vip", "outage", "billing")
    assert decision.cc == ("lead@example.com", "legal@example.com")
    assert decision.auto_reply == ("outage_notice",)
    assert decision.notes == ("premium customer", "premium customer")


def test_an_untouched_decision_changes_nothing() -> None:
    decision = Decision()

    assert decision.queue is decision.acknowledge is decision.hold is decision.drop is None
    assert decision.tags == decision.hits == ()


@pytest.mark.parametrize(
    ("action", "argument", "says"),
    [
        ("queue", "", "expected a name"),
        ("queue", ["a"], "expected a name"),
        ("type", "question", "expected one of incident, request"),
        ("priority", "critical", "expected one of low, normal, high, urgent"),
        ("tags", "two words", "is not a tag"),
        ("tags", [], "empty list"),
        ("assign", "bob", "an agent's email or one of least-loaded, round-robin"),
        ("assign", "bob@", "is not an email address"),
        ("level", 0, "support level 1 to 9"),
        ("level", 10, "support level 1 to 9"),
        ("level", True, "support level 1 to 9"),
        ("level", "2", "support level 1 to 9"),
        ("cc", "not an address", "is not an email address"),
        ("auto_reply", "../secret", "expected a template name"),
        ("auto_reply", "_layout", "expected a template name"),
        ("acknowledge", "no", "true or false"),
        ("hold", "", "non-empty text"),
        ("drop", True, "non-empty text"),
        ("note", None, "non-empty text"),
    ],
)
def test_a_bad_argument_says_what_is_wrong(action: str, argument: object, says: str) -> None:
    assert says in problem(action, argument)


def test_every_action_design_md_names_is_registered() -> None:
    design = """queue service type priority category tags assign level cc auto_reply
        acknowledge hold drop note"""

    assert set(design.split()) <= set(ACTIONS)
