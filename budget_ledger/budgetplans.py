"""Budgetplans: the month's plan a client and budgetbeheerder sign, computed from the registry and the rules,
and recorded as a new version whenever its inputs change (domain.md A10: "the budgetplan is versioned").

`current` computes the plan and stores nothing. `record` stores it as the next version for the household
and month, unless the latest version has the same fingerprint — the same figures under the same rules —
so recording every day (or after every payment run) adds a version only when something changed: a new
rent, a toeslag, another profile. Versions are append-only; the database refuses to change them.

Which book a plan is made from: the book as it stood on the eve of the month (or on the trajectory's first
day, for the first month), or today if that is earlier. A plan for a month already under way is the plan
as it was made for it, not one rewritten by what the month's own payment runs booked; the registry
(creditors, expected income, rules) is read as it is now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from budget_ledger.clock import Clock, system_clock
from budget_ledger.errors import InvalidInputError, NotFoundError
from budget_ledger.forecasts import book_as_of, checked_date, today
from budget_ledger.households import Household, MemberRole, read_for_household
from budget_ledger.planning import PlanningService, build_snapshot
from budget_ledger.ports import UnitOfWork
from budget_ledger.rules.budgetplan import BudgetPlan, budgetplan, render_text
from budget_ledger.rules.snapshot import month_end, month_start
from budget_ledger.rules.texts import day_text
from budget_ledger.transactions import Transactions


@dataclass(frozen=True, slots=True)
class StoredBudgetplan:
    """One recorded version of a household's budgetplan for a month; never changed."""

    id: int
    household_id: int
    month: date
    version: int
    fingerprint: str
    content: Mapping[str, Any]
    """`BudgetPlan.to_json()` as recorded, findings included."""
    recorded_by: str
    recorded_at: datetime

    @property
    def plan(self) -> BudgetPlan:
        return BudgetPlan.from_json(dict(self.content))


def checked_month(value: Any) -> date:
    """A month as its first day, from a date or "YYYY-MM"; InvalidInputError naming `month` otherwise."""
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise InvalidInputError("month", f"must be a month (YYYY-MM) or a date, not {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text + "-01" if len(text) == 7 else text)
        except ValueError:
            raise InvalidInputError("month", f"must be a month (YYYY-MM) or a date, not {text!r}") from None
    return month_start(value)


def household_name(household: Household) -> str:
    """The aanvrager, and the partner if there is one: the people who sign."""
    adults = [m.name for m in household.members if m.role is MemberRole.AANVRAGER]
    adults += [m.name for m in household.members if m.role is MemberRole.PARTNER]
    return " en ".join(adults)


class BudgetplanService:
    def __init__(self, transactions: Transactions, planning: PlanningService, clock: Clock = system_clock) -> None:
        self._tx = transactions
        self._planning = planning
        self._clock = clock

    # -- computing -------------------------------------------------------------------------------

    def _compute(self, uow: UnitOfWork, household_id: int, month: date, as_of: date | None) -> BudgetPlan:
        facts = self._planning.facts(uow, household_id)
        trajectory = facts.trajectory
        first, last = month_start(trajectory.start_date), month_start(trajectory.last_day)
        if not first <= month <= last:
            raise InvalidInputError(
                "month",
                f"{month:%Y-%m} lies outside the ontzorgtraject ({trajectory.start_date.isoformat()} to "
                f"{trajectory.last_day.isoformat()}); a budgetplan is made for its months",
            )
        day = as_of or min(today(self._clock), max(month - timedelta(days=1), trajectory.start_date))
        facts = book_as_of(uow, facts, day)
        snapshot = build_snapshot(facts, day, month_end(month), self._planning.calendar, project_income=True)
        return budgetplan(snapshot, facts.rules, month)

    def current(self, household_id: int, month: date | str, *, as_of: date | None = None) -> BudgetPlan:
        """The budgetplan for `month` as the registry and rules make it now; nothing is stored."""
        wanted = checked_month(month)
        day = checked_date(as_of, "as_of")
        return self._tx.run(lambda uow: self._compute(uow, household_id, wanted, day), write=False)

    # -- recording -------------------------------------------------------------------------------

    def record(self, household_id: int, month: date | str, actor: str, *,
               as_of: date | None = None) -> StoredBudgetplan:
        """Store the plan for `month` as its next version, unless the latest version has the same
        fingerprint; either way, return the version that holds now."""
        wanted = checked_month(month)
        day = checked_date(as_of, "as_of")
        if not isinstance(actor, str) or not actor.strip():
            raise InvalidInputError("actor", "who records the budgetplan must be named")

        def work(uow: UnitOfWork) -> StoredBudgetplan:
            plan = self._compute(uow, household_id, wanted, day)
            # Locked (PostgreSQL) or under the write lock (SQLite): two recorders cannot both add version n.
            versions = uow.registry.budgetplan_versions(household_id, wanted, lock=True)
            fingerprint = plan.fingerprint()
            if versions and versions[-1].fingerprint == fingerprint:
                return versions[-1]
            number = versions[-1].version + 1 if versions else 1
            return uow.registry.add_budgetplan(household_id, wanted, number, fingerprint, plan.to_json(), actor,
                                               self._clock())

        return self._tx.run(work)

    def versions(self, household_id: int, month: date | str) -> list[StoredBudgetplan]:
        """Every recorded version of the household's plan for `month`, oldest first."""
        wanted = checked_month(month)
        return read_for_household(self._tx, household_id,
                                  lambda uow: uow.registry.budgetplan_versions(household_id, wanted))

    def version(self, household_id: int, month: date | str, version: int | None = None) -> StoredBudgetplan:
        """One recorded version (the latest when `version` is None); NotFoundError naming `version`."""
        wanted = checked_month(month)
        return read_for_household(self._tx, household_id,
                                  lambda uow: self._stored(uow, household_id, wanted, version))

    def document(self, household_id: int, month: date | str, version: int | None = None) -> str:
        """A recorded version (the latest by default) as the Dutch text the client and budgetbeheerder sign."""
        wanted = checked_month(month)

        def work(uow: UnitOfWork) -> str:
            stored = self._stored(uow, household_id, wanted, version)
            household = uow.registry.household(household_id)
            gemeente = uow.registry.gemeente(household.gemeente_id)
            note = (f"versie {stored.version}, vastgelegd op {day_text(stored.recorded_at.date())} door "
                    f"{stored.recorded_by}")
            return render_text(stored.plan, household_name(household), gemeente.name, version_note=note)

        return read_for_household(self._tx, household_id, work)

    def _stored(self, uow: UnitOfWork, household_id: int, month: date, version: int | None) -> StoredBudgetplan:
        if version is not None and (type(version) is not int or version < 1):
            raise InvalidInputError("version", f"must be a whole number from 1, not {version!r}")
        versions = uow.registry.budgetplan_versions(household_id, month)
        if not versions:
            raise NotFoundError(f"no budgetplan for {month:%Y-%m} has been recorded for household {household_id}",
                                field="month")
        if version is None:
            return versions[-1]
        found = next((v for v in versions if v.version == version), None)
        if found is None:
            raise NotFoundError(f"the budgetplan for {month:%Y-%m} has versions 1 to {versions[-1].version}, "
                                f"not {version}", field="version")
        return found

