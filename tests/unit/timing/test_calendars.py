"""Business calendars: open or not, adding and counting business minutes, exactly, across
weekends, holidays and DST gaps and folds; examples first, then properties.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from maildesk.timing.calendars import (
    CLOSED,
    MIDNIGHT,
    TWENTY_FOUR_SEVEN,
    Calendar,
    Hours,
    add_business,
    business_between,
    is_open,
    next_open,
)

BERLIN, TOKYO, NEW_YORK = (ZoneInfo(k) for k in ("Europe/Berlin", "Asia/Tokyo", "America/New_York"))
MINUTE = timedelta(minutes=1)


def berlin(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def on(zone: ZoneInfo, **days: list[tuple[time, time]]) -> Calendar:
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    hours: Hours = tuple(tuple(days.get(name, ())) for name in names)
    return Calendar("test", zone, hours)


def clock(text: str) -> time:
    return MIDNIGHT if text == "24:00" else time.fromisoformat(text)


def intervals(*texts: str) -> list[tuple[time, time]]:
    """`"09:00-13:00"` as (time(9), time(13)); "24:00" is MIDNIGHT, the end of the day."""
    return [(clock(start), clock(end)) for start, end in (text.split("-") for text in texts)]


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

# DESIGN.md §8's calendar: 2026-11-23 is a Monday; 2026-12-24 a Thursday.
OFFICE = Calendar(
    "office",
    BERLIN,
    (
        (*intervals("09:00-13:00", "14:00-18:00"),),
        *[(*intervals("09:00-18:00"),)] * 3,
        (*intervals("09:00-16:00"),),
        (),
        (),
    ),
    frozenset({date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)}),
)


# --- open or not ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (berlin(23, 8, 59), False),
        (berlin(23, 9), True),  # exactly at opening: open
        (berlin(23, 12, 59), True),
        (berlin(23, 13), False),  # exactly at closing: closed
        (berlin(23, 13, 30), False),  # lunch between two intervals
        (berlin(23, 14), True),
        (berlin(23, 17, 59), True),
        (berlin(23, 18), False),
        (berlin(27, 15, 59), True),
        (berlin(27, 16), False),  # Friday closes earlier
        (berlin(28, 10), False),  # Saturday
        (berlin(29, 10), False),  # Sunday
    ],
)
def test_the_office_is_open_inside_its_intervals_and_closed_at_their_edges_and_weekends(
    moment: datetime, expected: bool
) -> None:
    assert is_open(OFFICE, moment) is expected


def test_is_open_reads_the_instant_in_the_calendars_zone_whatever_zone_it_comes_in() -> None:
    assert is_open(OFFICE, utc(11, 23, 8))  # 09:00 in Berlin
    assert not is_open(OFFICE, datetime(2026, 11, 23, 16, tzinfo=TOKYO))  # 08:00 in Berlin


def test_a_holiday_closes_the_whole_local_day() -> None:
    cal = Calendar(
        "x", BERLIN, on(BERLIN, mon=intervals("00:00-24:00")).hours, frozenset({date(2026, 12, 7)})
    )

    assert not is_open(cal, berlin(7, 0, month=12))
    assert not is_open(cal, berlin(7, 23, 59, month=12))
    assert is_open(cal, berlin(14, 0, month=12))
    assert business_between(cal, berlin(1, 0, month=12), berlin(21, 0, month=12)) == 1440


# --- adding business minutes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (berlin(23, 10), 30, berlin(23, 10, 30)),
        (berlin(23, 12, 30), 60, berlin(23, 14, 30)),  # across lunch
        (berlin(27, 15, 30), 60, berlin(30, 9, 30)),  # across the weekend
        (berlin(28, 10), 30, berlin(30, 9, 30)),  # from Saturday: counting starts Monday 09:00
        (berlin(23, 7), 1, berlin(23, 9, 1)),
        (berlin(23, 17), 60, berlin(23, 18)),  # ends at closing time, not at the next opening
        (berlin(23, 13), 0, berlin(23, 13)),
        (berlin(28, 10), 0, berlin(28, 10)),  # 0 minutes outside hours: the moment itself
        (berlin(23, 17, 30, month=12), 60, berlin(28, 9, 30, month=12)),  # over the holidays
    ],
)
def test_adding_business_minutes(start: datetime, minutes: int, expected: datetime) -> None:
    result = add_business(OFFICE, start, minutes)

    assert result == expected
    assert result.tzinfo is UTC


def test_adding_ten_thousand_minutes_jumps_weeks_and_lands_on_the_exact_minute() -> None:
    cal = on(
        ZoneInfo("UTC"),
        **dict.fromkeys(WEEKDAYS, intervals("09:00-18:00")),
    )
    start = utc(11, 2, 9)  # a Monday; 2700 minutes a week

    due = add_business(cal, start, 10_000)  # 3 weeks, 3 days and 280 minutes

    assert due == utc(11, 26, 13, 40)
    assert business_between(cal, start, due) == 10_000


def test_a_calendar_open_one_hour_a_week_counts_ten_years_ahead() -> None:
    cal = on(ZoneInfo("UTC"), mon=intervals("09:00-10:00"))
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)  # a Monday

    due = add_business(cal, start, 60 * 520)

    assert due == start + timedelta(weeks=519, hours=1)
    assert business_between(cal, start, due) == 60 * 520


def test_negative_minutes_and_times_without_a_zone_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business(OFFICE, berlin(23, 10), -1)
    with pytest.raises(ValueError, match="aware"):
        is_open(OFFICE, datetime(2026, 11, 23, 10))


# --- counting business minutes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        (berlin(23, 9), berlin(23, 18), 480),
        (berlin(23, 18), berlin(23, 9), 0),  # backwards
        (berlin(23, 10), berlin(23, 10), 0),
        (berlin(27, 15), berlin(30, 10), 120),  # across the weekend
        (berlin(23, 0), berlin(30, 0), 480 + 3 * 540 + 420),  # a whole week
        (berlin(23, 0, month=12), berlin(29, 0, month=12), 540 + 480),  # Wednesday, Monday
    ],
)
def test_counting_business_minutes(start: datetime, end: datetime, minutes: int) -> None:
    assert business_between(OFFICE, start, end) == minutes


def test_a_partial_minute_is_not_counted() -> None:
    assert business_between(OFFICE, berlin(23, 10), berlin(23, 10) + timedelta(seconds=119)) == 1


# --- the next opening -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (berlin(23, 10), berlin(23, 10)),  # open: now
        (berlin(23, 13), berlin(23, 14)),
        (berlin(23, 18), berlin(24, 9)),  # at closing: the next morning
        (berlin(28, 10), berlin(30, 9)),
        (berlin(23, 19, month=12), berlin(28, 9, month=12)),  # over the holidays
    ],
)
def test_the_next_opening(start: datetime, expected: datetime) -> None:
    assert next_open(OFFICE, start) == expected


# --- never open, always open ------------------------------------------------------------------


def test_a_calendar_closed_all_week_is_never_open_and_cannot_count_forward() -> None:
    closed = Calendar("closed", BERLIN, CLOSED)

    assert not is_open(closed, berlin(23, 10))
    assert business_between(closed, berlin(23, 0), berlin(30, 0)) == 0
    assert add_business(closed, berlin(23, 10), 0) == berlin(23, 10)
    with pytest.raises(ValueError, match="'closed' is never open"):
        add_business(closed, berlin(23, 10), 1)
    with pytest.raises(ValueError, match="never open"):
        next_open(closed, berlin(23, 10))


def test_a_search_forward_gives_up_after_a_century_of_holidays() -> None:
    mondays = frozenset(date(2026, 1, 5) + timedelta(weeks=w) for w in range(5300))
    cal = Calendar("rare", BERLIN, on(BERLIN, mon=intervals("09:00-10:00")).hours, mondays)

    with pytest.raises(ValueError, match="does not open within"):
        next_open(cal, berlin(1, 0, month=1))
    with pytest.raises(ValueError, match="take over a century"):
        add_business(cal, berlin(1, 0, month=1), 1)


def test_an_answer_past_the_year_9999_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="outside the years"):
        add_business(OFFICE, datetime(9999, 12, 20, tzinfo=UTC), 10_000)


def test_24x7_is_always_open_and_counts_every_minute() -> None:
    start = berlin(28, 23, 59)

    assert TWENTY_FOUR_SEVEN.name == "24x7"
    assert is_open(TWENTY_FOUR_SEVEN, start)
    assert next_open(TWENTY_FOUR_SEVEN, start) == start
    assert add_business(TWENTY_FOUR_SEVEN, start, 90) == start + timedelta(minutes=90)
    assert business_between(TWENTY_FOUR_SEVEN, start, start + timedelta(seconds=179)) == 2


@pytest.mark.parametrize(
    ("hours", "holidays", "always"),
    [
        (CLOSED[:6], frozenset(), False),  # six days
        ((((time(9), time(12)), (time(11), time(13))), *CLOSED[1:]), frozenset(), False),
        ((((time(12), time(9)),), *CLOSED[1:]), frozenset(), False),
        ((((time(9, 0, 30), time(12)),), *CLOSED[1:]), frozenset(), False),
        ((((time(9), time(12)),), *CLOSED[1:]), frozenset(), True),
        (CLOSED, frozenset({date(2026, 1, 1)}), True),
    ],
)
def test_a_calendar_value_refuses_what_the_config_reader_would_not_build(
    hours: Hours, holidays: frozenset[date], always: bool
) -> None:
    with pytest.raises(ValueError, match="calendar 'bad'"):
        Calendar("bad", BERLIN, hours, holidays, always)


# --- DST: real elapsed minutes ----------------------------------------------------------------
# Berlin: 2026-03-29 (a Sunday) 02:00 CET → 03:00 CEST at 01:00 UTC; 2026-10-25 03:00 CEST →
# 02:00 CET at 01:00 UTC. New York: 2026-03-08 and 2026-11-01 at 02:00 local.


def test_spring_forward_makes_an_interval_over_the_gap_an_hour_shorter() -> None:
    cal = on(BERLIN, sun=intervals("00:00-04:00"))

    assert business_between(cal, utc(3, 28, 0), utc(3, 30, 0)) == 180
    assert add_business(cal, utc(3, 28, 12), 120) == utc(3, 29, 1)  # 03:00 CEST
    assert business_between(cal, utc(4, 4, 0), utc(4, 6, 0)) == 240  # the next Sunday


def test_a_time_in_the_gap_moves_forward_to_the_gaps_end() -> None:
    starts_in_gap = on(BERLIN, sun=intervals("02:30-05:00"))
    ends_in_gap = on(BERLIN, sun=intervals("01:00-02:30"))
    inside_gap = on(BERLIN, sun=intervals("02:15-02:45"))

    assert next_open(starts_in_gap, utc(3, 28, 12)) == utc(3, 29, 1)  # 03:00 CEST
    assert business_between(starts_in_gap, utc(3, 28, 0), utc(3, 30, 0)) == 120
    assert business_between(ends_in_gap, utc(3, 28, 0), utc(3, 30, 0)) == 60
    assert is_open(ends_in_gap, utc(3, 29, 0, 59))
    assert not is_open(ends_in_gap, utc(3, 29, 1))
    assert business_between(inside_gap, utc(3, 28, 0), utc(3, 30, 0)) == 0
    assert business_between(inside_gap, utc(4, 4, 0), utc(4, 6, 0)) == 30


def test_fall_back_makes_an_interval_over_the_fold_an_hour_longer() -> None:
    cal = on(BERLIN, sun=intervals("00:00-04:00"))

    assert business_between(cal, utc(10, 24, 0), utc(10, 26, 0)) == 300
    assert add_business(cal, utc(10, 24, 12), 240) == utc(10, 25, 2)  # 03:00 CET


def test_an_ambiguous_time_in_the_fold_is_its_first_occurrence() -> None:
    into_fold = on(BERLIN, sun=intervals("02:30-03:00"))
    out_of_fold = on(BERLIN, sun=intervals("00:00-02:30"))

    # 02:30 CEST (00:30 UTC) to 03:00 CET (02:00 UTC): the whole second pass of the fold
    assert business_between(into_fold, utc(10, 24, 0), utc(10, 26, 0)) == 90
    assert is_open(into_fold, utc(10, 25, 1, 30))  # 02:30 CET, the second time
    assert business_between(out_of_fold, utc(10, 24, 0), utc(10, 26, 0)) == 150
    assert is_open(out_of_fold, utc(10, 25, 0, 29))
    assert not is_open(out_of_fold, utc(10, 25, 1))  # 02:00 CET: after the first 02:30


def test_a_day_open_until_24_00_is_as_long_as_the_day_really_is() -> None:
    cal = on(NEW_YORK, sun=intervals("00:00-24:00"))

    assert business_between(cal, utc(3, 7, 0), utc(3, 10, 0)) == 23 * 60
    assert business_between(cal, utc(10, 31, 0), utc(11, 3, 0)) == 25 * 60


def test_a_zone_without_dst_keeps_the_same_utc_hours_all_year() -> None:
    cal = on(TOKYO, **dict.fromkeys(WEEKDAYS, intervals("09:00-18:00")))

    for monday in (utc(3, 23, 0), utc(10, 19, 0)):  # the weeks Europe changes its clocks
        assert next_open(cal, monday) == monday  # 09:00 JST is 00:00 UTC
        assert business_between(cal, monday, monday + timedelta(weeks=1)) == 5 * 540
    assert next_open(
        on(ZoneInfo("Asia/Kolkata"), mon=intervals("09:00-10:00")), utc(3, 23, 0)
    ) == utc(3, 23, 3, 30)


# --- properties -------------------------------------------------------------------------------
# Random calendars on a half-hour grid (so intervals start and end inside DST gaps and folds),
# in zones with one-hour and half-hour DST changes and in zones without; instants often near a
# change. Whole minutes throughout.

DST_ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Goose_Bay")
FIXED_ZONES = ("UTC", "Asia/Tokyo", "Asia/Kolkata")
CHANGES = [date(2026, 3, 8), date(2026, 3, 29), date(2026, 4, 5), date(2026, 10, 4)]
CHANGES += [date(2026, 10, 25), date(2026, 11, 1), date(2010, 3, 14), date(2010, 11, 7)]


@st.composite
def days_hours(draw: st.DrawFn) -> tuple[tuple[time, time], ...]:
    points = sorted(draw(st.lists(st.integers(0, 48), unique=True, max_size=6)))
    grid = [MIDNIGHT if p == 48 else time(p // 2, 30 * (p % 2)) for p in points]
    return tuple(zip(grid[::2], grid[1::2], strict=False))


@st.composite
def calendars(draw: st.DrawFn, zones: tuple[str, ...] = DST_ZONES + FIXED_ZONES) -> Calendar:
    hours: Hours = tuple(draw(days_hours()) for _ in range(7))
    assume(any(hours))
    around = st.sampled_from(CHANGES).flatmap(
        lambda day: st.integers(-3, 3).map(lambda d: day + timedelta(days=d))
    )
    holidays = draw(
        st.frozensets(around | st.dates(date(2026, 1, 1), date(2027, 6, 30)), max_size=8)
    )
    return Calendar("random", ZoneInfo(draw(st.sampled_from(zones))), hours, holidays)


def _instant(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC) + minute * MINUTE


instants = st.one_of(
    st.builds(_instant, st.sampled_from(CHANGES), st.integers(-4 * 1440, 4 * 1440)),
    st.builds(_instant, st.just(date(2026, 1, 1)), st.integers(0, 540 * 1440)),
)


@given(calendars(), instants, st.integers(0, 3000))
def test_counting_what_was_added_gives_it_back_and_the_answer_is_the_earliest(
    cal: Calendar, start: datetime, minutes: int
) -> None:
    due = add_business(cal, start, minutes)

    assert business_between(cal, start, due) == minutes
    if minutes:
        assert business_between(cal, start, due - MINUTE) == minutes - 1


@given(calendars(), instants, st.integers(0, 2000), st.integers(1, 1000))
def test_adding_more_minutes_ends_strictly_later(
    cal: Calendar, start: datetime, minutes: int, more: int
) -> None:
    assert add_business(cal, start, minutes) < add_business(cal, start, minutes + more)


@given(calendars(), instants)
def test_open_means_the_next_minute_counts(cal: Calendar, moment: datetime) -> None:
    assert is_open(cal, moment) == (business_between(cal, moment, moment + MINUTE) == 1)


@given(calendars(), instants)
def test_the_next_opening_is_open_and_nothing_before_it_counts(
    cal: Calendar, moment: datetime
) -> None:
    opening = next_open(cal, moment)

    assert is_open(cal, opening)
    assert business_between(cal, moment, opening) == 0
    assert add_business(cal, moment, 1) == opening + MINUTE


stretches = st.integers(0, 30 * 1440)


@given(calendars(), instants, stretches, stretches)
def test_counting_adds_up_over_consecutive_stretches(
    cal: Calendar, a: datetime, first: int, second: int
) -> None:
    b = a + first * MINUTE
    c = b + second * MINUTE

    assert business_between(cal, a, c) == business_between(cal, a, b) + business_between(cal, b, c)


def wall_minutes(cal: Calendar, start: datetime, end: datetime) -> int:
    """Business minutes by plain wall-clock arithmetic: right in a zone that never changes."""
    offset = start.astimezone(cal.zone).utcoffset()
    assert offset is not None
    first, last = (t.replace(tzinfo=None) + offset for t in (start, end))
    total, day = 0, first.date()
    while day <= last.date():
        if day not in cal.holidays:
            for opens, closes in cal.hours[day.weekday()]:
                lo = datetime.combine(day, opens)
                hi = datetime.combine(
                    day + timedelta(days=1) if closes == MIDNIGHT else day, closes
                )
                total += max(0, (min(hi, last) - max(lo, first)) // MINUTE)
        day += timedelta(days=1)
    return total


@given(calendars(FIXED_ZONES), instants, st.integers(0, 60 * 1440))
def test_in_a_zone_without_dst_counting_agrees_with_wall_clock_arithmetic(
    cal: Calendar, start: datetime, length: int
) -> None:
    end = start + length * MINUTE

    assert business_between(cal, start, end) == wall_minutes(cal, start, end)


def test_a_fold_that_crosses_midnight_belongs_to_the_day_it_repeats() -> None:
    # Goose Bay, 2010-11-07 00:01 ADT → 2010-11-06 23:01 AST (03:01 UTC): Saturday 23:01-24:00
    # is shown twice, the second time inside Sunday's interval, which began at 00:00 ADT.
    cal = on(ZoneInfo("America/Goose_Bay"), sun=intervals("00:00-08:00"))
    second_pass = datetime(2010, 11, 7, 3, 30, tzinfo=UTC)  # 23:30 AST on Saturday

    assert second_pass.astimezone(cal.zone).day == 6
    assert is_open(cal, second_pass)
    assert next_open(cal, second_pass) == second_pass
    assert business_between(cal, second_pass, second_pass + MINUTE) == 1
    assert (
        business_between(cal, datetime(2010, 11, 6, tzinfo=UTC), datetime(2010, 11, 9, tzinfo=UTC))
        == 540
    )
