"""The gemeente's inleg that does not arrive, as the daily scan reports it, on SQLite and PostgreSQL.

S1 in Roermond: the kredietbank's first run on 17 March 2025 pays the part-month huur (356.45) from
Roermond's eerste huur gift, booked as still to be received from the gemeente (`org:gemeente:te-ontvangen`).
Yonas has had the money; until Roermond's transfer is on the statement the organisation has paid out client
money it has not received, and after ten days (Roermond's `inleg_warning_days`, the default) a budgetbeheerder
must chase it.
"""

from __future__ import annotations

from datetime import date

import pytest
from registry import BEHEERDER
from test_payment_runs import RUN_DAY, add_s1

from budget_ledger.adapters.db.bootstrap import transactions
from budget_ledger.chart import GEMEENTE_RECEIVABLE
from budget_ledger.identifiers import household_reference
from budget_ledger.inleg_warnings import open_inleg
from budget_ledger.ledger.money import Money
from budget_ledger.ports import AccountLine
from budget_ledger.receipts import ReceiptService
from budget_ledger.warnings import RESOLVED_BY_SCAN, Severity, WarningRole, WarningType

M = Money.parse
GIFT = M("356.45")


@pytest.fixture
def s1_gift(services) -> int:
    """S1 after its first run: Roermond's gift of 356.45 put in on 17 March, not transferred yet."""
    h = add_s1(services)
    services.payment_runs.start(RUN_DAY, gemeente="roermond", actor=BEHEERDER)
    assert services.ledger.balance(GEMEENTE_RECEIVABLE) == GIFT
    return h


def inleg_warnings(services, h: int, status=("open", "acknowledged", "resolved")):
    return [w for w in services.warnings.list(household_id=h, status=status)
            if w.type is WarningType.INLEG_NIET_ONTVANGEN]


def transferred(database, h: int, amount: str, on: date, ref: str) -> None:
    ReceiptService(transactions(database)).receive(
        {"household_id": h, "purpose": "inleg-gemeente", "amount": amount, "booked_on": on, "bank_reference": ref,
         "description": "Bijzondere bijstand eerste huur"}, "bank-import")


def test_roermonds_gift_not_transferred_ten_days_after_it_was_put_in_is_a_warning_for_the_budgetbeheerder(
        services, s1_gift):
    services.warnings.scan(date(2025, 3, 26))
    assert inleg_warnings(services, s1_gift) == []  # nine days: the gemeente still has time

    services.warnings.scan(date(2025, 3, 27))
    [warning] = inleg_warnings(services, s1_gift)
    assert (warning.due_on, warning.severity, warning.role) == (date(2025, 3, 27), Severity.WARNING,
                                                               WarningRole.BUDGETBEHEERDER)
    assert warning.message.startswith("Gemeente Roermond heeft € 356,45 nog niet overgemaakt van wat zij op "
                                      "17-03-2025 inlegde")
    assert household_reference(s1_gift) in warning.message
    assert warning.details["open"] == "356.45" and warning.details["days"] == 10


def test_a_month_later_it_is_critical_and_the_transfer_resolves_it(services, database, s1_gift):
    services.warnings.scan(date(2025, 3, 27))
    services.warnings.scan(date(2025, 4, 17))  # 31 days: more than three times ten
    [warning] = inleg_warnings(services, s1_gift)
    assert warning.severity is Severity.CRITICAL

    transferred(database, s1_gift, "356.45", date(2025, 4, 18), "BNG-20250418-0001")
    services.warnings.scan(date(2025, 4, 18))
    [warning] = inleg_warnings(services, s1_gift)
    assert warning.status.value == "resolved" and warning.resolved_note == RESOLVED_BY_SCAN
    assert services.ledger.balance(GEMEENTE_RECEIVABLE) == M("0")


def test_a_part_transferred_leaves_the_rest_open_with_what_was_put_in(services, database, s1_gift):
    transferred(database, s1_gift, "300.00", date(2025, 3, 20), "BNG-20250320-0001")
    services.warnings.scan(date(2025, 3, 28))
    [warning] = inleg_warnings(services, s1_gift)
    assert "€ 56,45 (van € 356,45) nog niet overgemaakt" in warning.message
    assert warning.details["open"] == "56.45"


def test_the_gemeentes_own_setting_says_how_many_days_it_has(services, s1_gift):
    roermond = next(g for g in services.gemeenten.list() if g.code == "roermond")
    services.gemeenten.update_settings(roermond.code, {**roermond.settings.model_dump(), "inleg_warning_days": 3},
                                       BEHEERDER)
    services.warnings.scan(date(2025, 3, 20))
    [warning] = inleg_warnings(services, s1_gift)
    assert warning.due_on == date(2025, 3, 20) and warning.details["days"] == 3


def line(entry_id: int, amount: str, on: date, reverses: int | None = None) -> AccountLine:
    return AccountLine(entry_id, 1, on, M(amount), f"entry {entry_id}", reverses)


def test_transfers_pay_the_oldest_put_in_first_and_a_reversed_put_in_counts_for_nothing():
    lines = [line(1, "100.00", date(2025, 3, 1)), line(2, "50.00", date(2025, 4, 1)),
             line(3, "-120.00", date(2025, 4, 5)), line(4, "70.00", date(2025, 5, 1)),
             line(5, "-70.00", date(2025, 5, 2), reverses=4)]
    assert [(o.line.entry_id, o.open) for o in open_inleg(lines)] == [(2, M("30.00"))]
    assert open_inleg([line(1, "100.00", date(2025, 3, 1)), line(2, "-100.00", date(2025, 3, 9))]) == []
