"""Ontzorging period arithmetic: domain.md S11's table, the S1 and S10 milestones, and leap years."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from budget_ledger.errors import InvalidInputError
from budget_ledger.periods import (
    add_months,
    evaluation_window,
    extended_last_day,
    lead_time_dates,
    milestone,
    minimum_last_day,
)


def d(text: str) -> date:
    day, month, year = text.split("-")
    return date(int(year), int(month), int(day))


@pytest.mark.parametrize(
    ("start", "last_day"),
    [
        ("15-03-2025", "14-09-2025"),  # S1
        ("28-08-2025", "27-02-2026"),  # the corresponding date exists
        ("31-08-2025", "28-02-2026"),  # 31-02 does not exist → month end (not 27-02)
        ("31-08-2027", "29-02-2028"),  # leap year
        ("01-01-2026", "30-06-2026"),
        ("15-11-2025", "14-05-2026"),  # retroactive bijstand, decided 10-02-2026
    ],
)
def test_s11_minimum_end(start, last_day):
    assert minimum_last_day(d(start)) == d(last_day)


@pytest.mark.parametrize(
    ("start", "last_day"),
    [
        ("29-02-2028", "28-08-2028"),  # a 29 February start
        ("29-02-2024", "28-08-2024"),
        ("29-08-2027", "28-02-2028"),  # corresponding 29-02-2028 exists (leap year)
        ("29-08-2025", "28-02-2026"),  # corresponding 29-02-2026 does not exist
        ("30-08-2027", "29-02-2028"),
        ("30-08-2025", "28-02-2026"),
        ("01-09-2025", "28-02-2026"),
        ("01-09-2027", "29-02-2028"),
        ("31-03-2025", "30-09-2025"),  # 31-09 does not exist
        ("30-03-2025", "29-09-2025"),
        ("30-04-2025", "29-10-2025"),
        ("31-05-2025", "30-11-2025"),
        ("31-12-2025", "30-06-2026"),  # 31-06 does not exist: same last day as a start on 01-01-2026
        ("01-07-2025", "31-12-2025"),
        ("31-07-2025", "30-01-2026"),
        ("01-08-2025", "31-01-2026"),
    ],
)
def test_leap_years_and_month_ends(start, last_day):
    assert minimum_last_day(d(start)) == d(last_day)


def test_other_period_lengths():
    assert minimum_last_day(d("31-01-2025"), 1) == d("28-02-2025")
    assert minimum_last_day(d("15-03-2025"), 1) == d("14-04-2025")
    assert minimum_last_day(d("31-08-2025"), 12) == d("30-08-2026")
    assert minimum_last_day(d("29-02-2028"), 12) == d("28-02-2029")


@pytest.mark.parametrize(
    ("start", "last_day"),
    [
        ("15-03-2025", "30-09-2025"),  # S11 / S1: "payments through the bijstand month of September"
        ("01-04-2025", "30-09-2025"),  # S10
        ("31-08-2025", "28-02-2026"),
        ("01-09-2025", "28-02-2026"),
        ("02-09-2025", "31-03-2026"),
        ("31-08-2027", "29-02-2028"),
        ("15-11-2025", "31-05-2026"),
    ],
)
def test_full_months_runs_to_the_end_of_the_month_of_the_last_day(start, last_day):
    assert minimum_last_day(d(start), full_months=True) == d(last_day)


def test_s1_milestones():
    start = d("15-03-2025")
    assert evaluation_window(start) == (d("15-05-2025"), d("15-06-2025"))
    assert milestone(start, 5) == d("15-08-2025")  # eindevaluatie, a Friday
    assert minimum_last_day(start) + timedelta(days=1) == d("15-09-2025")  # earliest end, a Monday


def test_s10_milestones_and_extension():
    start = d("01-04-2025")
    assert [milestone(start, m) for m in (2, 3, 5)] == [d("01-06-2025"), d("01-07-2025"), d("01-09-2025")]
    assert minimum_last_day(start) == d("30-09-2025")
    assert extended_last_day(d("30-09-2025"), 3) == d("31-12-2025")  # outcome B


def test_extension_uses_the_awb_rule_from_the_day_after():
    assert extended_last_day(d("14-09-2025"), 3) == d("14-12-2025")
    assert extended_last_day(d("30-11-2025"), 3) == d("28-02-2026")  # from 01-12
    assert extended_last_day(d("30-08-2025"), 6) == d("28-02-2026")  # from 31-08: no 31-02
    assert extended_last_day(d("28-02-2026"), 1) == d("31-03-2026")


def test_milestones_clamp_to_the_month_end():
    assert milestone(d("31-08-2025"), 1) == d("30-09-2025")
    assert milestone(d("31-08-2025"), 6) == d("28-02-2026")
    assert evaluation_window(d("31-12-2025")) == (d("28-02-2026"), d("31-03-2026"))
    assert evaluation_window(d("15-03-2025"), 4, 5) == (d("15-07-2025"), d("15-08-2025"))


def test_add_months():
    assert add_months(d("31-01-2025"), 1) == d("28-02-2025")
    assert add_months(d("31-01-2024"), 1) == d("29-02-2024")
    assert add_months(d("31-03-2025"), -1) == d("28-02-2025")
    assert add_months(d("15-03-2025"), 0) == d("15-03-2025")
    assert add_months(d("15-11-2025"), 2) == d("15-01-2026")


def test_lead_time_dates_count_back_from_the_first_day_without_ontzorging():
    # S1: last day Sunday 14-09-2025, so the client pays alone from Monday 15-09-2025.
    assert lead_time_dates(d("14-09-2025")) == (d("21-07-2025"), d("18-08-2025"), d("01-09-2025"))
    assert lead_time_dates(d("31-12-2025"), weeks=(1,)) == (d("25-12-2025"),)
    assert lead_time_dates(d("30-09-2025"), weeks=[2, 8]) == (d("17-09-2025"), d("06-08-2025"))


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: minimum_last_day(d("15-03-2025"), 0), "months"),
        (lambda: minimum_last_day(d("15-03-2025"), -6), "months"),
        (lambda: minimum_last_day(d("15-03-2025"), 6.0), "months"),
        (lambda: minimum_last_day(d("15-03-2025"), True), "months"),
        (lambda: minimum_last_day("2025-03-15"), "start"),
        (lambda: minimum_last_day(datetime(2025, 3, 15, 9, 0)), "start"),  # noqa: DTZ001
        (lambda: milestone(d("15-03-2025"), 0), "months"),
        (lambda: extended_last_day(d("30-09-2025"), 0), "months"),
        (lambda: extended_last_day(None, 3), "current_last_day"),
        (lambda: evaluation_window(d("15-03-2025"), 3, 2), "to_months"),
        (lambda: evaluation_window(d("15-03-2025"), 0, 2), "from_months"),
        (lambda: lead_time_dates(d("14-09-2025"), weeks=()), "weeks"),
        (lambda: lead_time_dates(d("14-09-2025"), weeks=(8, 0)), "weeks"),
        (lambda: add_months(d("15-03-2025"), 1.5), "n"),
        (lambda: add_months(None, 1), "date"),
    ],
)
def test_nonsense_is_refused_naming_the_field(call, field):
    with pytest.raises(InvalidInputError) as refused:
        call()
    assert refused.value.problems[0].field == field


def month_plus(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)))
def test_a_six_month_period_is_six_months_whatever_the_start(start):
    last_day = minimum_last_day(start)
    assert 181 <= (last_day - start).days + 1 <= 184

    # The first day after the period is the same day six months on; when that month is too short
    # (a start on 29–31 August), it is the 1st of the month after, so the last day is that month's end.
    year, month = month_plus(start.year, start.month, 6)
    if start.day <= calendar.monthrange(year, month)[1]:
        assert last_day + timedelta(days=1) == date(year, month, start.day)
    else:
        assert last_day == date(year, month, calendar.monthrange(year, month)[1])

    full = minimum_last_day(start, full_months=True)
    assert (full.year, full.month) == (last_day.year, last_day.month)
    assert full.day == calendar.monthrange(full.year, full.month)[1]


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)), st.integers(1, 24))
def test_extending_by_n_months_equals_a_period_of_six_plus_n_for_starts_on_the_1st(start, months):
    first = start.replace(day=1)
    assert extended_last_day(minimum_last_day(first), months) == minimum_last_day(first, 6 + months)
