"""The payment calendar against dates written out by hand (domain.md B1–B3, S1), never against the
`holidays` library it is built on."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from budget_ledger.errors import InvalidInputError
from budget_ledger.payment_calendar import (
    DEFAULT_CALENDAR,
    PaymentCalendar,
    PaymentDayKind,
    PaymentDayRule,
    Roll,
    add_business_days,
    business_days_between,
    is_business_day,
    kinderbijslag_payment_date,
    next_business_day,
    previous_business_day,
    toeslag_payment_date,
    toeslag_payment_date_for,
)


def d(text: str) -> date:
    day, month, year = text.split("-")
    return date(int(year), int(month), int(day))


# Dutch public holidays (Algemene termijnenwet plus Goede Vrijdag; Bevrijdingsdag in lustrum years only).
NL_HOLIDAYS = {
    2025: {
        "01-01-2025": "Nieuwjaarsdag (Wed)",
        "18-04-2025": "Goede Vrijdag",
        "20-04-2025": "Eerste Paasdag (Sun)",
        "21-04-2025": "Tweede Paasdag (Mon)",
        "26-04-2025": "Koningsdag (Sat, 27-04 is a Sunday)",
        "05-05-2025": "Bevrijdingsdag (Mon, lustrum: 80 years)",
        "29-05-2025": "Hemelvaartsdag (Thu)",
        "08-06-2025": "Eerste Pinksterdag (Sun)",
        "09-06-2025": "Tweede Pinksterdag (Mon)",
        "25-12-2025": "Eerste Kerstdag (Thu)",
        "26-12-2025": "Tweede Kerstdag (Fri)",
    },
    2026: {
        "01-01-2026": "Nieuwjaarsdag (Thu)",
        "03-04-2026": "Goede Vrijdag",
        "05-04-2026": "Eerste Paasdag (Sun)",
        "06-04-2026": "Tweede Paasdag (Mon)",
        "27-04-2026": "Koningsdag (Mon)",
        "14-05-2026": "Hemelvaartsdag (Thu)",
        "24-05-2026": "Eerste Pinksterdag (Sun)",
        "25-05-2026": "Tweede Pinksterdag (Mon)",
        "25-12-2026": "Eerste Kerstdag (Fri)",
        "26-12-2026": "Tweede Kerstdag (Sat)",
    },
}

TARGET2_CLOSING_DAYS = {
    2025: {"01-01-2025", "18-04-2025", "21-04-2025", "01-05-2025", "25-12-2025", "26-12-2025"},
    2026: {"01-01-2026", "03-04-2026", "06-04-2026", "01-05-2026", "25-12-2026", "26-12-2026"},
}

# The union of both, on weekdays only: every other weekday of the year must be a business day.
CLOSED_WEEKDAYS = {
    2025: {
        "01-01-2025", "18-04-2025", "21-04-2025", "01-05-2025", "05-05-2025",
        "29-05-2025", "09-06-2025", "25-12-2025", "26-12-2025",
    },
    2026: {
        "01-01-2026", "03-04-2026", "06-04-2026", "27-04-2026", "01-05-2026",
        "14-05-2026", "25-05-2026", "25-12-2026",
    },
}


def every_day_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


# --- business days -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    sorted({*NL_HOLIDAYS[2025], *NL_HOLIDAYS[2026], *TARGET2_CLOSING_DAYS[2025],
            *TARGET2_CLOSING_DAYS[2026]}),
)
def test_every_dutch_holiday_and_target2_closing_day_is_not_a_business_day(day):
    assert not is_business_day(d(day))


@pytest.mark.parametrize("year", [2025, 2026])
def test_closing_days_are_exactly_the_dutch_holidays_and_target2_days(year):
    expected = {d(x) for x in NL_HOLIDAYS[year]} | {d(x) for x in TARGET2_CLOSING_DAYS[year]}
    assert DEFAULT_CALENDAR.closing_days(year) == expected


@pytest.mark.parametrize("year", [2025, 2026])
def test_weekends_are_never_business_days_and_every_other_weekday_is_one(year):
    closed = {d(x) for x in CLOSED_WEEKDAYS[year]}
    wrong = [
        day for day in every_day_of(year)
        if is_business_day(day) != (day.weekday() < 5 and day not in closed)
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("year", "count"),
    # 261 weekdays in both years, minus 9 (2025) and 8 (2026) closed weekdays.
    [(2025, 252), (2026, 253)],
)
def test_business_days_in_a_year(year, count):
    assert business_days_between(date(year - 1, 12, 31), date(year, 12, 31)) == count


def test_days_people_might_think_closed_are_business_days():
    assert is_business_day(d("05-05-2026"))  # Bevrijdingsdag outside a lustrum year
    assert is_business_day(d("24-12-2025"))
    assert is_business_day(d("31-12-2025"))
    assert is_business_day(d("28-04-2025"))  # Monday after Koningsdag on a Saturday


def test_next_and_previous_business_day_around_easter_2025():
    assert next_business_day(d("18-04-2025")) == d("22-04-2025")
    assert next_business_day(d("22-04-2025")) == d("22-04-2025")
    assert previous_business_day(d("21-04-2025")) == d("17-04-2025")
    assert previous_business_day(d("17-04-2025")) == d("17-04-2025")


def test_next_business_day_over_christmas_and_new_year():
    assert next_business_day(d("25-12-2025")) == d("29-12-2025")
    assert next_business_day(d("01-01-2027")) == d("04-01-2027")
    assert previous_business_day(d("01-01-2026")) == d("31-12-2025")


def test_add_business_days():
    assert add_business_days(d("17-04-2025"), 1) == d("22-04-2025")
    assert add_business_days(d("22-04-2025"), -1) == d("17-04-2025")
    assert add_business_days(d("24-12-2025"), 2) == d("30-12-2025")
    assert add_business_days(d("30-04-2025"), 3) == d("07-05-2025")  # past 1 May and 5 May 2025
    assert add_business_days(d("19-04-2025"), 0) == d("22-04-2025")
    assert add_business_days(d("16-04-2025"), 0) == d("16-04-2025")


def test_business_days_between_matches_add_business_days():
    assert business_days_between(d("17-04-2025"), d("22-04-2025")) == 1
    assert business_days_between(d("17-04-2025"), d("17-04-2025")) == 0
    assert business_days_between(d("24-12-2025"), d("30-12-2025")) == 2
    start = d("01-05-2025")
    for end in (d("02-06-2025"), d("22-12-2025"), d("04-01-2027")):
        assert add_business_days(start, business_days_between(start, end)) == end


def test_business_days_between_refuses_an_end_before_the_start():
    with pytest.raises(InvalidInputError) as refused:
        business_days_between(d("02-06-2025"), d("01-06-2025"))
    assert refused.value.problems[0].field == "end"


def test_business_days_of_may_2025():
    expected = ["02", "06", "07", "08", "09", "12", "13", "14", "15", "16", "19", "20", "21", "22", "23",
                "26", "27", "28", "30"]
    assert DEFAULT_CALENDAR.business_days_of_month(2025, 5) == [d(f"{x}-05-2025") for x in expected]


def test_a_calendar_can_close_on_bevrijdingsdag_every_year():
    calendar = PaymentCalendar(liberation_day_every_year=True)
    assert not calendar.is_business_day(d("05-05-2026"))
    assert calendar != DEFAULT_CALENDAR


def test_a_calendar_without_one_of_the_two_sources():
    assert PaymentCalendar(target2=False).is_business_day(d("01-05-2025"))  # Labour Day: TARGET2 only
    assert not PaymentCalendar(target2=False).is_business_day(d("29-05-2025"))
    assert PaymentCalendar(dutch_holidays=False).is_business_day(d("29-05-2025"))  # Hemelvaart: NL only
    assert not PaymentCalendar(dutch_holidays=False).is_business_day(d("18-04-2025"))


def test_calendars_compare_by_settings_not_by_cache():
    fresh = PaymentCalendar()
    assert fresh == DEFAULT_CALENDAR
    assert hash(fresh) == hash(DEFAULT_CALENDAR)


@pytest.mark.parametrize("bad", [datetime(2025, 4, 18, 12, 0), "2025-04-18", None])  # noqa: DTZ001
def test_business_day_refuses_what_is_not_a_date(bad):
    with pytest.raises(InvalidInputError) as refused:
        is_business_day(bad)
    assert refused.value.problems[0].field == "date"


def test_dates_outside_the_known_years_are_refused_not_guessed():
    with pytest.raises(InvalidInputError):
        is_business_day(date(1990, 1, 2))
    with pytest.raises(InvalidInputError):
        is_business_day(date(2100, 1, 4))


# --- toeslagen -----------------------------------------------------------------------------------------

TOESLAG_DATES = {
    (2025, 1): "20-01-2025",
    (2025, 2): "20-02-2025",
    (2025, 3): "20-03-2025",
    (2025, 4): "22-04-2025",  # 20-04 Eerste Paasdag, 21-04 Tweede Paasdag
    (2025, 5): "20-05-2025",
    (2025, 6): "20-06-2025",
    (2025, 7): "21-07-2025",  # Sunday
    (2025, 8): "20-08-2025",
    (2025, 9): "22-09-2025",  # Saturday
    (2025, 10): "20-10-2025",
    (2025, 11): "20-11-2025",
    (2025, 12): "22-12-2025",  # Saturday
    (2026, 1): "20-01-2026",
    (2026, 2): "20-02-2026",
    (2026, 3): "20-03-2026",
    (2026, 4): "20-04-2026",
    (2026, 5): "20-05-2026",
    (2026, 6): "22-06-2026",  # Saturday
    (2026, 7): "20-07-2026",
    (2026, 8): "20-08-2026",
    (2026, 9): "21-09-2026",  # Sunday
    (2026, 10): "20-10-2026",
    (2026, 11): "20-11-2026",
    (2026, 12): "21-12-2026",  # Sunday
}


@pytest.mark.parametrize(("year", "month"), sorted(TOESLAG_DATES))
def test_toeslag_is_paid_on_the_20th_or_the_next_business_day(year, month):
    assert toeslag_payment_date(year, month) == d(TOESLAG_DATES[(year, month)])


def test_january_2026_zorgtoeslag_was_paid_on_22_december_2025():
    # domain.md B1 (metronieuws.nl): toeslagen are paid in advance, in the month before.
    assert toeslag_payment_date_for(2026, 1) == d("22-12-2025")
    assert toeslag_payment_date_for(2025, 5) == d("22-04-2025")


def test_s1_first_toeslag_payments():
    assert toeslag_payment_date(2025, 5) == d("20-05-2025")  # zorgtoeslag, Tuesday
    assert toeslag_payment_date(2025, 6) == d("20-06-2025")  # huurtoeslag, Friday


@pytest.mark.parametrize("month", [0, 13])
def test_toeslag_refuses_a_month_that_does_not_exist(month):
    with pytest.raises(InvalidInputError) as refused:
        toeslag_payment_date(2025, month)
    assert refused.value.problems[0].field == "month"


# --- kinderbijslag -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "quarter", "paid"),
    [
        (2024, 4, "02-01-2025"),  # 1 January closed
        (2025, 1, "01-04-2025"),
        (2025, 2, "01-07-2025"),
        (2025, 3, "01-10-2025"),
        (2025, 4, "02-01-2026"),
        (2026, 1, "01-04-2026"),
        (2026, 2, "01-07-2026"),
        (2026, 3, "01-10-2026"),
        (2026, 4, "04-01-2027"),  # Friday 1 January closed, then a weekend
        (2023, 4, "02-01-2024"),
        (2024, 1, "02-04-2024"),  # 1 April 2024 is Tweede Paasdag
    ],
)
def test_kinderbijslag_is_paid_after_the_quarter(year, quarter, paid):
    assert kinderbijslag_payment_date(year, quarter) == d(paid)


def test_kinderbijslag_from_a_later_day_of_the_month():
    assert kinderbijslag_payment_date(2025, 2, day=3) == d("03-07-2025")
    assert kinderbijslag_payment_date(2025, 3, day=5) == d("06-10-2025")  # 5 October 2025 is a Sunday


@pytest.mark.parametrize(
    ("quarter", "day", "field"), [(0, 1, "quarter"), (5, 1, "quarter"), (1, 0, "day"), (1, 29, "day")]
)
def test_kinderbijslag_refuses_bad_input(quarter, day, field):
    with pytest.raises(InvalidInputError) as refused:
        kinderbijslag_payment_date(2025, quarter, day=day)
    assert refused.value.problems[0].field == field


# --- bijstand ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "year", "month", "paid"),
    [
        ("day:1", 2025, 3, "01-04-2025"),  # S1: bijstand March in arrears
        ("day:1", 2025, 5, "02-06-2025"),  # S1: 01-06-2025 is a Sunday
        ("day:1", 2024, 12, "02-01-2025"),
        ("day:1", 2025, 12, "02-01-2026"),
        ("day:1", 2026, 12, "04-01-2027"),
        ("day:1:previous", 2025, 12, "31-12-2025"),
        ("day:1:previous", 2025, 5, "30-05-2025"),
        ("business-day:1", 2025, 12, "02-01-2026"),
        ("business-day:3", 2025, 4, "07-05-2025"),  # 1 May and 5 May 2025 closed
        ("last-business-day;offset=0", 2025, 5, "30-05-2025"),  # IASZ style: the month itself
        ("last-business-day;offset=0", 2025, 4, "30-04-2025"),
        ("last-business-day", 2026, 11, "31-12-2026"),
        ("day:25;offset=0", 2025, 10, "27-10-2025"),  # Saturday → Monday
        ("day:25:previous;offset=0", 2025, 10, "24-10-2025"),  # Saturday → Friday
        ("day:15", 2025, 1, "17-02-2025"),  # January's uitkering in the third week of February
        ("day:31", 2026, 1, "02-03-2026"),  # 31 Feb → 28 Feb 2026, a Saturday → Monday
        ("day:31:previous", 2026, 1, "27-02-2026"),
        ("day:1;offset=2", 2025, 3, "02-05-2025"),
    ],
)
def test_bijstand_payment_day_rules(rule, year, month, paid):
    assert PaymentDayRule.parse(rule).payment_date(year, month) == d(paid)


def test_1_may_2025_moves_bijstand_paid_on_the_1st():
    # 1 May 2025 is a Thursday, open for Dutch payers, closed for TARGET2.
    assert PaymentDayRule.day_of_month(1).payment_date(2025, 4) == d("02-05-2025")


def test_bijstand_day_on_another_calendar():
    nl_only = PaymentCalendar(target2=False)
    assert PaymentDayRule.day_of_month(1).payment_date(2025, 4, calendar=nl_only) == d("01-05-2025")


def test_rule_constructors_match_their_text():
    assert PaymentDayRule.parse("day:1") == PaymentDayRule.day_of_month(1)
    assert PaymentDayRule.parse("day:25:previous;offset=0") == PaymentDayRule.day_of_month(
        25, roll=Roll.PREVIOUS, month_offset=0
    )
    assert PaymentDayRule.parse("last-business-day") == PaymentDayRule.last_business_day()
    assert PaymentDayRule.parse("business-day:3") == PaymentDayRule.nth_business_day(3)
    assert PaymentDayRule.parse("day:1").kind is PaymentDayKind.DAY_OF_MONTH


@pytest.mark.parametrize(
    "text",
    [
        "day:1", "day:25:previous", "day:25:previous;offset=0", "last-business-day",
        "last-business-day;offset=0", "business-day:3", "business-day:15;offset=2",
    ],
)
def test_rule_text_round_trips(text):
    rule = PaymentDayRule.parse(text)
    assert rule.to_text() == text
    assert str(rule) == text
    assert len(text) <= 40  # expected_income.payment_day is a String(40)


def test_rule_text_is_read_leniently_and_written_canonically():
    assert PaymentDayRule.parse("  Day:1 ").to_text() == "day:1"
    assert PaymentDayRule.parse("day:1:next;offset=1").to_text() == "day:1"
    assert PaymentDayRule.parse("day:01").to_text() == "day:1"


@pytest.mark.parametrize(
    "text",
    ["", "day", "day:", "day:0", "day:32", "business-day", "business-day:0", "business-day:16",
     "last-business-day:3", "last-business-day:previous", "business-day:3:previous", "day:1:sideways",
     "day:1;offset=3", "day:1;offset=-1", "day:1;offset=", "weekly", "day:1 ;offset=0", "dag:1", 1, None],
)
def test_bad_rule_text_is_refused_naming_the_field(text):
    with pytest.raises(InvalidInputError) as refused:
        PaymentDayRule.parse(text, field_name="bijstand_payment_day")
    assert [p.field for p in refused.value.problems] == ["bijstand_payment_day"]


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: PaymentDayRule.day_of_month(0), "day"),
        (lambda: PaymentDayRule.day_of_month(32), "day"),
        (lambda: PaymentDayRule.nth_business_day(16), "day"),
        (lambda: PaymentDayRule.last_business_day(month_offset=-1), "month_offset"),
        (lambda: PaymentDayRule.day_of_month(1, month_offset=3), "month_offset"),
        (lambda: PaymentDayRule("weekly"), "kind"),  # type: ignore[arg-type]
        (lambda: PaymentDayRule(PaymentDayKind.DAY_OF_MONTH), "day"),
        (lambda: PaymentDayRule(PaymentDayKind.LAST_BUSINESS_DAY, 3), "day"),
        (lambda: PaymentDayRule(PaymentDayKind.NTH_BUSINESS_DAY, 2, Roll.PREVIOUS), "roll"),
        (lambda: PaymentDayRule(PaymentDayKind.DAY_OF_MONTH, 1, "sideways"), "roll"),  # type: ignore
        (lambda: PaymentDayRule(PaymentDayKind.DAY_OF_MONTH, True), "day"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(make, field):
    with pytest.raises(InvalidInputError) as refused:
        make()
    assert refused.value.problems[0].field == field
