"""What a planning process sends the payment run's writer comes back as exactly the value it sent."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime

import pytest

from budget_ledger.ledger.accounts import AccountSpec, AccountType
from budget_ledger.ledger.entries import EntryRequest, EntrySource, Posting
from budget_ledger.ledger.money import Money
from budget_ledger.ledger.quick_values import quick_value
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
    @quick_value
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
        quick_value(dict)


def test_an_instruction_given_its_entry_id_is_the_instruction_dataclasses_would_make():
    from dataclasses import replace

    from budget_ledger.ledger.quick_values import replaced

    made = replaced(instruction(), entry_id=123)
    same(made, replace(instruction(), entry_id=123))
    with pytest.raises(TypeError, match="unexpected keyword"):
        replaced(instruction(), entry=123)


def test_a_value_with_checks_is_replaced_through_its_constructor():
    from budget_ledger.ledger.errors import InvalidEntryError
    from budget_ledger.ledger.quick_values import replaced

    with pytest.raises(InvalidEntryError):
        replaced(Posting("org:clientgelden", Money(5)), amount=Money(0))


# -- the quick __init__ ------------------------------------------------------------------------------


def decorated_classes() -> list[type]:
    import importlib
    import pkgutil

    import budget_ledger

    found = {}
    for module in pkgutil.walk_packages(budget_ledger.__path__, "budget_ledger."):
        if module.name.startswith(("budget_ledger.adapters", "budget_ledger.migrations")):
            continue
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, type) and "_dataclass_init" in value.__dict__:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


def test_the_hot_values_are_made_quickly():
    names = {cls.__name__ for cls in decorated_classes()}
    assert {"Money", "Posting", "EntryRequest", "PostedEntry", "Movement", "Bill", "Step", "Need",
            "NewInstruction", "PaymentInstruction"} <= names


@pytest.mark.parametrize("cls", decorated_classes(), ids=lambda cls: cls.__name__)
def test_a_quick_init_takes_exactly_the_arguments_the_dataclass_init_takes(cls):
    import inspect

    def shape(init):
        return [(p.name, p.kind, p.default is inspect.Parameter.empty)
                for p in inspect.signature(init).parameters.values()]

    assert shape(cls.__init__) == shape(cls._dataclass_init)


@quick_value
@dataclass(frozen=True, slots=True)
class Sample:
    """Every kind of field the decorator makes."""

    a: int
    b: str = "b"
    c: list = field(default_factory=list)
    d: int = field(default=4, init=False)
    e: int = field(init=False)
    f: int = field(default=6, kw_only=True)
    g: tuple = field(default_factory=tuple, kw_only=True)

    def __post_init__(self) -> None:
        if self.a < 0:
            raise ValueError("a must not be negative")
        object.__setattr__(self, "e", self.a + self.d)


def test_a_quick_init_makes_what_the_dataclass_init_makes():
    for args, kwargs in (((1,), {}), ((1, "x", [2]), {"f": 7, "g": (8,)}), ((), {"a": 3, "c": [1], "b": "y"})):
        made = Sample(*args, **kwargs)
        reference = object.__new__(Sample)
        Sample._dataclass_init(reference, *args, **kwargs)
        assert made == reference and made.e == reference.e and made.d == 4
    first, second = Sample(1), Sample(1)
    assert first.c == [] and first.c is not second.c  # a fresh default per value, as with the dataclass


def test_a_quick_init_refuses_what_the_dataclass_init_refuses():
    with pytest.raises(ValueError, match="negative"):
        Sample(-1)
    with pytest.raises(TypeError):
        Sample()
    with pytest.raises(TypeError):
        Sample(1, "b", [], 4)  # f is keyword-only, d is not an argument
    with pytest.raises(TypeError):
        Sample(1, d=5)
    with pytest.raises(AttributeError):
        Sample(1).a = 2  # still frozen


def test_only_frozen_slotted_dataclasses_can_be_decorated():
    @dataclass(slots=True)
    class Mutable:
        a: int

    with pytest.raises(TypeError):
        quick_value(Mutable)


def test_a_field_named_as_the_generated_code_names_its_own_is_refused():
    @dataclass(frozen=True, slots=True)
    class Clash:
        obj: int

    with pytest.raises(TypeError, match="obj"):
        quick_value(Clash)
