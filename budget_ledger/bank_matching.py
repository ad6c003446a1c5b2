"""Matching bank lines to what they are: our own payments, their returns, a household's income, or unknown.

Pure: `MatchingIndex` holds what the import read from the database in a few bulk queries, and `match` decides
one line from it, with the reason in words (for the budgetbeheerder and the auditor). The order, from the
most certain to the least:

(a) a debit with the EndToEndId of one of our instructions is that payment, executed by the bank; a debit
    without details whose batch id (PmtInfId `RUN<run>-<yyyymmdd>`) is one of our files is that whole batch;
(b) a credit with a return reason code (or our EndToEndId on a credit) is one of our payments coming back;
(c) a credit from a payer IBAN of a household's expected income, its amount within the tolerance of an
    expected payment due within the window (a first toeslag anywhere from its first expected day to its
    latest). When several households expect the same payer (the Belastingdienst pays every toeslag), the
    remittance decides: the expectation's own references, the household's kenmerk, or its BSN;
(d) the household's own betalingskenmerk (`identifiers.household_reference`) as structured reference or in
    the text;
(c') a credit from the IBAN of one creditor of a household: money back (S7, a double payment refunded);
    from the client's own leefgeld account: the client passing money on (S8);
(e) everything else stays unmatched, for the work queue.

A line that names a household without a basisrekening is left unmatched too: its money is not booked here.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from budget_ledger.bank_lines import MatchKind
from budget_ledger.bank_statements import BankTransaction, CreditDebit, StatementEntry
from budget_ledger.creditors import Creditor
from budget_ledger.expected_income import (
    TOESLAGEN,
    ExpectedIncome,
    ExpectedPayment,
    IncomeSource,
    expected_payments,
)
from budget_ledger.identifiers import household_of_reference
from budget_ledger.ledger.money import Money
from budget_ledger.payment_calendar import DEFAULT_CALENDAR, PaymentCalendar
from budget_ledger.payment_runs import PaymentInstruction

BATCH_ID = re.compile(r"^RUN(?P<run>\d+)-(?P<day>\d{8})$")
_KENMERK_IN_TEXT = re.compile(r"(?<!\d)\d{4}[ .]?\d{4}[ .]?\d{4}[ .]?\d{4}(?!\d)")
_BSN_IN_TEXT = re.compile(r"(?<!\d)\d{9}(?!\d)")


@dataclass(frozen=True, slots=True)
class Line:
    """One payment of a statement, as the matcher sees it."""

    key: str
    entry: StatementEntry
    transaction_index: int
    transaction: BankTransaction

    @property
    def booking_date(self) -> date:
        return self.entry.booking_date

    @property
    def amount(self) -> Money:
        """Signed: money in is positive."""
        return self.transaction.signed

    @property
    def is_credit(self) -> bool:
        return self.transaction.credit_debit is CreditDebit.CREDIT

    @property
    def text(self) -> str:
        t = self.transaction
        return " ".join(p for p in (t.remittance_text, t.structured_reference or "", self.entry.additional_info) if p)


@dataclass(frozen=True, slots=True)
class Decision:
    kind: MatchKind | None
    """None: unmatched."""
    reason: str
    household_id: int | None = None
    instructions: tuple[PaymentInstruction, ...] = ()
    income: ExpectedIncome | None = None
    source: IncomeSource | None = None
    covers: tuple[tuple[date, Money], ...] = ()
    """For income: the months the payment is for, as the expected payment it matched split them (S2)."""
    creditor: Creditor | None = None
    candidates: tuple[int, ...] = ()
    """For an unmatched line: the households it could have been for."""


@dataclass
class MatchingIndex:
    """What matching needs, read in bulk before the lines are decided."""

    instructions_by_end_to_end: Mapping[str, PaymentInstruction]
    batch_instructions: Mapping[str, Sequence[PaymentInstruction]]
    """By batch id (PmtInfId): the instructions of that payment information block."""
    incomes_by_payer: Mapping[str, Sequence[ExpectedIncome]]
    creditors_by_iban: Mapping[str, Sequence[Creditor]]
    clients_by_iban: Mapping[str, Sequence[int]]
    with_basisrekening: frozenset[int]
    bsn_of: Mapping[int, str]
    tolerance_percent: int
    window_days: int
    calendar: PaymentCalendar = DEFAULT_CALENDAR
    open_payment: object = None
    """Callable (household_id, amount, day) -> (ExpectedIncome, ExpectedPayment) | None: the household's
    expected payment that a client's own transfer passes on (S8). Asked only for the few lines that need it."""
    horizon: date | None = None
    """The last day any line of the statement can match an expected payment for (its last booking day plus
    the window): payments are computed up to it once per expectation."""
    inleg: dict[int, list[Money]] = field(default_factory=dict)
    """Per household, the amounts on the receivable of what its gemeente put in by the rules (positive: put
    in, negative: received), so a transfer is matched only to what is still to be received. A line matched
    to it is added here at once, so a second transfer in the same statement cannot take the same money."""
    gemeente_iban_of: Mapping[int, str] = field(default_factory=dict)
    """Each household's gemeente's own account (its repayment IBAN in the gemeente's settings)."""
    _payments: dict[int, list[ExpectedPayment]] = field(default_factory=dict)
    _payers: dict[str, PayerIndex] = field(default_factory=dict)
    _bsn_households: dict[str, list[int]] | None = None

    def payments(self, income: ExpectedIncome) -> list[ExpectedPayment]:
        if income.id not in self._payments:
            assert self.horizon is not None, "the import gives the index its horizon"
            self._payments[income.id] = expected_payments(income, self.horizon, self.calendar)
        return self._payments[income.id]

    def payer(self, iban: str | None) -> PayerIndex | None:
        """The expectations one payer pays, indexed (built the first time the payer is seen)."""
        if not iban or iban not in self.incomes_by_payer:
            return None
        if iban not in self._payers:
            self._payers[iban] = PayerIndex.of(self.incomes_by_payer[iban], self)
        return self._payers[iban]

    def households_of_bsn(self, bsn: str) -> list[int]:
        if self._bsn_households is None:
            self._bsn_households = {}
            for household, number in sorted(self.bsn_of.items()):
                self._bsn_households.setdefault(number, []).append(household)
        return self._bsn_households.get(bsn, [])

    def window(self, income: ExpectedIncome, payment: ExpectedPayment) -> tuple[date, date]:
        """The days a payment is recognised on: its due day ± the window; a first payment (a toeslag paid
        late with its back-payment) anywhere up to its latest expected day + the window."""
        window = timedelta(days=self.window_days)
        earliest, latest = payment.due_on - window, payment.due_on + window
        if payment.due_on == income.first_expected_on:
            latest = max(latest, income.first_expected_latest + window)
        return earliest, latest



