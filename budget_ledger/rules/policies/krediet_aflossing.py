"""Krediet aflossing: repay the inrichtingskrediet monthly by withholding from the bijstand (S14).

The instalment is the krediet divided by the number of months, rounded down to the cent; the last one
absorbs the rest (S14: 35 × 97.22 + 97.30 = 3,500.00). A month in which the instalment would leave less
than the leefgeld floor — in the budget or on the basisrekening — is suspended, not skipped: the
instalments simply continue a month later, so the total repaid is always the krediet to the cent
(Tholen: "vaak geen ruimte om onze leningen af te lossen", 001:L2905).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from budget_ledger.ledger.money import Money
from budget_ledger.rules.budget import month_budget, next_instalment
from budget_ledger.rules.engine import BasePolicy, Need, NeedKind, Phase, PlanState, Step, months_between
from budget_ledger.rules.plan import FindingKind, Flow, Severity
from budget_ledger.rules.snapshot import KREDIET_LOAN, month_start
from budget_ledger.rules.texts import day_text, month_name

OBLIGATION = "krediet-aflossing"


def withheld_aflossing(state: PlanState, month: date) -> Money | None:
    """The instalment really withheld from `month`'s budget: as decided in this pass (0 when suspended or
    nothing is owed), as booked by an earlier run, 0 once the loan is repaid, or None when not yet known
    (the budget then counts the regular instalment)."""
    if month in state.aflossing:
        return state.aflossing[month]
    booked = [amount for _o, due, amount, period in state.history(rule=KredietAflossing.name)
              if (period or month_start(due)) == month]
    if booked:
        return Money.sum(booked)
    if state.snapshot.krediet is not None and state.balance(KREDIET_LOAN).cents <= 0:
        return Money(0)
    return None


class KredietAflossing(BasePolicy):
    name = "krediet_aflossing"

    def steps(self, state: PlanState) -> Iterable[Step]:
        snapshot, trajectory = state.snapshot, state.snapshot.trajectory
        if snapshot.krediet is None:
            return
        for month in months_between(trajectory.start, trajectory.last_day):
            version = state.version(max(month, trajectory.start))
            policy = version.krediet_aflossing
            if not policy.enabled or trajectory.month_number(month) < policy.from_month:
                continue
            day = snapshot.run_day(month)
            if day > trajectory.last_day or not state.in_period(day):  # the engine leaves out the latter
                continue
            key = state.key(OBLIGATION, day)
            yield Step(day, Phase.AFLOSSING, (0,), key, lambda s, d=day, m=month: self._repay(s, d, m), OBLIGATION)

    def _repay(self, state: PlanState, day: date, month: date) -> None:
        version = state.version(day)
        policy = version.krediet_aflossing
        krediet = state.snapshot.krediet
        assert krediet is not None
        amount = next_instalment(krediet.amount, policy.months, state.balance(KREDIET_LOAN))
        state.aflossing[month] = Money(0)  # until it is paid: suspended, or nothing left to repay
        if amount.cents <= 0:
            return
        floor = version.leefgeld.monthly_floor(state.snapshot.members)
        if policy.suspend_below_leefgeld_floor:
            budget = month_budget(state.snapshot, version, month, state.withheld)
            left_in_budget = budget.room + budget.aflossing - amount if budget.income else None
            left_in_cash = state.basis - amount
            if (left_in_budget is not None and left_in_budget < floor) or left_in_cash < floor:
                state.note(FindingKind.REPAYMENT_SUSPENDED, Severity.INFO,
                           f"Aflossing inrichtingskrediet {month_name(month)} ({amount.format_nl()}) opgeschort: het "
                           f"leefgeld zou onder het minimum van {floor.format_nl()} komen. De termijn schuift een "
                           f"maand op.", rule=self.name, amount=amount)
                return
        need = Need(NeedKind.OTHER, OBLIGATION, day, amount, f"aflossing {month_name(month)}", period=month)
        paid = state.pay(need, debit=KREDIET_LOAN, rule=self.name, flow=Flow.OUT,
                         reason=f"Aflossing inrichtingskrediet {month_name(month)}, ingehouden op {day_text(day)}")
        state.aflossing[month] = paid
        if not paid:
            state.note(FindingKind.REPAYMENT_SUSPENDED, Severity.INFO,
                       f"Aflossing {month_name(month)} opgeschort: de basisrekening heeft te weinig.",
                       rule=self.name, amount=amount)
