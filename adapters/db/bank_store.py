"""Imported statements, bank lines and their assignments in SQL; rows become budget_ledger.bank_lines' records."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from budget_ledger.adapters.db.bank_tables import bank_line_assignments, bank_lines, bank_statement_imports
from budget_ledger.adapters.db.models import accounts, journal_entries, postings
from budget_ledger.bank_lines import (
    BankLine,
    LineAssignment,
    LineStatus,
    MatchKind,
    NewBankLine,
    StatementImport,
)
from budget_ledger.ledger.money import Money

_CHUNK = 500
_ANALYZE_AFTER = 1000
"""Lines in one import from which PostgreSQL's statistics of bank_lines are refreshed (`_analyze_lines`)."""


def _money(cents: int | None) -> Money | None:
    return None if cents is None else Money(cents)


def _line(row: Any) -> BankLine:
    return BankLine(
        id=row.id, import_id=row.import_id, account_iban=row.account_iban, line_key=row.line_key,
        entry_index=row.entry_index, transaction_index=row.transaction_index, booking_date=row.booking_date,
        value_date=row.value_date, amount=Money(row.amount_cents), bank_reference=row.bank_reference,
        end_to_end_id=row.end_to_end_id, counterparty_name=row.counterparty_name,
        counterparty_iban=row.counterparty_iban, remittance=row.remittance,
        structured_reference=row.structured_reference, return_reason=row.return_reason,
        bank_transaction_code=row.bank_transaction_code, status=LineStatus(row.status),
        match_kind=MatchKind(row.match_kind) if row.match_kind else None, match_reason=row.match_reason,
        household_id=row.household_id, instruction_id=row.instruction_id,
        expected_income_id=row.expected_income_id, entry_id=row.entry_id, details=row.details or {},
        assigned_by=row.assigned_by, assigned_at=row.assigned_at,
    )


def _import(row: Any) -> StatementImport:
    return StatementImport(
        id=row.id, file_sha256=row.file_sha256, message_id=row.message_id, version=row.version,
        statement_id=row.statement_id, account_iban=row.account_iban, electronic_sequence=row.electronic_sequence,
        from_date=row.from_date, to_date=row.to_date, opening=_money(row.opening_cents), opening_date=row.opening_date,
        closing=_money(row.closing_cents), closing_date=row.closing_date,
        ledger_opening=_money(row.ledger_opening_cents), ledger_closing=_money(row.ledger_closing_cents),
        lines_total=row.lines_total, lines_new=row.lines_new, lines_known=row.lines_known, report=row.report,
        imported_by=row.imported_by, imported_at=row.imported_at,
    )


class SqlBankStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def known_line_keys(self, account_iban: str, keys: Collection[str]) -> set[str]:
        wanted, found = sorted(set(keys)), set()
        for start in range(0, len(wanted), _CHUNK):
            query = select(bank_lines.c.line_key).where(
                bank_lines.c.account_iban == account_iban, bank_lines.c.line_key.in_(wanted[start:start + _CHUNK]))
            found.update(self.conn.execute(query).scalars())
        return found

    def insert_import(self, values: dict[str, Any]) -> int:
        return int(self.conn.execute(insert(bank_statement_imports).returning(bank_statement_imports.c.id),
                                     values).scalar_one())

    def insert_lines(self, import_id: int, account_iban: str, lines: Sequence[NewBankLine]) -> list[int]:
        if not lines:
            return []
        rows = [dict(
            import_id=import_id, account_iban=account_iban, line_key=line.line_key, entry_index=line.entry_index,
            transaction_index=line.transaction_index, booking_date=line.booking_date, value_date=line.value_date,
            amount_cents=line.amount.cents, bank_reference=line.bank_reference, end_to_end_id=line.end_to_end_id,
            counterparty_name=line.counterparty_name, counterparty_iban=line.counterparty_iban,
            remittance=line.remittance, structured_reference=line.structured_reference,
            return_reason=line.return_reason, bank_transaction_code=line.bank_transaction_code,
            status=line.status.value, match_kind=line.match_kind.value if line.match_kind else None,
            match_reason=line.match_reason, household_id=line.household_id, instruction_id=line.instruction_id,
            expected_income_id=line.expected_income_id, entry_id=line.entry_id, details=dict(line.details),
        ) for line in lines]
        result = self.conn.execute(insert(bank_lines).returning(bank_lines.c.id, sort_by_parameter_order=True), rows)
        ids = [row.id for row in result]
        if len(lines) >= _ANALYZE_AFTER and self.conn.dialect.name == "postgresql":
            self._analyze_lines()
        return ids

    def _analyze_lines(self) -> None:
        """Refresh PostgreSQL's statistics of bank_lines after a large import.

        Every line of one account shares its IBAN, the first column of the unique index the dedupe reads
        by. With statistics from before the import, the planner takes an account for a few rows and reads
        all of its lines per chunk of keys, filtering them by key: a re-import of 50,000 lines took 51 s,
        with them 0.6 s. Autovacuum would catch up within minutes; the next statement may come sooner.
        Where the database user may not analyse the table, nothing is lost but the speed (a savepoint keeps
        the import's transaction whole)."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(text("ANALYZE bank_lines"))
        except DBAPIError:
            pass

    def line(self, line_id: int, *, lock: bool = False) -> BankLine | None:
        query = select(bank_lines).where(bank_lines.c.id == line_id)
        if lock:
            query = query.with_for_update()
        row = self.conn.execute(query).one_or_none()
        return _line(row) if row else None

    def lines(self, *, status: str | None = None, import_id: int | None = None, household_id: int | None = None,
              booked_before: date | None = None, limit: int | None = None) -> list[BankLine]:
        query = select(bank_lines).order_by(bank_lines.c.booking_date, bank_lines.c.id)
        if status is not None:
            query = query.where(bank_lines.c.status == status)
        if import_id is not None:
            query = query.where(bank_lines.c.import_id == import_id)
        if household_id is not None:
            query = query.where(bank_lines.c.household_id == household_id)
        if booked_before is not None:
            query = query.where(bank_lines.c.booking_date < booked_before)
        if limit is not None:
            query = query.limit(limit)
        return [_line(row) for row in self.conn.execute(query)]

    def update_line(self, line_id: int, expected: Collection[str], **values: Any) -> int:
        if "status" in values and hasattr(values["status"], "value"):
            values["status"] = values["status"].value
        result = self.conn.execute(update(bank_lines).where(
            bank_lines.c.id == line_id, bank_lines.c.status.in_(list(expected))).values(**values))
        return result.rowcount

    def insert_assignment(self, line_id: int, *, household_id: int | None, instruction_id: int | None,
                          income_source: str | None, amount: Money, entry_id: int, note: str, actor: str,
                          now: datetime) -> int:
        return int(self.conn.execute(insert(bank_line_assignments).returning(bank_line_assignments.c.id), dict(
            line_id=line_id, household_id=household_id, instruction_id=instruction_id, income_source=income_source,
            amount_cents=amount.cents, entry_id=entry_id, note=note, assigned_by=actor, assigned_at=now,
        )).scalar_one())

    def assignments(self, line_id: int) -> list[LineAssignment]:
        query = select(bank_line_assignments).where(bank_line_assignments.c.line_id == line_id).order_by(
            bank_line_assignments.c.id)
        return [LineAssignment(id=r.id, line_id=r.line_id, household_id=r.household_id,
                               instruction_id=r.instruction_id, income_source=r.income_source,
                               amount=Money(r.amount_cents), entry_id=r.entry_id, note=r.note,
                               assigned_by=r.assigned_by, assigned_at=r.assigned_at)
                for r in self.conn.execute(query)]

    def statement_import(self, import_id: int) -> StatementImport | None:
        row = self.conn.execute(select(bank_statement_imports).where(
            bank_statement_imports.c.id == import_id)).one_or_none()
        return _import(row) if row else None

    def imports(self, *, account_iban: str | None = None) -> list[StatementImport]:
        query = select(bank_statement_imports).order_by(bank_statement_imports.c.id)
        if account_iban is not None:
            query = query.where(bank_statement_imports.c.account_iban == account_iban)
        return [_import(row) for row in self.conn.execute(query)]

    def latest_import(self, account_iban: str) -> StatementImport | None:
        """The import whose statement reaches furthest (by closing date, then the latest import)."""
        query = (select(bank_statement_imports).where(bank_statement_imports.c.account_iban == account_iban)
                 .order_by(bank_statement_imports.c.closing_date.desc().nulls_last(),
                           bank_statement_imports.c.id.desc()).limit(1))
        row = self.conn.execute(query).one_or_none()
        return _import(row) if row else None

    def account_balance_as_of(self, code: str, as_of: date) -> Money:
        """An account's balance from its postings booked on or before `as_of` (the bank side of a statement)."""
        total = self.conn.execute(
            select(func.coalesce(func.sum(postings.c.amount_cents), 0))
            .select_from(postings)
            .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
            .join(accounts, accounts.c.id == postings.c.account_id)
            .where(accounts.c.code == code, journal_entries.c.status == "posted",
                   journal_entries.c.booking_date <= as_of)
        ).scalar_one()
        return Money(int(total))
