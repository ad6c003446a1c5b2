"""A bank statement as the service layer sees it: the organisation's account, its balances and its entries,
each entry with the transactions it carries.

The bank-file adapter (adapters/bank/camt053.py) reads a CAMT.053 message into these records; the import
service (budget_ledger/statement_import.py) deduplicates, matches, reconciles and books them. Nothing here
knows XML, so the service can be tested and benchmarked without files, and another statement format
(MT940S, camt.052) would only need another reader.

Amounts are positive `Money` with a credit/debit indicator, as the bank reports them; `signed` gives the
organisation's view (credit +, debit −). A batch entry (a SEPA batch the bank reports as one amount) has
one `BankTransaction` per payment in it; an entry without details has one transaction that repeats the
entry's own amount and references.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from budget_ledger.ledger.money import Money


class CreditDebit(StrEnum):
    CREDIT = "CRDT"
    """Money in: the organisation's account was credited."""
    DEBIT = "DBIT"
    """Money out."""


class EntryStatus(StrEnum):
    BOOKED = "BOOK"
    PENDING = "PDNG"
    INFO = "INFO"


class BalanceKind(StrEnum):
    OPENING = "OPBD"
    PREVIOUSLY_CLOSED = "PRCD"
    """The closing balance of the previous statement, which some banks give instead of OPBD."""
    CLOSING = "CLBD"
    CLOSING_AVAILABLE = "CLAV"
    INTERIM = "ITBD"
    FORWARD_AVAILABLE = "FWAV"


@dataclass(frozen=True, slots=True)
class Balance:
    kind: BalanceKind
    amount: Money
    """Signed: a debit balance (overdrawn) is negative."""
    on: date


@dataclass(frozen=True, slots=True)
class BankTransaction:
    """One payment: a TxDtls of an entry, or the entry itself when the bank gives no details."""

    amount: Money
    credit_debit: CreditDebit
    end_to_end_id: str | None = None
    """For our own payments, the EndToEndId we wrote in the pain.001; for a return, the original one's."""
    account_servicer_reference: str | None = None
    payment_information_id: str | None = None
    instruction_id: str | None = None
    counterparty_name: str | None = None
    """The debtor of a credit, the creditor of a debit (for a return: the party that returned it)."""
    counterparty_iban: str | None = None
    counterparty_bic: str | None = None
    remittance_text: str = ""
    """The unstructured remittance lines (Ustrd), joined with a space."""
    structured_reference: str | None = None
    """CdtrRefInf/Ref: a betalingskenmerk (issuer CUR) or an RF creditor reference (ISO 11649)."""
    structured_reference_issuer: str | None = None
    return_reason: str | None = None
    """RtrInf/Rsn/Cd (AC04 closed account, MD07 deceased, …): the transaction is a returned payment."""
    return_additional_info: str | None = None
    bank_transaction_code: str | None = None
    """Domain-family-subfamily (PMNT-RCDT-ESCT) or the bank's proprietary code."""

    @property
    def signed(self) -> Money:
        return self.amount if self.credit_debit is CreditDebit.CREDIT else -self.amount


@dataclass(frozen=True, slots=True)
class StatementEntry:
    """One Ntry: what the bank booked on one line of the statement."""

    index: int
    """Its position in the statement, from 0."""
    amount: Money
    credit_debit: CreditDebit
    status: EntryStatus
    booking_date: date
    value_date: date | None
    transactions: tuple[BankTransaction, ...]
    entry_reference: str | None = None
    account_servicer_reference: str | None = None
    reversal: bool = False
    """RvslInd: the bank reverses an earlier entry of its own (a correction, or a returned payment)."""
    batch_message_id: str | None = None
    batch_payment_information_id: str | None = None
    batch_count: int | None = None
    bank_transaction_code: str | None = None
    additional_info: str = ""

    @property
    def signed(self) -> Money:
        return self.amount if self.credit_debit is CreditDebit.CREDIT else -self.amount

    @property
    def is_batch(self) -> bool:
        return len(self.transactions) > 1 or (self.batch_count or 0) > 1


@dataclass(frozen=True, slots=True)
class Statement:
    """One Stmt: a day (or period) of one account."""

    statement_id: str
    account_iban: str
    currency: str
    created_at: datetime | None
    from_date: date | None
    to_date: date | None
    balances: tuple[Balance, ...]
    entries: tuple[StatementEntry, ...]
    electronic_sequence: int | None = None
    legal_sequence: int | None = None

    @property
    def opening(self) -> Balance | None:
        """OPBD, else PRCD (the previous statement's closing balance)."""
        for kind in (BalanceKind.OPENING, BalanceKind.PREVIOUSLY_CLOSED):
            for balance in self.balances:
                if balance.kind is kind:
                    return balance
        return None

    @property
    def closing(self) -> Balance | None:
        return next((b for b in self.balances if b.kind is BalanceKind.CLOSING), None)


@dataclass(frozen=True, slots=True)
class StatementFile:
    """One CAMT.053 message: a group header and one or more statements."""

    message_id: str
    version: str
    """The message definition read from the namespace, e.g. "camt.053.001.02"."""
    created_at: datetime | None
    statements: tuple[Statement, ...]
    sha256: str = field(default="")
    """Of the file's bytes, to tell the report which file it was."""