_Fit = tuple[int, int, int, ExpectedIncome, ExpectedPayment]
"""An expected payment as the payer index holds it: (cents, first day, last day it is recognised on, as
ordinals; the expectation; the payment)."""


@dataclass
class PayerIndex:
    """One payer's expectations (the Belastingdienst pays the toeslagen of every household), indexed so a
    line is compared with the few that can fit it rather than with all of them: by the week and amount of
    the expected payments, and by household for a line that names its household."""

    by_week: dict[int, tuple[list[int], list[_Fit]]]
    """Week number → the payments recognisable in that week, sorted by amount (cents, then the payments)."""
    by_household: dict[int, list[_Fit]]
    has_references: bool
    """Whether any of the payer's expectations carries a reference (an employee number) that can name it."""

    @classmethod
    def of(cls, incomes: Sequence[ExpectedIncome], index: MatchingIndex) -> PayerIndex:
        weeks: dict[int, list[_Fit]] = {}
        by_household: dict[int, list[_Fit]] = {}
        for income in incomes:
            for payment in index.payments(income):
                earliest, latest = index.window(income, payment)
                fit = (payment.amount.cents, earliest.toordinal(), latest.toordinal(), income, payment)
                by_household.setdefault(income.household_id, []).append(fit)
                for week in range(fit[1] // 7, fit[2] // 7 + 1):
                    weeks.setdefault(week, []).append(fit)
        by_week = {}
        for week, found in weeks.items():
            found.sort(key=lambda f: (f[0], f[3].id, f[4].due_on))
            by_week[week] = ([f[0] for f in found], found)
        return cls(by_week, by_household, any(_compact(r) for i in incomes for r in i.references))

    def fitting(self, day: date, amount: Money, index: MatchingIndex
                ) -> list[tuple[ExpectedIncome, ExpectedPayment]]:
        """Every expected payment of this payer that `amount` on `day` fits."""
        bucket = self.by_week.get(day.toordinal() // 7)
        if bucket is None:
            return []
        cents, fits = bucket
        low = amount.cents * 100 // (100 + index.tolerance_percent)
        high = -(-amount.cents * 100 // max(100 - index.tolerance_percent, 1))
        return _fitting(fits[bisect_left(cents, low):bisect_right(cents, high)], day, amount, index)

    def fitting_households(self, households: Iterable[int], day: date, amount: Money, index: MatchingIndex
                           ) -> list[tuple[ExpectedIncome, ExpectedPayment]]:
        """`fitting`, of the given households only."""
        return _fitting([f for h in households for f in self.by_household.get(h, ())], day, amount, index)


def _fitting(candidates: Sequence[_Fit], day: date, amount: Money, index: MatchingIndex
             ) -> list[tuple[ExpectedIncome, ExpectedPayment]]:
    on, received, percent = day.toordinal(), amount.cents, index.tolerance_percent
    return [(income, payment) for cents, earliest, latest, income, payment in candidates
            if earliest <= on <= latest and within_tolerance(received, cents, percent)]


def within_tolerance(received_cents: int, expected_cents: int, percent: int) -> bool:
    """Whether an amount received is the amount expected, give or take `percent` of it."""
    return abs(received_cents - expected_cents) * 100 <= expected_cents * percent


def batch_id_of(text: str | None) -> tuple[int, date] | None:
    """The run and execution day of one of our pain.001 payment information ids (`RUN12-20250501`)."""
    found = BATCH_ID.match(text or "")
    if not found:
        return None
    day = found["day"]
    try:
        return int(found["run"]), date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        return None


def match(line: Line, index: MatchingIndex) -> Decision:
    if not line.is_credit:
        return _debit(line, index)
    return _credit(line, index)


def _debit(line: Line, index: MatchingIndex) -> Decision:
    t = line.transaction
    instruction = index.instructions_by_end_to_end.get(t.end_to_end_id or "")
    if instruction is not None:
        if instruction.amount != t.amount:
            return Decision(None, f"EndToEndId {t.end_to_end_id} is betaling {instruction.id} van "
                                  f"{instruction.amount.format_nl()}, maar de bank schreef {t.amount.format_nl()} af")
        return Decision(MatchKind.OWN_PAYMENT,
                        f"EndToEndId {t.end_to_end_id}: betaling {instruction.id} aan {instruction.payee_name} "
                        f"({instruction.category}) uitgevoerd", instruction.household_id, (instruction,))
    if len(line.entry.transactions) == 1:
        for batch_id in (line.entry.batch_payment_information_id, t.payment_information_id):
            batch = index.batch_instructions.get(batch_id or "")
            if batch:
                total = Money.sum(i.amount for i in batch)
                if total != t.amount:
                    return Decision(None, f"batch {batch_id} telt {len(batch)} betalingen van samen "
                                          f"{total.format_nl()}, maar de bank schreef {t.amount.format_nl()} af")
                return Decision(MatchKind.OWN_BATCH, f"batch {batch_id}: {len(batch)} betalingen van samen "
                                f"{total.format_nl()} uitgevoerd", None, tuple(batch))
    return Decision(None, "afschrijving zonder EndToEndId of batch van ons")


def _credit(line: Line, index: MatchingIndex) -> Decision:
    t = line.transaction
    instruction = index.instructions_by_end_to_end.get(t.end_to_end_id or "")
    if t.return_reason or line.entry.reversal:
        if instruction is None:
            return Decision(None, f"terugboeking ({t.return_reason or 'RvslInd'}) van een betaling die wij niet kennen "
                                  f"(EndToEndId {t.end_to_end_id or 'ontbreekt'})")
        return _return(line, instruction)
    if instruction is not None:
        return _return(line, instruction)
    for decide in (_expected_income, _reference, _creditor_refund, _client_transfer):
        decision = decide(line, index)
        if decision is not None:
            if decision.kind is not None and decision.household_id not in index.with_basisrekening:
                return Decision(None, f"{decision.reason}; maar huishouden {decision.household_id} heeft hier geen "
                                      "basisrekening", candidates=(decision.household_id,) if decision.household_id else ())
            return decision
    return Decision(None, "geen verwacht inkomen, kenmerk, crediteur of klantrekening herkend")


def _return(line: Line, instruction: PaymentInstruction) -> Decision:
    t = line.transaction
    if instruction.amount != t.amount:
        return Decision(None, f"terugboeking van betaling {instruction.id} ({instruction.amount.format_nl()}) met "
                              f"een ander bedrag: {t.amount.format_nl()}")
    code = t.return_reason or "zonder redencode"
    return Decision(MatchKind.RETURN, f"betaling {instruction.id} aan {instruction.payee_name} teruggeboekt ({code}"
                    f"{': ' + t.return_additional_info if t.return_additional_info else ''})",
                    instruction.household_id, (instruction,))


def _expected_income(line: Line, index: MatchingIndex) -> Decision | None:
    t = line.transaction
    payer = index.payer(t.counterparty_iban)
    if payer is None:
        return None
    day = line.booking_date
    fits = _fits_of_named(line, payer, index) or payer.fitting(day, t.amount, index)
    named_toeslagen = _toeslagen_named_in(line.text)
    if named_toeslagen:
        # "Zorgtoeslag 2025 …": Dienst Toeslagen says which toeslag it pays; an amount that happens to fit
        # another toeslag's expected payment is not that toeslag.
        fits = [(i, p) for i, p in fits if i.source not in TOESLAGEN or i.source in named_toeslagen]
    if not fits:
        return None
    households = sorted({income.household_id for income, _ in fits})
    named = set(_households_named_by(line, index))
    if named and not named.intersection(households):
        # The remittance names a household (kenmerk, BSN) none of whose expected payments this amount fits:
        # it is that household's money all the same (a late back-payment over more months, a correction),
        # never the money of another household whose expectation the amount happens to fit. A person says
        # what it is for.
        return Decision(None, f"de omschrijving noemt huishouden {', '.join(str(h) for h in sorted(named))}, maar "
                              f"{t.amount.format_nl()} van {t.counterparty_name or t.counterparty_iban} past bij "
                              f"geen verwachte betaling daarvan (wel bij die van een ander huishouden)",
                        candidates=tuple(sorted(named)))
    if len(households) > 1:
        named = _named_households(line, households, [i for i, _ in fits], index)
        if len(named) != 1:
            return Decision(None, f"betaler {t.counterparty_iban} en bedrag {t.amount.format_nl()} passen bij "
                                  f"{len(households)} huishoudens; de omschrijving wijst er geen één aan",
                            candidates=tuple(households))
        fits = [(i, p) for i, p in fits if i.household_id == named[0]]
    income, payment = min(fits, key=lambda f: (abs((f[1].due_on - day).days), abs(f[1].amount.cents - t.amount.cents),
                                               f[0].id))
    exact = "precies" if payment.amount == t.amount else f"binnen {index.tolerance_percent}% van"
    return Decision(MatchKind.EXPECTED_INCOME,
                    f"{income.source.value} van {t.counterparty_name or t.counterparty_iban}: {exact} de verwachte "
                    f"{payment.amount.format_nl()} van {payment.due_on:%d-%m-%Y}",
                    income.household_id, income=income, source=income.source, covers=_covers(payment, t.amount))


def _fits_of_named(line: Line, payer: PayerIndex, index: MatchingIndex
                   ) -> list[tuple[ExpectedIncome, ExpectedPayment]] | None:
    """A shortcut for the common case, with the same outcome as comparing with every expectation: the line
    names one household by its kenmerk or BSN and fits that household's expectation. Whatever else fits,
    the remittance then names exactly one fitting household — unless a payer's reference could name
    another, which only comparing with every expectation can tell (such payers are not short-cut)."""
    if payer.has_references:
        return None
    named = set(_households_named_by(line, index))
    if not named:
        return None
    fits = payer.fitting_households(named, line.booking_date, line.transaction.amount, index)
    return fits if len({income.household_id for income, _ in fits}) == 1 else None


_TOESLAG_NAMES = {source: re.compile(rf"\b{source.value.replace('-', '[ -]?')}\b", re.IGNORECASE)
                  for source in TOESLAGEN}


def _toeslagen_named_in(text: str) -> frozenset[IncomeSource]:
    """The toeslagen a remittance names ("Zorgtoeslag 2025", "kindgebonden budget")."""
    return frozenset(source for source, name in _TOESLAG_NAMES.items() if name.search(text))


def _households_named_by(line: Line, index: MatchingIndex) -> list[int]:
    """The households the remittance names by their own kenmerk or by BSN."""
    named = [h for h in (_referenced_household(line),) if h is not None]
    for bsn in set(_BSN_IN_TEXT.findall(line.text)):
        named += index.households_of_bsn(bsn)
    return named


def _covers(payment: ExpectedPayment, amount: Money) -> tuple[tuple[date, Money], ...]:
    """The months the received amount pays, in the shares of the expected payment (a difference goes to the
    last month: a toeslag's voorschot, recalculated)."""
    if not payment.covers:
        return ()
    months = [m for m, _ in payment.covers]
    shares = [s.cents for _, s in payment.covers]
    shares[-1] += amount.cents - payment.amount.cents
    if shares[-1] < 0:
        return ((months[0], amount),)
    return tuple((m, Money(c)) for m, c in zip(months, shares, strict=True) if c)


def _named_households(line: Line, households: Sequence[int], incomes: Sequence[ExpectedIncome],
                      index: MatchingIndex) -> list[int]:
    """The fitting households the remittance names: by an expectation's reference, the household's own
    kenmerk, or its BSN."""
    text = _compact(line.text)
    named = set(_households_named_by(line, index))
    for income in incomes:
        if income.references and any(_compact(ref) and _compact(ref) in text for ref in income.references):
            named.add(income.household_id)
    return sorted(named & set(households))


def _compact(text: str) -> str:
    return re.sub(r"[\s.\-/]", "", text).upper()


def _referenced_household(line: Line) -> int | None:
    t = line.transaction
    for candidate in (t.structured_reference, *_KENMERK_IN_TEXT.findall(t.remittance_text)):
        household = household_of_reference(candidate or "")
        if household is not None:
            return household
    return None


def _source_for(line: Line, household_id: int, index: MatchingIndex) -> tuple[ExpectedIncome | None,
                                                                              IncomeSource, str]:
    finder = index.open_payment
    found = finder(household_id, line.transaction.amount, line.booking_date) if callable(finder) else None
    if found is None:
        return None, IncomeSource.OVERIG, ""
    income, payment = found
    return income, income.source, (f"; het is de {income.source.value} van {payment.amount.format_nl()} die op "
                                   f"{payment.due_on:%d-%m-%Y} werd verwacht")


def _reference(line: Line, index: MatchingIndex) -> Decision | None:
    household = _referenced_household(line)
    if household is None:
        return None
    from_gemeente = _from_its_gemeente(line, household, index)
    if from_gemeente:
        # Before any expected income: a toeslag voorschot the gemeente put in has the toeslag's amount, but
        # the gemeente never pays the toeslag itself.
        inleg = _open_inleg(line.transaction.amount, index.inleg.get(household, ()))
        if inleg is not None:
            index.inleg.setdefault(household, []).append(-line.transaction.amount)
            return Decision(MatchKind.GEMEENTE_INLEG, f"betalingskenmerk van huishouden {household}, van de gemeente: "
                                                      f"{inleg}", household)
    income, source, why = _source_for(line, household, index)
    if income is None and from_gemeente:
        # Money from the gemeente that is not the bijstand it was expected to pay: the inrichtingskrediet
        # (a loan, held apart: never spendable income), bijzondere bijstand, a correction. A budgetbeheerder
        # decides what it is (the work queue's assignment books a krediet as a krediet).
        return Decision(None, f"betalingskenmerk van huishouden {household}, van de gemeente maar geen verwachte "
                              "bijstand: inrichtingskrediet, bijzondere bijstand of een correctie? Toewijzen met "
                              "het juiste doel", candidates=(household,))
    return Decision(MatchKind.REFERENCE, f"betalingskenmerk van huishouden {household}{why}", household,
                    income=income, source=source)


def _open_inleg(amount: Money, booked: Sequence[Money]) -> str | None:
    """Why `amount` is the gemeente's transfer of money it put in by the rules, or None: it is what is still
    to be received in all, or one amount put in, and never more than is still to be received."""
    still = Money.sum(booked)
    put_in = [a for a in booked if a.cents > 0]
    if amount.cents <= 0 or amount > still:
        return None
    if amount == still:
        return f"het nog te ontvangen bedrag van wat de gemeente inlegde ({still.format_nl()})"
    if amount in put_in:
        return f"een inleg van {amount.format_nl()} (nog te ontvangen: {still.format_nl()})"
    return None


def _from_its_gemeente(line: Line, household: int, index: MatchingIndex) -> bool:
    """Whether the line's payer is the household's gemeente: the IBAN its bijstand is expected from, or the
    gemeente's own account in its settings."""
    iban = line.transaction.counterparty_iban or ""
    if iban and index.gemeente_iban_of.get(household) == iban:
        return True
    incomes = index.incomes_by_payer.get(iban, ())
    return any(i.household_id == household and i.source in _GEMEENTE_SOURCES for i in incomes)


_GEMEENTE_SOURCES = frozenset({IncomeSource.BIJSTAND, IncomeSource.BIJSTAND_VOORSCHOT})


def _creditor_refund(line: Line, index: MatchingIndex) -> Decision | None:
    t = line.transaction
    creditors = index.creditors_by_iban.get(t.counterparty_iban or "")
    if not creditors:
        return None
    households = sorted({c.household_id for c in creditors})
    if len(households) > 1:
        return Decision(None, f"{t.counterparty_name or t.counterparty_iban} is crediteur van {len(households)} "
                              "huishoudens; zonder kenmerk is niet te zien van wie dit geld is",
                        candidates=tuple(households))
    creditor = creditors[0]
    return Decision(MatchKind.CREDITOR_REFUND,
                    f"terugbetaling van crediteur {creditor.organisation} ({creditor.category.value}) aan huishouden "
                    f"{creditor.household_id}", creditor.household_id, source=IncomeSource.OVERIG, creditor=creditor)


def _client_transfer(line: Line, index: MatchingIndex) -> Decision | None:
    households = index.clients_by_iban.get(line.transaction.counterparty_iban or "")
    if not households:
        return None
    if len(set(households)) > 1:
        return Decision(None, f"rekening {line.transaction.counterparty_iban} is van meer dan één huishouden",
                        candidates=tuple(sorted(set(households))))
    household = households[0]
    income, source, why = _source_for(line, household, index)
    return Decision(MatchKind.CLIENT_TRANSFER, f"overboeking van de eigen rekening van huishouden {household}{why}",
                    household, income=income, source=source)

