"""The bank's side of the simulated world: the organisation's derdengeldenrekening, what is credited and
debited on it on which day, and the CAMT.053 statement the bank sends about it every morning.

Money in arrives as its payer pays it, computed with the same payment calendar and rhythm the expectations
use (budget_ledger.expected_income.expected_payments): bijstand in arrears on the gemeente's day (the first
business day of the next month), wages on the 25th, kinderbijslag after the quarter, toeslagen on the 20th
for the next month. Only the toeslagen differ from what the budgetbeheerder expects: Dienst Toeslagen pays
the first one `actual_lag_weeks` (8–13) after the conditions were met instead of the estimated 8, as one sum
with the back-payment for every month missed (domain.md B1). The inrichtingskrediet arrives from the
gemeente on the first business day from the housing date. Each line carries what the real payer puts on a
statement (households.py names the payers):

    bijstand            Gemeente <naam>, its BNG IBAN; "Uitkering Participatiewet <maand>" and the household's
                        betalingskenmerk as structured reference (the kredietbank gives the gemeente its kenmerk)
    inrichtingskrediet  the same gemeente account and kenmerk; "Inrichtingskrediet gemeente <naam>"
    toeslagen           Belastingdienst/Toeslagen, one IBAN for every household; "<toeslag> <maand(en)> BSN <bsn>"
    kinderbijslag       Sociale Verzekeringsbank; "Kinderbijslag <n>e kwartaal <jaar> BSN <bsn>"
    loon                the employer; "Salaris <maand> PERSNR <nummer>" (the personnel number is recorded
                        with the expected wages)

Money stops arriving here when a trajectory has ended: from then on the payers pay the client's own account.

Money out: every pain.001 file the simulation exports is handed to the bank (`receive`). The bank executes
each payment information block on its requested execution date; a date that has passed when the file
arrives (the payment run books what is due today and earlier, and the file comes at 09:00) is executed on
the day the file arrives, and a day the bank is closed moves to the next business day. The bank books each
block as one batch entry (BtchBookg true) with the details of every payment: EndToEndId, amount, creditor
name and IBAN, the reference.

The statement: each morning at 05:00 the bank sends one camt.053 file for the derdengeldenrekening covering
yesterday and today so far: everything booked yesterday (yesterday's income again, and the payments
executed after yesterday's statement) and what was credited overnight today. Its opening balance is the
balance at the end of the day before yesterday, its closing balance the balance after today's lines, so
each statement adds up and overlaps the previous one by a day; the import books each line once (its key is
the bank's AcctSvcrRef). The morning after the last simulated day the bank sends the last statement, of
that day alone, so the payments executed on it are reported too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from budget_ledger.adapters.bank.camt053_writer import write_camt053
from budget_ledger.adapters.bank.pain001 import PaymentBatch
from budget_ledger.adapters.simulation.households import Payer
from budget_ledger.adapters.simulation.intake import Registered
from budget_ledger.bank_statements import (
    Balance,
    BalanceKind,
    BankTransaction,
    CreditDebit,
    EntryStatus,
    Statement,
    StatementEntry,
    StatementFile,
)
from budget_ledger.clock import AMSTERDAM
from budget_ledger.expected_income import TOESLAGEN, estimate_first_toeslag, expected_payments
from budget_ledger.identifiers import household_reference
from budget_ledger.ledger.money import Money
from budget_ledger.payment_calendar import DEFAULT_CALENDAR, PaymentCalendar
from budget_ledger.rules.texts import MONTHS, month_name

BANK_ACTOR = "sim.bank"
"""Who imports the statements (as `budget-ledger import-camt` would, run by the organisation's batch user)."""
CAMT_VERSION = "camt.053.001.02"
CREDIT_CODE, DEBIT_CODE = "PMNT-RCDT-ESCT", "PMNT-ICDT-ESCT"
_NAMES = {"bijstand": "Uitkering Participatiewet", "zorgtoeslag": "Zorgtoeslag", "huurtoeslag": "Huurtoeslag",
          "kindgebonden-budget": "Kindgebonden budget", "kinderbijslag": "Kinderbijslag", "loon": "Salaris"}
_BY_BSN = frozenset({*TOESLAGEN, "kinderbijslag"})
"""The payers that name the client by BSN (Dienst Toeslagen, the SVB)."""


@dataclass(frozen=True)
class BankLine:
    """Money in for a household, as the payer sends it."""

    day: date
    household_id: int
    source: str | None
    """The income source; None for the inrichtingskrediet."""
    amount: Money
    covers: tuple[date, ...]
    """First days of the months the money is for."""
    description: str
    reference: str
    """The bank's reference for the line (AcctSvcrRef)."""
    payer: Payer
    structured_reference: str | None = None
    """The household's betalingskenmerk (CdtrRefInf), where the payer gives it."""
    expected_on: date | None = None
    """For a first toeslag payment: the day the budgetbeheerder expected it (the gemeente's estimate)."""
    inleg: bool = False
    """The gemeente's transfer of what it put in by the rules (a gift, a toeslag voorschot), not income."""

    @property
    def is_back_payment(self) -> bool:
        """A toeslag paid late as one sum for months already begun (B1), not one month's voorschot."""
        return self.source in TOESLAGEN and len(self.covers) > 1

    @property
    def purpose(self) -> str:
        """What the money is: its income source, `inrichtingskrediet`, or `inleg-gemeente`."""
        if self.inleg:
            return "inleg-gemeente"
        return self.source or "inrichtingskrediet"

    def transaction(self) -> BankTransaction:
        return BankTransaction(
            amount=self.amount, credit_debit=CreditDebit.CREDIT, account_servicer_reference=self.reference,
            counterparty_name=self.payer.name, counterparty_iban=self.payer.iban, remittance_text=self.description,
            structured_reference=self.structured_reference,
            structured_reference_issuer="CUR" if self.structured_reference else None, bank_transaction_code=CREDIT_CODE)


def _describe(source: str, covers: tuple[date, ...]) -> str:
    name = _NAMES.get(source, source)
    if source == "kinderbijslag":
        first = covers[0]
        return f"{name} {(first.month - 1) // 3 + 1}e kwartaal {first.year}"
    if len(covers) == 1:
        return f"{name} {month_name(covers[0])}"
    first, last = covers[0], covers[-1]
    span = f"{MONTHS[first.month - 1]} t/m {month_name(last)}" if first.year == last.year \
        else f"{month_name(first)} t/m {month_name(last)}"
    return f"{name} {span} (eerste betaling met nabetaling)"


def _remittance(source: str, covers: tuple[date, ...], registered: Registered, reference: str | None) -> str:
    text = _describe(source, covers)
    if source in _BY_BSN:
        return f"{text} BSN {registered.case.bsn}"
    if reference:
        return f"{text} {reference}"
    return text


def income_lines(seed: int, registered: Registered, until: date,
                 calendar: PaymentCalendar = DEFAULT_CALENDAR) -> list[BankLine]:
    """Every income payment for the household up to `until`, as the payers really make them."""
    lines = []
    kenmerk = household_reference(registered.household_id)
    for case_income, expected in registered.incomes:
        actual, expected_first = expected, None
        if case_income.actual_lag_weeks is not None:
            anchor = expected.conditions_met_on or expected.entitlement_from
            first = estimate_first_toeslag(anchor, case_income.actual_lag_weeks, calendar)
            actual, expected_first = replace(expected, first_expected_on=first, first_expected_latest=first), \
                expected.first_expected_on
        assert case_income.payer is not None, "every simulated income has its payer"
        for n, payment in enumerate(expected_payments(actual, until, calendar)):
            covers = tuple(month for month, _ in payment.covers)
            source = expected.source.value
            lines.append(BankLine(
                day=payment.due_on, household_id=registered.household_id, source=source, amount=payment.amount,
                covers=covers, description=_remittance(source, covers, registered, case_income.reference),
                reference=f"SIM{seed}-H{registered.household_id}-I{expected.id}-{n + 1}",
                payer=case_income.payer, structured_reference=kenmerk if source == "bijstand" else None,
                expected_on=expected_first if n == 0 else None,
            ))
    return lines


def krediet_line(seed: int, registered: Registered, calendar: PaymentCalendar = DEFAULT_CALENDAR) -> BankLine | None:
    case = registered.case
    if case.krediet is None:
        return None
    assert case.gemeente_payer is not None, "every simulated household has its gemeente's account"
    day = calendar.next_business_day(case.housing_date)
    return BankLine(day, registered.household_id, None, case.krediet, (case.housing_date.replace(day=1),),
                    f"Inrichtingskrediet {case.gemeente_payer.name}", f"SIM{seed}-H{registered.household_id}-KREDIET",
                    case.gemeente_payer, structured_reference=household_reference(registered.household_id))


@dataclass(frozen=True)
class Execution:
    """One payment information block of a pain.001 file, executed by the bank on `day`."""

    day: date
    message_id: str
    payment_info_id: str
    requested: date
    transactions: tuple[BankTransaction, ...]

    @property
    def amount(self) -> Money:
        return Money.sum(t.amount for t in self.transactions)

    @property
    def reference(self) -> str:
        return f"SIMX-{self.payment_info_id}"


def _payment(transfer) -> BankTransaction:  # noqa: ANN001 - a pain001.CreditTransfer
    structured = transfer.reference_kind in ("betalingskenmerk", "rf")
    return BankTransaction(
        amount=transfer.amount, credit_debit=CreditDebit.DEBIT, end_to_end_id=transfer.end_to_end_id,
        counterparty_name=transfer.creditor.name, counterparty_iban=transfer.creditor.iban,
        remittance_text="" if structured else transfer.reference,
        structured_reference=transfer.reference if structured else None,
        structured_reference_issuer=("CUR" if transfer.reference_kind == "betalingskenmerk" else "ISO")
        if structured else None, bank_transaction_code=DEBIT_CODE)


class Bank:
    """The derdengeldenrekening at the bank: lines still to arrive, payments to execute, what was booked by
    day, and the morning statement. What arrived is kept for the summary."""

    def __init__(self, seed: int, until: date, account_iban: str,
                 calendar: PaymentCalendar = DEFAULT_CALENDAR) -> None:
        self._seed = seed
        self._until = until
        self.account_iban = account_iban
        self._calendar = calendar
        self._pending: dict[date, list[BankLine]] = defaultdict(list)
        self._scheduled: dict[date, list[Execution]] = defaultdict(list)
        self._booked: dict[date, list[BankLine | Execution]] = defaultdict(list)
        self._sequence = 0
        self.arrived: list[BankLine] = []
        self.by_reference: dict[str, BankLine] = {}
        """Every line credited, by the bank's reference: what the simulated world knows of a line."""
        self.not_booked: list[BankLine] = []
        """Lines for a household whose trajectory had ended: paid to the client's own account instead."""
        self.executed: list[Execution] = []
        self._inleg_count = 0
        self._inleg_on_its_way: dict[int, Money] = {}
        """Per household, the gemeente's transfers scheduled and not credited yet."""
        self.statements: list[StatementFile] = []

    # -- money in ------------------------------------------------------------------------------------

    def open_account_for(self, registered: Registered, today: date) -> None:
        """Start expecting the household's money, from its intake (`today`) on."""
        if registered.trajectory_id is None:
            return  # an opt-out: the payers pay the client's own account
        krediet = krediet_line(self._seed, registered, self._calendar)
        for line in ([krediet] if krediet else []) + income_lines(self._seed, registered, self._until,
                                                                  self._calendar):
            if line.day >= today:
                self._pending[line.day].append(line)

    def credit(self, day: date, *, stopped: Callable[[int, date], bool] = lambda household, day: False
               ) -> list[BankLine]:
        """Credit today's incoming payments, oldest registration first: the lines for households still
        ontzorgd. A line for a household whose trajectory is over (`stopped`) goes to the client's own account
        and is not credited here."""
        today = sorted(self._pending.pop(day, []), key=lambda line: (line.household_id, line.reference))
        booked = [line for line in today if not stopped(line.household_id, day)]
        self.not_booked += [line for line in today if stopped(line.household_id, day)]
        self.arrived += booked
        self.by_reference.update((line.reference, line) for line in booked)
        for line in today:
            if line.inleg:  # credited, or (a trajectory over) paid to the client: no longer on its way
                self._inleg_on_its_way[line.household_id] -= line.amount
        self._booked[day] += booked
        return booked

    def gemeente_transfers(self, day: date, still_to_receive: dict[int, Money], registered: dict[int, Registered]
                           ) -> list[BankLine]:
        """The gemeente transfers what it put in by the rules today (the payment run booked it as still to be
        received) on the next business day, from its own account with the household's kenmerk; what it already
        sent or scheduled is not sent again."""
        lines = []
        arrives = self._calendar.next_business_day(day + timedelta(days=1))
        for household_id, open_ in sorted(still_to_receive.items()):
            amount = open_ - self._inleg_on_its_way.get(household_id, Money(0))
            known = registered.get(household_id)
            if amount.cents <= 0 or known is None or known.case.gemeente_payer is None:
                continue
            self._inleg_count += 1
            line = BankLine(arrives, household_id, None, amount, (), f"Bijzondere bijstand en voorschotten "
                            f"{known.case.gemeente_payer.name}", f"SIM{self._seed}-H{household_id}-INLEG-"
                            f"{self._inleg_count}", known.case.gemeente_payer,
                            structured_reference=household_reference(household_id), inleg=True)
            self._pending[arrives].append(line)
            self._inleg_on_its_way[household_id] = self._inleg_on_its_way.get(household_id, Money(0)) + amount
            lines.append(line)
        return lines

    def overdue(self, day: date) -> list[BankLine]:
        """Lines dated before `day` that were never delivered (a bank line on a non-business day)."""
        return [line for d, lines in self._pending.items() if d < day for line in lines]

    # -- money out -----------------------------------------------------------------------------------

    def execution_day(self, requested: date, received_on: date) -> date:
        """The requested execution date, or the day the file arrived when that date has passed; a day the bank
        is closed moves to the next business day."""
        return self._calendar.next_business_day(max(requested, received_on))

    def receive(self, batch: PaymentBatch, received_on: date) -> None:
        """A pain.001 file, received on `received_on` (after that day's statement): each block is executed on
        its day; a block for today is executed at once and reported on tomorrow's statement."""
        for block in batch.payments:
            day = self.execution_day(block.requested_execution_date, received_on)
            execution = Execution(day, batch.message_id, block.payment_info_id, block.requested_execution_date,
                                  tuple(_payment(t) for t in block.transfers))
            if day == received_on:
                self._execute(execution)
            else:
                self._scheduled[day].append(execution)

    def execute_due(self, day: date) -> None:
        """At the start of `day`: the blocks received earlier for execution today."""
        for execution in self._scheduled.pop(day, []):
            self._execute(execution)

    def _execute(self, execution: Execution) -> None:
        self._booked[execution.day].append(execution)
        self.executed.append(execution)

    def scheduled_after(self, day: date) -> list[Execution]:
        """The blocks still to be executed after `day`."""
        return [e for d, found in sorted(self._scheduled.items()) if d > day for e in found]

    # -- the statement -------------------------------------------------------------------------------

    def balance_at_end_of(self, day: date) -> Money:
        """The account's balance after everything booked up to and including `day`."""
        return Money.sum(_signed(item) for d, items in self._booked.items() if d <= day for item in items)

    def statement(self, first: date, last: date, now: datetime) -> StatementFile:
        """The camt.053 statement of [first, last]: every line booked on those days, opening balance on
        `first`, closing balance on `last`."""
        self._sequence += 1
        entries = []
        day = first
        while day <= last:
            for item in self._booked.get(day, []):
                entries.append(_entry(len(entries), item))
            day += timedelta(days=1)
        opening = self.balance_at_end_of(first - timedelta(days=1))
        closing = self.balance_at_end_of(last)
        statement = Statement(
            statement_id=f"SIM{self._seed}-{first:%Y%m%d}-{last:%Y%m%d}", account_iban=self.account_iban, currency="EUR",
            created_at=now, from_date=first, to_date=last,
            balances=(Balance(BalanceKind.OPENING, opening, first), Balance(BalanceKind.CLOSING, closing, last)),
            entries=tuple(entries), electronic_sequence=self._sequence)
        file = StatementFile(message_id=f"SIM{self._seed}-CAMT-{now:%Y%m%d%H%M}", version=CAMT_VERSION,
                             created_at=now, statements=(statement,))
        self.statements.append(file)
        return file

    def morning_statement(self, today: date) -> bytes:
        """The camt.053 file sent at 05:00: yesterday and today so far."""
        now = datetime.combine(today, time(5), tzinfo=AMSTERDAM)
        return write_camt053(self.statement(today - timedelta(days=1), today, now))

    def last_statement(self, last_day: date) -> bytes:
        """The file sent the morning after the last simulated day: that day alone."""
        now = datetime.combine(last_day + timedelta(days=1), time(5), tzinfo=AMSTERDAM)
        return write_camt053(self.statement(last_day, last_day, now))


def _signed(item: BankLine | Execution) -> Money:
    return item.amount if isinstance(item, BankLine) else -item.amount


def _entry(index: int, item: BankLine | Execution) -> StatementEntry:
    if isinstance(item, BankLine):
        return StatementEntry(index=index, amount=item.amount, credit_debit=CreditDebit.CREDIT,
                              status=EntryStatus.BOOKED, booking_date=item.day, value_date=item.day,
                              transactions=(item.transaction(),), account_servicer_reference=item.reference,
                              bank_transaction_code=CREDIT_CODE)
    transactions = tuple(replace(t, account_servicer_reference=item.reference,
                                 payment_information_id=item.payment_info_id) for t in item.transactions)
    return StatementEntry(index=index, amount=item.amount, credit_debit=CreditDebit.DEBIT,
                          status=EntryStatus.BOOKED, booking_date=item.day, value_date=item.day,
                          transactions=transactions, account_servicer_reference=item.reference,
                          batch_message_id=item.message_id, batch_payment_information_id=item.payment_info_id,
                          batch_count=len(transactions), bank_transaction_code=DEBIT_CODE)
