"""Leefgeld: money to the client, weekly or monthly, a fixed amount or what the budget leaves.

Leefgeld comes last on its day, after every fixed cost, so it is what is left, never what is borrowed
against rent. It may be paid in part (something for food beats nothing), and every payment below the
floor is reported. A weekly schedule pays in five-week months too: the monthly equivalent (× 52 / 12) is
what the budget counts, and the extra payment day is reported so the buffer can carry it (S12).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from dateutil.rrule import WEEKLY, rrule

from budget_ledger.ledger.money import Money
from budget_ledger.rules.budget import month_budget, monthly_leefgeld
from budget_ledger.rules.engine import BasePolicy, Need, NeedKind, Phase, PlanState, Step, months_between
from budget_ledger.rules.plan import FindingKind, Flow, Severity
from budget_ledger.rules.policies.krediet_aflossing import withheld_aflossing
from budget_ledger.rules.profiles import LeefgeldFrequency, LeefgeldMode, ProfileVersion
from budget_ledger.rules.snapshot import LEEFGELD_PAID, month_start, pro_rata_from
from budget_ledger.rules.texts import day_text, month_name

OBLIGATION = "leefgeld"


class Leefgeld(BasePolicy):
    name = "leefgeld"

    def payment_days(self, state: PlanState) -> list[tuple[date, date]]:
        """(payment day, month it belongs to) for every leefgeld payment of the trajectory."""
        memo = getattr(state, "memo", None)
        if memo is None:
            return self._payment_days(state)
        days = memo.get("leefgeld.payment_days")
        if days is None:  # the same for the whole pass: from the snapshot and the start's version
            days = memo["leefgeld.payment_days"] = self._payment_days(state)
        return list(days)

    def _payment_days(self, state: PlanState) -> list[tuple[date, date]]:
        snapshot, trajectory = state.snapshot, state.snapshot.trajectory
        calendar = snapshot.calendar
        first_day = calendar.next_business_day(trajectory.start)
        version = state.version(trajectory.start)
        days: list[tuple[date, date]] = []
        if version.leefgeld.frequency is LeefgeldFrequency.MONTHLY:
            for month in months_between(trajectory.start, trajectory.last_day):
                day = max(snapshot.run_day(month), first_day)
                if day <= trajectory.last_day:
                    days.append((day, month))
        else:
            weekday = (version.leefgeld.weekday or 1) - 1
            start = datetime.combine(trajectory.start, datetime.min.time())
            until = datetime.combine(trajectory.last_day, datetime.min.time())
            for moment in rrule(WEEKLY, byweekday=weekday, dtstart=start, until=until):
                scheduled = moment.date()
                days.append((calendar.next_business_day(scheduled), month_start(scheduled)))
        return days

    def steps(self, state: PlanState) -> Iterable[Step]:
        per_month: dict[date, int] = {}
        schedule = self.payment_days(state)
        for _day, month in schedule:
            per_month[month] = per_month.get(month, 0) + 1
        for day, month in schedule:
            if not state.in_period(day):
                continue  # the engine leaves out steps outside the period; making them is wasted work
            key = state.key(OBLIGATION, day)
            yield Step(day, Phase.LEEFGELD, (0,), key,
                       lambda s, d=day, m=month, n=per_month[month]: self._pay(s, d, m, n), OBLIGATION)

    def amount(self, state: PlanState, version: ProfileVersion, day: date, month: date) -> Money:
        policy = version.leefgeld
        trajectory = state.snapshot.trajectory
        if policy.mode is LeefgeldMode.FIXED:
            assert policy.amount is not None
            if policy.frequency is LeefgeldFrequency.MONTHLY and month == month_start(trajectory.start) \
                    and trajectory.start != month:
                return policy.first_month_amount if policy.first_month_amount is not None \
                    else pro_rata_from(policy.amount, trajectory.start)
            return policy.amount
        budget = month_budget(state.snapshot, version, month, state.withheld, withheld_aflossing(state, month))
        monthly = monthly_leefgeld(version, budget)
        if policy.frequency is LeefgeldFrequency.WEEKLY:
            return Money(monthly.cents * 12 // 52)
        return monthly

    def _pay(self, state: PlanState, day: date, month: date, payments_in_month: int) -> None:
        version = state.version(day)
        policy = version.leefgeld
        amount = self.amount(state, version, day, month)
        weekly = policy.frequency is LeefgeldFrequency.WEEKLY
        label = f"leefgeld week van {day_text(day)}" if weekly else f"leefgeld {month_name(month)}"
        paid = Money(0)
        if amount.cents > 0:
            need = Need(NeedKind.LEEFGELD, OBLIGATION, day, amount, label, period=month)
            paid = state.pay(need, debit=LEEFGELD_PAID, rule=self.name, flow=Flow.OUT, partial=True,
                             reason=f"{label.capitalize()} naar de leefgeldrekening")
        floor = policy.weekly_floor(state.snapshot.members) if weekly else policy.monthly_floor(state.snapshot.members)
        start_month = month == month_start(state.snapshot.trajectory.start) and state.snapshot.trajectory.start.day != 1
        if paid < amount:
            state.note(FindingKind.SHORTFALL, Severity.CRITICAL,
                       f"{label.capitalize()}: {amount.format_nl()} gepland, {paid.format_nl()} betaald; de "
                       f"basisrekening is leeg.", rule=self.name, amount=amount - paid)
        if paid < floor and not (start_month and not weekly):
            state.note(FindingKind.FLOOR_BREACH, Severity.WARNING,
                       f"{label.capitalize()}: {paid.format_nl()} is minder dan het minimum van {floor.format_nl()}.",
                       rule=self.name, amount=floor - paid)
        if weekly and payments_in_month == 5 and day == self._fifth(state, month):
            monthly = Money(amount.cents * 52 // 12)
            state.note(FindingKind.EXTRA_LEEFGELD_DAY, Severity.INFO,
                       f"{month_name(month).capitalize()} heeft vijf leefgelddagen: {(amount * 5).format_nl()} "
                       f"leefgeld, {(amount * 5 - monthly).format_nl()} meer dan het maandbedrag "
                       f"{monthly.format_nl()}; de buffer op de basisrekening vangt dit op.",
                       rule=self.name, amount=amount * 5 - monthly)

    def _fifth(self, state: PlanState, month: date) -> date:
        return [d for d, m in self.payment_days(state) if m == month][-1]
