"""Importing a bank statement: each line once, matched, booked, and the balances reconciled.

One file is one transaction: either every statement in it is imported, or (a refusal, a crash) nothing is.
The bank side of the chart moves with the statement (budget_ledger/chart.py):

| line | entry |
|---|---|
| our payment executed (by EndToEndId, or our batch) | Dr org:bank:onderweg / Cr org:bank:derdengelden; instruction → executed |
| our payment returned (return reason) | Dr derdengelden / Cr onderweg, and the payment's entry reversed (the money is back on the basisrekening); instruction → rejected, its obligation free for the next run; a warning |
| income for a household | Dr derdengelden / Cr org:clientgelden and Dr huishouden:N:basis / Cr huishouden:N:inkomen:<bron> |
| anything else | Dr derdengelden / Cr org:bank:ongematcht (a debit the other way round), to the work queue |

Exactly once: a line's key (`line_key`) is the bank's AcctSvcrRef, else a digest of the account, booking
date, amount, credit/debit and the references; a key repeated within one statement gets `#2`, `#3`… A line
whose key is stored already is counted as known and booked nothing. Each entry's idempotency key is
`bank:<line_key>`, so even a bypassed line table could not book a line twice.

Reconciliation: after booking, the ledger's derdengeldenrekening is compared with the statement's opening
balance (the day before its first day) and closing balance (its last day); a difference is a warning
(`bank-verschil`) that states both figures. It is never corrected silently.

A statement for another account than the organisation's derdengeldenrekening, or in another currency than
EUR, is refused and nothing of the file is imported.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from budget_ledger.bank_lines import LineStatus, MatchKind, NewBankLine, StatementImport
from budget_ledger.bank_matching import Decision, Line, MatchingIndex, batch_id_of, match, within_tolerance
from budget_ledger.bank_statements import EntryStatus, Statement, StatementFile
from budget_ledger.chart import BANK, GEMEENTE_RECEIVABLE, IN_TRANSIT, UNMATCHED, organisation_accounts
from budget_ledger.clock import AMSTERDAM, Clock, system_clock
from budget_ledger.errors import InvalidInputError
from budget_ledger.expected_income import ExpectedIncome, ExpectedPayment
from budget_ledger.income_watch import first_unfilled
from budget_ledger.ledger.entries import EntryRequest, EntrySource, Posting, reversal_request
from budget_ledger.ledger.money import Money
from budget_ledger.payment_calendar import DEFAULT_CALENDAR, PaymentCalendar
from budget_ledger.payment_runs import InstructionStatus, PaymentInstruction
from budget_ledger.ports import UnitOfWork
from budget_ledger.posting import open_accounts_in, post_in
from budget_ledger.receipts import income_request, inleg_request
from budget_ledger.rules.plan import Severity
from budget_ledger.transactions import Transactions
from budget_ledger.warnings import NewWarning, WarningRole, WarningType, raise_in

KEY_PREFIX = "bank"
_CONFIRMABLE = (InstructionStatus.EXPORTED, InstructionStatus.APPROVED)


@dataclass(frozen=True, slots=True)
class MatchingRules:
    """The organisation's settings the import works with."""

    organisation_iban: str
    tolerance_percent: int = 5
    window_days: int = 7


