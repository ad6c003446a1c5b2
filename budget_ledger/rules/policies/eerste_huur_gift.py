"""The gemeente pays the first month's rent as a gift (Roermond, 001:L1193, L1888).

The gift arrives on the day the first rent is due and is booked as income, so the rent itself is paid
like every other bill (S1: +356.45 gift, −356.45 huur on 15-03).
"""

from __future__ import annotations

from collections.abc import Iterable

from budget_ledger.rules.engine import BasePolicy, Phase, PlanState, Step
from budget_ledger.rules.plan import Flow, transfer
from budget_ledger.rules.profiles import CostCategory, GiftPortion
from budget_ledger.rules.snapshot import BASIS, GIFT_INCOME, month_start
from budget_ledger.rules.texts import month_name


class EersteHuurGift(BasePolicy):
    name = "eerste_huur_gift"

    def steps(self, state: PlanState) -> Iterable[Step]:
        start = state.snapshot.trajectory.start
        policy = state.version(start).eerste_huur_gift
        if not policy.enabled:
            return
        rents = sorted((b for b in state.snapshot.bills if b.category is CostCategory.HUUR and not b.one_off),
                       key=lambda b: b.period)
        first = next((b for b in rents if b.period == month_start(start)), None)
        if first is None:
            return
        amount = first.amount
        if policy.portion is GiftPortion.FULL_MONTH:
            amount = next((b.amount for b in rents if b.period > first.period), first.amount)
        obligation = "gift:eerste-huur"
        key = state.key(obligation, first.due_on)

        def run(s: PlanState) -> None:
            s.emit(transfer(key, obligation, first.due_on, amount, debit=BASIS, credit=GIFT_INCOME, flow=Flow.IN,
                            rule=self.name, period=first.period,
                            reason=f"Eerste huur ({month_name(first.period)}) als gift van de gemeente"))

        yield Step(first.due_on, Phase.GEMEENTE, (0,), key, run)
