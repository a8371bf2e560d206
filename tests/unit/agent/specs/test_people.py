"""`#cc`/`#uncc`: who may become, or stop being, a participant of a ticket."""

from __future__ import annotations

import pytest

from maildesk.agent.lines import BadLine
from maildesk.services.blacklist import add_entry
from tests.conftest import START
from tests.unit.agent.conftest import Planner


@pytest.mark.parametrize(
    ("address", "entry"),
    [
        ("spammer@example.net", "address spammer@example.net in config"),
        ("eve@blocked.example", "domain blocked.example in config"),
    ],
)
def test_a_blacklisted_address_cannot_be_copied(planner: Planner, address: str, entry: str) -> None:
    actions, errors = planner.plan(f"#cc {address}\n#priority high")

    assert actions[0].name == "priority"
    assert errors == [BadLine(f"#cc {address}", f"{address} is blacklisted ({entry})")]


def test_an_address_blacklisted_from_the_cli_cannot_be_copied(planner: Planner) -> None:
    add_entry(planner.session, value="*@spam.example", now=START)

    _actions, errors = planner.plan("#cc Bulk@Spam.example")

    assert errors == [
        BadLine(
            "#cc Bulk@Spam.example", "bulk@spam.example is blacklisted (pattern *@spam.example)"
        )
    ]


def test_the_requester_cannot_be_uncopied(planner: Planner) -> None:
    _actions, errors = planner.plan("#uncc Carol@Acme.test")

    assert errors == [
        BadLine("#uncc Carol@Acme.test", "carol@acme.test is the requester, who cannot be removed")
    ]


def test_anyone_else_can_be_copied_and_uncopied(planner: Planner) -> None:
    actions, errors = planner.plan("#cc dave@acme.test")
    more, no_errors = planner.plan("#uncc dave@acme.test")

    assert (errors, no_errors) == ([], [])
    assert [(a.name, a.value) for a in actions + more] == [
        ("cc", "dave@acme.test"),
        ("uncc", "dave@acme.test"),
    ]