@dataclass
class StatementReport:
    statement_id: str
    account_iban: str
    import_id: int
    lines_total: int = 0
    lines_new: int = 0
    lines_known: int = 0
    not_booked: int = 0
    """Pending or informational entries: not money that moved yet, not imported."""
    by_kind: Counter[str] = field(default_factory=Counter)
    unmatched: int = 0
    amount_in: Money = Money(0)
    amount_out: Money = Money(0)
    opening: Money | None = None
    ledger_opening: Money | None = None
    closing: Money | None = None
    ledger_closing: Money | None = None
    warnings_raised: int = 0
    executed: int = 0
    returned: int = 0

    @property
    def reconciled(self) -> bool:
        return all(s is None or s == ledger for s, ledger in ((self.opening, self.ledger_opening),
                                                              (self.closing, self.ledger_closing)))

    def to_json(self) -> dict[str, Any]:
        def money(value: Money | None) -> str | None:
            return None if value is None else str(value)

        return {
            "statement_id": self.statement_id, "account_iban": self.account_iban, "import_id": self.import_id,
            "lines_total": self.lines_total, "lines_new": self.lines_new, "lines_known": self.lines_known,
            "not_booked": self.not_booked, "matched_by_kind": dict(sorted(self.by_kind.items())),
            "unmatched": self.unmatched, "amount_in": str(self.amount_in), "amount_out": str(self.amount_out),
            "payments_executed": self.executed, "payments_returned": self.returned,
            "opening_balance": money(self.opening), "ledger_opening_balance": money(self.ledger_opening),
            "closing_balance": money(self.closing), "ledger_closing_balance": money(self.ledger_closing),
            "reconciled": self.reconciled, "warnings_raised": self.warnings_raised,
        }

    def __str__(self) -> str:
        lines = [f"Afschrift {self.statement_id} ({self.account_iban}): {self.lines_total} regels, "
                 f"{self.lines_new} nieuw, {self.lines_known} al bekend"
                 + (f", {self.not_booked} niet geboekt (pending/info)" if self.not_booked else "")]
        for kind, count in sorted(self.by_kind.items()):
            lines.append(f"  {kind}: {count}")
        lines.append(f"  niet gematcht (werkvoorraad): {self.unmatched}")
        if self.executed or self.returned:
            lines.append(f"  betalingen uitgevoerd: {self.executed}, teruggeboekt: {self.returned}")
        for label, stated, ledger in (("beginsaldo", self.opening, self.ledger_opening),
                                      ("eindsaldo", self.closing, self.ledger_closing)):
            if stated is None:
                continue
            verdict = "klopt" if stated == ledger else f"VERSCHIL {(stated - ledger).format_nl()}"  # type: ignore[operator]
            lines.append(f"  {label} bank {stated.format_nl()}, grootboek {ledger.format_nl()}: {verdict}")  # type: ignore[union-attr]
        if self.warnings_raised:
            lines.append(f"  waarschuwingen: {self.warnings_raised}")
        return "\n".join(lines)


@dataclass
class ImportReport:
    file_sha256: str
    message_id: str
    version: str
    statements: list[StatementReport]

    @property
    def lines_new(self) -> int:
        return sum(s.lines_new for s in self.statements)

    @property
    def lines_known(self) -> int:
        return sum(s.lines_known for s in self.statements)

    def to_json(self) -> dict[str, Any]:
        return {"file_sha256": self.file_sha256, "message_id": self.message_id, "version": self.version,
                "statements": [s.to_json() for s in self.statements]}

    def __str__(self) -> str:
        head = f"{self.version} {self.message_id}: {self.lines_new} nieuwe regels, {self.lines_known} al bekend"
        return "\n".join([head, *(str(s) for s in self.statements)])


# -- line keys -------------------------------------------------------------------------------------------


def statement_lines(statement: Statement) -> tuple[list[Line], int]:
    """The booked lines of a statement with their keys (batch entries expanded), and how many entries were
    not booked (pending, info)."""
    lines: list[Line] = []
    not_booked = 0
    seen: Counter[str] = Counter()
    for entry in statement.entries:
        if entry.status is not EntryStatus.BOOKED:
            not_booked += 1
            continue
        base = f"ref:{entry.account_servicer_reference}" if entry.account_servicer_reference else None
        several = len(entry.transactions) > 1
        tx_refs = Counter(t.account_servicer_reference for t in entry.transactions)
        for index, transaction in enumerate(entry.transactions):
            own = transaction.account_servicer_reference
            if several and own and own != entry.account_servicer_reference and tx_refs[own] == 1:
                key = f"ref:{own}"
            elif base is not None:
                key = f"{base}/{transaction.end_to_end_id or index}" if several else base
            else:
                key = "sum:" + _digest(statement.account_iban, entry, transaction, index if several else None)
            seen[key] += 1
            if seen[key] > 1:
                key = f"{key}#{seen[key]}"
            lines.append(Line(key, entry, index, transaction))
    return lines, not_booked


