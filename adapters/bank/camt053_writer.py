"""Writing CAMT.053 statements from `StatementFile` records: the bank's side, for tests, demos, the
simulation and the benchmark.

`write_camt053(file)` writes exactly what the records hold, in the shape of `file.version` (camt.053.001.02
to .08), and leaves out what they leave empty; `parse_camt053(write_camt053(f)).statements ==
f.statements` for every file the reader can produce. Where ISO 20022 lets a bank say the same thing in
more than one way, `style` picks the way a Dutch bank does it, so the reader is tested against the
variety it meets in practice. A style never adds or drops information the reader keeps; it only changes
where and how it is written (and adds things the reader ignores).

The styles, and where what they do comes from (public example files found by code search, and the
banks' format descriptions, of which only the outlines could be read here):

- "generic": the plain ISO/Betaalvereniging shape, on one line (no indentation). BkTxCd as Domn when the
  code is domain-family-subfamily, else Prtry; AcctSvcrRef on the entry, repeated in TxDtls only where it
  differs; a bare entry (one transaction without details of its own) has no NtryDtls.
- "abnamro", after a real ABN AMRO camt.053.001.02 export: amounts zero-padded to 15 digits before the point
  (000000000000087.71) and ElctrncSeqNb to 18 digits; GrpHdr/MsgPgntn; Domn plus ABN AMRO's N-code with
  issuer ABNAMRO (N411 standing order, N426 card payment, N944); AcctSvcrRef on the entry and again in every
  TxDtls/Refs; EndToEndId NOTPROVIDED when the payer gave none; the transaction amount in AmtDtls/TxAmt
  (also in .03+, beside TxDtls/Amt); both DbtrAgt and CdtrAgt, its own BIC ABNANL2A on the organisation's
  side. ABN AMRO reports the previous closing balance (PRCD), not OPBD: `BANK_STYLES["abnamro"]
  .opening_balance` tells whoever builds records in its style (the writer cannot change a record's kind).
- "rabobank", after a real Rabo Internetbankieren camt.053.001.02 export: RvslInd on every entry (false
  unless it is a reversal); BkTxCd repeated in every TxDtls; Rabobank's three-digit codes as Prtry (541: SEPA
  credit transfer received; Rabobank sends only those, the style adds them beside Domn so no ISO code is
  lost); BICs with the branch code XXX (RABONL2UXXX); the counterparty's PstlAdr with its country (here taken
  from the IBAN); a TxsSummry with the number and sum of entries; OPBD and CLBD; the servicer RABONL2U.
- "ing", after ING's format descriptions and a public test file with ING's codes: Domn plus ING's short
  codes without issuer (ET transfer, EI direct debit, EIST its reversal); the transaction amount in
  AmtDtls/TxAmt (also in .03+); Btch with NbOfTxs, TtlAmt and CdtDbtInd; the servicer INGBNL2A. Repeating
  the entry's AcctSvcrRef in every TxDtls/Refs is an assumption, not something seen in an ING file.

Version differences written: `<Sts>BOOK</Sts>` and `Dbtr/Nm` up to .06, `<Sts><Cd>BOOK</Cd></Sts>` and
`Dbtr/Pty/Nm` from .07 (ISO's BankToCustomerStatementV07 introduced EntryStatus1Choice and Party35Choice);
`BIC` in .02 and .03, `BICFI` from .04; the transaction amount in AmtDtls/TxAmt only in .02 (TxDtls/Amt and
TxDtls/CdtDbtInd exist from .03), so .02 cannot hold a transaction whose direction differs from its
entry's and such a file is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time

from lxml import etree

from budget_ledger.adapters.bank.camt053 import CAMT053_VERSIONS, namespace_for
from budget_ledger.bank_statements import (
    Balance,
    BalanceKind,
    BankTransaction,
    CreditDebit,
    Statement,
    StatementEntry,
    StatementFile,
)
from budget_ledger.clock import AMSTERDAM
from budget_ledger.ledger.money import Money

__all__ = ["BANK_STYLES", "STYLES", "BankStyle", "write_camt053"]

_USTRD_MAX = 140
_RETURN_INFO_MAX = 105
_NOT_PROVIDED = "NOTPROVIDED"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(frozen=True, slots=True)
class BankStyle:
    """How one bank writes the facts of a statement; every switch is lossless for the reader."""

    name: str
    servicer_bic: str | None = None
    """Acct/Svcr/FinInstnId: the bank's own BIC."""
    opening_balance: BalanceKind = BalanceKind.OPENING
    """The opening balance the bank reports (OPBD or PRCD): for whoever builds records in its style."""
    pad_amounts: bool = False
    pad_sequence_numbers: bool = False
    message_pagination: bool = False
    always_reversal_indicator: bool = False
    proprietary_codes: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)
    """Domain code -> (the bank's proprietary code, its issuer), written as Prtry beside Domn."""
    repeat_code_in_details: bool = False
    servicer_reference_in_details: bool = False
    amount_details_always: bool = False
    batch_totals: bool = False
    branch_code_bics: bool = False
    counterparty_country: bool = False
    own_agent: bool = False
    not_provided_end_to_end: bool = False
    transaction_summary: bool = False
    indented: bool = True
    """Line breaks and indentation, as the banks' example files have; the generic style writes one line."""


