"""The Dutch payment calendar: on which day expected income can be counted on.

A business day is Monday to Friday that is neither a TARGET2 closing day (New Year, Good Friday,
Easter Monday, 1 May, 25 and 26 December) nor a Dutch public holiday (Nieuwjaarsdag, Goede Vrijdag,
both Paas- and Pinksterdagen, Koningsdag, Hemelvaartsdag, both Kerstdagen, and Bevrijdingsdag in
lustrum years only, as most collective agreements and the `holidays` library have it). The union is
deliberately conservative: banks do not settle on a TARGET2 closing day, Dienst Toeslagen moves its
date past a "feestdag" (B1), and a budget plan that expects money a day too late only delays a
payment, while one that expects it a day too early overdraws a basisrekening.

The calendar is an object rather than module functions so that a gemeente can later choose another
one (Bevrijdingsdag every year, say); `DEFAULT_CALENDAR` serves everyone until then. Closing days are
computed per year on first use and kept, because schedules ask the same few years thousands of times.

Payment-date rules live here too, since each of them is "a nominal day, moved by the calendar":
toeslagen on the 20th (B1), kinderbijslag early in the month after the quarter (B2), and bijstand on
the gemeente's own day, described by a `PaymentDayRule` that a setting or a database column holds as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

import holidays
from dateutil.relativedelta import relativedelta
from dateutil.rrule import DAILY, FR, MO, TH, TU, WE, rrule

from budget_ledger.errors import InvalidInputError

_WEEKDAYS = (MO, TU, WE, TH, FR)
_ONE_DAY = timedelta(days=1)


def _require_date(value: object, field_name: str) -> date:
    # A datetime is a date to Python, but date arithmetic on it keeps the time and the result no longer
    # compares equal to the plain dates the ledger stores.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInputError(field_name, "must be a date (without a time)")
    return value


def _require_int(value: object, field_name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInputError(field_name, f"must be a whole number from {low} to {high}")
    return value


@dataclass(frozen=True)
class PaymentCalendar:
    """Which days money moves. Compared by its settings; the per-year cache is not part of its identity."""

    target2: bool = True
    dutch_holidays: bool = True
    liberation_day_every_year: bool = False
    """The Algemene termijnenwet counts 5 May every year; payers and banks mostly work on it outside lustrum
    years, so by default it closes only in those (2025, 2030, …)."""

    first_year: int = 2000
    last_year: int = 2099
    """Outside this range a date is refused: the holiday rules are not known that far off, and a silent
    "every weekday is a business day" would be worse than a refusal."""

    _closed: dict[int, frozenset[date]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def closing_days(self, year: int) -> frozenset[date]:
        """Holidays of either calendar in `year`, weekend ones included; plain weekends are not listed."""
        _require_int(year, "year", self.first_year, self.last_year)
        cached = self._closed.get(year)
        if cached is None:
            days: set[date] = set()
            if self.target2:
                days.update(holidays.financial_holidays("XECB", years=year).keys())
            if self.dutch_holidays:
                days.update(holidays.country_holidays("NL", years=year).keys())
                if self.liberation_day_every_year:
                    days.add(date(year, 5, 5))
            cached = frozenset(days)
            self._closed[year] = cached
        return cached

    def _check_range(self, d: date, field_name: str) -> date:
        _require_date(d, field_name)
        if not self.first_year <= d.year <= self.last_year:
            raise InvalidInputError(
                field_name, f"must lie in the years {self.first_year}–{self.last_year} the calendar knows"
            )
        return d

    def is_business_day(self, d: date) -> bool:
        self._check_range(d, "date")
        return d.weekday() < 5 and d not in self.closing_days(d.year)

    def next_business_day(self, d: date) -> date:
        """`d` itself when money moves that day, else the first day after it that it does."""
        while not self.is_business_day(d):
            d += _ONE_DAY
        return d

    def previous_business_day(self, d: date) -> date:
        """`d` itself when money moves that day, else the last day before it that it does."""
        while not self.is_business_day(d):
            d -= _ONE_DAY
        return d

    def add_business_days(self, d: date, n: int) -> date:
        """The n-th business day after `d` (before it when n < 0); `d` itself need not be one.

        n = 0 gives `next_business_day(d)`, so that the answer is always a day on which money moves.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise InvalidInputError("n", "must be a whole number")
        self._check_range(d, "date")
        if n == 0:
            return self.next_business_day(d)
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_business_day(d):
                remaining -= 1
        return d

    def business_days_between(self, start: date, end: date) -> int:
        """Business days after `start` up to and including `end`.

        Counted this way, `add_business_days(start, business_days_between(start, end)) == end` whenever
        `end` is a business day, so a lead time can be measured and applied with the same meaning.
        """
        self._check_range(start, "start")
        self._check_range(end, "end")
        if end < start:
            raise InvalidInputError("end", "must not be before start")
        return sum(1 for d in self._weekdays(start + _ONE_DAY, end) if d not in self.closing_days(d.year))

    def business_days_of_month(self, year: int, month: int) -> list[date]:
        _require_int(month, "month", 1, 12)
        first = self._check_range(date(_require_int(year, "year", 1, 9999), month, 1), "year")
        last = first + relativedelta(day=31)
        return [d for d in self._weekdays(first, last) if d not in self.closing_days(d.year)]

    @staticmethod
    def _weekdays(first: date, last: date) -> list[date]:
        if last < first:
            return []
        return [dt.date() for dt in rrule(DAILY, dtstart=first, until=last, byweekday=_WEEKDAYS)]


