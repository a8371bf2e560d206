"""The handler table as the runner runs it: in order, inside one savepoint per mail.

A stop settles the item from its disposition, with the handler's name in the reason; it
takes back all the mail wrote, and keeps only what the stopping handler's `on_stop` writes.
"""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import col, select

from maildesk.agent.lines import BadLine
from maildesk.app import App, accept_raw
from maildesk.db import unit_of_work
from maildesk.models import Contact, Event, InboxItem, Message, OutboxItem, Ticket
from maildesk.notices import NO_THREAD
from maildesk.pipeline.disposition import CONTINUE, hold
from maildesk.pipeline.refusals import tell_refusal
from maildesk.pipeline.runner import Outcome, process_one
from maildesk.pipeline.table import HANDLERS, Handler, KeepFn, StageFn
from maildesk.pipeline.work import Refusal, StageEnv, Step, Work
from maildesk.services.inbox import requeue
from maildesk.services.origin import Origin
from tests.mails import mail

PIPE = Origin(transport="pipe")
FIRST_RUN_MAIL = [  # what a new ticket sends: the ack, then the queue's agents
    ("carol@acme.test", "ack"),
    ("alice@example.com", "notify_new"),
    ("bob@example.com", "notify_new"),
]


def after(name: str, *extra: Handler) -> tuple[Handler, ...]:
    """The real handler table with `extra` run right after the handler called `name`."""
    at = [handler.name for handler in HANDLERS].index(name) + 1
    return (*HANDLERS[:at], *extra, *HANDLERS[at:])


def halting(reason: str, *, while_: list[bool] | None = None) -> StageFn:
    def halt(work: Work, env: StageEnv) -> Step:
        if while_ is None or while_[0]:
            return hold(reason), work
        return CONTINUE, work

    return halt


def process(app: App, raw: bytes, handlers: tuple[Handler, ...]) -> Outcome:
    stored = accept_raw(app, raw, PIPE)
    outcome = process_one(app.engine, app.desk, item_id=stored.item_id, handlers=handlers)
    assert outcome is not None
    return outcome


def rows(app: App) -> dict[str, list[object]]:
    with unit_of_work(app.engine) as session:
        outbox = session.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all()
        return {
            "tickets": [t.ref for t in session.exec(select(Ticket))],
            "messages": [m.message_id for m in session.exec(select(Message))],
            "contacts": [c.email for c in session.exec(select(Contact))],
            "outbox": [(o.recipients[0], o.spec["template"] if o.spec else "") for o in outbox],
        }


def test_a_handlers_hold_stops_the_later_handlers_and_leaves_the_item_held_with_its_name(
    app: App,
) -> None:
    later: list[str] = []

    def witness(work: Work, env: StageEnv) -> Step:
        later.append(work.parsed().subject)
        return CONTINUE, work

    halt = Handler("halt", halting("a rule wants a look first"))
    outcome = process(
        app, mail(message_id="m1@acme.test"), (*after("store", halt), Handler("witness", witness))
    )

    assert (outcome.outcome, outcome.ticket) == ("held", None)
    assert outcome.reason == "halt: a rule wants a look first"
    with unit_of_work(app.engine) as session:
        item = session.get(InboxItem, outcome.item_id)
        assert item is not None
        assert (item.state, item.reason) == ("held", "halt: a rule wants a look first")
    assert later == []  # neither announce nor anything after the hold ran
    assert rows(app) == {"tickets": [], "messages": [], "contacts": [], "outbox": []}


def test_a_held_item_requeued_after_the_fix_gives_what_a_first_run_gives_one_ticket(
    app: App,
) -> None:
    blocked = [True]
    handlers = after("store", Handler("halt", halting("not yet", while_=blocked)))
    held = process(app, mail(message_id="m1@acme.test"), handlers)
    assert held.outcome == "held"

    blocked[0] = False  # the fix
    with unit_of_work(app.engine) as session:
        requeue(session, item_id=held.item_id)
    again = process_one(app.engine, app.desk, item_id=held.item_id, handlers=handlers)

    assert again is not None and (again.outcome, again.reason) == ("created", None)
    found = rows(app)
    assert found["tickets"] == [again.ticket]
    assert (found["messages"], found["contacts"]) == (["m1@acme.test"], ["carol@acme.test"])
    assert found["outbox"] == FIRST_RUN_MAIL


def test_what_a_stop_keeps_is_written_after_the_rollback(app: App) -> None:
    def refuse(work: Work, env: StageEnv) -> Step:
        refusal = Refusal(
            "alice@example.com", None, "Printer on fire", (BadLine("#x", "no"),), NO_THREAD
        )
        return hold("refused"), replace(work, refusal=refusal)

    def keep(work: Work, env: StageEnv) -> None:
        assert work.refusal is not None
        tell_refusal(env, work.refusal, item_id=work.item_id)

    keeps: KeepFn = keep
    outcome = process(app, mail(), after("participants", Handler("refuse", refuse, keeps)))

    assert outcome.outcome == "held"
    found = rows(app)
    assert (found["tickets"], found["messages"]) == ([], [])  # store's work was taken back
    assert found["outbox"] == [("alice@example.com", "command_error")]  # the refusal stayed


def test_a_handler_before_announce_can_say_no_to_the_ack_and_the_agents_still_hear(
    app: App,
) -> None:
    def quiet(work: Work, env: StageEnv) -> Step:
        return CONTINUE, replace(work, acknowledge=False, rule_hits=("quiet-hours",))

    outcome = process(app, mail(), after("bounce", Handler("quiet", quiet)))

    assert outcome.outcome == "created"
    assert rows(app)["outbox"] == FIRST_RUN_MAIL[1:]
    with unit_of_work(app.engine) as session:
        skipped = session.exec(select(Event).where(Event.type == "ack-skipped")).one()
        assert skipped.data == {"reason": "suppressed by quiet-hours"}


def test_a_handler_that_raises_fails_its_item_and_nothing_the_mail_wrote_stays(app: App) -> None:
    def explode(work: Work, env: StageEnv) -> Step:
        raise RuntimeError("boom")

    outcome = process(app, mail(), after("store", Handler("explode", explode)))

    assert (outcome.outcome, outcome.reason) == ("failed", "RuntimeError: boom")
    assert rows(app) == {"tickets": [], "messages": [], "contacts": [], "outbox": []}
