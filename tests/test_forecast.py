"""Forecasts and what-ifs: the basisrekening month by month as the rules will move it.

S1 through the services on SQLite and PostgreSQL: after the April run the forecast runs to the end of the
trajectory without a failed payment, and the S1 table's balances come out of it; the same household under
the law's standard form (no gift, no krediet bridging) fails on its first rent, side by side with its own
rules. S3 under the full vaste lasten shows the €220 energie moving from the client's leefgeld to the
basisrekening. Then the rule sources for "the same household under another regime", without a database.
"""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError
from rules_book import bijstand_in_arrears, eur, monthly_bills, shipped
from scenario_households import income_received, s1_household, s3_couple

from budget_ledger.errors import ConflictError, InvalidInputError, NotFoundError
from budget_ledger.rules.forecast import (
    AFLOSSING,
    LEEFGELD,
    OVERBRUGGING,
    VASTE_LASTEN,
    OverriddenRules,
    forecast,
    under_regime,
)
from budget_ledger.rules.profiles import CostCategory, Regime
from budget_ledger.rules.snapshot import Balances, HouseholdSnapshot, Krediet, Trajectory

APRIL_RUN = [
    (date(2025, 3, 15), []),
    (date(2025, 3, 17), []),
    (date(2025, 4, 1), [("bijstand", "702.69")]),
]


def months(forecast_or_what_if) -> list[date]:
    return [m.month for m in forecast_or_what_if.months]


@pytest.fixture
def s1_after_april(services) -> int:
    """S1 with income booked and the payment run done through 1 April 2025."""
    h = s1_household(services)
    for day, arrivals in APRIL_RUN:
        for source, amount in arrivals:
            services.ledger.post(income_received(h, day, source, amount))
        services.planning.run(h, day, "batch")
    return h


# -- S1: the forecast after the April run ---------------------------------------------------------------


def test_s1_from_2_april_six_months_run_without_a_failure_and_reach_the_s1_balances(services, s1_after_april):
    result = services.forecasts.forecast(s1_after_april, months=6, as_of=date(2025, 4, 2))

    assert result.first_failure is None
    assert result.start == date(2025, 4, 2) and result.end == date(2025, 9, 30)
    assert months(result) == [date(2025, m, 1) for m in range(4, 10)]
    closing = {m.month.month: m.closing for m in result.months}
    assert closing == {4: eur("0.00"), 5: eur("313.38"), 6: eur("1485.76"), 7: eur("1998.14"),
                       8: eur("2510.52"), 9: eur("3202.90")}
    june = result.month(date(2025, 6, 1))
    # S1's table: basisrekening plus what is left of the krediet on 20-06 is 4,717.19.
    assert june.closing + june.closing_krediet == eur("4717.19")
    # Each month adds up: opening + income + in − out = closing, and the months join.
    for before, after in zip(result.months, result.months[1:], strict=False):
        assert after.opening == before.closing
    for month in result.months:
        assert month.opening + month.income + sum(month.money_in.values(), eur("0")) - month.paid_out == month.closing
        assert not month.lowest.is_negative


def test_s1_may_in_detail_income_payments_and_the_krediet_refilled_from_the_zorgtoeslag(services, s1_after_april):
    may = services.forecasts.forecast(s1_after_april, months=2, as_of=date(2025, 4, 2)).month(date(2025, 5, 1))

    assert may.opening == eur("0.00")
    assert may.income == eur("1674.38")  # bijstand april 1,281.38 on 01-05 + zorgtoeslag 393.00 on 20-05
    assert may.out(VASTE_LASTEN) == eur("980.00") and may.out(LEEFGELD) == eur("250.00")
    assert may.out(OVERBRUGGING) == eur("131.00")  # April's zorgtoeslag pays back April's bridge
    assert may.out(AFLOSSING) == eur("0.00")
    assert may.lowest == eur("0.00") and may.closing == eur("313.38")


def test_s1_what_if_under_the_law_standard_from_the_start_fails_on_the_first_rent(services):
    h = s1_household(services)
    result = services.forecasts.what_if(h, profile="wet-standaard", months=6, as_of=date(2025, 3, 15))

    assert result.current.profile == "roermond" and result.other.profile == "wet-standaard"
    assert result.current_failure is None
    failure = result.other_failure
    assert failure is not None
    assert failure.on == date(2025, 3, 17) and failure.category == "huur"
    assert failure.amount == eur("356.45")  # 17/31 of the rent, no gift and no krediet to bridge it
    assert "Huur maart 2025" in failure.what
    assert months(result) == [date(2025, m, 1) for m in range(3, 9)]
    march, april = result.month(date(2025, 3, 1)), result.month(date(2025, 4, 1))
    assert march.leefgeld_current == eur("120.00") and march.leefgeld_other == eur("0.00")
    assert april.leefgeld_current == eur("250.00") and april.leefgeld_difference == eur("-197.31")
    for month in result.months:
        assert month.closing_difference == month.closing_other - month.closing_current
    assert result.to_json()["other_failure"]["on"] == "2025-03-17"