def _digest(iban: str, entry: Any, transaction: Any, index: int | None) -> str:
    parts = [iban, entry.booking_date.isoformat(), entry.credit_debit.value, str(entry.amount),
             entry.entry_reference or "", str(transaction.amount), transaction.end_to_end_id or "",
             transaction.counterparty_iban or "", transaction.remittance_text, transaction.structured_reference or "",
             "" if index is None else str(index)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


# -- the service -----------------------------------------------------------------------------------------


class StatementImportService:
    def __init__(self, transactions: Transactions, rules: MatchingRules, clock: Clock = system_clock,
                 calendar: PaymentCalendar = DEFAULT_CALENDAR) -> None:
        self._tx = transactions
        self._rules = rules
        self._clock = clock
        self._calendar = calendar

    def import_file(self, file: StatementFile, actor: str) -> ImportReport:
        """Import every statement of one file, in one transaction."""
        if not file.statements:
            raise InvalidInputError("file", "the file holds no statement (Stmt)")
        for number, statement in enumerate(file.statements, start=1):
            if statement.account_iban != self._rules.organisation_iban:
                raise InvalidInputError(
                    "account", f"statement {number} ({statement.statement_id}) is for account "
                    f"{statement.account_iban}, not our derdengeldenrekening {self._rules.organisation_iban}; "
                    "nothing of the file was imported")
            if statement.currency != "EUR":
                raise InvalidInputError("currency", f"statement {number} is in {statement.currency}; only EUR "
                                        "accounts are kept here; nothing of the file was imported")

        def work(uow: UnitOfWork) -> ImportReport:
            open_accounts_in(uow.ledger, organisation_accounts())  # a first import may come before any household
            uow.ledger.lock_accounts([BANK])  # one import at a time: the balances are compared after booking
            reports = [_StatementImport(uow, self._rules, self._clock(), self._calendar, file, s, actor).run()
                       for s in file.statements]
            return ImportReport(file.sha256, file.message_id, file.version, reports)

        return self._tx.run(work)


    def imports(self, *, account_iban: str | None = None) -> list[StatementImport]:
        """The statements imported so far, oldest first, with their reconciliation."""
        return self._tx.run(lambda uow: uow.bank.imports(account_iban=account_iban), write=False)


class _StatementImport:
    """The import of one statement inside the file's transaction."""

    def __init__(self, uow: UnitOfWork, rules: MatchingRules, now: datetime, calendar: PaymentCalendar,
                 file: StatementFile, statement: Statement, actor: str) -> None:
        self.uow, self.rules, self.now, self.calendar = uow, rules, now, calendar
        self.file, self.statement, self.actor = file, statement, actor
        self.today = now.astimezone(AMSTERDAM).date()
        self.requests: list[EntryRequest] = []
        self.warnings: list[NewWarning] = []
        self.executed: dict[int, PaymentInstruction] = {}
        self.returns: list[tuple[PaymentInstruction, Line, str]] = []

    def run(self) -> StatementReport:
        uow, statement = self.uow, self.statement
        lines, not_booked = statement_lines(statement)
        known = uow.bank.known_line_keys(statement.account_iban, [line.key for line in lines])
        new = [line for line in lines if line.key not in known]
        index = self._index(new)
        decided = [(line, match(line, index)) for line in new]
        line_keys: list[str | None] = [self._book(line, decision) for line, decision in decided]
        posted = post_in(uow.ledger, self.requests).entry_ids if self.requests else {}
        self._update_instructions(posted)

        report = StatementReport(statement.statement_id, statement.account_iban, 0, len(lines), len(new),
                                 len(lines) - len(new), not_booked)
        self._reconcile(report)
        report.executed, report.returned = len(self.executed), len(self.returns)
        rows = []
        for (line, decision), key in zip(decided, line_keys, strict=True):
            rows.append(self._row(line, decision, posted.get(key) if key else None))
            if decision.kind is None:
                report.unmatched += 1
            else:
                report.by_kind[decision.kind.value] += 1
            if line.is_credit:
                report.amount_in += line.transaction.amount
            else:
                report.amount_out += line.transaction.amount
        report.warnings_raised = len(raise_in(uow, self.warnings, self.today, self.now, self.actor))
        report.import_id = uow.bank.insert_import(self._import_row(report))
        uow.bank.insert_lines(report.import_id, statement.account_iban, rows)
        return report

    # -- reading what matching needs, in bulk --------------------------------------------------------

    def _index(self, lines: Sequence[Line]) -> MatchingIndex:
        uow = self.uow
        by_e2e = uow.payments.instructions_by_end_to_end_ids(
            {line.transaction.end_to_end_id for line in lines if line.transaction.end_to_end_id})
        batches: dict[str, list[PaymentInstruction]] = {}
        for line in lines:
            for batch_id in (line.entry.batch_payment_information_id, line.transaction.payment_information_id):
                parsed = batch_id_of(batch_id)
                if parsed is None or batch_id in batches or line.is_credit:
                    continue
                run_id, day = parsed
                batches[batch_id] = [i for i in uow.payments.instructions(run_id=run_id)
                                     if i.execution_date == day and i.status in _CONFIRMABLE and i.iban]  # type: ignore[index]
        credits = [line for line in lines if line.is_credit]
        households = uow.registry.households() if credits else []
        ids = [h.id for h in households]
        incomes_by_payer: dict[str, list[ExpectedIncome]] = defaultdict(list)
        creditors_by_iban: dict[str, list[Any]] = defaultdict(list)
        if credits:
            for incomes in uow.registry.expected_income_of_households(ids).values():
                for income in incomes:
                    for iban in income.payer_ibans:
                        incomes_by_payer[iban].append(income)
            for creditors in uow.registry.creditors_of_households(ids).values():
                for creditor in creditors:
                    creditors_by_iban[creditor.iban].append(creditor)
        clients: dict[str, list[int]] = defaultdict(list)
        for household in households:
            if household.leefgeld_account is not None:
                clients[household.leefgeld_account.iban].append(household.id)
        return MatchingIndex(
            instructions_by_end_to_end=by_e2e, batch_instructions=batches, incomes_by_payer=incomes_by_payer,
            creditors_by_iban=creditors_by_iban, clients_by_iban=clients,
            with_basisrekening=frozenset(h.id for h in households if h.eligibility.needs_ledger),
            bsn_of={h.id: h.bsn for h in households if h.bsn}, tolerance_percent=self.rules.tolerance_percent,
            window_days=self.rules.window_days, calendar=self.calendar, open_payment=self._open_payment,
            horizon=max((line.booking_date for line in lines), default=self.today)
            + timedelta(days=self.rules.window_days),
            inleg=self.uow.ledger.amounts_by_household(GEMEENTE_RECEIVABLE) if credits else {},
            gemeente_iban_of=self._gemeente_ibans(households))

    def _gemeente_ibans(self, households: Sequence[Any]) -> dict[int, str]:
        """Each household's gemeente's own account (its repayment IBAN), where the gemeente has one."""
        if not households:
            return {}
        ibans = {g.id: g.settings.repayment_iban for g in self.uow.registry.gemeenten()}
        return {h.id: ibans[h.gemeente_id] for h in households if ibans.get(h.gemeente_id)}

    def _open_payment(self, household_id: int, amount: Money, day: date
                      ) -> tuple[ExpectedIncome, ExpectedPayment] | None:
        """The expected payment of the household, due by the line's day (+ the window), whose missing part
        the amount fits: a client passing on a toeslag that landed on their own account (S8)."""
        until = day + timedelta(days=self.rules.window_days)
        tolerance = self.rules.tolerance_percent
        for income, payment, missing in first_unfilled(self.uow, household_id, until, self.calendar):
            for expected in (missing, payment.amount):
                if within_tolerance(amount.cents, expected.cents, tolerance):
                    return income, payment
        return None

    # -- booking -------------------------------------------------------------------------------------

    def _book(self, line: Line, decision: Decision) -> str | None:
        """Add the entries of one line; the idempotency key of the line's own entry."""
        key = f"{KEY_PREFIX}:{line.key}"
        t, day = line.transaction, line.booking_date
        base = dict(idempotency_key=key, booking_date=day, value_date=line.entry.value_date, actor=self.actor,
                    source=EntrySource.BANK_IMPORT, metadata=self._metadata(line, decision))
        kind = decision.kind
        if kind in (MatchKind.OWN_PAYMENT, MatchKind.OWN_BATCH):
            # The bank side only: the household's side moved when the run booked the payment.
            self.requests.append(EntryRequest(
                postings=(Posting(IN_TRANSIT, t.amount), Posting(BANK, -t.amount)),
                reason=_text(f"Afgeschreven door de bank: {decision.reason}"), **base))
            for instruction in decision.instructions:
                self._executed(instruction, line)
            return key
        if kind is MatchKind.RETURN:
            instruction = decision.instructions[0]
            self.requests.append(EntryRequest(
                postings=(Posting(BANK, t.amount), Posting(IN_TRANSIT, -t.amount)),
                reason=_text(f"Teruggeboekt door de bank: {decision.reason}"), **base))
            self._returned(instruction, line, decision.reason)
            return key
        if kind is MatchKind.GEMEENTE_INLEG:
            # The bank side only: the household could spend the money since the run booked it.
            assert decision.household_id is not None
            self.requests.append(inleg_request(
                decision.household_id, t.amount, day, line.entry.value_date, key,
                _text(f"{t.counterparty_name or ''} {t.remittance_text}".strip()), self.actor,
                self._metadata(line, decision)))
            return key
        if kind is not None:
            assert decision.household_id is not None and decision.source is not None
            self.requests.append(income_request(
                decision.household_id, decision.source, t.amount, day, line.entry.value_date, key,
                _text(f"{t.counterparty_name or ''} {t.remittance_text}".strip()), self.actor,
                self._metadata(line, decision)))
            if kind is MatchKind.CREDITOR_REFUND:
                self._refund_warning(line, decision)
            return key
        postings = ((Posting(BANK, t.amount), Posting(UNMATCHED, -t.amount)) if line.is_credit
                    else (Posting(UNMATCHED, t.amount), Posting(BANK, -t.amount)))
        self.requests.append(EntryRequest(
            postings=postings, reason=_text(f"Niet gematcht, naar de werkvoorraad: {t.counterparty_name or ''} "
                                            f"{t.remittance_text}".strip()), **base))
        return key

    def _metadata(self, line: Line, decision: Decision) -> dict[str, str]:
        t = line.transaction
        meta = {"line_key": line.key, "match": decision.kind.value if decision.kind else "ongematcht"}
        if t.end_to_end_id:
            meta["end_to_end_id"] = t.end_to_end_id
        if t.counterparty_iban:
            meta["counterparty_iban"] = t.counterparty_iban
        if decision.covers:
            meta["covers"] = ",".join(f"{m:%Y-%m}={amount}" for m, amount in decision.covers)
        return meta

    def _executed(self, instruction: PaymentInstruction, line: Line) -> None:
        if instruction.status is InstructionStatus.REJECTED:
            self.warnings.append(NewWarning(
                WarningType.BETALING_NA_AFWIJZING, instruction.household_id, f"betaling-{instruction.id}",
                line.booking_date, Severity.CRITICAL, WarningRole.BUDGETBEHEERDER,
                f"De bank voerde betaling {instruction.id} aan {instruction.payee_name} "
                f"({instruction.amount.format_nl()}) op {line.booking_date:%d-%m-%Y} toch uit, terwijl die al was "
                "afgewezen en teruggeboekt: vraag het geld terug of boek de betaling opnieuw.",
                {"instruction_id": instruction.id, "amount": str(instruction.amount)}))
            return
        if instruction.status in _CONFIRMABLE:
            self.executed[instruction.id] = instruction

    def _returned(self, instruction: PaymentInstruction, line: Line, reason: str) -> None:
        self.executed.pop(instruction.id, None)
        t = line.transaction
        if instruction.status is not InstructionStatus.REJECTED:
            self.returns.append((instruction, line, reason))
        code = t.return_reason or "geen redencode"
        self.warnings.append(NewWarning(
            WarningType.BETALING_TERUGGEBOEKT, instruction.household_id, f"betaling-{instruction.id}",
            line.booking_date, Severity.CRITICAL, WarningRole.BUDGETBEHEERDER,
            f"De bank boekte betaling {instruction.id} aan {instruction.payee_name} "
            f"({instruction.amount.format_nl()}, {instruction.category}) terug op {line.booking_date:%d-%m-%Y} "
            f"({code}). Het geld staat weer op de basisrekening en de volgende betaalrun betaalt opnieuw; controleer "
            "eerst de rekening van de begunstigde.",
            {"instruction_id": instruction.id, "return_reason": code, "iban": instruction.iban or "",
             "amount": str(instruction.amount)}))

    def _refund_warning(self, line: Line, decision: Decision) -> None:
        creditor, t = decision.creditor, line.transaction
        assert creditor is not None and decision.household_id is not None
        self.warnings.append(NewWarning(
            WarningType.TERUGBETALING_ONTVANGEN, decision.household_id, f"bankregel-{line.key}", line.booking_date,
            Severity.WARNING, WarningRole.BUDGETBEHEERDER,
            f"{creditor.organisation} betaalde {t.amount.format_nl()} terug op {line.booking_date:%d-%m-%Y} "
            f"({t.remittance_text or 'zonder omschrijving'}). Controleer of het een dubbele betaling was en bied het "
            "bedrag de klant aan als extra leefgeld.",
            {"creditor_id": creditor.id, "amount": str(t.amount), "line_key": line.key}))

    def _update_instructions(self, posted: dict[str, int]) -> None:
        payments = self.uow.payments
        by_status: dict[str, list[int]] = defaultdict(list)
        for instruction in self.executed.values():
            by_status[instruction.status.value].append(instruction.id)
        for status, ids in by_status.items():
            payments.update_instructions(ids, [status], status=InstructionStatus.EXECUTED.value, executed_at=self.now)
        for instruction, line, reason in self.returns:
            return_payment(self.uow, instruction.id, line.booking_date, self.actor, reason, self.now)

    # -- reconciliation and the record ---------------------------------------------------------------

    def _reconcile(self, report: StatementReport) -> None:
        statement, bank = self.statement, self.uow.bank
        opening, closing = statement.opening, statement.closing
        if opening is not None:
            report.opening = opening.amount
            report.ledger_opening = bank.account_balance_as_of(BANK, opening.on - timedelta(days=1))
        if closing is not None:
            report.closing = closing.amount
            report.ledger_closing = bank.account_balance_as_of(BANK, closing.on)
        differences = [(label, stated, ledger, on) for label, stated, ledger, on in (
            ("beginsaldo", report.opening, report.ledger_opening, opening.on if opening else None),
            ("eindsaldo", report.closing, report.ledger_closing, closing.on if closing else None))
            if stated is not None and ledger is not None and stated != ledger]
        if not differences:
            return
        label, stated, ledger, on = differences[-1]
        assert stated is not None and ledger is not None and on is not None
        words = "; ".join(f"{name} volgens de bank {s.format_nl()} op {d:%d-%m-%Y}, volgens het grootboek "  # type: ignore[union-attr]
                          f"{g.format_nl()} (verschil {(s - g).format_nl()})" for name, s, g, d in differences)  # type: ignore[operator]
        self.warnings.append(NewWarning(
            WarningType.BANK_VERSCHIL, None, f"{statement.account_iban}:{statement.statement_id}", on,
            Severity.CRITICAL, WarningRole.BUDGETBEHEERDER,
            f"Afschrift {statement.statement_id} sluit niet aan op de derdengeldenrekening in het grootboek: {words}. "
            "Zoek het verschil; het grootboek wordt niet vanzelf aangepast.",
            {"statement_id": statement.statement_id, "account_iban": statement.account_iban,
             "differences": [{"balance": name, "bank": str(s), "ledger": str(g), "on": d.isoformat()}
                             for name, s, g, d in differences]}))

    def _row(self, line: Line, decision: Decision, entry_id: int | None) -> NewBankLine:
        t, entry = line.transaction, line.entry
        details: dict[str, Any] = {}
        if decision.covers:
            details["covers"] = [[m.isoformat(), str(a)] for m, a in decision.covers]
        if decision.candidates:
            details["candidates"] = list(decision.candidates)
        if len(decision.instructions) > 1:
            details["instruction_ids"] = [i.id for i in decision.instructions]
        if decision.creditor is not None:
            details["creditor_id"] = decision.creditor.id
        if entry.batch_payment_information_id:
            details["batch"] = entry.batch_payment_information_id
        return NewBankLine(
            line_key=line.key, entry_index=entry.index, transaction_index=line.transaction_index,
            booking_date=entry.booking_date, value_date=entry.value_date, amount=t.signed,
            bank_reference=t.account_servicer_reference or entry.account_servicer_reference,
            end_to_end_id=t.end_to_end_id, counterparty_name=(t.counterparty_name or None) and t.counterparty_name[:140],
            counterparty_iban=t.counterparty_iban, remittance=t.remittance_text,
            structured_reference=t.structured_reference, return_reason=t.return_reason,
            bank_transaction_code=t.bank_transaction_code or entry.bank_transaction_code,
            status=LineStatus.MATCHED if decision.kind else LineStatus.UNMATCHED, match_kind=decision.kind,
            match_reason=decision.reason, household_id=decision.household_id,
            instruction_id=decision.instructions[0].id if len(decision.instructions) == 1 else None,
            expected_income_id=decision.income.id if decision.income else None, entry_id=entry_id, details=details)

    def _import_row(self, report: StatementReport) -> dict[str, Any]:
        s, opening, closing = self.statement, self.statement.opening, self.statement.closing

        def cents(value: Money | None) -> int | None:
            return None if value is None else value.cents

        return dict(
            file_sha256=self.file.sha256 or "-", message_id=self.file.message_id[:35], version=self.file.version,
            statement_id=s.statement_id[:35], account_iban=s.account_iban, electronic_sequence=s.electronic_sequence,
            from_date=s.from_date, to_date=s.to_date, opening_cents=cents(report.opening),
            opening_date=opening.on if opening else None, closing_cents=cents(report.closing),
            closing_date=closing.on if closing else None, ledger_opening_cents=cents(report.ledger_opening),
            ledger_closing_cents=cents(report.ledger_closing), lines_total=report.lines_total,
            lines_new=report.lines_new, lines_known=report.lines_known, report=report.to_json(),
            imported_by=self.actor, imported_at=self.now)


def return_payment(uow: UnitOfWork, instruction_id: int, on: date, actor: str, reason: str, now: datetime) -> None:
    """The bank sent one of our payments back: its entry is reversed (the money is on the household's
    basisrekening again) and the instruction is rejected, which frees its obligation for the next run. An
    instruction rejected already is left as it is."""
    payments = uow.payments
    current = payments.instruction(instruction_id, lock=True)
    if current is None or current.status is InstructionStatus.REJECTED:
        return
    entry = uow.ledger.load_entries([current.entry_id])[current.entry_id]
    key = f"reversal:{entry.id}"
    reversal = post_in(uow.ledger, [reversal_request(
        entry, actor=actor, booking_date=on, idempotency_key=key,
        reason=_text(f"Betaling teruggeboekt door de bank ({current.payee_name}): {reason}"))]).entry_ids
    payments.update_instructions(
        [current.id], [current.status.value], status=InstructionStatus.REJECTED.value, rejected_by=actor,
        rejected_at=now, rejection_reason=_text(f"teruggeboekt door de bank: {reason}"), reversal_entry_id=reversal[key])


def _text(text: str) -> str:
    """Entry reasons stay readable and bounded."""
    text = " ".join(text.split())
    return text if len(text) <= 240 else text[:239] + "…"

