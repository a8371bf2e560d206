"""`#cc`/`#uncc` and `#watch`/`#unwatch`: the addresses they take and who they add or remove."""

from __future__ import annotations

from datetime import UTC

from sqlmodel import col, select

from maildesk.agent.lines import BadLine, Command
from maildesk.agent.parser import parse_line
from maildesk.agent.spec import Refusal
from maildesk.agent.specs import people
from maildesk.agent.specs.people import desk_address_refusal, is_address
from maildesk.models import Agent, Contact, Participant, Watcher
from tests.conftest import START
from tests.unit.agent.acting import apply, context, run, trail
from tests.unit.agent.conftest import Planner

CC, UNCC, WATCH, UNWATCH = people.SPECS
OWN = Refusal("that is one of the desk's own addresses")


def participants(planner: Planner) -> list[tuple[str, str]]:
    rows = planner.session.exec(
        select(Contact.email, Participant.role)
        .join(Participant, col(Participant.contact_id) == col(Contact.id))
        .where(Participant.ticket_id == planner.ticket.id)
        .order_by(col(Contact.email))
    )
    return [(email, str(role)) for email, role in rows]


def watchers(planner: Planner) -> list[str]:
    rows = planner.session.exec(
        select(Agent.email)
        .join(Watcher, col(Watcher.agent_id) == col(Agent.id))
        .where(Watcher.ticket_id == planner.ticket.id)
        .order_by(col(Agent.email))
    )
    return list(rows)


def test_an_address_is_one_plain_email_address_read_in_lower_case() -> None:
    words = (
        "dan@acme.test",
        "d.an+x@mail.acme.test",
        "dan@acme",
        "dan",
        "<dan@acme.test>",
        "a@b@c.d",
    )
    assert [w for w in words if is_address(w, START, UTC)] == list(words[:2])
    assert parse_line("#cc Dan@Acme.TEST", START) == Command(
        "cc", ("dan@acme.test",), "#cc Dan@Acme.TEST"
    )
    assert parse_line("#uncc dan", START) == BadLine("#uncc dan", "not an email address: 'dan'")
    assert parse_line("#watch me", START) == BadLine("#watch me", "#watch takes no argument")


def test_the_desks_own_addresses_and_their_subaddresses_are_refused(planner: Planner) -> None:
    ctx = context(planner)
    own = ("support@example.com", "billing+tkt-1@example.com", "Support@Example.com")

    assert [desk_address_refusal(ctx, address) for address in own] == [OWN, OWN, OWN]
    assert desk_address_refusal(ctx, "supporter@example.com") is None
    assert CC.resolve(ctx, ("support@example.com",)) == OWN
    assert CC.resolve(ctx, ("dan@acme.test",)) == "dan@acme.test"


def test_a_copied_customer_becomes_a_cc_participant_once(planner: Planner) -> None:
    apply(planner, "#cc dan@acme.test")
    apply(planner, "#cc dan@acme.test")

    assert participants(planner) == [("carol@acme.test", "requester"), ("dan@acme.test", "cc")]
    assert (
        trail(planner)
        == [
            ("command", {"line": "#cc dan@acme.test"}),
            ("cc", {"address": "dan@acme.test"}),
        ]
        * 2
    )


def test_an_uncopied_participant_is_removed(planner: Planner) -> None:
    apply(planner, "#cc dan@acme.test")

    apply(planner, "#uncc dan@acme.test")

    assert participants(planner) == [("carol@acme.test", "requester")]
    assert trail(planner)[-1] == ("uncc", {"address": "dan@acme.test"})


def test_the_requester_is_never_removed_even_past_the_planner(planner: Planner) -> None:
    assert UNCC.resolve(context(planner), ("carol@acme.test",)) == Refusal(
        "carol@acme.test is the requester, who cannot be removed"
    )
    assert UNCC.effect is not None

    UNCC.effect(run(planner), "carol@acme.test")

    assert participants(planner) == [("carol@acme.test", "requester")]


def test_watching_adds_the_acting_agent_once_and_unwatching_removes_them(
    planner: Planner,
) -> None:
    apply(planner, "#watch")
    apply(planner, "#watch")
    apply(planner, "#watch", by="alice@example.com")
    assert watchers(planner) == ["alice@example.com", "bob@example.com"]

    apply(planner, "#unwatch")

    assert watchers(planner) == ["alice@example.com"]
    assert trail(planner)[-1] == ("unwatch", {"agent": "bob@example.com"})
    assert ("watch", {"agent": "alice@example.com"}) in trail(planner)
