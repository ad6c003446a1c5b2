"""Money received at the bank for a household (budget_ledger/receipts.py): the path the simulation books its
bank lines through, and the CAMT import will book matched lines through. One entry moves both sides of the
chart; the bank's reference makes a statement read twice book nothing twice."""

from __future__ import annotations

from datetime import date

import pytest
from registry import BEHEERDER, gemeente, single

from budget_ledger.adapters.db.bootstrap import transactions
from budget_ledger.chart import BANK, CLIENT_MONEY, household_code, organisation_accounts
from budget_ledger.errors import ConflictError, InvalidInputError, NotFoundError
from budget_ledger.ledger.entries import EntrySource
from budget_ledger.ledger.money import Money
from budget_ledger.planning import income_receipts
from budget_ledger.receipts import ReceiptService

M = Money.parse


@pytest.fixture
def receipts(database, services) -> ReceiptService:
    services.ledger.open_accounts(organisation_accounts())
    gemeente(services)
    return ReceiptService(transactions(database))


def test_bijstand_received_lands_on_the_basisrekening_and_on_the_derdengeldenrekening(receipts, services):
    h = single(services).household.id
    entry = receipts.receive({"household_id": h, "source": "bijstand", "amount": "702.69",
                              "booked_on": date(2025, 4, 1), "bank_reference": "STMT-0401-17",
                              "description": "Bijstand maart 2025"}, "bank-import")

    assert entry.idempotency_key == "bank:STMT-0401-17" and entry.source is EntrySource.BANK_IMPORT
    assert entry.reason == "Bijstand ontvangen: Bijstand maart 2025"
    assert services.ledger.balance(household_code(h, "basis")) == M("702.69")
    assert services.ledger.balance(household_code(h, "inkomen", "bijstand")) == M("-702.69")
    assert services.ledger.balance(BANK) == M("702.69") == -services.ledger.balance(CLIENT_MONEY)
    assert [(r.source, r.amount) for r in income_receipts(entry, h)] == [("bijstand", M("702.69"))]


def test_a_statement_read_twice_books_each_line_once(receipts, services):
    h = single(services).household.id
    lines = [{"household_id": h, "source": "zorgtoeslag", "amount": "393.00", "booked_on": date(2025, 5, 20),
              "bank_reference": "STMT-0520-3", "description": "Zorgtoeslag april t/m juni 2025"},
             {"household_id": h, "purpose": "inrichtingskrediet", "amount": "3500.00",
              "booked_on": date(2025, 5, 20), "bank_reference": "STMT-0520-4"}]
    first = receipts.receive_many(lines, "bank-import")
    again = receipts.receive_many(lines, "bank-import")

    assert len(first.posted) == 2 and again.posted == {} and again.replayed == first.posted
    assert services.ledger.balance(household_code(h, "reservering", "inrichting")) == M("3500.00")
    assert services.ledger.balance(household_code(h, "krediet", "inrichting")) == M("-3500.00")
    assert services.ledger.balance(BANK) == M("3893.00")


def test_money_for_a_household_without_a_basisrekening_is_refused(receipts, services):
    opted_out = single(services, eligibility_override={
        "eligible": True, "form": "geen", "reason": "Financieel zelfredzaam bij de brede intake.",
        "policy_reference": "Kamerbrief 6-4-2023"}).household.id
    with pytest.raises(ConflictError, match="no basisrekening"):
        receipts.receive({"household_id": opted_out, "source": "bijstand", "amount": "100.00",
                          "booked_on": date(2025, 4, 1), "bank_reference": "X1"}, "bank-import")
    with pytest.raises(NotFoundError):
        receipts.receive({"household_id": 99, "source": "bijstand", "amount": "100.00",
                          "booked_on": date(2025, 4, 1), "bank_reference": "X2"}, "bank-import")
    assert services.ledger.balance(BANK) == Money(0)


@pytest.mark.parametrize("bad, field", [
    ({"amount": "0.00"}, "amount"),
    ({"amount": 12.5}, "amount"),
    ({"source": None}, "Receipt"),
    ({"bank_reference": "two words"}, "bank_reference"),
])
def test_a_receipt_that_makes_no_sense_is_refused_by_field(receipts, services, bad, field):
    h = single(services).household.id
    line = {"household_id": h, "source": "bijstand", "amount": "100.00", "booked_on": date(2025, 4, 1),
            "bank_reference": "R1", **bad}
    with pytest.raises(InvalidInputError) as refused:
        receipts.receive(line, BEHEERDER)
    assert refused.value.problems[0].field == field