DEFAULT_CALENDAR = PaymentCalendar()

# The default calendar's methods, for the many callers that never need another calendar.
is_business_day = DEFAULT_CALENDAR.is_business_day
next_business_day = DEFAULT_CALENDAR.next_business_day
previous_business_day = DEFAULT_CALENDAR.previous_business_day
add_business_days = DEFAULT_CALENDAR.add_business_days
business_days_between = DEFAULT_CALENDAR.business_days_between


TOESLAG_DAY = 20


def toeslag_payment_date(year: int, month: int, *, calendar: PaymentCalendar = DEFAULT_CALENDAR) -> date:
    """The day Dienst Toeslagen pays in (year, month): the 20th, or the first business day after it (B1).

    `month` is the month of payment. The voorschot paid then is for the month after (zorgtoeslag paid in
    December is January's premium); use `toeslag_payment_date_for` to go from the month covered.
    """
    _require_int(month, "month", 1, 12)
    return calendar.next_business_day(date(_require_int(year, "year", 1, 9999), month, TOESLAG_DAY))


def toeslag_payment_date_for(year: int, month: int, *, calendar: PaymentCalendar = DEFAULT_CALENDAR) -> date:
    """The day the regular voorschot for (year, month) arrives: paid in advance, in the month before.

    A first payment after a beschikking and back-payments follow their own timing; this is the rhythm after.
    """
    _require_int(month, "month", 1, 12)
    paid_in = date(_require_int(year, "year", 1, 9999), month, 1) - relativedelta(months=1)
    return toeslag_payment_date(paid_in.year, paid_in.month, calendar=calendar)


def kinderbijslag_payment_date(
    year: int, quarter: int, *, day: int = 1, calendar: PaymentCalendar = DEFAULT_CALENDAR
) -> date:
    """When the SVB pays kinderbijslag for quarter `quarter` of `year`: after the quarter, in the first
    week of the next month (B2). The SVB publishes no fixed day, so the first business day on or after
    `day` of that month stands for it; a later `day` makes expectations more cautious.
    """
    _require_int(quarter, "quarter", 1, 4)
    _require_int(day, "day", 1, 28)
    quarter_start = date(_require_int(year, "year", 1, 9999), 3 * quarter - 2, 1)
    paid_in = quarter_start + relativedelta(months=3, day=day)
    return calendar.next_business_day(paid_in)


class PaymentDayKind(StrEnum):
    DAY_OF_MONTH = "day"
    LAST_BUSINESS_DAY = "last-business-day"
    NTH_BUSINESS_DAY = "business-day"


class Roll(StrEnum):
    """Where a nominal day that is not a business day goes."""

    NEXT = "next"
    PREVIOUS = "previous"


MAX_NTH_BUSINESS_DAY = 15
"""No month of 2000–2099 has fewer than 17 business days in this calendar, so days 1–15 always exist."""
MAX_MONTH_OFFSET = 2

_RULE_TEXT = re.compile(
    r"(?P<kind>[a-z-]+)(?::(?P<day>\d{1,2}))?(?::(?P<roll>[a-z]+))?(?:;offset=(?P<offset>\d{1,2}))?"
)


