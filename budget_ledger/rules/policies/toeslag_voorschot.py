"""An explicit advance on toeslagen applied for but not yet paid (S2; Deventer tussenvoorziening 001:L2593).

The gemeente advances each expected toeslag for every month that starts before the first toeslag
payment is due (S2: April and May, €461 a month). The advance is repaid only from the parts of a toeslag
payment that cover an advanced month of that same toeslag (S2: €262 of the zorgtoeslag's €393, €660 of
the huurtoeslag's €1,320), so a later month's toeslag stays for that month's rent.

A rejected toeslag (beschikking €0) leaves its advance open: it stays owed to the gemeente and is
reported with a proposal for a repayment arrangement. It is never taken from leefgeld unasked.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from budget_ledger.ledger.money import Money
from budget_ledger.rules.engine import BasePolicy, Phase, PlanState, Step, months_between
from budget_ledger.rules.plan import FindingKind, Flow, Severity, transfer
from budget_ledger.rules.snapshot import BASIS, VOORSCHOT, Inflow, ToeslagExpectation, month_start
from budget_ledger.rules.texts import day_text, month_name

ADVANCE = "voorschot"
REPAY = "voorschot-terug"


def _advance_obligation(toeslag: str, month: date) -> str:
    return f"{ADVANCE}:{toeslag}:{month:%Y-%m}"


class ToeslagVoorschot(BasePolicy):
    name = "toeslag_voorschot"

    def _expectations(self, state: PlanState) -> list[ToeslagExpectation]:
        policy = state.version(state.snapshot.trajectory.start).toeslag_voorschot
        if not policy.enabled or (policy.only_without_krediet and state.snapshot.krediet is not None):
            return []
        return [t for t in state.snapshot.toeslagen if t.toeslag in policy.toeslagen]

    def advance_months(self, state: PlanState) -> list[tuple[ToeslagExpectation, date]]:
        """(toeslag, month) pairs to advance: months starting before the first toeslag payment is due."""
        expectations = self._expectations(state)
        if not expectations:
            return []
        first_payment = min(t.first_payment_on for t in expectations)
        pairs = []
        for expectation in expectations:
            for month in months_between(expectation.entitlement_from, first_payment):
                if month < first_payment and month <= state.snapshot.trajectory.last_day:
                    pairs.append((expectation, month))
        return pairs

    def steps(self, state: PlanState) -> Iterable[Step]:
        policy = state.version(state.snapshot.trajectory.start).toeslag_voorschot
        for expectation, month in self.advance_months(state):
            day = max(state.snapshot.run_day(month), state.snapshot.calendar.next_business_day(state.snapshot.trajectory.start))
            obligation = _advance_obligation(expectation.toeslag.value, month)
            key = state.key(obligation, day)
            yield Step(day, Phase.GEMEENTE, (1, expectation.toeslag.value), key,
                       lambda s, e=expectation, m=month, d=day, k=key, o=obligation, p=policy.on_request:
                       self._advance(s, e, m, d, k, o, p))

    def _advance(self, state: PlanState, expectation: ToeslagExpectation, month: date, day: date, key: str,
                 obligation: str, on_request: bool) -> None:
        if expectation.rejected_on is not None and expectation.rejected_on <= day:
            return
        if any(i.source == expectation.toeslag.value and i.on <= day and i.covered(month).cents > 0
               for i in state.snapshot.inflows):
            return  # the toeslag came sooner than expected and already paid this month: nothing to advance
        label = f"{expectation.toeslag.value} {month_name(month)}"
        if on_request:
            state.note(FindingKind.ADVANCE_OUTSTANDING, Severity.INFO,
                       f"Op verzoek mogelijk: voorschot {label} van {expectation.monthly.format_nl()}.",
                       rule=self.name, amount=expectation.monthly)
            return
        state.emit(transfer(key, obligation, day, expectation.monthly, debit=BASIS, credit=VOORSCHOT, flow=Flow.IN,
                            rule=self.name, period=month,
                            reason=f"Voorschot {label}: de toeslag is aangevraagd maar nog niet betaald"))

    def outstanding(self, state: PlanState, until: date | None = None) -> dict[tuple[str, date], Money]:
        """Per (toeslag, month) the advance still owed, counting only what was booked by `until` (a later run
        sees the whole book; a toeslag cannot repay an advance made after it came)."""
        result: dict[tuple[str, date], Money] = {}
        for obligation, due, amount, period in state.history(rule=self.name):
            if until is not None and due > until:
                continue
            kind, toeslag, _month = obligation.split(":", 2)
            key = (toeslag, period or month_start(due))
            sign = 1 if kind == ADVANCE else -1
            result[key] = result.get(key, Money(0)) + amount * sign
        return {k: v for k, v in result.items() if v.cents}

    def after_inflow(self, state: PlanState, inflow: Inflow) -> None:
        outstanding = self.outstanding(state, inflow.on)
        for month, part in inflow.covers:
            open_ = outstanding.get((inflow.source, month))
            if open_ is None:
                continue
            amount = part if part < open_ else open_
            obligation = f"{REPAY}:{inflow.source}:{month:%Y-%m}"
            key = state.key(obligation, inflow.on)
            if amount.cents <= 0 or state.is_done(key):
                continue
            if state.basis < amount:
                state.note(FindingKind.ADVANCE_OUTSTANDING, Severity.WARNING,
                           f"Voorschot {inflow.source} {month_name(month)}: {amount.format_nl()} kan niet worden "
                           f"terugbetaald, de basisrekening heeft {state.basis.format_nl()}.",
                           rule=self.name, amount=amount)
                continue
            state.emit(transfer(key, obligation, inflow.on, amount, debit=VOORSCHOT, credit=BASIS, flow=Flow.OUT,
                                rule=self.name, period=month,
                                reason=f"Terugbetaling voorschot {inflow.source} {month_name(month)} uit de nabetaling "
                                       f"van {day_text(inflow.on)}"))

    def finish(self, state: PlanState) -> None:
        outstanding = self.outstanding(state)
        rejected = {t.toeslag.value: t for t in state.snapshot.toeslagen if t.rejected_on is not None}
        for toeslag, expectation in rejected.items():
            owed = Money.sum(v for (t, _m), v in outstanding.items() if t == toeslag)
            if owed.cents <= 0:
                continue
            state.note(FindingKind.TOESLAG_REJECTED, Severity.CRITICAL,
                       f"{toeslag.capitalize()} afgewezen op {day_text(expectation.rejected_on)}: het voorschot van "
                       f"{owed.format_nl()} kan niet uit de toeslag worden terugbetaald en blijft een vordering van "
                       f"de gemeente. Niet ingehouden op het leefgeld.",
                       rule=self.name, on=expectation.rejected_on, amount=owed,
                       proposals=("Spreek met de klant een terugbetalingsregeling af die het leefgeld boven het "
                                  "minimum laat",
                                  "Vraag bezwaar of herziening van de beschikking aan bij Dienst Toeslagen"))
        trajectory = state.snapshot.trajectory
        if state.in_period(trajectory.last_day):
            total = Money.sum(v for (t, _m), v in outstanding.items() if t not in rejected)
            if total.cents > 0:
                state.note(FindingKind.ADVANCE_OUTSTANDING, Severity.WARNING,
                           f"Einde ontzorging {day_text(trajectory.last_day)}: nog {total.format_nl()} toeslagvoorschot "
                           f"open.", rule=self.name, on=trajectory.last_day, amount=total)