BANK_STYLES: dict[str, BankStyle] = {
    "generic": BankStyle("generic", indented=False),
    "ing": BankStyle(
        "ing",
        servicer_bic="INGBNL2A",
        proprietary_codes={
            "PMNT-RCDT-ESCT": ("ET", None),
            "PMNT-RDDT-ESDD": ("EI", None),
            "PMNT-IDDT-UPDD": ("EIST", None),
        },
        servicer_reference_in_details=True,
        amount_details_always=True,
        batch_totals=True,
    ),
    "rabobank": BankStyle(
        "rabobank",
        servicer_bic="RABONL2U",
        always_reversal_indicator=True,
        proprietary_codes={"PMNT-RCDT-ESCT": ("541", None)},
        repeat_code_in_details=True,
        branch_code_bics=True,
        counterparty_country=True,
        transaction_summary=True,
    ),
    "abnamro": BankStyle(
        "abnamro",
        servicer_bic="ABNANL2A",
        opening_balance=BalanceKind.PREVIOUSLY_CLOSED,
        pad_amounts=True,
        pad_sequence_numbers=True,
        message_pagination=True,
        proprietary_codes={
            "PMNT-ICDT-STDO": ("N411", "ABNAMRO"),
            "PMNT-CCRD-POSD": ("N426", "ABNAMRO"),
            "XTND-NTAV-NTAV": ("N944", "ABNAMRO"),
        },
        servicer_reference_in_details=True,
        amount_details_always=True,
        batch_totals=True,
        own_agent=True,
        not_provided_end_to_end=True,
    ),
}
STYLES = tuple(BANK_STYLES)

_NAMES = (
    "Document BkToCstmrStmt GrpHdr MsgId CreDtTm MsgPgntn PgNb LastPgInd Stmt Id ElctrncSeqNb LglSeqNb FrToDt "
    "FrDtTm ToDtTm Acct IBAN Ccy Svcr FinInstnId BIC BICFI Bal Tp CdOrPrtry Cd Amt CdtDbtInd Dt TxsSummry "
    "TtlNtries TtlCdtNtries TtlDbtNtries NbOfNtries Sum Ntry NtryRef RvslInd Sts BookgDt ValDt AcctSvcrRef "
    "BkTxCd Domn Fmly SubFmlyCd Prtry Issr NtryDtls Btch PmtInfId NbOfTxs TtlAmt TxDtls Refs InstrId "
    "EndToEndId AmtDtls TxAmt RltdPties Dbtr Cdtr DbtrAcct CdtrAcct Pty Nm PstlAdr Ctry RltdAgts DbtrAgt "
    "CdtrAgt RmtInf Ustrd Strd CdtrRefInf Ref RtrInf Rsn AddtlInf AddtlNtryInf"
).split()


