"""Bridge the first months from the inrichtingskrediet (S1; Deventer 001:L1189, Roermond 001:L1193).

Bijstand is paid in arrears and toeslagen start weeks late, so the basisrekening cannot pay the first
months. The bridge draws exactly what a payment lacks from the unspent krediet (the household's
`reservering:inrichting`), within the profile's limits, and records per month what it drew. When a toeslag
back-payment later pays for a bridged month, that part refills the krediet (`repay_to_krediet`), so the
money for furniture comes back and a later month's toeslag is never touched.

Where the krediet may not fund leefgeld (Doetinchem, S15), a leefgeld gap is reported with the other ways
out: a toeslag advance, the voedselbank, bijzondere bijstand.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from budget_ledger.ledger.money import Money
from budget_ledger.rules.engine import BasePolicy, Need, NeedKind, PlanState
from budget_ledger.rules.plan import FindingKind, Flow, Severity, transfer
from budget_ledger.rules.profiles import Toeslag
from budget_ledger.rules.snapshot import BASIS, KREDIET_UNSPENT, Inflow, month_start
from budget_ledger.rules.texts import month_name

BRIDGE = "overbrugging"
REPAY = "overbrugging-terug"
TOESLAGEN = frozenset(t.value for t in Toeslag)


class KredietOverbrugging(BasePolicy):
    name = "inrichtingskrediet_overbrugging"

    def fund(self, state: PlanState, need: Need, *, before_basis: bool) -> None:
        if before_basis or need.kind is NeedKind.OTHER:
            return
        if state.snapshot.krediet is None and not state.balance(KREDIET_UNSPENT):
            return  # no inrichtingskrediet (a tussenvoorziening, S16): nothing to bridge from or report on
        policy = state.version(need.due_on).inrichtingskrediet_overbrugging
        # Where the krediet may pay nothing but the inrichting (Doetinchem, bridging off altogether) the
        # leefgeld gap still needs the other ways out (S15), so the refusal comes before the `enabled` check.
        if need.kind is NeedKind.LEEFGELD and not (policy.enabled and policy.leefgeld_allowed):
            state.note(FindingKind.BRIDGE_NOT_ALLOWED, Severity.WARNING,
                       f"{need.label}: het inrichtingskrediet mag in profiel {state.rules.name} geen leefgeld "
                       f"betalen, en de basisrekening heeft {state.basis.format_nl()}.",
                       rule=self.name, amount=need.amount - state.basis if state.basis < need.amount else None,
                       proposals=("Toeslagvoorschot aanvragen bij de gemeente",
                                  "Voedselbank aanmelden",
                                  "Bijzondere bijstand aanvragen voor levensonderhoud"))
            return
        if not policy.enabled:
            return
        if policy.max_months is not None and state.snapshot.trajectory.month_number(need.due_on) > policy.max_months:
            return
        missing = need.amount - state.basis
        available = state.balance(KREDIET_UNSPENT)
        if policy.limit is not None:
            drawn = Money.sum(amount for _, _, amount, _ in state.history(rule=self.name, obligation_prefix=BRIDGE + ":"))
            repaid = Money.sum(amount for _, _, amount, _ in state.history(rule=self.name, obligation_prefix=REPAY + ":"))
            room = policy.limit - drawn + repaid
            if room < available:
                available = room
        amount = missing if not available < missing else available
        if amount < missing and need.kind is not NeedKind.LEEFGELD:
            amount = Money(0)  # a bill is paid whole or not at all, so a part would only strand krediet money
        if amount.cents <= 0:
            state.note(FindingKind.BRIDGE_LIMIT, Severity.WARNING,
                       f"{need.label}: geen overbrugging meer mogelijk uit het inrichtingskrediet "
                       f"(resterend {state.balance(KREDIET_UNSPENT).format_nl()}).",
                       rule=self.name, amount=missing)
            return
        obligation = f"{BRIDGE}:{need.obligation}"
        period = need.period or month_start(need.due_on)
        state.emit(transfer(state.key(obligation, need.due_on), obligation, need.due_on, amount,
                            debit=BASIS, credit=KREDIET_UNSPENT, flow=Flow.INTERNAL, rule=self.name, period=period,
                            reason=f"Overbrugging uit inrichtingskrediet voor {need.label}: bijstand en toeslagen "
                                   f"komen later"))

    def after_inflow(self, state: PlanState, inflow: Inflow) -> None:
        policy = state.version(inflow.on).inrichtingskrediet_overbrugging
        if not (policy.enabled and policy.repay_to_krediet) or inflow.source not in TOESLAGEN:
            return
        outstanding = self._outstanding_by_month(state, inflow.on)
        for month, part in inflow.covers:
            open_ = outstanding.get(month, Money(0))
            amount = part if part < open_ else open_
            if amount.cents <= 0 or state.basis < amount:
                continue
            obligation = f"{REPAY}:{inflow.source}:{month:%Y-%m}"
            key = state.key(obligation, inflow.on)
            if state.is_done(key):
                continue
            state.emit(transfer(key, obligation, inflow.on, amount, debit=KREDIET_UNSPENT, credit=BASIS,
                                flow=Flow.INTERNAL, rule=self.name, period=month,
                                reason=f"Terug naar inrichtingskrediet: {inflow.source} over {month_name(month)} "
                                       f"betaalt de overbrugging van die maand"))
            outstanding[month] = open_ - amount

    def _outstanding_by_month(self, state: PlanState, until: date) -> dict[date, Money]:
        """What each month's bridge still owes the krediet on `until`. Only what was drawn by then counts: a
        later run sees the whole book, and a toeslag cannot refill a bridge drawn after it came."""
        result: dict[date, Money] = defaultdict(lambda: Money(0))
        for obligation, due, amount, period in state.history(rule=self.name):
            if due > until:
                continue
            month = period or month_start(due)
            if obligation.startswith(BRIDGE + ":"):
                result[month] = result[month] + amount
            elif obligation.startswith(REPAY + ":"):
                result[month] = result[month] - amount
        return dict(result)
