"""The monthly tekort check: does the budget leave the leefgeld floor once the withheld costs are paid?

When it does not, the engine proposes moving creditors to the client's own incasso, last in the payment
order first, until the leefgeld reaches the floor (S3 variant with rent €1,100: move energie; BUCH
practice, 001:L1201). Proposals only: the budgetbeheerder decides with the client.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from budget_ledger.ledger.money import Money
from budget_ledger.rules.budget import month_budget, monthly_leefgeld
from budget_ledger.rules.engine import BasePolicy, Phase, PlanState, Step, months_between
from budget_ledger.rules.plan import FindingKind, Severity
from budget_ledger.rules.policies.krediet_aflossing import withheld_aflossing
from budget_ledger.rules.profiles import LeefgeldMode
from budget_ledger.rules.texts import category_name, month_name


class Tekort(BasePolicy):
    name = "tekort"

    def steps(self, state: PlanState) -> Iterable[Step]:
        trajectory = state.snapshot.trajectory
        for month in months_between(max(state.start, trajectory.start), min(state.end, trajectory.last_day)):
            day = max(state.snapshot.run_day(month), state.snapshot.calendar.next_business_day(trajectory.start))
            yield Step(day, Phase.FIXED_COSTS, (-1,), f"budgetcontrole:{month:%Y-%m}",
                       lambda s, month=month: self._check(s, month), "budgetcontrole")

    def _check(self, state: PlanState, month: date) -> None:
        if not state.snapshot.monthly_income.get(month):
            return  # no budget known for this month: nothing to compare
        version = state.version(month)
        budget = month_budget(state.snapshot, version, month, state.withheld, withheld_aflossing(state, month))
        floor = version.leefgeld.monthly_floor(state.snapshot.members)
        room = budget.room
        if version.krediet_aflossing.suspend_below_leefgeld_floor and room < floor:
            # the aflossing is suspended rather than push leefgeld under the floor (S14), so it is no tekort
            budget = month_budget(state.snapshot, version, month, state.withheld, Money(0))
            room = budget.room
        leefgeld = monthly_leefgeld(version, budget)
        # A fixed leefgeld must fit in the room as well as the floor; a remainder leefgeld is the room.
        needed = max(leefgeld, floor) if version.leefgeld.mode is LeefgeldMode.FIXED else floor
        if not room < needed:
            return
        proposals: list[str] = []
        if version.tekort.propose_client_paid:
            freed = room
            for category in sorted(budget.withheld, key=version.tekort.rank, reverse=True):
                if not freed < needed:
                    break
                amount = budget.withheld[category]
                freed = freed + amount
                proposals.append(
                    f"Laat de klant {category_name(category)} ({amount.format_nl()} per maand) zelf betalen via "
                    f"automatische incasso; het leefgeld komt dan op {freed.format_nl()}."
                )
        state.note(FindingKind.FLOOR_BREACH, Severity.WARNING,
                   f"Budget {month_name(month)}: na de vaste lasten blijft {max(room, Money(0)).format_nl()} "
                   f"over voor leefgeld; het minimum voor {state.snapshot.members} "
                   f"{'persoon' if state.snapshot.members == 1 else 'personen'} is {floor.format_nl()}.",
                   rule=self.name, on=month, amount=needed - room, proposals=tuple(proposals))
        if proposals:
            state.note(FindingKind.PROPOSE_CLIENT_PAID, Severity.WARNING, proposals[0], rule=self.name, on=month,
                       proposals=tuple(proposals))
