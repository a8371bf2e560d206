"""`#to <address>`: read like an address, but on an existing ticket it is always refused."""

from __future__ import annotations

from maildesk.agent.lines import BadLine, Command
from maildesk.agent.parser import parse_line
from maildesk.agent.spec import Refusal
from maildesk.agent.specs import to
from tests.conftest import START
from tests.unit.agent.acting import context
from tests.unit.agent.conftest import Planner

[TO] = to.SPECS


def test_to_takes_one_address_read_in_lower_case() -> None:
    assert parse_line("#to Dan@Acme.test", START) == Command(
        "to", ("dan@acme.test",), "#to Dan@Acme.test"
    )
    assert parse_line("#to dan", START) == BadLine("#to dan", "not an email address: 'dan'")
    assert TO.once


def test_to_acts_on_no_ticket_and_is_refused_on_one(planner: Planner) -> None:
    refusal = TO.resolve(context(planner), ("dan@acme.test",))

    assert refusal == Refusal("#to only starts a new ticket (write to the desk, not a reply)")
    assert TO.effect is None
