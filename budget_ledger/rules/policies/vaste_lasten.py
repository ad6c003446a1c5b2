"""Fixed costs: pay each bill of a withheld category from the basisrekening, in the tekort order.

A bill for a category the profile does not withhold is not paid, and if the registry says the ledger
pays it, that is a finding (S3: an energy bill under "huur/zorg only" belongs to the client). A bill the
basisrekening cannot pay, even with every bridge the profile allows, is left unpaid whole and becomes a
shortfall with a proposal (BUCH: move the creditor to the client, 001:L1201).
"""

from __future__ import annotations

from collections.abc import Iterable

from budget_ledger.ledger.money import Money
from budget_ledger.rules.engine import BasePolicy, Need, NeedKind, Phase, PlanState, Step
from budget_ledger.rules.plan import FindingKind, Severity
from budget_ledger.rules.snapshot import Bill, Payer, cost_account
from budget_ledger.rules.texts import category_name, day_text, month_name


class VasteLasten(BasePolicy):
    name = "vaste_lasten"

    def steps(self, state: PlanState) -> Iterable[Step]:
        tekort = state.version().tekort
        for bill in state.snapshot.bills:
            if not state.in_trajectory(bill.due_on) and not state.in_trajectory(bill.period):
                continue
            if bill.payer is Payer.CLIENT or not state.in_period(bill.due_on):  # the engine leaves out the latter
                continue
            key = state.key(bill.obligation, bill.due_on)
            yield Step(bill.due_on, Phase.FIXED_COSTS, (tekort.rank(bill.category), bill.creditor_id), key,
                       lambda s, bill=bill: self._pay(s, bill))

    def _pay(self, state: PlanState, bill: Bill) -> None:
        version = state.version(bill.due_on)
        what = f"{category_name(bill.category).capitalize()} {month_name(bill.period)} ({bill.creditor})"
        if not state.withheld(bill.category, bill.period):
            if bill.period >= state.handover_on(bill.category):
                return  # handed over in the afbouw; the afbouw policy reports it
            state.note(FindingKind.CLIENT_PAID_CREDITOR, Severity.WARNING,
                       f"{what}: profiel {state.rules.name} houdt {category_name(bill.category)} niet in; de klant "
                       f"betaalt dit zelf (automatische incasso vanaf de leefgeldrekening). Niet betaald uit de "
                       f"basisrekening; zet de crediteur op 'klant betaalt'.",
                       rule=self.name, amount=bill.amount, creditor_id=bill.creditor_id, category=bill.category)
            return
        kind = NeedKind.ONE_OFF_COST if bill.one_off else NeedKind.FIXED_COST
        need = Need(kind, bill.obligation, bill.due_on, bill.amount, what, bill.category, bill.period)
        reason = f"{what}, ingehouden volgens profiel {state.rules.name}"
        paid = state.pay(need, debit=cost_account(bill.category), rule=self.name, reason=reason,
                         creditor_id=bill.creditor_id)
        if paid:
            return
        proposals = ()
        if version.tekort.propose_client_paid:
            proposals = (f"Laat de klant {category_name(bill.category)} zelf betalen via automatische incasso, "
                         f"of vraag bijzondere bijstand aan.",)
        state.note(FindingKind.SHORTFALL, Severity.CRITICAL,
                   f"{what} van {bill.amount.format_nl()} op {day_text(bill.due_on)} kan niet betaald worden: op de "
                   f"basisrekening staat {state.basis.format_nl()}.",
                   rule=self.name, amount=bill.amount - max(state.basis, Money(0)),
                   creditor_id=bill.creditor_id, category=bill.category, proposals=proposals)
