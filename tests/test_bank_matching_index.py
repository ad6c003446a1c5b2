"""The payer index finds exactly the expected payments a brute-force comparison finds.

The Belastingdienst pays the toeslagen of every household from one IBAN, so a region's statement
compares each of its lines with thousands of expectations. The index buckets them by week and amount;
this test holds it to the plain rule — due day ± the window (a first payment up to its latest day +
the window) and the amount within the tolerance — over many random expectations and lines.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from budget_ledger.bank_matching import MatchingIndex
from budget_ledger.expected_income import Coverage, ExpectedIncome, IncomeFrequency, IncomeSource
from budget_ledger.ledger.money import Money

BELASTINGDIENST = "NL86INGB0002445588"


def expectation(rng: random.Random, number: int) -> ExpectedIncome:
    source = rng.choice([IncomeSource.ZORGTOESLAG, IncomeSource.HUURTOESLAG, IncomeSource.KINDGEBONDEN_BUDGET])
    entitlement = date(2025, rng.randint(1, 6), 1)
    first = entitlement + timedelta(weeks=rng.randint(0, 13))
    return ExpectedIncome(
        id=number, household_id=1000 + number // 2, source=source,
        amount=Money(rng.choice([12300, 12350, 42000, 41800, 9999, rng.randint(1000, 60000)])),
        frequency=IncomeFrequency.MONTHLY, coverage=Coverage.ADVANCE, payment_day=None,
        entitlement_from=entitlement, valid_to=None, conditions_met_on=entitlement,
        first_expected_on=first, first_expected_latest=first + timedelta(weeks=rng.randint(0, 5)),
        depends_on_creditor_id=None, payer_ibans=(BELASTINGDIENST,), references=(),
        updated_at=datetime(2025, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("tolerance_percent,window_days", [(0, 3), (2, 5), (10, 12)])
def test_the_payer_index_finds_what_comparing_with_every_expectation_finds(seed, tolerance_percent, window_days):
    rng = random.Random(seed)
    incomes = [expectation(rng, n) for n in range(300)]
    index = MatchingIndex(
        instructions_by_end_to_end={}, batch_instructions={}, incomes_by_payer={BELASTINGDIENST: incomes}, creditors_by_iban={},
        clients_by_iban={}, with_basisrekening=frozenset(), bsn_of={}, tolerance_percent=tolerance_percent,
        window_days=window_days, horizon=date(2025, 12, 31) + timedelta(days=window_days))
    payer = index.payer(BELASTINGDIENST)
    due = [(income, payment) for income in incomes for payment in index.payments(income)]
    assert len(due) > 1000

    found_any = 0
    for _ in range(400):
        income, payment = rng.choice(due)
        day = payment.due_on + timedelta(days=rng.randint(-window_days - 2, window_days + 40))
        cents = payment.amount.cents + rng.choice([0, 0, 1, -1, payment.amount.cents * tolerance_percent // 100,
                                                    payment.amount.cents * tolerance_percent // 100 + 1,
                                                    rng.randint(-5000, 5000)])
        if cents <= 0 or day > date(2025, 12, 31):
            continue
        amount = Money(cents)
        expected = sorted((i.id, p.due_on) for i, p in due
                          if index.window(i, p)[0] <= day <= index.window(i, p)[1]
                          and abs(cents - p.amount.cents) * 100 <= p.amount.cents * tolerance_percent)
        assert sorted((i.id, p.due_on) for i, p in payer.fitting(day, amount, index)) == expected
        found_any += bool(expected)
    assert found_any > 50


def test_a_payer_with_no_expectations_is_not_indexed():
    index = MatchingIndex(
        instructions_by_end_to_end={}, batch_instructions={}, incomes_by_payer={}, creditors_by_iban={}, clients_by_iban={},
        with_basisrekening=frozenset(), bsn_of={}, tolerance_percent=2, window_days=5, horizon=date(2025, 6, 1))
    assert index.payer(BELASTINGDIENST) is None
    assert index.payer(None) is None


@pytest.mark.parametrize("seed", [4, 5])
def test_a_line_naming_its_household_decides_as_comparing_with_every_expectation_does(seed, monkeypatch):
    """The shortcut for a line that names its household by kenmerk or BSN gives the decision the full
    comparison gives: the same household, expectation and months, or the same refusal."""
    import budget_ledger.bank_matching as matching
    from budget_ledger.bank_statements import BankTransaction, CreditDebit, EntryStatus, StatementEntry
    from budget_ledger.identifiers import household_reference

    rng = random.Random(seed)
    incomes = [expectation(rng, n) for n in range(200)]
    households = sorted({i.household_id for i in incomes})
    bsn_of = {h: f"{100000000 + h * 7:09d}" for h in households[::3]}
    bsn_of[households[1]] = bsn_of[households[0]]  # two households under one BSN: it names neither alone

    def index() -> MatchingIndex:
        return MatchingIndex(
            instructions_by_end_to_end={}, batch_instructions={}, incomes_by_payer={BELASTINGDIENST: incomes},
            creditors_by_iban={}, clients_by_iban={}, with_basisrekening=frozenset(households), bsn_of=bsn_of,
            tolerance_percent=3, window_days=5, horizon=date(2026, 1, 10))

    lines = []
    for n in range(300):
        income = rng.choice(incomes)
        payment = rng.choice(index().payments(income))
        named = rng.choice([income.household_id, rng.choice(households)])
        text = rng.choice([f"kenmerk {household_reference(named)}", f"BSN {bsn_of.get(named, '999999999')}",
                           f"toeslag {household_reference(named)} en {household_reference(rng.choice(households))}"])
        transaction = BankTransaction(Money(payment.amount.cents + rng.choice([0, 0, 5, -300])), CreditDebit.CREDIT,
                                      counterparty_iban=BELASTINGDIENST, remittance_text=text)
        day = payment.due_on + timedelta(days=rng.randint(-6, 6))
        entry = StatementEntry(n, transaction.amount, CreditDebit.CREDIT, EntryStatus.BOOKED, day, day,
                               (transaction,))
        lines.append(matching.Line(f"ref:{n}", entry, 0, transaction))

    with_shortcut = [matching.match(line, index()) for line in lines]
    monkeypatch.setattr(matching, "_fits_of_named", lambda line, payer, index: None)
    without = [matching.match(line, index()) for line in lines]
    assert with_shortcut == without
    assert sum(d.kind is not None for d in without) > 100
    assert sum(d.kind is None for d in without) > 10
