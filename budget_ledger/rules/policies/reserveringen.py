"""Reserveringen: money put aside each month for a known later bill (S13: eigen risico, jaarafrekening).

A one-off bill in the category a reservering `pays` is paid from that reservering first and from the
basisrekening for the rest, which is reported so the budgetplan's buffer can be checked; a refund in that
category goes back to the reservering. A month's reservering is set aside only when the basisrekening
has it: a reservering never pushes a fixed cost into a shortfall.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from budget_ledger.rules.engine import BasePolicy, Need, NeedKind, Phase, PlanState, Step, months_between
from budget_ledger.rules.plan import FindingKind, Flow, Severity, transfer
from budget_ledger.rules.profiles import Reservering
from budget_ledger.rules.snapshot import BASIS, Inflow, InflowKind, reservering_account
from budget_ledger.rules.texts import category_name, day_text, month_name


class Reserveringen(BasePolicy):
    name = "reserveringen"

    def steps(self, state: PlanState) -> Iterable[Step]:
        snapshot, trajectory = state.snapshot, state.snapshot.trajectory
        for month in months_between(trajectory.start, trajectory.last_day):
            version = state.version(max(month, trajectory.start))
            day = max(snapshot.run_day(month), snapshot.calendar.next_business_day(trajectory.start))
            if day > trajectory.last_day or not state.in_period(day):  # the engine leaves out the latter
                continue
            for reservering in version.reserveringen:
                if trajectory.month_number(month) < reservering.from_month:
                    continue
                obligation = f"reservering:{reservering.name}"
                key = state.key(obligation, day)
                yield Step(day, Phase.RESERVERINGEN, (reservering.name,), key,
                           lambda s, r=reservering, d=day, m=month: self._set_aside(s, r, d, m), obligation)

    def _set_aside(self, state: PlanState, reservering: Reservering, day: date, month: date) -> None:
        amount = reservering.amount_per_month
        obligation = f"reservering:{reservering.name}"
        if state.basis < amount:
            state.note(FindingKind.RESERVERING_SHORT, Severity.WARNING,
                       f"Reservering {reservering.name} {month_name(month)} ({amount.format_nl()}) niet gedaan: de "
                       f"basisrekening heeft {state.basis.format_nl()}.", rule=self.name, amount=amount)
            return
        state.emit(transfer(state.key(obligation, day), obligation, day, amount,
                            debit=reservering_account(reservering.name), credit=BASIS, flow=Flow.INTERNAL,
                            rule=self.name, period=month,
                            reason=f"Reservering {reservering.name} {month_name(month)}"))

    def _for(self, state: PlanState, day: date, category) -> Reservering | None:
        return next((r for r in state.version(day).reserveringen if r.pays == category), None)

    def fund(self, state: PlanState, need: Need, *, before_basis: bool) -> None:
        if not before_basis or need.kind is not NeedKind.ONE_OFF_COST:
            return
        reservering = self._for(state, need.due_on, need.category)
        if reservering is None:
            return
        account = reservering_account(reservering.name)
        held = state.balance(account)
        amount = need.amount if not held < need.amount else held
        if state.basis + amount < need.amount:
            return  # the bill cannot be paid whole anyway: keep the reservering for when it can
        if amount.cents > 0:
            obligation = f"reservering-opname:{reservering.name}:{need.obligation}"
            state.emit(transfer(state.key(obligation, need.due_on), obligation, need.due_on, amount,
                                debit=BASIS, credit=account, flow=Flow.INTERNAL, rule=self.name, period=need.period,
                                reason=f"Uit reservering {reservering.name} voor {need.label}"))
        if amount < need.amount:
            rest = need.amount - amount
            state.note(FindingKind.RESERVERING_SHORT, Severity.WARNING,
                       f"{need.label}: de reservering {reservering.name} dekt {amount.format_nl()} van "
                       f"{need.amount.format_nl()}; {rest.format_nl()} komt uit de basisrekening"
                       f"{'' if not state.basis < rest else ', die daarvoor te weinig heeft'}.",
                       rule=self.name, amount=rest, category=need.category)

    def after_inflow(self, state: PlanState, inflow: Inflow) -> None:
        if inflow.kind is not InflowKind.REFUND or inflow.category is None:
            return
        reservering = self._for(state, inflow.on, inflow.category)
        if reservering is None or state.basis < inflow.amount:
            return
        obligation = f"reservering-terug:{reservering.name}"
        key = state.key(obligation, inflow.on)
        if state.is_done(key):
            return
        state.emit(transfer(key, obligation, inflow.on, inflow.amount, debit=reservering_account(reservering.name),
                            credit=BASIS, flow=Flow.INTERNAL, rule=self.name,
                            reason=f"Teruggave {category_name(inflow.category)} van {day_text(inflow.on)} terug naar "
                                   f"reservering {reservering.name}"))
