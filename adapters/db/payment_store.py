"""Payment runs and instructions in SQL (SQLAlchemy Core on the unit of work's connection); rows become
budget_ledger.payment_runs' frozen dataclasses here."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from budget_ledger.adapters.db.driver_inserts import insert_many_by_driver
from budget_ledger.adapters.db.payment_tables import payment_instructions, payment_runs
from budget_ledger.addresses import PostalAddress
from budget_ledger.ledger.money import Money
from budget_ledger.payment_runs import (
    InstructionStatus,
    NewInstruction,
    PayeeKind,
    PaymentInstruction,
    PaymentRun,
    RunStatus,
)

_RUN_FIELDS = ("finished_at", "approved_by", "approved_at", "exported_by", "exported_at", "message_id",
               "cancelled_by", "cancelled_at", "report")
_INSTRUCTION_FIELDS = ("approved_by", "approved_at", "exported_at", "executed_at", "rejected_by", "rejected_at",
                       "rejection_reason", "reversal_entry_id")


def _run(row: Any) -> PaymentRun:
    return PaymentRun(id=row.id, run_date=row.run_date, scope=row.scope, started_by=row.started_by,
                      started_at=row.started_at, four_eyes=row.four_eyes, status=RunStatus(row.status),
                      **{name: getattr(row, name) for name in _RUN_FIELDS})


def _instruction(row: Any) -> PaymentInstruction:
    return PaymentInstruction(
        id=row.id, run_id=row.run_id, household_id=row.household_id, obligation=row.obligation,
        due_date=row.due_date, execution_date=row.execution_date, entry_key=row.entry_key, entry_id=row.entry_id,
        rule=row.rule, category=row.category, amount=Money(row.amount_cents), payee_kind=PayeeKind(row.payee_kind),
        creditor_id=row.creditor_id, payee_name=row.payee_name, iban=row.iban, bic=row.bic,
        reference_kind=row.reference_kind, reference=row.reference, end_to_end_id=row.end_to_end_id,
        payee_address=None if row.payee_town is None else PostalAddress(
            town=row.payee_town, country=row.payee_country, street_name=row.payee_street_name,
            building_number=row.payee_building_number, postcode=row.payee_postcode),
        status=InstructionStatus(row.status), created_at=row.created_at,
        **{name: getattr(row, name) for name in _INSTRUCTION_FIELDS},
    )


def _instruction_row(new: NewInstruction, now: datetime) -> dict[str, Any]:
    return dict(
        run_id=new.run_id, household_id=new.household_id, obligation=new.obligation, due_date=new.due_date,
        execution_date=new.execution_date, entry_key=new.entry_key, entry_id=new.entry_id, rule=new.rule,
        category=new.category, amount_cents=new.amount.cents, payee_kind=new.payee_kind.value,
        creditor_id=new.creditor_id, payee_name=new.payee_name, iban=new.iban, bic=new.bic,
        reference_kind=new.reference_kind, reference=new.reference, end_to_end_id=new.end_to_end_id,
        status=InstructionStatus.PLANNED.value, created_at=now, **_payee_address_row(new.payee_address),
    )


def _payee_address_row(address: PostalAddress | None) -> dict[str, str | None]:
    if address is None:
        return dict(payee_street_name=None, payee_building_number=None, payee_postcode=None, payee_town=None,
                    payee_country=None)
    return dict(payee_street_name=address.street_name, payee_building_number=address.building_number,
                payee_postcode=address.postcode, payee_town=address.town, payee_country=address.country)


class SqlPaymentStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert_run(self, run_date: date, scope: dict[str, Any], started_by: str, now: datetime, four_eyes: bool) -> int:
        return self.conn.execute(insert(payment_runs).values(
            run_date=run_date, scope=scope, started_by=started_by, started_at=now, four_eyes=four_eyes,
            status=RunStatus.PLANNED.value,
        ).returning(payment_runs.c.id)).scalar_one()

    def run(self, run_id: int, *, lock: bool = False) -> PaymentRun | None:
        query = select(payment_runs).where(payment_runs.c.id == run_id)
        if lock:
            query = query.with_for_update()
        row = self.conn.execute(query).one_or_none()
        return _run(row) if row else None

    def runs(self, *, run_date: date | None = None) -> list[PaymentRun]:
        query = select(payment_runs).order_by(payment_runs.c.id)
        if run_date is not None:
            query = query.where(payment_runs.c.run_date == run_date)
        return [_run(row) for row in self.conn.execute(query)]

    def update_run(self, run_id: int, expected: Collection[str], **values: Any) -> int:
        result = self.conn.execute(update(payment_runs)
                                   .where(payment_runs.c.id == run_id, payment_runs.c.status.in_(list(expected)))
                                   .values(**values))
        return result.rowcount

    def insert_instruction(self, new: NewInstruction, now: datetime) -> int:
        return self.conn.execute(insert(payment_instructions).values(**_instruction_row(new, now))
                                 .returning(payment_instructions.c.id)).scalar_one()

    def insert_instructions(self, news: Sequence[NewInstruction], now: datetime) -> list[int]:
        """Many instructions in one statement (the bulk payment run); their ids in the order given."""
        if not news:
            return []
        # Matched back by entry key (unique) rather than with sort_by_parameter_order, which makes SQLAlchemy
        # send one INSERT per row on SQLite (as the ledger's entries are, adapters/db/ledger_store.py).
        values = [_instruction_row(new, now) for new in news]
        if insert_many_by_driver(self.conn, payment_instructions, values):  # SQLite: the driver's executemany
            ids_by_key: dict[str, int] = {}
            keys = [new.entry_key for new in news]
            for start in range(0, len(keys), 500):
                ids_by_key.update(self.conn.execute(
                    select(payment_instructions.c.entry_key, payment_instructions.c.id)
                    .where(payment_instructions.c.entry_key.in_(keys[start:start + 500]))).all())
        else:
            rows = self.conn.execute(insert(payment_instructions).returning(
                payment_instructions.c.entry_key, payment_instructions.c.id), values).all()
            ids_by_key = dict(rows)
        if len(ids_by_key) != len(news):
            raise RuntimeError(f"{len(news)} instructions inserted, {len(ids_by_key)} entry keys returned")
        return [ids_by_key[new.entry_key] for new in news]

    def instruction(self, instruction_id: int, *, lock: bool = False) -> PaymentInstruction | None:
        query = select(payment_instructions).where(payment_instructions.c.id == instruction_id)
        if lock:
            query = query.with_for_update()
        row = self.conn.execute(query).one_or_none()
        return _instruction(row) if row else None

    def instructions(self, *, run_id: int | None = None, household_id: int | None = None,
                     status: str | None = None) -> list[PaymentInstruction]:
        query = select(payment_instructions).order_by(payment_instructions.c.id)
        if run_id is not None:
            query = query.where(payment_instructions.c.run_id == run_id)
        if household_id is not None:
            query = query.where(payment_instructions.c.household_id == household_id)
        if status is not None:
            query = query.where(payment_instructions.c.status == status)
        return [_instruction(row) for row in self.conn.execute(query)]

    def instructions_by_end_to_end_ids(self, end_to_end_ids: Collection[str]) -> dict[str, PaymentInstruction]:
        """The instructions a bank statement names by EndToEndId (unique per instruction), read in chunks."""
        wanted, found = sorted(set(end_to_end_ids)), {}
        for start in range(0, len(wanted), 500):
            query = select(payment_instructions).where(
                payment_instructions.c.end_to_end_id.in_(wanted[start:start + 500]))
            found.update((row.end_to_end_id, _instruction(row)) for row in self.conn.execute(query))
        return found

    def update_instructions(self, ids: Collection[int], expected: Collection[str], **values: Any) -> int:
        if not ids:
            return 0
        result = self.conn.execute(update(payment_instructions)
                                   .where(payment_instructions.c.id.in_(list(ids)),
                                          payment_instructions.c.status.in_(list(expected)))
                                   .values(**values))
        return result.rowcount
