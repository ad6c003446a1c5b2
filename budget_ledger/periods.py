"""Date arithmetic of the ontzorging period (art. 56a Pw: at least six months from the day the right to
bijstand arises) and of the milestones in it (domain.md A1, A8, S1, S10, S11).

The period's last day is reckoned Awb-style: the day before the corresponding date `months` later, or,
when that date does not exist (31 August + 6 months), the last day of that month. The shortcut
`start + relativedelta(months=6) - 1 day` is wrong exactly there: relativedelta first clamps 31 February
to the 28th and the minus one day then cuts a day off a period that must last at least six months.

Milestones (evaluations, eindevaluatie) are plain "same day n months later", clamped to the month end,
because they are appointments, not the end of a legal minimum. Nothing here knows "today": a start in
the past (bijstand granted with retroactive effect, Participatiewet in balans) is reckoned the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from budget_ledger.errors import InvalidInputError

MINIMUM_MONTHS = 6
_ONE_DAY = timedelta(days=1)


def _require_date(value: object, field_name: str) -> date:
    # A datetime is a date to Python, but arithmetic on it keeps the time, and the result then no longer
    # compares equal to the plain dates the ledger stores.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInputError(field_name, "must be a date (without a time)")
    return value


def _require_months(value: object, field_name: str = "months") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(field_name, "must be a whole number of at least 1")
    return value


def add_months(d: date, n: int) -> date:
    """The same day `n` months later (earlier when n < 0); a day the target month lacks becomes its end."""
    _require_date(d, "date")
    if isinstance(n, bool) or not isinstance(n, int):
        raise InvalidInputError("n", "must be a whole number")
    return d + relativedelta(months=n)


def minimum_last_day(start: date, months: int = MINIMUM_MONTHS, *, full_months: bool = False) -> date:
    """The last day (inclusive) of an ontzorging period of at least `months` months from `start`.

    `full_months` is the "zes volle maanden" practice (S11, 001:L3413): payments run through the whole
    bijstand month in which the Awb last day falls, so the period ends at that month's end and never
    on an awkward day of the month (A8).
    """
    _require_date(start, "start")
    _require_months(months)
    corresponding = start + relativedelta(months=months)
    # relativedelta clamps to the month end; a changed day number means the corresponding date does not
    # exist, and the month end it clamped to is then the last day itself.
    last_day = corresponding if corresponding.day != start.day else corresponding - _ONE_DAY
    if full_months:
        last_day += relativedelta(day=31)
    return last_day


def extended_last_day(current_last_day: date, months: int) -> date:
    """The last day after extending a period by `months` (A8, S10 outcome B).

    The extension starts the day after the current last day and is reckoned by the same Awb rule, so
    a period ending 30 September extended by 3 months ends 31 December, not 30 December.
    """
    _require_date(current_last_day, "current_last_day")
    _require_months(months)
    return minimum_last_day(current_last_day + _ONE_DAY, months)


def milestone(start: date, months: int) -> date:
    """The appointment `months` after the start, e.g. the eindevaluatie at 5 months (A8)."""
    _require_date(start, "start")
    _require_months(months)
    return add_months(start, months)


def evaluation_window(start: date, from_months: int = 2, to_months: int = 3) -> tuple[date, date]:
    """First and last day (inclusive) on which the interim evaluation "at 2–3 months" (A8) is on time."""
    _require_date(start, "start")
    _require_months(from_months, "from_months")
    _require_months(to_months, "to_months")
    if to_months < from_months:
        raise InvalidInputError("to_months", "must not be less than from_months")
    return add_months(start, from_months), add_months(start, to_months)


def lead_time_dates(last_day: date, weeks: Iterable[int] = (8, 4, 2)) -> tuple[date, ...]:
    """The days on which "ontzorging ends in N weeks" is due, one per entry of `weeks`, in that order.

    Counted back from the first day after the period, not from the last day, so that "in 2 weeks" means
    that 14 days later the client pays alone, and every warning falls on the same weekday as that day.
    """
    _require_date(last_day, "last_day")
    week_counts = list(weeks)
    if not week_counts:
        raise InvalidInputError("weeks", "must name at least one lead time")
    for count in week_counts:
        _require_months(count, "weeks")
    first_day_after = last_day + _ONE_DAY
    return tuple(first_day_after - timedelta(weeks=count) for count in week_counts)
