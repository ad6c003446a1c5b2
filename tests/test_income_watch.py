"""Expected income that does not arrive is noticed the next business day (S8), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from scenario_households import income_received, s1_household

from budget_ledger.adapters.db.bootstrap import transactions
from budget_ledger.income_watch import IncomeWatchService
from budget_ledger.ledger.money import Money


def test_s8_a_zorgtoeslag_paid_to_the_clients_own_account_is_reported_on_the_next_business_day(services, database):
    h = s1_household(services)
    for on, source, amount in ((date(2025, 4, 1), "bijstand", "702.69"), (date(2025, 5, 2), "bijstand", "1281.38")):
        services.ledger.post(income_received(h, on, source, amount))
    watch = IncomeWatchService(transactions(database))
    # On 20-05 itself the zorgtoeslag may still come in; the huurtoeslag is not due yet.
    assert watch.late(date(2025, 5, 20)) == []
    [late] = watch.late(date(2025, 5, 21))
    assert (late.household_id, late.source, late.due_on) == (h, "zorgtoeslag", date(2025, 5, 20))
    assert late.expected == late.missing == Money.parse("393.00") and late.business_days_late == 1
    assert "niet ontvangen" in late.message


def test_income_that_arrived_is_not_late_and_a_short_payment_is(services, database):
    h = s1_household(services)
    for on, source, amount in ((date(2025, 4, 1), "bijstand", "702.69"), (date(2025, 5, 2), "bijstand", "1281.38"),
                               (date(2025, 5, 20), "zorgtoeslag", "393.00"), (date(2025, 6, 2), "bijstand", "1200.00")):
        services.ledger.post(income_received(h, on, source, amount))
    [late] = IncomeWatchService(transactions(database)).late(date(2025, 6, 3))
    assert (late.source, late.due_on, late.missing) == ("bijstand", date(2025, 6, 2), Money.parse("81.38"))