def write_camt053(file: StatementFile, *, style: str = "generic") -> bytes:
    """The CAMT.053 XML (UTF-8, with declaration) of `file` in version `file.version`, as bank `style` writes it."""
    if file.version not in CAMT053_VERSIONS:
        raise ValueError(f"cannot write {file.version!r}: the versions are {', '.join(CAMT053_VERSIONS)}")
    if style not in BANK_STYLES:
        raise ValueError(f"unknown style {style!r}: choose one of {', '.join(STYLES)}")
    writer = _Writer(file.version, BANK_STYLES[style])
    return writer.document(file)


def _leaf(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _lines(text: str, limit: int) -> list[str]:
    """Cut `text` into pieces of at most `limit` characters at single spaces, so that the pieces joined with
    one space (as the reader joins Ustrd lines) give the text back. Without such a space it is cut hard."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = next(
            (
                i
                for i in range(min(limit, len(rest) - 2), 0, -1)
                if rest[i] == " " and not rest[i - 1].isspace() and not rest[i + 1].isspace()
            ),
            None,
        )
        if cut is None:
            pieces.append(rest[:limit])
            rest = rest[limit:]
        else:
            pieces.append(rest[:cut])
            rest = rest[cut + 1:]
    pieces.append(rest)
    return pieces


def _bare_transaction(entry: StatementEntry) -> BankTransaction:
    """What the reader makes of an entry without transaction details."""
    return BankTransaction(
        amount=entry.amount,
        credit_debit=entry.credit_debit,
        account_servicer_reference=entry.account_servicer_reference,
        payment_information_id=entry.batch_payment_information_id,
        bank_transaction_code=entry.bank_transaction_code,
    )


class _Writer:
    def __init__(self, version: str, style: BankStyle) -> None:
        self.number = int(version[-2:])
        self.namespace = namespace_for(version)
        self.style = style
        self.q = {name: f"{{{self.namespace}}}{name}" for name in _NAMES}
        self.bic_tag = self.q["BIC"] if self.number <= 3 else self.q["BICFI"]
        self.choice_shapes = self.number >= 7

    # -- formatting ---------------------------------------------------------------------------

    def amount(self, money: Money) -> str:
        whole, cents = divmod(abs(money.cents), 100)
        if self.style.pad_amounts:
            return f"{whole:015d}.{cents:02d}"
        return f"{whole}.{cents:02d}"

    def bic(self, bic: str) -> str:
        return bic + "XXX" if self.style.branch_code_bics and len(bic) == 8 else bic

    # -- document -----------------------------------------------------------------------------

    def document(self, file: StatementFile) -> bytes:
        q = self.q
        root = etree.Element(q["Document"], nsmap={None: self.namespace})
        message = etree.SubElement(root, q["BkToCstmrStmt"])
        header = etree.SubElement(message, q["GrpHdr"])
        _leaf(header, q["MsgId"], file.message_id)
        if file.created_at is not None:
            _leaf(header, q["CreDtTm"], file.created_at.isoformat())
        if self.style.message_pagination:
            pagination = etree.SubElement(header, q["MsgPgntn"])
            _leaf(pagination, q["PgNb"], "1")
            _leaf(pagination, q["LastPgInd"], "true")
        for statement in file.statements:
            self.statement(message, statement)
        body = etree.tostring(root, encoding="UTF-8", xml_declaration=False, pretty_print=self.style.indented)
        return _DECLARATION + body

    def statement(self, parent: etree._Element, statement: Statement) -> None:
        q, sub = self.q, etree.SubElement
        element = sub(parent, q["Stmt"])
        _leaf(element, q["Id"], statement.statement_id)
        for tag, number in (("ElctrncSeqNb", statement.electronic_sequence), ("LglSeqNb", statement.legal_sequence)):
            if number is not None:
                _leaf(element, q[tag], f"{number:018d}" if self.style.pad_sequence_numbers else str(number))
        if statement.created_at is not None:
            _leaf(element, q["CreDtTm"], statement.created_at.isoformat())
        if statement.from_date is not None or statement.to_date is not None:
            period = sub(element, q["FrToDt"])
            if statement.from_date is not None:
                start = datetime.combine(statement.from_date, time(0, 0), tzinfo=AMSTERDAM)
                _leaf(period, q["FrDtTm"], start.isoformat())
            if statement.to_date is not None:
                end = datetime.combine(statement.to_date, time(23, 59, 59), tzinfo=AMSTERDAM)
                _leaf(period, q["ToDtTm"], end.isoformat())
        account = sub(element, q["Acct"])
        _leaf(sub(account, q["Id"]), q["IBAN"], statement.account_iban)
        _leaf(account, q["Ccy"], statement.currency)
        if self.style.servicer_bic is not None:
            servicer = sub(sub(account, q["Svcr"]), q["FinInstnId"])
            _leaf(servicer, self.bic_tag, self.bic(self.style.servicer_bic))
        for balance in statement.balances:
            self.balance(element, balance, statement.currency)
        if self.style.transaction_summary:
            self.summary(element, statement.entries)
        for entry in statement.entries:
            self.entry(element, entry, statement.currency)

    def balance(self, parent: etree._Element, balance: Balance, currency: str) -> None:
        q, sub = self.q, etree.SubElement
        element = sub(parent, q["Bal"])
        _leaf(sub(sub(element, q["Tp"]), q["CdOrPrtry"]), q["Cd"], balance.kind.value)
        _leaf(element, q["Amt"], self.amount(balance.amount)).set("Ccy", currency)
        _leaf(element, q["CdtDbtInd"], "DBIT" if balance.amount.is_negative else "CRDT")
        _leaf(sub(element, q["Dt"]), q["Dt"], balance.on.isoformat())

    def summary(self, parent: etree._Element, entries: tuple[StatementEntry, ...]) -> None:
        q, sub = self.q, etree.SubElement
        element = sub(parent, q["TxsSummry"])
        credits = [e.amount for e in entries if e.credit_debit is CreditDebit.CREDIT]
        debits = [e.amount for e in entries if e.credit_debit is CreditDebit.DEBIT]
        for tag, amounts in (("TtlNtries", credits + debits), ("TtlCdtNtries", credits), ("TtlDbtNtries", debits)):
            totals = sub(element, q[tag])
            _leaf(totals, q["NbOfNtries"], str(len(amounts)))
            _leaf(totals, q["Sum"], str(Money.sum(amounts)))

    # -- entries ------------------------------------------------------------------------------

    def entry(self, parent: etree._Element, entry: StatementEntry, currency: str) -> None:
        q, sub, style = self.q, etree.SubElement, self.style
        element = sub(parent, q["Ntry"])
        if entry.entry_reference is not None:
            _leaf(element, q["NtryRef"], entry.entry_reference)
        _leaf(element, q["Amt"], self.amount(entry.amount)).set("Ccy", currency)
        _leaf(element, q["CdtDbtInd"], entry.credit_debit.value)
        if entry.reversal or style.always_reversal_indicator:
            _leaf(element, q["RvslInd"], "true" if entry.reversal else "false")
        if self.choice_shapes:
            _leaf(sub(element, q["Sts"]), q["Cd"], entry.status.value)
        else:
            _leaf(element, q["Sts"], entry.status.value)
        _leaf(sub(element, q["BookgDt"]), q["Dt"], entry.booking_date.isoformat())
        if entry.value_date is not None:
            _leaf(sub(element, q["ValDt"]), q["Dt"], entry.value_date.isoformat())
        if entry.account_servicer_reference is not None:
            _leaf(element, q["AcctSvcrRef"], entry.account_servicer_reference)
        self.bank_code(element, entry.bank_transaction_code)
        has_batch = (
            entry.batch_message_id is not None
            or entry.batch_payment_information_id is not None
            or entry.batch_count is not None
        )
        bare = len(entry.transactions) == 1 and entry.transactions[0] == _bare_transaction(entry)
        if has_batch or (entry.transactions and not bare):
            details = sub(element, q["NtryDtls"])
            if has_batch:
                self.batch(details, entry, currency)
            if not bare:
                for transaction in entry.transactions:
                    self.transaction(details, transaction, entry, currency)
        if entry.additional_info:
            _leaf(element, q["AddtlNtryInf"], entry.additional_info)

    def bank_code(self, parent: etree._Element, code: str | None) -> None:
        """BkTxCd: Domn for an ISO domain-family-subfamily code, else Prtry; empty (allowed) without a code."""
        q, sub = self.q, etree.SubElement
        element = sub(parent, q["BkTxCd"])
        if code is None:
            return
        parts = code.split("-")
        if len(parts) == 3 and all(len(p) == 4 and p.isalpha() and p.isupper() for p in parts):
            domain = sub(element, q["Domn"])
            _leaf(domain, q["Cd"], parts[0])
            family = sub(domain, q["Fmly"])
            _leaf(family, q["Cd"], parts[1])
            _leaf(family, q["SubFmlyCd"], parts[2])
            proprietary = self.style.proprietary_codes.get(code)
            if proprietary is not None:
                own = sub(element, q["Prtry"])
                _leaf(own, q["Cd"], proprietary[0])
                if proprietary[1] is not None:
                    _leaf(own, q["Issr"], proprietary[1])
        else:
            _leaf(sub(element, q["Prtry"]), q["Cd"], code)

    def batch(self, parent: etree._Element, entry: StatementEntry, currency: str) -> None:
        q = self.q
        element = etree.SubElement(parent, q["Btch"])
        if entry.batch_message_id is not None:
            _leaf(element, q["MsgId"], entry.batch_message_id)
        if entry.batch_payment_information_id is not None:
            _leaf(element, q["PmtInfId"], entry.batch_payment_information_id)
        if entry.batch_count is not None:
            _leaf(element, q["NbOfTxs"], str(entry.batch_count))
        if self.style.batch_totals:
            _leaf(element, q["TtlAmt"], self.amount(entry.amount)).set("Ccy", currency)
            _leaf(element, q["CdtDbtInd"], entry.credit_debit.value)

    def transaction(
        self, parent: etree._Element, tx: BankTransaction, entry: StatementEntry, currency: str
    ) -> None:
        q, sub, style = self.q, etree.SubElement, self.style
        element = sub(parent, q["TxDtls"])
        servicer_reference = tx.account_servicer_reference
        if servicer_reference == entry.account_servicer_reference and not style.servicer_reference_in_details:
            servicer_reference = None
        information_id = tx.payment_information_id
        if information_id == entry.batch_payment_information_id:
            information_id = None
        end_to_end = tx.end_to_end_id
        if end_to_end is None and style.not_provided_end_to_end:
            end_to_end = _NOT_PROVIDED
        references = (
            ("AcctSvcrRef", servicer_reference),
            ("PmtInfId", information_id),
            ("InstrId", tx.instruction_id),
            ("EndToEndId", end_to_end),
        )
        if any(value is not None for _, value in references):
            refs = sub(element, q["Refs"])
            for tag, value in references:
                if value is not None:
                    _leaf(refs, q[tag], value)
        if self.number >= 3:
            _leaf(element, q["Amt"], self.amount(tx.amount)).set("Ccy", currency)
            _leaf(element, q["CdtDbtInd"], tx.credit_debit.value)
        elif tx.credit_debit is not entry.credit_debit:
            raise ValueError(
                "camt.053.001.02 has no CdtDbtInd per transaction, so it cannot hold a transaction whose "
                "direction differs from its entry's; write camt.053.001.03 or later"
            )
        if self.number == 2 or style.amount_details_always:
            amount = sub(sub(element, q["AmtDtls"]), q["TxAmt"])
            _leaf(amount, q["Amt"], self.amount(tx.amount)).set("Ccy", currency)
        if tx.bank_transaction_code is not None and (
            tx.bank_transaction_code != entry.bank_transaction_code or style.repeat_code_in_details
        ):
            self.bank_code(element, tx.bank_transaction_code)
        self.parties(element, tx)
        self.remittance(element, tx)
        if tx.return_reason is not None or tx.return_additional_info is not None:
            returned = sub(element, q["RtrInf"])
            if tx.return_reason is not None:
                reason = sub(returned, q["Rsn"])
                _leaf(reason, q["Cd"] if len(tx.return_reason) <= 4 else q["Prtry"], tx.return_reason)
            if tx.return_additional_info:
                for line in _lines(tx.return_additional_info, _RETURN_INFO_MAX):
                    _leaf(returned, q["AddtlInf"], line)

    def parties(self, parent: etree._Element, tx: BankTransaction) -> None:
        """The counterparty as Dbtr of a credit or Cdtr of a debit, with its account and its bank."""
        q, sub, style = self.q, etree.SubElement, self.style
        credit = tx.credit_debit is CreditDebit.CREDIT
        party_tag, account_tag = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
        country = None
        if style.counterparty_country and tx.counterparty_iban and tx.counterparty_iban[:2].isalpha():
            country = tx.counterparty_iban[:2].upper()
        if tx.counterparty_name or tx.counterparty_iban:
            parties = sub(parent, q["RltdPties"])
            if tx.counterparty_name or country:
                party = sub(parties, q[party_tag])
                holder = sub(party, q["Pty"]) if self.choice_shapes else party
                if tx.counterparty_name:
                    _leaf(holder, q["Nm"], tx.counterparty_name)
                if country:
                    _leaf(sub(holder, q["PstlAdr"]), q["Ctry"], country)
            if tx.counterparty_iban:
                _leaf(sub(sub(parties, q[account_tag]), q["Id"]), q["IBAN"], tx.counterparty_iban)
        own_bic = style.servicer_bic if style.own_agent else None
        if tx.counterparty_bic or own_bic:
            agents = sub(parent, q["RltdAgts"])
            debtor_bic, creditor_bic = (tx.counterparty_bic, own_bic) if credit else (own_bic, tx.counterparty_bic)
            for tag, bic in (("DbtrAgt", debtor_bic), ("CdtrAgt", creditor_bic)):
                if bic:
                    _leaf(sub(sub(agents, q[tag]), q["FinInstnId"]), self.bic_tag, self.bic(bic))

    def remittance(self, parent: etree._Element, tx: BankTransaction) -> None:
        q, sub = self.q, etree.SubElement
        if not tx.remittance_text and tx.structured_reference is None:
            return
        element = sub(parent, q["RmtInf"])
        if tx.remittance_text:
            for line in _lines(tx.remittance_text, _USTRD_MAX):
                _leaf(element, q["Ustrd"], line)
        if tx.structured_reference is not None:
            reference = sub(sub(element, q["Strd"]), q["CdtrRefInf"])
            kind = sub(reference, q["Tp"])
            _leaf(sub(kind, q["CdOrPrtry"]), q["Cd"], "SCOR")
            if tx.structured_reference_issuer is not None:
                _leaf(kind, q["Issr"], tx.structured_reference_issuer)
            _leaf(reference, q["Ref"], tx.structured_reference)
