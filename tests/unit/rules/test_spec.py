"""Rule specs from `[[rules]]` tables: every mistake named with its rule and key, all at once."""

from __future__ import annotations

import tomllib
from pathlib import Path

from maildesk.rules.actions import ACTIONS
from maildesk.rules.conditions import CONDITIONS
from maildesk.rules.spec import Rule, check_references, compile_rules
from tests.unit.rules.given import rules

ROOT = Path(__file__).resolve().parents[3]

EXAMPLE = """
[[rules]]
name = "premium outage"
on = ["new"]
when = { category = "premium", subject_regex = "(?i)outage|down" }
then = { service = "email", type = "incident", priority = "urgent", tags = ["outage"] }
stop = false

[[rules]]
name = "follow-ups after hours"
on = ["new", "follow-up"]
stop = true
[rules.when]
business_hours = { calendar = "office", inside = false }
[rules.then]
note = "arrived after hours"
"""


def test_the_design_example_compiles_in_declared_order() -> None:
    compiled, problems = compile_rules(tomllib.loads(EXAMPLE)["rules"])

    assert problems == []
    first, second = compiled
    assert first.name == "premium outage"
    assert first.on == {"new"}
    assert [name for name, _ in first.when] == ["category", "subject_regex"]
    assert [name for name, _ in first.then] == ["service", "type", "priority", "tags"]
    assert not first.stop
    assert second.on == {"new", "follow-up"}
    assert second.stop


def test_on_defaults_to_new_and_stop_to_false() -> None:
    (rule,) = rules({"name": "tag all", "then": {"tags": "seen"}})

    assert rule == Rule("tag all", frozenset({"new"}), (), rule.then, False)


def test_every_mistake_is_named_in_one_pass() -> None:
    tables: list[object] = [
        {
            "name": "premium outage",
            "when": {"subject_regex": "down (now", "frm": "x@y.test", "priority": "critical"},
            "then": {"frobnicate": 1, "level": 12},
            "on": ["new", "old"],
            "stop": "yes",
            "hwen": {},
        },
        {"when": {"queue": "general"}, "then": {"queue": "billing"}},
        {"name": "premium outage", "then": {"tags": "x"}},
        {"name": "idle", "when": {"queue": "general"}},
        {"name": "shapes", "when": ["queue"], "then": "queue", "on": []},
        "not a table",
    ]

    compiled, problems = compile_rules(tables)

    assert problems == [
        "rules[premium outage].hwen: unknown key",
        "rules[premium outage].on: 'old' is not one of new, follow-up",
        "rules[premium outage].stop: must be true or false",
        "rules[premium outage].when.subject_regex: "
        "bad regex: missing ), unterminated subpattern at position 5",
        "rules[premium outage].when.frm: unknown condition (did you mean from?)",
        "rules[premium outage].when.priority: 'critical' is not one of low, normal, high, urgent",
        "rules[premium outage].then.frobnicate: unknown action",
        "rules[premium outage].then.level: expected a support level 1 to 9, got 12",
        "rules[1]: name is required",
        "rules[2].name: 'premium outage' is already rules[0]",
        "rules[idle]: does nothing (give it then, or stop = true)",
        "rules[shapes].on: expected a list of new and follow-up",
        "rules[shapes].when: must be a table of conditions",
        "rules[shapes].then: must be a table of actions",
        "rules[5]: must be a table",
    ]
    assert compiled == ()


def test_good_rules_beside_bad_ones_still_compile() -> None:
    compiled, problems = compile_rules(
        [{"name": "bad", "then": {"xyzzy": 1}}, {"name": "good", "then": {"tags": "x"}}]
    )

    assert [rule.name for rule in compiled] == ["good"]
    assert problems == ["rules[bad].then.xyzzy: unknown action"]


def test_a_rule_that_only_stops_is_fine() -> None:
    (rule,) = rules({"name": "vip untouched", "when": {"from_domain": "vip.test"}, "stop": True})

    assert rule.then == () and rule.stop


def test_references_to_names_the_config_lacks_are_named() -> None:
    compiled = rules(
        {
            "name": "route",
            "when": {
                "queue": ["general", "sales"],
                "category": ["standard", "gold"],
                "service": "mail",
                "mailbox": "main",
                "business_hours": "office",
            },
            "then": {
                "queue": "billng",
                "service": "email",
                "category": "premium",
                "assign": "Carl@example.com",
                "auto_reply": "outage",
            },
        },
        {
            "name": "fine",
            "when": {"business_hours": "24x7"},
            "then": {"assign": "least-loaded", "category": "standard"},
        },
    )

    problems = check_references(
        compiled,
        queues=["general", "billing"],
        services=["email"],
        categories=["premium"],
        calendars=["office"],
        agents=["carla@example.com"],
        templates=["ack"],
        mailboxes=["other"],
    )

    assert problems == [
        "rules[route].when.queue: unknown queue 'sales'",
        "rules[route].when.category: unknown category 'gold'",
        "rules[route].when.service: unknown service 'mail'",
        "rules[route].when.mailbox: unknown mailbox 'main'",
        "rules[route].then.queue: unknown queue 'billng'",
        "rules[route].then.assign: unknown agent 'carl@example.com'",
        "rules[route].then.auto_reply: unknown template 'outage'",
    ]


def test_mailbox_names_go_unchecked_when_not_given() -> None:
    compiled = rules({"name": "imap", "when": {"mailbox": "main"}, "then": {"tags": "imap"}})

    no_names: list[str] = []
    assert (
        check_references(
            compiled,
            queues=no_names,
            services=no_names,
            categories=no_names,
            calendars=no_names,
            agents=no_names,
            templates=no_names,
        )
        == []
    )


def test_the_commented_example_in_config_example_toml_compiles() -> None:
    lines = (ROOT / "config.example.toml").read_text(encoding="utf-8").splitlines()
    start = lines.index("# [[rules]]")
    block = []
    for line in lines[start:]:
        if not line.startswith("# "):
            break
        if not line.startswith("# #"):
            block.append(line[2:])

    compiled, problems = compile_rules(tomllib.loads("\n".join(block))["rules"])

    assert problems == []
    assert len(compiled[0].when) == 8 and len(compiled[0].then) == 10


def test_the_readme_documents_every_condition_and_action() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rules_section = readme.split("\n## Rules\n", 1)[1].split("\n## ", 1)[0]

    missing = [name for name in (*CONDITIONS, *ACTIONS) if f"\n| `{name}` |" not in rules_section]

    assert missing == []