@dataclass(frozen=True, slots=True)
class PaymentDayRule:
    """The day a gemeente pays bijstand (B3 leaves it to each gemeente), as a value a setting can hold.

    `month_offset` places the payment relative to the month paid for: 1, the default, is "in arrears"
    (May's bijstand in June), 0 is the same month (IASZ pays on the last working day of the month itself).

    Text form, for TOML and the `payment_day` column: `day:1`, `day:25:previous`, `last-business-day`,
    `business-day:3`, each optionally followed by `;offset=0` (the default offset 1 is left out).
    """

    kind: PaymentDayKind
    day: int | None = None
    """Day of the month for DAY_OF_MONTH (a day the month lacks means its last day); N for
    NTH_BUSINESS_DAY; None for LAST_BUSINESS_DAY."""
    roll: Roll = Roll.NEXT
    month_offset: int = 1

    def __post_init__(self) -> None:
        try:
            kind = PaymentDayKind(self.kind)
        except ValueError:
            kinds = ", ".join(k.value for k in PaymentDayKind)
            raise InvalidInputError("kind", f"must be one of {kinds}") from None
        try:
            roll = Roll(self.roll)
        except ValueError:
            raise InvalidInputError("roll", "must be 'next' or 'previous'") from None
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "roll", roll)
        if kind is PaymentDayKind.DAY_OF_MONTH:
            _require_int(self.day, "day", 1, 31)
        elif kind is PaymentDayKind.NTH_BUSINESS_DAY:
            _require_int(self.day, "day", 1, MAX_NTH_BUSINESS_DAY)
        elif self.day is not None:
            raise InvalidInputError("day", "is not used with the last business day")
        if kind is not PaymentDayKind.DAY_OF_MONTH and roll is not Roll.NEXT:
            raise InvalidInputError("roll", "only applies to a day of the month")
        _require_int(self.month_offset, "month_offset", 0, MAX_MONTH_OFFSET)

    @classmethod
    def day_of_month(cls, day: int, *, roll: Roll = Roll.NEXT, month_offset: int = 1) -> PaymentDayRule:
        return cls(PaymentDayKind.DAY_OF_MONTH, day, roll, month_offset)

    @classmethod
    def last_business_day(cls, *, month_offset: int = 1) -> PaymentDayRule:
        return cls(PaymentDayKind.LAST_BUSINESS_DAY, None, Roll.NEXT, month_offset)

    @classmethod
    def nth_business_day(cls, n: int, *, month_offset: int = 1) -> PaymentDayRule:
        return cls(PaymentDayKind.NTH_BUSINESS_DAY, n, Roll.NEXT, month_offset)

    @classmethod
    def parse(cls, text: str, *, field_name: str = "payment_day") -> PaymentDayRule:
        """Read the text form; every refusal names `field_name`, the setting or column the text came from."""
        if not isinstance(text, str):
            raise InvalidInputError(field_name, "must be text such as 'day:1' or 'last-business-day'")
        match = _RULE_TEXT.fullmatch(text.strip().lower())
        if match is None:
            raise InvalidInputError(
                field_name,
                f"{text!r} is not a payment day; expected e.g. 'day:1', 'day:25:previous', "
                "'last-business-day' or 'business-day:3', optionally with ';offset=0'",
            )
        offset = int(match["offset"]) if match["offset"] is not None else 1
        day = int(match["day"]) if match["day"] is not None else None
        if match["kind"] in (PaymentDayKind.DAY_OF_MONTH, PaymentDayKind.NTH_BUSINESS_DAY) and day is None:
            raise InvalidInputError(field_name, f"{text!r} lacks the day number, e.g. '{match['kind']}:1'")
        try:
            return cls(match["kind"], day, match["roll"] or Roll.NEXT, offset)
        except InvalidInputError as error:
            problem = error.problems[0]
            raise InvalidInputError(field_name, f"{text!r}: {problem.field} {problem.reason}") from None

    def to_text(self) -> str:
        text = self.kind.value
        if self.day is not None:
            text += f":{self.day}"
        if self.roll is not Roll.NEXT:
            text += f":{self.roll.value}"
        if self.month_offset != 1:
            text += f";offset={self.month_offset}"
        return text

    def __str__(self) -> str:
        return self.to_text()

    def payment_date(self, year: int, month: int, *, calendar: PaymentCalendar = DEFAULT_CALENDAR) -> date:
        """The day the bijstand for (year, month) arrives under this rule."""
        _require_int(month, "month", 1, 12)
        paid_for = date(_require_int(year, "year", 1, 9999), month, 1)
        paid_in = paid_for + relativedelta(months=self.month_offset)
        if self.kind is PaymentDayKind.DAY_OF_MONTH:
            assert self.day is not None
            nominal = paid_in + relativedelta(day=self.day)
            if self.roll is Roll.NEXT:
                return calendar.next_business_day(nominal)
            return calendar.previous_business_day(nominal)
        days = calendar.business_days_of_month(paid_in.year, paid_in.month)
        if self.kind is PaymentDayKind.LAST_BUSINESS_DAY:
            return days[-1]
        assert self.day is not None
        return days[self.day - 1]
