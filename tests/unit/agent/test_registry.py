"""The registry holds one spec for every command of DESIGN.md §3, or names it as still to come.

DESIGN.md lives in `shared/` beside the repository (as in CI); without it this test fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from maildesk.agent.registry import CARRIES, COMMANDS, SHORTHANDS, TO_COME

DESIGN = Path(__file__).resolve().parents[3] / ".." / "shared" / "DESIGN.md"
STILL_TO_COME_AT_FIRST = {"service", "type", "reason", "kb"}  # issue 9: the list only shrinks


def design_table() -> list[list[str]]:
    """The rows of §3's command table, as cells (`\\|` inside a cell is no separator)."""
    if not DESIGN.is_file():
        pytest.fail(f"DESIGN.md not found at {DESIGN.resolve()}", pytrace=False)
    section = DESIGN.read_text(encoding="utf-8").split("\n## 3.")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| `#")]
    assert rows, "no command table in DESIGN.md §3"
    return [re.split(r"(?<!\\)\|", row)[1:-1] for row in rows]


def test_every_command_of_the_design_has_a_spec_or_is_still_to_come() -> None:
    designed = {name for row in design_table() for name in re.findall(r"#([a-z]+)", row[0])}

    assert designed == set(COMMANDS) | set(TO_COME)
    assert set(COMMANDS).isdisjoint(TO_COME)


def test_the_commands_still_to_come_only_ever_get_fewer() -> None:
    assert set(TO_COME) <= STILL_TO_COME_AT_FIRST


def test_every_shorthand_of_the_design_stands_for_a_command() -> None:
    named = {
        f"#{name}"
        for row in design_table()
        if "shorthand" in row[1]
        for name in re.findall(r"`#([a-z]+)`", row[1])
    }

    assert named and named <= set(SHORTHANDS)
    assert all(SHORTHANDS[line][0] in COMMANDS for line in SHORTHANDS)


def test_only_resolve_and_close_carry_text_and_it_is_their_reason() -> None:
    assert dict(CARRIES) == {"#resolve": "reason", "#close": "reason"}
    assert all(line in SHORTHANDS and name in COMMANDS for line, name in CARRIES.items())


def test_each_spec_is_filed_under_its_own_name() -> None:
    assert all(name == spec.name for name, spec in COMMANDS.items())
