"""Property tests of the rules engine: many random households, months of income and costs, under every
shipped profile and random leefgeld settings, each plan checked against what the ledger must never do.

A household has 1–6 members, a trajectory of 4–14 months starting on any day, bijstand paid in arrears
(sometimes a month late, sometimes not at all), zorg- and huurtoeslag that start weeks late with a
back-payment or never come (sometimes rejected), rent, zorgpolissen, energie and water, perhaps an energy
jaarafrekening and a refund, perhaps an inrichtingskrediet. For every plan:

- replaying the movements in order with the money arriving, no client-money account (basis, reservering:*)
  ever goes below zero — the budgetbeheerrekening has no overdraft (design.md §3.5);
- every movement balances and carries a key `plan:<household>:…`, and no key occurs twice (§3.4);
- krediet aflossing never repays more than the loan, and with a long enough trajectory and ample income it
  repays exactly the loan (S14); no toeslag advance is repaid beyond what was advanced;
- planning again, with the first plan booked (its movements as history, the balances moved by them, the
  money that came marked as booked), pays nothing twice and plans nothing new — except what the first plan
  reported it could not pay: the payment run plans from the trajectory's start every time
  (budget_ledger.planning), so a bill that found an empty basisrekening is paid once money has come;
- a same-day rerun of a booked day, and a period planned in two parts, keep all of the above.

Pure: no database, so the settings allow more examples than the ledger's property tests. Set
RULES_EXAMPLES (default 150) for a longer hunt; 1,500 runs in about three minutes.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import replace
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rules_book import (
    CALENDAR,
    SHIPPED,
    client_money,
    months,
    next_month,
    replanned,
    replay,
    run_day,
    shipped,
    variant,
)

from budget_ledger.ledger import Money
from budget_ledger.rules.budget import last_instalment
from budget_ledger.rules.engine import plan
from budget_ledger.rules.plan import KEY_PREFIX, FindingKind, Plan
from budget_ledger.rules.profiles import CostCategory, Profile, Toeslag
from budget_ledger.rules.snapshot import (
    KREDIET_LOAN,
    Balances,
    Bill,
    HouseholdSnapshot,
    Inflow,
    InflowKind,
    Krediet,
    Payer,
    ToeslagExpectation,
    Trajectory,
    month_end,
)

RULES_SETTINGS = settings(
    max_examples=int(os.environ.get("RULES_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_households = itertools.count(1)


def cents(low: int, high: int) -> st.SearchStrategy[Money]:
    return st.integers(low, high).map(Money)


def toeslag_day(month: date) -> date:
    """Toeslagen are paid on the 20th, or the next business day."""
    return CALENDAR.next_business_day(month.replace(day=20))


# -- random households ---------------------------------------------------------------------------------


@st.composite
def leefgeld_settings(draw) -> dict:
    frequency = draw(st.sampled_from(["monthly", "weekly"]))
    mode = draw(st.sampled_from(["remainder", "fixed"]))
    settings_: dict = {"frequency": frequency, "mode": mode, "amount": None, "weekday": None,
                       "first_month_amount": None, "buffer_per_month": str(draw(cents(0, 2000)))}
    if frequency == "weekly":
        settings_["weekday"] = draw(st.integers(1, 7))
    if mode == "fixed":
        settings_["amount"] = str(draw(cents(2000, 12000) if frequency == "weekly" else cents(5000, 90000)))
        if frequency == "monthly" and draw(st.booleans()):
            settings_["first_month_amount"] = str(draw(cents(0, 30000)))
    return settings_


@st.composite
def profiles(draw) -> Profile:
    name = draw(st.sampled_from(SHIPPED))
    changes: dict = {}
    if draw(st.integers(0, 3)) == 0:
        event("leefgeld as shipped")
    else:
        changes["leefgeld"] = draw(leefgeld_settings())
        event(f"leefgeld {changes['leefgeld']['frequency']} {changes['leefgeld']['mode']}")
    if name == "deventer" and draw(st.booleans()):
        # Deventer's toeslag advance is on request; here the client asked and the gemeente granted it (S2)
        changes["toeslag_voorschot"] = {"on_request": False}
    elif name != "tilburg" and draw(st.integers(0, 3)) == 0:
        # a gemeente that advances toeslagen as well (A12.5: make the toeslag lag an explicit advance)
        changes["toeslag_voorschot"] = {"enabled": True, "on_request": False,
                                        "only_without_krediet": draw(st.booleans())}
    return variant(name, f"{name}-random", changes) if changes else shipped(name)


def later(month: date, n: int) -> date:
    for _ in range(n):
        month = next_month(month)
    return month


def toeslag_payments(toeslag: Toeslag, monthly: Money, entitled: date, lag: int | None, last: date) -> list[Inflow]:
    """The first payment `lag` months into the entitlement, back-paying the months before and paying the next
    one in advance; then every month on the 20th for the next month. `lag` None: it never comes."""
    if lag is None:
        return []
    first_month = later(entitled, lag - 1)
    inflows = [Inflow(toeslag.value, toeslag_day(first_month), monthly * len(months(entitled, next_month(first_month))),
                      tuple((m, monthly) for m in months(entitled, next_month(first_month))))]
    month = next_month(first_month)
    while month <= last:
        inflows.append(Inflow(toeslag.value, toeslag_day(month), monthly, ((next_month(month), monthly),)))
        month = next_month(month)
    return inflows


@st.composite
def households(draw, *, min_months: int = 4, max_months: int = 14, ample: Money | None = None,
               krediet: Money | None | bool = None) -> HouseholdSnapshot:
    """`ample`: every month's bijstand is paid on time and leaves at least this much above the fixed costs.
    `krediet`: the loan granted (True: a random one, False: none, None: either)."""
    household_id = next(_households)
    members = draw(st.integers(1, 6))
    first = date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 700)))
    length = draw(st.integers(min_months, max_months))
    # six months to the day (the day before the same date `length` months on), or to the end of a month
    last = first + relativedelta(months=length) - timedelta(days=1)
    if draw(st.booleans()):
        last = month_end(last)
    trajectory = Trajectory(first, last)
    the_months = months(first, last)
    after = next_month(the_months[-1])

    # costs: rent, a zorgpolis per adult (one or two), energie, water; a payer set by the registry or not
    bills: list[Bill] = []
    rent = draw(cents(30000, 120000))
    polissen = 1 if members == 1 else draw(st.integers(1, 2))
    costs = [(1, "Woningcorporatie", CostCategory.HUUR, rent)]
    costs += [(10 + i, f"Zorgverzekeraar polis {i + 1}", CostCategory.ZORGVERZEKERING, draw(cents(9000, 20000)))
              for i in range(polissen)]
    costs += [(3, "Energiebedrijf", CostCategory.ENERGIE, draw(cents(5000, 30000)))]
    if draw(st.booleans()):
        costs.append((4, "Waterbedrijf", CostCategory.WATER, draw(cents(1500, 4000))))
    for creditor_id, creditor, category, amount in costs:
        payer = draw(st.sampled_from([None, None, None, Payer.LEDGER, Payer.CLIENT]))
        for month in the_months + [after]:
            if month == the_months[0] and first.day != 1:
                days = (next_month(month) - first).days
                total = (next_month(month) - month).days
                part = amount.allocate([days, total - days])[0]
                if part.cents > 0:
                    bills.append(Bill(creditor_id, creditor, category, CALENDAR.next_business_day(first), part, month,
                                      payer))
                continue
            bills.append(Bill(creditor_id, creditor, category, run_day(month), amount, month, payer))
    if draw(st.booleans()):  # a jaarafrekening, perhaps on the day of a termijn
        month = draw(st.sampled_from(the_months))
        day = run_day(month) if draw(st.booleans()) else CALENDAR.next_business_day(month.replace(day=16))
        bills.append(Bill(3, "Energiebedrijf", CostCategory.ENERGIE, day, draw(cents(1000, 60000)), month, None,
                          one_off=True))

    # income: bijstand for each month, paid in arrears; sometimes a month late (with the next), or never
    # the norm against the fixed costs: from €500 short of them (Hengelo, 001:L1645) to €1,500 over
    fixed = Money.sum(amount for *_, amount in costs)
    norm = fixed + (ample + draw(cents(0, 150000)) if ample else draw(cents(-50000, 150000)))
    norm = max(norm, Money(50000))
    inflows: list[Inflow] = []
    monthly_income: dict[date, dict[str, Money]] = {}
    late: list[tuple[date, Money]] = []
    for month in the_months:
        amount = norm
        if month == the_months[0] and first.day != 1:
            days = (next_month(month) - first).days
            amount = norm.allocate([days, (next_month(month) - month).days - days])[0]
        monthly_income[month] = {"bijstand": amount}
        fate = "paid" if ample else draw(st.sampled_from(["paid"] * 6 + ["late", "never"]))
        covers = late + [(month, amount)]
        if fate == "late":
            late.append((month, amount))
            continue
        late = []
        if fate == "paid" and amount.cents > 0:
            total = Money.sum(a for _, a in covers)
            inflows.append(Inflow("bijstand", run_day(next_month(month)), total, tuple(covers)))

    # toeslagen: entitlement from the month after the start, first paid 1-4 months in, or never
    toeslagen: list[ToeslagExpectation] = []
    entitled = next_month(the_months[0]) if first.day != 1 else the_months[0]
    for toeslag, high in ((Toeslag.ZORGTOESLAG, 25000), (Toeslag.HUURTOESLAG, 45000)):
        if not draw(st.booleans()):
            continue
        monthly = draw(cents(1000, high))
        # expected 1-3 months into the entitlement (8-13 weeks, B1); it comes then, sooner, later, or never
        expected = draw(st.integers(1, 3))
        lag = None if (not ample and draw(st.integers(0, 4)) == 0) else draw(st.integers(1, 5))
        expected_first = toeslag_day(later(entitled, expected - 1))
        rejected = expected_first - timedelta(days=10) if lag is None and draw(st.booleans()) else None
        toeslagen.append(ToeslagExpectation(toeslag, monthly, entitled, expected_first, rejected))
        inflows += toeslag_payments(toeslag, monthly, entitled, lag, the_months[-1])
        for month in the_months:
            if month >= entitled and lag is not None:
                monthly_income[month][toeslag.value] = monthly

    if draw(st.booleans()):  # a refund from the energy supplier
        day = CALENDAR.next_business_day(draw(st.sampled_from(the_months)).replace(day=10))
        inflows.append(Inflow("energiebedrijf", day, draw(cents(100, 20000)), kind=InflowKind.REFUND,
                              category=CostCategory.ENERGIE))

    has_krediet = draw(st.booleans()) if krediet is None else krediet is not False
    granted = None
    balances = Balances(basis=draw(st.sampled_from([Money(0), norm]) | cents(0, 300000)))
    if has_krediet:
        loan = krediet if isinstance(krediet, Money) else draw(cents(50000, 500000))
        unspent = draw(st.sampled_from([loan, Money(0)]) | cents(0, loan.cents))
        granted = Krediet(loan, first)
        balances = Balances(basis=balances.basis, krediet_unspent=unspent, krediet_outstanding=loan)
    if ample:
        balances = Balances(basis=norm * 2, krediet_unspent=balances.krediet_unspent,
                            krediet_outstanding=balances.krediet_outstanding)
    return HouseholdSnapshot(household_id, members, first, trajectory, balances, tuple(bills),
                             tuple(sorted(inflows, key=lambda i: i.on)), tuple(toeslagen), monthly_income, granted)


# -- the properties --------------------------------------------------------------------------------


def check_plan(household: HouseholdSnapshot, p: Plan) -> None:
    prefix = f"{KEY_PREFIX}:{household.household_id}:"
    for m in p.movements:
        assert Money.sum(amount for _, amount in m.postings) == Money(0), f"{m.key} does not balance"
        assert len(m.postings) >= 2 and all(amount.cents != 0 for _, amount in m.postings)
        assert m.key.startswith(prefix), m.key
    keys = [m.key for m in p.movements]
    assert len(keys) == len(set(keys)), "a key occurs twice"
    assert list(p.movements) == sorted(p.movements, key=lambda m: m.due_on)

    book = replay(household, p)
    negative = {account: low for account, low in book.low.items() if client_money(account) and low.is_negative}
    assert negative == {}, f"client money below zero: {negative}"

    advanced: dict[tuple[str, date], Money] = {}  # per toeslag and month, counting earlier runs too
    for m in [*household.history, *p.movements]:
        if m.rule != "toeslag_voorschot":
            continue
        kind, toeslag, _ = m.obligation.split(":", 2)
        sign = 1 if kind == "voorschot" else -1
        advanced[(toeslag, m.period)] = advanced.get((toeslag, m.period), Money(0)) + m.amount * sign
        assert not advanced[(toeslag, m.period)].is_negative, f"{m.key}: more repaid than advanced"

    repaid = p.total("krediet_aflossing")
    if household.krediet is None:
        assert repaid == Money(0)
    else:
        assert not household.krediet.amount < repaid, "more repaid than the krediet"
        assert not household.balances.krediet_outstanding < repaid
        assert not book.balances.get(KREDIET_LOAN, Money(0)).cents > 0, "the loan is never repaid past zero"


@RULES_SETTINGS
@given(household=households(), profile=profiles(), extra=st.integers(0, 2))
def test_random_households_never_overdraw_client_money_and_a_second_run_only_catches_up(household, profile, extra):
    end = household.trajectory.last_day + timedelta(days=31 * extra)
    p = plan(household, profile, household.as_of, end)
    event(f"profile {profile.name.removesuffix('-random')}")
    event("some shortfall" if any(f.kind.value == "tekort" for f in p.findings) else "no shortfall")

    for rule in ("inrichtingskrediet_overbrugging", "toeslag_voorschot", "krediet_aflossing", "reserveringen"):
        if p.by_rule(rule):
            event(f"moves money: {rule}")

    check_plan(household, p)
    booked = replanned(household, p)
    again = plan(booked, profile, household.as_of, end)
    check_plan(booked, again)
    assert_only_catch_up(p, again)
    # and the book of both runs together: what is caught up is booked on the second run's day
    both = replay(household, replace(p, movements=p.movements + again.movements))
    assert not any(low.is_negative for account, low in both.low.items() if client_money(account))


UNPAID = frozenset({FindingKind.SHORTFALL, FindingKind.REPAYMENT_SUSPENDED, FindingKind.RESERVERING_SHORT,
                    FindingKind.ADVANCE_OUTSTANDING})
"""What a plan reports when it could not pay or set aside something on its day."""


def assert_only_catch_up(first: Plan, again: Plan) -> None:
    """A second run pays nothing the first booked; what it adds is only what the first reported it could not
    pay, now paid from money the first plan left (planning.run catches up from the trajectory's start on
    every run, so a bill that found an empty basisrekening is paid once money has come). So when the first
    plan left nothing unpaid, the second plans nothing at all."""
    assert not {m.key for m in again.movements} & {m.key for m in first.movements}, "paid twice"
    unpaid_days = {f.on for f in first.findings if f.kind in UNPAID}
    late = [m.key for m in again.movements if m.due_on not in unpaid_days]
    assert late == [], "a second run planned something the first neither paid nor reported unpaid"
    if again.movements:
        event("a second run catches up")


@RULES_SETTINGS
@given(household=households(), profile=profiles(), pick=st.integers(0, 100))
def test_a_day_run_again_after_its_movements_were_booked_pays_nothing_twice(household, profile, pick):
    # A batch run that stopped half-way is run again the same day: the balances then hold what was booked,
    # and every step of the day is tried again; the idempotency keys must turn all of them into replays.
    days = sorted({run_day(m) for m in months(household.as_of, household.trajectory.last_day)
                   if household.as_of <= run_day(m) <= household.trajectory.last_day})
    day = days[pick % len(days)]
    that_morning = replace(household, as_of=day)
    p = plan(that_morning, profile, day, day)
    check_plan(that_morning, p)
    event("the day moves money" if p.movements else "the day moves nothing")
    booked = replanned(that_morning, p)
    again = plan(booked, profile, day, day)
    check_plan(booked, again)
    assert_only_catch_up(p, again)


@RULES_SETTINGS
@given(household=households(), profile=profiles(), cut=st.integers(1, 200))
def test_a_period_planned_in_two_parts_never_overdraws_and_the_second_part_repeats_nothing(household, profile, cut):
    # The scheduler plans up to today and the next run starts where it left off, from the balances the
    # first part left: together the two parts keep every invariant of a plan made in one go.
    start, end = household.as_of, household.trajectory.last_day
    middle = min(start + timedelta(days=cut), end)
    first = plan(household, profile, start, middle)
    check_plan(household, first)
    later = replanned(household, first)
    second = plan(later, profile, middle, end)
    check_plan(later, second)
    assert not ({m.key for m in first.movements} & {m.key for m in second.movements}), "paid twice"


LENDERS = ("aalten", "deventer", "doetinchem", "roermond")
"""The shipped profiles that repay an inrichtingskrediet by withholding from the bijstand."""


@RULES_SETTINGS
@given(data=st.data(), name=st.sampled_from(LENDERS), loan=cents(10000, 500000), instalments=st.integers(1, 48),
       from_month=st.integers(1, 4))
def test_with_ample_income_and_a_long_enough_trajectory_the_whole_krediet_is_repaid_to_the_cent(
        data, name, loan, instalments, from_month):
    # ample: after the fixed costs the bijstand leaves the largest instalment, the reserveringen and the
    # leefgeld floor of six people (€100 a week) with room to spare
    spare = last_instalment(loan, instalments) + Money(3200) + Money(43400) + Money(10000)
    household = data.draw(households(min_months=from_month + instalments + 1, max_months=from_month + instalments + 3,
                                     ample=spare, krediet=loan))
    profile = variant(name, f"{name}-aflossing", {"krediet_aflossing": {"months": instalments, "from_month": from_month}})
    p = plan(household, profile, household.as_of, household.trajectory.last_day)

    check_plan(household, p)
    assert household.krediet is not None
    assert p.total("krediet_aflossing") == household.krediet.amount
    paid = [m.amount for m in p.by_rule("krediet_aflossing")]
    assert len(paid) == instalments
    assert len(set(paid[:-1])) <= 1, "every instalment but the last is the same"
