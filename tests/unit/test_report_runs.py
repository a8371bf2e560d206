"""A mailed report is claimed once per entry and period, whoever claims it first."""

from __future__ import annotations

from datetime import timedelta

from maildesk.app import App
from maildesk.db import unit_of_work
from maildesk.services.report_runs import claim_report_run
from tests.conftest import START


def test_the_first_claim_of_a_period_wins_and_a_new_period_or_entry_is_a_new_claim(
    app: App,
) -> None:
    def claim(key: str, due_in_days: int) -> bool:
        with unit_of_work(app.engine) as session:
            due = START + timedelta(days=due_in_days)
            return claim_report_run(session, key=key, due=due, now=START)

    assert claim("sla monday 08:00", 0) is True
    assert claim("sla monday 08:00", 0) is False
    assert claim("sla monday 08:00", 7) is True
    assert claim("volume monday 08:00", 0) is True


def test_a_claim_rolled_back_with_its_mail_leaves_the_period_to_claim_again(app: App) -> None:
    try:
        with unit_of_work(app.engine) as session:
            assert claim_report_run(session, key="sla daily 08:00", due=START, now=START)
            raise RuntimeError("rendering failed")
    except RuntimeError:
        pass
    with unit_of_work(app.engine) as session:
        assert claim_report_run(session, key="sla daily 08:00", due=START, now=START)
