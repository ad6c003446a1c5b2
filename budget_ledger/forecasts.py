"""Forecasts and what-ifs for one household: where its basisrekening goes in the coming months, and what
would happen under another profile or regime.

A forecast reads the household as the book stood on `as_of` (entries booked after it are left out, so a
forecast "from the trajectory's start" sees the start, not today), counts on the expected income not yet
received, and runs the rules engine forward (budget_ledger.rules.forecast). Nothing is written.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from pydantic import ValidationError

from budget_ledger.chart import household_code
from budget_ledger.clock import AMSTERDAM, Clock, system_clock
from budget_ledger.errors import FieldProblem, InvalidInputError
from budget_ledger.ledger.errors import LedgerError
from budget_ledger.ledger.money import Money
from budget_ledger.planning import PlanningService, StoredFacts, build_snapshot
from budget_ledger.ports import UnitOfWork
from budget_ledger.rules.engine import RuleSource, months_between
from budget_ledger.rules.forecast import MAX_MONTHS, Forecast, WhatIf, forecast_end, under_regime
from budget_ledger.rules.forecast import forecast as make_forecast
from budget_ledger.rules.forecast import what_if as make_what_if
from budget_ledger.rules.profiles import Regime
from budget_ledger.transactions import Transactions


def facts_as_of(uow: UnitOfWork, planning: PlanningService, household_id: int, as_of: date, *,
                profile: str | None = None) -> StoredFacts:
    """The household's stored facts as the book stood at the end of `as_of` (see `book_as_of`)."""
    return book_as_of(uow, planning.facts(uow, household_id, profile=profile), as_of)


def book_as_of(uow: UnitOfWork, facts: StoredFacts, as_of: date) -> StoredFacts:
    """`facts` with the book as it stood at the end of `as_of`: entries booked after it are left out, and
    the balances are those of that day. The registry (creditors, expected income, rules) stays as it is
    now: it says what is known, the book says what has happened."""
    household_id = facts.household.id
    prefix = household_code(household_id) + ":"
    types = {account.code: account.type for account in uow.ledger.accounts(household_id=household_id)}
    balances = {
        code[len(prefix):]: Money(cents) * types[code].normal_sign
        for code, cents in uow.ledger.balances_as_of(as_of, household_id=household_id).items()
        if code.startswith(prefix) and code in types
    }
    entries = tuple(entry for entry in facts.entries if entry.booking_date <= as_of)
    return replace(facts, entries=entries, balances=balances)


def today(clock: Clock) -> date:
    """Today where the households live."""
    return clock().astimezone(AMSTERDAM).date()


def checked_months(months: Any) -> int:
    if type(months) is not int or not 1 <= months <= MAX_MONTHS:
        raise InvalidInputError("months", f"must be a whole number from 1 to {MAX_MONTHS}, not {months!r}")
    return months


def checked_date(value: Any, field: str) -> date | None:
    if value is None or (isinstance(value, date) and type(value) is date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInputError(field, f"must be a date (YYYY-MM-DD), not {value!r}")


def checked_regime(value: Any) -> Regime:
    try:
        return Regime(value)
    except ValueError:
        known = ", ".join(r.value for r in Regime)
        raise InvalidInputError("regime", f"there is no regime {value!r} (known: {known})") from None


def check_rules(rules: RuleSource, start: date, end: date, field: str) -> None:
    """Ask `rules` for every month of the period now, so rules that cannot be made (an override that does
    not fit a version) are refused as input naming `field`, before the engine runs."""
    for month in months_between(start, end):
        try:
            rules.version_on(max(month, start))
        except ValidationError as exc:
            problems = [FieldProblem(field, f"{'.'.join(str(p) for p in e['loc'])}: "
                                            f"{str(e['msg']).removeprefix('Value error, ')}")
                        for e in exc.errors(include_url=False, include_input=False)]
            raise InvalidInputError(problems[0].field, problems[0].reason, *problems[1:]) from None
        except LedgerError as exc:
            raise InvalidInputError(field, str(exc)) from None


class ForecastService:
    def __init__(self, transactions: Transactions, planning: PlanningService, clock: Clock = system_clock) -> None:
        self._tx = transactions
        self._planning = planning
        self._clock = clock

    def forecast(self, household_id: int, months: int = 6, as_of: date | None = None) -> Forecast:
        """The basisrekening month by month from `as_of` (default today) through the end of the
        `months`-th month, under the household's own rules, counting on the income expected."""
        months = checked_months(months)
        day = checked_date(as_of, "as_of") or today(self._clock)
        end = forecast_end(day, months)

        def work(uow: UnitOfWork) -> Forecast:
            facts = facts_as_of(uow, self._planning, household_id, day)
            snapshot = build_snapshot(facts, day, end, self._planning.calendar, project_income=True)
            return make_forecast(snapshot, facts.rules, day, months)

        return self._tx.run(work, write=False)

    def what_if(self, household_id: int, *, profile: str | None = None, regime: str | None = None,
                months: int = 6, as_of: date | None = None) -> WhatIf:
        """The forecast under the household's own rules beside one under other rules: another `profile`
        (the household's assignments and overrides left out), its own rules under another `regime`, or
        another profile under another regime."""
        months = checked_months(months)
        day = checked_date(as_of, "as_of") or today(self._clock)
        if profile is None and regime is None:
            raise InvalidInputError("profile", "name a profile or a regime to compare with")
        if profile is not None and (not isinstance(profile, str) or not profile.strip()):
            raise InvalidInputError("profile", f"must be a profile name, not {profile!r}")
        other_regime = checked_regime(regime) if regime is not None else None
        end = forecast_end(day, months)

        def work(uow: UnitOfWork) -> WhatIf:
            facts = facts_as_of(uow, self._planning, household_id, day)
            other: RuleSource = facts.rules
            if profile is not None:
                other = self._planning.facts(uow, household_id, profile=profile.strip()).rules
            if other_regime is not None:
                other = under_regime(other, other_regime)
            check_rules(other, day, end, "regime" if other_regime is not None else "profile")
            snapshot = build_snapshot(facts, day, end, self._planning.calendar, project_income=True)
            return make_what_if(snapshot, facts.rules, other, day, months)

        return self._tx.run(work, write=False)
