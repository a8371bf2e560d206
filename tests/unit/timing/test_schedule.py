"""When a mailed report is due, and the period it covers, in the desk's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maildesk.timing.schedule import Cadence, last_due, parse_every, period

BERLIN = ZoneInfo("Europe/Berlin")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "cadence", "day"),
    [
        ("monday 08:00", Cadence.WEEKLY, 0),
        ("Sunday 8:30", Cadence.WEEKLY, 6),
        ("1st 08:00", Cadence.MONTHLY, 1),
        ("22nd 23:59", Cadence.MONTHLY, 22),
        ("daily 07:15", Cadence.DAILY, 0),
    ],
)
def test_every_is_read_as_people_write_it(text: str, cadence: Cadence, day: int) -> None:
    every = parse_every(text)
    assert (every.cadence, every.day) == (cadence, day)
    assert parse_every(str(every)) == every


@pytest.mark.parametrize(
    "text", ["monday", "mondays 08:00", "29th 08:00", "0th 08:00", "monday 24:00", "1st 8", ""]
)
def test_a_schedule_that_cannot_be_read_says_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match=r"monday 08:00|1st to 28th"):
        parse_every(text)


def test_a_weekly_report_is_due_on_the_last_monday_morning_in_the_desks_zone() -> None:
    every = parse_every("monday 08:00")
    # Wednesday 2 December 2026, 10:00 UTC: the last Monday 08:00 in Berlin was 30 November.
    due = last_due(every, utc("2026-12-02T10:00"), BERLIN)
    assert due == datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN)
    assert due.astimezone(UTC) == utc("2026-11-30T07:00")
    assert period(every, due, BERLIN) == (datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN), due)


def test_on_the_day_itself_the_report_is_due_only_from_its_time() -> None:
    every = parse_every("monday 08:00")
    before = last_due(every, utc("2026-11-30T06:59"), BERLIN)
    at = last_due(every, utc("2026-11-30T07:00"), BERLIN)
    assert before == datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)
    assert at == datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN)


def test_a_monthly_report_covers_the_month_before() -> None:
    every = parse_every("1st 08:00")
    due = last_due(every, utc("2027-01-15T12:00"), BERLIN)
    assert due == datetime(2027, 1, 1, 8, 0, tzinfo=BERLIN)
    assert period(every, due, BERLIN)[0] == datetime(2026, 12, 1, 8, 0, tzinfo=BERLIN)
    # Before the 1st's time, the one due is last month's.
    early = last_due(every, utc("2027-01-01T06:00"), BERLIN)
    assert early == datetime(2026, 12, 1, 8, 0, tzinfo=BERLIN)


def test_a_week_across_the_change_to_summer_time_is_six_days_and_23_hours() -> None:
    every = parse_every("monday 08:00")
    due = last_due(every, utc("2027-03-29T12:00"), BERLIN)  # clocks went forward on 28 March
    since, until = period(every, due, BERLIN)
    assert (until - since).total_seconds() == (7 * 24 - 1) * 3600


@given(
    st.sampled_from(["daily 00:00", "monday 08:00", "sunday 23:30", "1st 08:00", "28th 12:00"]),
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_the_due_moment_is_never_later_than_now_and_periods_join_up(
    text: str, now: datetime
) -> None:
    every = parse_every(text)
    due = last_due(every, now, BERLIN)
    assert due <= now
    since, until = period(every, due, BERLIN)
    assert since < until == due
    # The period before ends where this one starts: no moment is reported twice or never.
    assert last_due(every, since, BERLIN) == since
