"""history stage: an imported mail's own time is its Date, never later than now; live mail
passes as it came."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.mail import parse_mail
from maildesk.pipeline.disposition import Verdict
from maildesk.pipeline.stages import history
from maildesk.pipeline.work import History, StageEnv, Work
from tests.conftest import START
from tests.mails import mail

OLD = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


def written_at(app: App, raw: bytes, imported: bool = True) -> History | None:
    work = Work(item_id=1, raw=raw, mail=parse_mail(raw), history=History() if imported else None)
    with unit_of_work(app.engine) as session:
        env = StageEnv(session=session, desk=app.desk, now=app.desk.clock.now())
        disposition, work = history.run(work, env)
    assert disposition.verdict is Verdict.CONTINUE
    return work.history


def test_an_imported_mail_is_written_at_its_date(app: App) -> None:
    found = written_at(app, mail(date=OLD))
    assert found is not None and found.written_at == OLD


def test_a_mail_dated_in_the_future_is_written_now(app: App) -> None:
    found = written_at(app, mail(date=START + timedelta(days=3)))
    assert found is not None and found.written_at == START


def test_an_undated_imported_mail_is_written_now(app: App) -> None:
    found = written_at(app, mail(date=None))
    assert found is not None and found.written_at == START


def test_live_mail_is_no_history(app: App) -> None:
    assert written_at(app, mail(date=OLD), imported=False) is None


def test_mail_at_or_after_open_since_keeps_its_ticket_open() -> None:
    assert History(open_since=OLD, written_at=OLD).keeps_open
    assert not History(open_since=OLD, written_at=OLD - timedelta(seconds=1)).keeps_open
    assert not History(open_since=None, written_at=OLD).keeps_open
