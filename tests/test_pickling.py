"""What a planning process sends the payment run's writer comes back as exactly the value it sent."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

import pytest

from budget_ledger.ledger.accounts import AccountSpec, AccountType
from budget_ledger.ledger.entries import EntryRequest, EntrySource, Posting
from budget_ledger.ledger.money import Money
from budget_ledger.ledger.pickling import quick_pickling
from budget_ledger.payment_runs import (
    InstructionStatus,
    NewInstruction,
    PayeeKind,
    PaymentInstruction,
    PreparedHousehold,
    RunFinding,
)


def rent_for_june(h: int = 1001) -> EntryRequest:
    return EntryRequest(
        idempotency_key=f"plan:{h}:crediteur-4001:2025-06-02",
        booking_date=date(2025, 6, 2),
        postings=(Posting(f"huishouden:{h}:vaste-last:huur", Money(69000)), Posting(f"huishouden:{h}:basis", Money(-69000)),
                  Posting("org:clientgelden", Money(69000)), Posting("org:bank:onderweg", Money(-69000))),
        reason="Huur juni 2025 (De Woonplaats)", actor="bench", source=EntrySource.BATCH_RUN, rule="vaste_lasten",
        household_id=h, metadata={"obligation": "crediteur-4001", "period": "2025-06-01"},
    )


def instruction(h: int = 1001) -> NewInstruction:
    return NewInstruction(
        run_id=3, household_id=h, obligation="crediteur-4001", due_date=date(2025, 6, 2),
        execution_date=date(2025, 6, 2), entry_key=f"plan:{h}:crediteur-4001:2025-06-02", entry_id=0,
        rule="vaste_lasten", category="huur", amount=Money(69000), payee_kind=PayeeKind.CREDITOR, creditor_id=4001,
        payee_name="De Woonplaats", iban="NL69ABNA0417164308", bic="ABNANL2A", reference_kind="vrij",
        reference="Huur Kloosterstraat 12", end_to_end_id="H1001-250602-F6773E4E3A99",
    )


def same(a, b) -> None:
    assert type(a) is type(b)
    assert a == b
    for f in fields(a):
        assert getattr(a, f.name) == getattr(b, f.name), f.name


def test_a_prepared_household_comes_back_whole():
    rent = rent_for_june()
    rent.request_hash()  # worked out by the planning process: the writer must not work it out again
    prepared = PreparedHousehold(
        household_id=1001,
        requests=(rent,),
        accounts=(AccountSpec("huishouden:1001:reservering:eigen-risico", "Reservering eigen-risico",
                              AccountType.ASSET, 1001, True),),
        payments=((instruction(), None), (instruction(), "geen IBAN van de klant bekend")),
        findings=(RunFinding(1001, "tekort", "warning", date(2025, 6, 2), "Tekort op de basisrekening", Money(1250)),
                  RunFinding(1001, "toeslag", "critical", date(2025, 6, 2), "Toeslag ontbreekt", None)),
    )
    back = pickle.loads(pickle.dumps(prepared, protocol=pickle.HIGHEST_PROTOCOL))
    same(back, prepared)
    same(back.requests[0], rent)
    assert back.requests[0]._hash == rent.request_hash()
    assert back.requests[0].source is EntrySource.BATCH_RUN
    assert back.payments[0][0].payee_kind is PayeeKind.CREDITOR
    assert back.requests[0].postings[0].amount + Money(1) == Money(69001)
    assert hash(back.requests[0].postings[0]) == hash(rent.postings[0])


def test_a_stored_instruction_keeps_its_own_fields():
    stored = PaymentInstruction(**{f.name: getattr(instruction(), f.name) for f in fields(NewInstruction)},
                                id=17, status=InstructionStatus.APPROVED, created_at=datetime(2025, 6, 2, 7, tzinfo=UTC),
                                approved_by="beheerder.anna")
    same(pickle.loads(pickle.dumps(stored)), stored)


def test_a_subclass_that_is_not_decorated_refuses_to_pickle_rather_than_lose_its_fields():
    @quick_pickling
    @dataclass(frozen=True, slots=True)
    class Parent:
        a: int

    @dataclass(frozen=True, slots=True)
    class Child(Parent):
        b: int

    with pytest.raises(TypeError, match="decorate it too"):
        pickle.dumps(Child(1, 2))


def test_only_slotted_dataclasses_can_be_decorated():
    with pytest.raises(TypeError):
        quick_pickling(dict)


def test_an_instruction_given_its_entry_id_is_the_instruction_dataclasses_would_make():
    from dataclasses import replace

    from budget_ledger.ledger.pickling import replaced

    made = replaced(instruction(), entry_id=123)
    same(made, replace(instruction(), entry_id=123))
    with pytest.raises(TypeError, match="no field"):
        replaced(instruction(), entry=123)


def test_a_value_with_checks_is_replaced_through_its_constructor():
    from budget_ledger.ledger.errors import InvalidEntryError
    from budget_ledger.ledger.pickling import replaced

    with pytest.raises(InvalidEntryError):
        replaced(Posting("org:clientgelden", Money(5)), amount=Money(0))
