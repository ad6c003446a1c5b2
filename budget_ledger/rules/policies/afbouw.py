"""Afbouw: hand creditors over to the client's incasso, category by category, before the end (S10).

The hand-over date of a category is the first day of the month `months_before_end` months before the
month after the trajectory (S10: end 30-09, energie one month before: from 01-09; the rest from 01-10).
The ledger pays every bill for a month before that date and none for a month from it, so there is no
month paid twice and none unpaid (the zorgverzekering gap at Tholen, 001:L2910). An extension moves the
end, and with it every hand-over date.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from dateutil.relativedelta import relativedelta

from budget_ledger.rules.engine import BasePolicy, Phase, PlanState, Step
from budget_ledger.rules.plan import FindingKind, Severity
from budget_ledger.rules.profiles import CostCategory
from budget_ledger.rules.snapshot import month_start
from budget_ledger.rules.texts import category_name, day_text, month_name


@lru_cache(maxsize=4096)  # pure, on immutable values; asked for every category of every household
def handover_date(trajectory_end_exclusive: date, months_before_end: int) -> date:
    after = month_start(trajectory_end_exclusive)
    if after != trajectory_end_exclusive:
        after += relativedelta(months=1)  # an end mid-month: hand over from the next whole month
    return after - relativedelta(months=months_before_end)


class Afbouw(BasePolicy):
    name = "afbouw"

    def steps(self, state: PlanState) -> Iterable[Step]:
        trajectory = state.snapshot.trajectory
        version = state.version(trajectory.last_day)
        end = trajectory.end_exclusive
        categories = {bill.category for bill in state.snapshot.bills}
        for category in sorted(categories | set(version.withheld_categories())):
            state.handovers[category] = handover_date(end, version.afbouw.months_before_end(category))
        for bill_category in sorted(categories):
            if bill_category not in version.withheld_categories():
                continue
            day = state.handovers[bill_category]
            creditors = sorted({(b.creditor_id, b.creditor) for b in state.snapshot.bills if b.category == bill_category})
            for creditor_id, creditor in creditors:
                key = f"overdracht:{creditor_id}:{day.isoformat()}"
                yield Step(day, Phase.GEMEENTE, (9,), key,
                           lambda s, c=bill_category, i=creditor_id, n=creditor, d=day: self._report(s, c, i, n, d))

    def _report(self, state: PlanState, category: CostCategory, creditor_id: int, creditor: str, day: date) -> None:
        last = day - relativedelta(months=1)
        state.note(FindingKind.HANDOVER, Severity.WARNING,
                   f"{creditor} ({category_name(category)}): vanaf {day_text(day)} betaalt de klant zelf via "
                   f"automatische incasso. De laatste betaling uit de basisrekening is voor {month_name(last)}; "
                   f"controleer dat de incasso actief is.",
                   rule=self.name, on=day, creditor_id=creditor_id, category=category)
