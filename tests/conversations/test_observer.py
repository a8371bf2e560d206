"""The desk tells its observer what happened, once it is committed: a mail accepted and
settled, a notice queued and sent, a rating, an SLA warning, a failed IMAP poll.

The daemon's metrics and nothing else listen (`maildesk.daemon.metrics`); here a recorder
listens, on the desk of a normal conversation.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from maildesk.app import App, accept_raw, open_app
from maildesk.db import after_commit, after_commit_mark, forget_after_commit, unit_of_work
from maildesk.ingest.imap import ImapMailboxSettings, ImapPoller, MemoryImapState
from maildesk.observe import NO_OBSERVER, Delivered, Observers, Processed, source_of
from maildesk.services.origin import Accepted, Origin
from maildesk.timing.clock import FixedClock
from tests.conftest import START, Desk, make_settings
from tests.conversations.helpers import customer_writes
from tests.conversations.test_ratings import customer_answers, resolved
from tests.conversations.test_sla import AGENTS, CALENDARS, QUEUES, SLA, at, tick_at
from tests.mails import mail


class Recorder:
    """An observer that writes down what it is told, in order."""

    def __init__(self) -> None:
        self.told: list[tuple[str, Any]] = []

    def accepted(self, source: str, *, duplicate: bool) -> None:
        self.told.append(("accepted", (source, duplicate)))

    def processed(self, mail: Processed) -> None:
        self.told.append(("processed", mail))

    def queued(self, count: int) -> None:
        self.told.append(("queued", count))

    def delivered(self, mail: Delivered) -> None:
        self.told.append(("delivered", mail))

    def poll_failed(self, mailbox: str) -> None:
        self.told.append(("poll_failed", mailbox))

    def sla_notices(self, *, warnings: int, breaches: int) -> None:
        self.told.append(("sla_notices", (warnings, breaches)))

    def rated(self, score: int) -> None:
        self.told.append(("rated", score))

    def of(self, kind: str) -> list[Any]:
        return [what for told, what in self.told if told == kind]


def observed(app: App, recorder: Recorder) -> App:
    return App(engine=app.engine, desk=replace(app.desk, observer=recorder))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def desk(app: App, clock: FixedClock, recorder: Recorder) -> Desk:
    return Desk(observed(app, recorder), clock)


def test_a_new_ticket_is_told_as_accepted_processed_queued_and_delivered(
    desk: Desk, recorder: Recorder
) -> None:
    ref, _ = customer_writes(desk, subject="Printer on fire")  # an ack and two agents' notices

    assert recorder.of("accepted") == [("ingest", False)]
    [processed] = recorder.of("processed")
    assert (processed.source, processed.outcome, processed.ticket) == ("ingest", "created", ref)
    assert processed.seconds > 0
    assert recorder.of("queued") == [1, 1, 1]
    delivered = recorder.of("delivered")
    assert sorted(d.kind for d in delivered) == ["ack", "notify", "notify"]
    assert {(d.result, d.recipients) for d in delivered} == {("sent", 1)}


def test_the_same_mail_twice_is_told_as_a_duplicate_and_processed_once(
    desk: Desk, recorder: Recorder
) -> None:
    raw = mail(subject="Printer on fire")
    desk.receives(raw)
    again = accept_raw(desk.app, raw, Origin(transport="smtp"))

    assert again.duplicate
    assert recorder.of("accepted") == [("ingest", False), ("smtp", True)]
    assert [p.outcome for p in recorder.of("processed")] == ["created"]


def test_a_rejected_mail_is_told_as_rejected_and_queues_nothing(
    desk: Desk, recorder: Recorder
) -> None:
    outcome = desk.receives(mail(sender="spammer@example.net", subject="Cheap printers"))

    assert outcome.outcome == "rejected"
    assert [p.outcome for p in recorder.of("processed")] == ["rejected"]
    assert recorder.of("queued") == []


def test_a_rating_is_told_with_its_score(desk: Desk, recorder: Recorder) -> None:
    _, told = resolved(desk)
    customer_answers(desk, told, "2 - the printer burnt again")

    assert recorder.of("rated") == [2]


def test_an_sla_warning_and_then_its_breach_are_told(
    tmp_path: Path, database_url: str, recorder: Recorder
) -> None:
    settings = make_settings(
        tmp_path, database_url, queues=QUEUES, agents=AGENTS, calendars=CALENDARS, sla=SLA[:1]
    )
    clock = FixedClock(START)
    app = open_app(settings, clock=clock)
    desk = Desk(observed(app, recorder), clock)
    try:
        customer_writes(desk, subject="Printer jams")
        tick_at(desk, at(1, 36))  # 96 of the 120 minutes of the first response
        tick_at(desk, at(2, 1))
    finally:
        app.engine.dispose()

    assert recorder.of("sla_notices") == [(1, 0), (0, 1)]


async def test_a_failed_imap_poll_is_told_with_its_mailbox(
    recorder: Recorder, closed_port: int
) -> None:
    settings = ImapMailboxSettings(
        name="support-inbox",
        host="127.0.0.1",
        port=closed_port,
        username="desk",
        password="pw",
        tls=False,
        backoff_min_seconds=0.01,
        backoff_max_seconds=0.01,
    )

    async def accept(raw: bytes, origin: Origin) -> Accepted:
        raise AssertionError("nothing is fetched from a server that is not there")

    poller = ImapPoller(settings, accept=accept, state=MemoryImapState(), observer=recorder)
    running = asyncio.create_task(poller.run())
    async with asyncio.timeout(20):
        while len(recorder.of("poll_failed")) < 2:
            await asyncio.sleep(0.01)
    await poller.stop()
    await running

    assert set(recorder.of("poll_failed")) == {"support-inbox"}


def test_what_a_unit_of_work_promised_is_told_only_once_it_commits(app: App) -> None:
    told: list[str] = []
    with unit_of_work(app.engine) as session:
        after_commit(session, lambda: told.append("kept"))
        assert told == []
    assert told == ["kept"]

    with pytest.raises(RuntimeError), unit_of_work(app.engine) as session:
        after_commit(session, lambda: told.append("rolled back"))
        raise RuntimeError("the change failed")
    assert told == ["kept"]


def test_a_savepoint_rolled_back_forgets_what_it_promised(app: App) -> None:
    told: list[str] = []
    with unit_of_work(app.engine) as session:
        after_commit(session, lambda: told.append("before"))
        savepoint = session.begin_nested()
        mark = after_commit_mark(session)
        session.execute(text("SELECT 1"))
        after_commit(session, lambda: told.append("inside"))
        savepoint.rollback()
        forget_after_commit(session, mark)
    assert told == ["before"]


def test_observers_tell_each_of_theirs_and_none_is_the_silent_observer() -> None:
    first, second = Recorder(), Recorder()
    both = Observers([first, second])
    both.accepted("smtp", duplicate=False)
    both.queued(3)
    both.delivered(Delivered(7, "ack", 1, "failed", "550 no such user"))
    both.poll_failed("support-inbox")
    both.sla_notices(warnings=2, breaches=1)
    both.rated(5)
    both.processed(Processed(1, "smtp", "created", "TKT-1", None, 0.01))

    assert first.told == second.told and len(first.told) == 7
    NO_OBSERVER.rated(5)  # tells no one, raises nothing
    assert (source_of("pipe"), source_of("smtp"), source_of("lmtp")) == ("ingest", "smtp", "lmtp")


def test_an_app_opened_without_a_daemon_tells_no_one(app: App) -> None:
    assert app.desk.observer is NO_OBSERVER


def test_an_ack_whose_override_template_cannot_render_is_told_as_failed(
    tmp_path: Path, database_url: str, recorder: Recorder
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "ack.txt").write_text("Dear {{ no_such_thing }}\n")
    settings = make_settings(tmp_path, database_url, outbound={"templates_dir": "templates"})
    clock = FixedClock(START)
    app = open_app(settings, clock=clock)
    try:
        desk = Desk(observed(app, recorder), clock)
        desk.receives(mail(subject="Printer on fire"))
        desk.sent()
    finally:
        app.engine.dispose()

    [ack] = [d for d in recorder.of("delivered") if d.kind == "ack"]
    assert (ack.result, ack.recipients) == ("failed", 1)
    assert ack.answer.startswith("composing failed: ")
    assert {d.result for d in recorder.of("delivered") if d.kind == "notify"} == {"sent"}
