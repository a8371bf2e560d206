"""Planned actions carried out in order, a merge last, each line audited; status news decided."""

from __future__ import annotations

import pytest

from maildesk.agent.apply import apply_actions
from maildesk.agent.spec import Effects
from tests.conftest import START
from tests.unit.agent.acting import BOB, actor, outbox, trail
from tests.unit.agent.conftest import Planner, new_ticket


def apply(planner: Planner, text: str, *, own_text: str = "") -> Effects:
    actions, errors = planner.plan(text)
    assert errors == []
    return apply_actions(
        planner.session,
        desk=planner.app.desk,
        ticket=planner.ticket,
        agent=planner.agent(BOB),
        actions=actions,
        actor=actor(),
        now=START,
        text=own_text,
    )


def test_each_line_is_audited_before_what_it_does_in_the_order_written(planner: Planner) -> None:
    apply(planner, "#tag vip\n#priority high")

    assert trail(planner) == [
        ("command", {"line": "#tag vip"}),
        ("tag", {"tags": ["vip"]}),
        ("command", {"line": "#priority high"}),
        ("priority", {"from": "normal", "to": "high"}),
    ]


def test_a_merge_runs_after_the_other_commands_wherever_it_is_written(planner: Planner) -> None:
    target = new_ticket(planner.session)

    apply(planner, "#merge TKT-2\n#priority high\n#tag vip")

    assert (planner.ticket.priority, planner.ticket.merged_into_id) == ("high", target.id)
    lines = [data["line"] for kind, data in trail(planner, target) if kind == "command"]
    assert lines == ["#priority high", "#tag vip", "#merge TKT-2"]  # all moved with the merge


def test_nothing_planned_changes_nothing(planner: Planner) -> None:
    effects = apply(planner, "")

    assert effects == Effects()
    assert (trail(planner), outbox(planner)) == ([], [])


@pytest.mark.parametrize(
    ("text", "own_text", "templates"),
    [
        ("#resolve", "", ["rating_request"]),  # no reply: the rating request tells the customer
        ("#close", "", ["status_changed"]),
        ("#resolve", "Fixed.", []),  # the reply will say it
        ("#macro thanks\n#resolve", "", []),  # so will the macro's text
        ("#note\n#close", "", []),  # a note tells the customer nothing
        ("#note\n#resolve", "Fixed, internally.", []),
        ("#pending", "", []),  # only resolved or closed is news
    ],
)
def test_the_customer_gets_a_status_mail_only_when_no_reply_tells_them(
    planner: Planner, text: str, own_text: str, templates: list[str]
) -> None:
    apply(planner, text, own_text=own_text)

    assert [(to, template) for to, template, _ in outbox(planner)] == [
        (["carol@acme.test"], template) for template in templates
    ]


def test_the_effects_of_every_line_are_returned_for_the_message(planner: Planner) -> None:
    effects = apply(planner, "#note\n#macro thanks\n#close")

    assert (effects.note, effects.notify_status, len(effects.macro_texts)) == (True, True, 1)
    assert "TKT-1 is now solved" in effects.body("")