def test_s3_what_if_under_the_full_vaste_lasten_takes_energie_out_of_the_leefgeld(services):
    h = s3_couple(services)
    result = services.forecasts.what_if(h, regime="volledig", months=3, as_of=date(2025, 6, 1))

    assert result.other.profile == "westfriesland (regime volledig)"
    june = result.month(date(2025, 6, 1))
    assert june.leefgeld_current == eur("750.54") and june.leefgeld_other == eur("530.54")
    assert june.leefgeld_difference == eur("-220.00")
    assert result.other.month(date(2025, 6, 1)).out(VASTE_LASTEN) == eur("1300.00")


def test_forecast_input_is_checked_and_refusals_name_the_field(services):
    h = s3_couple(services)
    for bad in (0, 25, "6", True, 2.5):
        with pytest.raises(InvalidInputError) as refused:
            services.forecasts.forecast(h, months=bad, as_of=date(2025, 6, 1))
        assert refused.value.field == "months"
    with pytest.raises(InvalidInputError) as refused:
        services.forecasts.forecast(h, as_of="1-6-2025")
    assert refused.value.field == "as_of"
    with pytest.raises(InvalidInputError) as refused:
        services.forecasts.what_if(h, regime="alles", as_of=date(2025, 6, 1))
    assert refused.value.field == "regime"
    with pytest.raises(NotFoundError) as refused:
        services.forecasts.what_if(h, profile="atlantis", as_of=date(2025, 6, 1))
    assert refused.value.field == "profile"
    with pytest.raises(InvalidInputError) as refused:
        services.forecasts.what_if(h, as_of=date(2025, 6, 1))
    assert refused.value.field == "profile"
    with pytest.raises(NotFoundError) as refused:
        services.forecasts.forecast(999, as_of=date(2025, 6, 1))
    assert refused.value.field == "household_id"


def test_a_household_whose_trajectory_has_ended_has_no_forecast(services):
    h = s3_couple(services)
    [trajectory] = services.trajectories.of_household(h)
    services.trajectories.end(trajectory.id, {
        "ended_on": date(2025, 6, 1), "handover_note": "Verhuisd; incasso's overgedragen aan de klant",
        "early_reason": "Verhuisd naar een andere gemeente"}, "beheerder.anna")
    with pytest.raises(ConflictError) as refused:
        services.forecasts.forecast(h, as_of=date(2025, 6, 1))
    assert refused.value.field == "household_id"


# -- without a database ------------------------------------------------------------------------------------


def s14_snapshot() -> HouseholdSnapshot:
    """A single household with an inrichtingskrediet of 3,500 repaid at 97.22 a month (S14)."""
    first, last = date(2025, 1, 1), date(2025, 12, 31)
    bills = monthly_bills(1, "Woonstichting", CostCategory.HUUR, "650.00", first, last)
    inflows = bijstand_in_arrears("1281.38", first, last)
    return HouseholdSnapshot(
        household_id=7, members=1, as_of=first, trajectory=Trajectory(first, last),
        balances=Balances(basis=eur("1400.00"), krediet_outstanding=eur("3500.00")),
        bills=tuple(bills), inflows=tuple(inflows), krediet=Krediet(eur("3500.00"), first),
        monthly_income={i.covers[0][0]: {"bijstand": i.amount} for i in inflows})


def test_the_krediet_instalment_shows_as_aflossing_each_month():
    rules = OverriddenRules(shipped("wet-standaard"), {"krediet_aflossing": {"enabled": True, "months": 36,
                                                                             "from_month": 2}})
    result = forecast(s14_snapshot(), rules, date(2025, 1, 1), months=4)

    assert [m.out(AFLOSSING) for m in result.months] == [eur("0.00"), eur("97.22"), eur("97.22"), eur("97.22")]
    assert result.first_failure is None


def test_a_forecast_is_between_one_and_24_months():
    for bad in (0, 25):
        with pytest.raises(ValueError):
            forecast(s14_snapshot(), shipped("wet-standaard"), date(2025, 1, 1), months=bad)
    assert len(forecast(s14_snapshot(), shipped("wet-standaard"), date(2025, 1, 15), months=24).months) == 24


def test_under_another_regime_the_rest_of_the_profile_is_made_to_fit():
    roermond = shipped("roermond")
    huur_zorg = under_regime(roermond, Regime.HUUR_ZORG).version_on(date(2025, 3, 15))
    assert huur_zorg.withheld_categories() == {CostCategory.HUUR, CostCategory.ZORGVERZEKERING}
    assert huur_zorg.afbouw.steps == ()  # energie is no longer withheld, so there is nothing to hand over
    assert huur_zorg.eerste_huur_gift.enabled  # the gemeente's own choices stay

    geen = under_regime(roermond, "geen").version_on(date(2025, 3, 15))
    assert geen.withheld_categories() == frozenset()
    assert not geen.inrichtingskrediet_overbrugging.enabled and not geen.krediet_aflossing.enabled
    assert geen.reason

    westfriesland = under_regime(shipped("westfriesland"), "volledig")
    assert CostCategory.ENERGIE in westfriesland.version_on(date(2025, 6, 1)).withheld_categories()
    assert westfriesland.name == "westfriesland (regime volledig)"


def test_an_override_that_breaks_the_profile_is_refused():
    rules = OverriddenRules(shipped("wet-standaard"), {"leefgeld": {"mode": "fixed"}})
    with pytest.raises(ValidationError):
        rules.version_on(date(2025, 6, 1))
