"""`#note` keeps the message internal; `#macro <name>` puts a canned text before the agent's."""

from __future__ import annotations

from datetime import UTC

from maildesk.agent.lines import BadLine
from maildesk.agent.parser import parse_line
from maildesk.agent.spec import Refusal
from maildesk.agent.specs import message
from maildesk.agent.specs.message import macro_exists, render_macro
from tests.conftest import START
from tests.unit.agent.acting import apply, context, outbox, trail
from tests.unit.agent.conftest import Planner

NOTE, MACRO = message.SPECS


def test_a_note_makes_the_message_internal_and_mails_nobody(planner: Planner) -> None:
    effects = apply(planner, "#note\n\nShe sounds upset.")

    assert effects.note is True
    assert trail(planner) == [("command", {"line": "#note"})]
    assert outbox(planner) == []


def test_a_note_takes_no_argument() -> None:
    assert parse_line("#note to self", START) == BadLine("#note to self", "#note takes no argument")


def test_a_macro_name_is_a_lower_case_word() -> None:
    names = ("thanks", "need-details", "v2_reply", "Thanks", "../secret", "a.b", "-x")
    assert [n for n in names if MACRO.accepts(n, START, UTC)] == [
        "thanks",
        "need-details",
        "v2_reply",
    ]
    assert parse_line("#macro ../secret", START) == BadLine(
        "#macro ../secret", "not a macro name: '../secret'"
    )


def test_only_a_macro_with_a_template_resolves(planner: Planner) -> None:
    desk = planner.app.desk

    assert (macro_exists(desk, "thanks"), macro_exists(desk, "missing")) == (True, False)
    assert MACRO.resolve(context(planner), ("thanks",)) == "thanks"
    assert MACRO.resolve(context(planner), ("missing",)) == Refusal("no macro named 'missing'")


def test_a_macro_is_filled_in_for_the_ticket(planner: Planner) -> None:
    text = render_macro(planner.session, planner.app.desk, planner.ticket, "thanks")

    assert text.startswith("Hello carol@acme.test,")  # no name known: the address
    assert "your request TKT-1 is now solved" in text


def test_macros_go_in_the_order_written_before_the_agents_own_text(planner: Planner) -> None:
    effects = apply(planner, "#macro need-details\n#macro thanks\n\nCheers, Bob")

    session, desk, ticket = planner.session, planner.app.desk, planner.ticket
    texts = [render_macro(session, desk, ticket, name) for name in ("need-details", "thanks")]
    assert effects.macro_texts == texts
    assert effects.body("Cheers, Bob") == f"{texts[0]}\n\n{texts[1]}\n\nCheers, Bob"
    assert effects.note is False
