"""SEPA credit-transfer files (pain.001.001.03 and pain.001.001.09) for a payment run.

A payment run hands over a `PaymentBatch`; `render_pain001` turns it into the XML a budgetbeheerder uploads
to the bank (domain.md C1, S18). Every file is validated against the official ISO 20022 schema shipped in
`schemas/` before it is returned, so a file the bank would refuse is never written: a refusal is a
`Pain001Error` whose message names what is wrong.

The files follow the Dutch Payments Association's implementation guidelines:

- one transaction per payment, each with its own EndToEndId, so the statement (CAMT.053) and a pain.002
  reject can be matched back to the payment;
- PmtMtd TRF, BtchBookg true (the bank books each payment information block as one line), SvcLvl SEPA,
  ChrgBr SLEV, amounts in EUR with exactly two decimals, NbOfTxs and CtrlSum in the group header (all
  transfers) and per payment information block;
- a Dutch betalingskenmerk travels as structured remittance (CdtrRefInf, type SCOR, issuer CUR), an ISO 11649
  RF reference as SCOR without issuer, free text as Ustrd (at most 140 characters);
- the debtor agent is identified by its BIC, or by Othr/Id NOTPROVIDED when none is known (BIC is never
  required in SEPA, domain.md C4); the creditor agent is left out without a BIC;
- postal addresses are structured (StrtNm, BldgNb, PstCd, TwnNm, Ctry; town and country always), in .09
  and in .03 alike, never as free address lines: from October 2026 Dutch banks no longer accept
  unstructured addresses in credit-transfer files (Betaalvereniging, "Structured ISO 20022 address
  information"), and the .03 schema (PostalAddress6) has the same structured elements in the same order;
- names and texts are reduced to the SEPA character set (é becomes e, ß ss, & +, anything else a space) and
  cut to their length limits (names 70). Identifiers (MsgId, PmtInfId, EndToEndId) are never rewritten,
  since they must come back unchanged in the bank's reports: one outside the rules is refused.

The XML is generated with lxml rather than with the sepaxml library: sepaxml 2.7.0 writes only unstructured
remittance (Ustrd) and address lines, so it cannot carry the CUR betalingskenmerk, an RF reference or a
structured .09 address. Only its copies of the ISO schemas are used (see schemas/README.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from lxml import etree

from budget_ledger.errors import InvalidInputError
from budget_ledger.identifiers import parse_betalingskenmerk, parse_iban, parse_rf_reference
from budget_ledger.ledger.money import Money

__all__ = [
    "PAIN_VERSIONS",
    "CreditTransfer",
    "Pain001Error",
    "Party",
    "PaymentBatch",
    "PaymentInfo",
    "PostalAddress",
    "render_pain001",
    "sepa_text",
    "validate_pain001",
]

PAIN_VERSIONS = ("pain.001.001.03", "pain.001.001.09")
REFERENCE_KINDS = ("betalingskenmerk", "rf", "vrij")

_NAME_MAX = 70
_USTRD_MAX = 140
_ID_MAX = 35
_MAX_AMOUNT = Money(99_999_999_999)  # 999,999,999.99: the EPC's largest credit transfer
_NOT_PROVIDED = "NOTPROVIDED"
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")


# ---------------------------------------------------------------------------------------------------------
# What a payment run hands over
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostalAddress:
    town: str
    country: str = "NL"
    street: str | None = None
    building_number: str | None = None
    postcode: str | None = None


@dataclass(frozen=True)
class Party:
    name: str
    iban: str
    bic: str | None = None
    address: PostalAddress | None = None


@dataclass(frozen=True)
class CreditTransfer:
    end_to_end_id: str
    amount: Money
    creditor: Party
    reference_kind: str  # "betalingskenmerk" | "rf" | "vrij"
    reference: str


@dataclass(frozen=True)
class PaymentInfo:
    payment_info_id: str
    requested_execution_date: date
    transfers: tuple[CreditTransfer, ...]


@dataclass(frozen=True)
class PaymentBatch:
    message_id: str
    created_at: datetime
    initiating_party: str
    debtor: Party
    payments: tuple[PaymentInfo, ...]


class Pain001Error(ValueError):
    """A batch that cannot become a valid pain.001 file, or a file that does not validate.

    `problems` lists every problem found (for a file: "line N: message"); the message joins them.
    """

    def __init__(self, summary: str, problems: Iterable[str] = ()) -> None:
        self.problems = tuple(problems)
        text = summary if not self.problems else f"{summary}: " + "; ".join(self.problems)
        super().__init__(text)


# ---------------------------------------------------------------------------------------------------------
# Texts and identifiers in the SEPA character set
# ---------------------------------------------------------------------------------------------------------

_SEPA_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ")
# Letters that Unicode decomposition does not reduce to a base letter, and common punctuation.
_SPELLED_OUT = {
    "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i",
    "&": "+", "‘": "'", "’": "'", "‚": "'", "`": "'", "´": "'", "“": "'", "”": "'", '"': "'",
    "–": "-", "—": "-", "‐": "-", "‑": "-", "_": "-",
}
_ID_PATTERN = re.compile(r"^[A-Za-z0-9/\-?:().,'+]{1,35}$")
_BIC_PATTERN = re.compile(r"^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$")
_COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")


def sepa_text(text: str, limit: int) -> str:
    """Reduce a text to the SEPA character set and cut it to `limit` characters.

    Accents are dropped (é → e, ü → u), a few letters are spelled out (ß → ss, & → +), anything else becomes
    a space; runs of whitespace collapse to one space.
    """
    out = []
    for char in unicodedata.normalize("NFKD", text):
        if char in _SEPA_CHARACTERS:
            out.append(char)
        elif char in _SPELLED_OUT:
            out.append(_SPELLED_OUT[char])
        elif unicodedata.combining(char):
            continue
        else:
            out.append(" ")
    return " ".join("".join(out).split())[:limit].rstrip()


def _identifier(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise Pain001Error(f"{where} is missing")
    if len(value) > _ID_MAX:
        raise Pain001Error(f"{where} {value!r} is longer than {_ID_MAX} characters")
    if not _ID_PATTERN.match(value) or value.startswith("/") or value.endswith("/") or "//" in value:
        raise Pain001Error(
            f"{where} {value!r} may hold only letters, digits and / - ? : ( ) . , ' + (no spaces), and may "
            "not start or end with '/' or contain '//'"
        )
    return value


def _name(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise Pain001Error(f"{where} is missing")
    cleaned = sepa_text(value, _NAME_MAX)
    if not cleaned:
        raise Pain001Error(f"{where} {value!r} is empty once reduced to the SEPA character set")
    return cleaned


def _from_input_error(error: InvalidInputError, where: str) -> Pain001Error:
    return Pain001Error(f"{where}: " + "; ".join(problem.reason for problem in error.problems))


# ---------------------------------------------------------------------------------------------------------
# Checking the batch: everything the XSD cannot say, in words a budgetbeheerder can act on
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CheckedParty:
    name: str
    iban: str
    bic: str | None
    address: PostalAddress | None


def _check_party(party: object, where: str) -> _CheckedParty:
    if not isinstance(party, Party):
        raise Pain001Error(f"{where} is not a Party")
    name = _name(party.name, f"{where} name")
    try:
        iban = parse_iban(party.iban or "", field=f"{where} IBAN").iban
    except InvalidInputError as error:
        raise _from_input_error(error, f"{where} IBAN {party.iban!r}") from None
    bic = None
    if party.bic:
        bic = "".join(party.bic.split()).upper()
        if not _BIC_PATTERN.match(bic):
            raise Pain001Error(f"{where} BIC {party.bic!r} is not a BIC (8 or 11 letters and digits)")
    address = party.address
    if address is not None:
        if not isinstance(address, PostalAddress):
            raise Pain001Error(f"{where} address is not a PostalAddress")
        for label, value in (("street", address.street), ("building number", address.building_number),
                             ("postcode", address.postcode)):
            if value is not None and not isinstance(value, str):
                raise Pain001Error(f"{where} address {label} {value!r} is not text")
        if not isinstance(address.town, str) or not sepa_text(address.town, 35):
            raise Pain001Error(f"{where} address has no town")
        if not isinstance(address.country, str) or not _COUNTRY_PATTERN.match(address.country):
            raise Pain001Error(f"{where} address country {address.country!r} is not a two-letter country code")
    return _CheckedParty(name, iban, bic, address)


def _check_remittance(transfer: CreditTransfer, where: str) -> str:
    kind = transfer.reference_kind
    if kind not in REFERENCE_KINDS:
        raise Pain001Error(f"{where} reference kind {kind!r} is unknown; use one of {', '.join(REFERENCE_KINDS)}")
    if not isinstance(transfer.reference, str):
        raise Pain001Error(f"{where} reference is missing")
    try:
        if kind == "betalingskenmerk":
            return parse_betalingskenmerk(transfer.reference, field="reference")
        if kind == "rf":
            return parse_rf_reference(transfer.reference, field="reference")
    except InvalidInputError as error:
        raise _from_input_error(error, f"{where} {kind} {transfer.reference!r}") from None
    text = sepa_text(transfer.reference, 10_000)
    if not text:
        raise Pain001Error(f"{where} free-text reference is empty")
    if len(text) > _USTRD_MAX:
        raise Pain001Error(
            f"{where} free-text reference has {len(text)} characters; a SEPA description has at most {_USTRD_MAX}"
        )
    return text


def _check_batch(batch: PaymentBatch) -> None:
    if not isinstance(batch, PaymentBatch):
        raise Pain001Error("render_pain001 needs a PaymentBatch")
    _identifier(batch.message_id, "message id (MsgId)")
    if not isinstance(batch.created_at, datetime):
        raise Pain001Error(f"created_at {batch.created_at!r} is not a date and time")
    _name(batch.initiating_party, "initiating party")
    _check_party(batch.debtor, "debtor")
    if not batch.payments:
        raise Pain001Error("the batch is empty: it has no payment information")
    seen_payment_ids: set[str] = set()
    seen_end_to_end: dict[str, str] = {}
    for p, payment in enumerate(batch.payments, start=1):
        if not isinstance(payment, PaymentInfo):
            raise Pain001Error(f"payment information {p} is not a PaymentInfo")
        pid = _identifier(payment.payment_info_id, f"payment information {p} id (PmtInfId)")
        if pid in seen_payment_ids:
            raise Pain001Error(f"payment information id {pid!r} occurs twice")
        seen_payment_ids.add(pid)
        when = payment.requested_execution_date
        if not isinstance(when, date) or isinstance(when, datetime):
            raise Pain001Error(f"payment information {pid}: the execution date {when!r} is not a date")
        if not payment.transfers:
            raise Pain001Error(f"payment information {pid} is empty: it has no transfers")
        for t, transfer in enumerate(payment.transfers, start=1):
            if not isinstance(transfer, CreditTransfer):
                raise Pain001Error(f"payment information {pid}, transfer {t} is not a CreditTransfer")
            e2e = _identifier(transfer.end_to_end_id, f"payment information {pid}, transfer {t} EndToEndId")
            where = f"transfer {e2e}"
            if e2e in seen_end_to_end:
                raise Pain001Error(
                    f"EndToEndId {e2e!r} occurs twice (in {seen_end_to_end[e2e]} and {pid}): each payment needs "
                    "its own, or the bank's reports cannot be matched"
                )
            seen_end_to_end[e2e] = pid
            if not isinstance(transfer.amount, Money):
                raise Pain001Error(f"{where}: the amount {transfer.amount!r} is not Money")
            if transfer.amount.cents <= 0:
                raise Pain001Error(f"{where}: the amount {transfer.amount} is not positive")
            if transfer.amount > _MAX_AMOUNT:
                raise Pain001Error(f"{where}: the amount {transfer.amount} is above the SEPA maximum {_MAX_AMOUNT}")
            _check_party(transfer.creditor, f"{where} creditor")
            _check_remittance(transfer, where)


# ---------------------------------------------------------------------------------------------------------
# Writing the XML
# ---------------------------------------------------------------------------------------------------------


def _local_time(moment: datetime) -> str:
    """CreDtTm as the Dutch guidelines show it: Amsterdam local time without an offset, whole seconds."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(_AMSTERDAM).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()


class _Writer:
    def __init__(self, version: str) -> None:
        self.version = version
        self.ns = f"urn:iso:std:iso:20022:tech:xsd:{version}"
        self.v09 = version == "pain.001.001.09"

    def el(self, parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
        node = etree.SubElement(parent, f"{{{self.ns}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    def document(self, batch: PaymentBatch) -> etree._Element:
        root = etree.Element(f"{{{self.ns}}}Document", nsmap={None: self.ns})
        initiation = self.el(root, "CstmrCdtTrfInitn")
        transfers = [t for p in batch.payments for t in p.transfers]
        header = self.el(initiation, "GrpHdr")
        self.el(header, "MsgId", batch.message_id)
        self.el(header, "CreDtTm", _local_time(batch.created_at))
        self.el(header, "NbOfTxs", str(len(transfers)))
        self.el(header, "CtrlSum", str(Money.sum(t.amount for t in transfers)))
        self.el(self.el(header, "InitgPty"), "Nm", _name(batch.initiating_party, "initiating party"))
        debtor = _check_party(batch.debtor, "debtor")
        for payment in batch.payments:
            self.payment_info(initiation, payment, debtor)
        return root

    def payment_info(self, parent: etree._Element, payment: PaymentInfo, debtor: _CheckedParty) -> None:
        info = self.el(parent, "PmtInf")
        self.el(info, "PmtInfId", payment.payment_info_id)
        self.el(info, "PmtMtd", "TRF")
        self.el(info, "BtchBookg", "true")
        self.el(info, "NbOfTxs", str(len(payment.transfers)))
        self.el(info, "CtrlSum", str(Money.sum(t.amount for t in payment.transfers)))
        self.el(self.el(self.el(info, "PmtTpInf"), "SvcLvl"), "Cd", "SEPA")
        when = payment.requested_execution_date.isoformat()
        if self.v09:
            self.el(self.el(info, "ReqdExctnDt"), "Dt", when)
        else:
            self.el(info, "ReqdExctnDt", when)
        self.party(info, "Dbtr", debtor)
        self.el(self.el(self.el(info, "DbtrAcct"), "Id"), "IBAN", debtor.iban)
        agent = self.el(self.el(info, "DbtrAgt"), "FinInstnId")
        if debtor.bic:
            self.el(agent, "BICFI" if self.v09 else "BIC", debtor.bic)
        else:
            self.el(self.el(agent, "Othr"), "Id", _NOT_PROVIDED)
        self.el(info, "ChrgBr", "SLEV")
        for transfer in payment.transfers:
            self.transfer(info, transfer)

    def transfer(self, parent: etree._Element, transfer: CreditTransfer) -> None:
        where = f"transfer {transfer.end_to_end_id}"
        creditor = _check_party(transfer.creditor, f"{where} creditor")
        tx = self.el(parent, "CdtTrfTxInf")
        self.el(self.el(tx, "PmtId"), "EndToEndId", transfer.end_to_end_id)
        self.el(self.el(tx, "Amt"), "InstdAmt", str(transfer.amount), Ccy="EUR")
        if creditor.bic:
            self.el(self.el(self.el(tx, "CdtrAgt"), "FinInstnId"), "BICFI" if self.v09 else "BIC", creditor.bic)
        self.party(tx, "Cdtr", creditor)
        self.el(self.el(self.el(tx, "CdtrAcct"), "Id"), "IBAN", creditor.iban)
        remittance = self.el(tx, "RmtInf")
        reference = _check_remittance(transfer, where)
        if transfer.reference_kind == "vrij":
            self.el(remittance, "Ustrd", reference)
            return
        creditor_reference = self.el(self.el(remittance, "Strd"), "CdtrRefInf")
        kind = self.el(creditor_reference, "Tp")
        self.el(self.el(kind, "CdOrPrtry"), "Cd", "SCOR")
        if transfer.reference_kind == "betalingskenmerk":
            self.el(kind, "Issr", "CUR")
        self.el(creditor_reference, "Ref", reference)

    def party(self, parent: etree._Element, tag: str, party: _CheckedParty) -> None:
        node = self.el(parent, tag)
        self.el(node, "Nm", party.name)
        if party.address is not None:
            self.address(node, party.address)

    def address(self, parent: etree._Element, address: PostalAddress) -> None:
        """A fully structured address, the same in .03 (PostalAddress6) and .09 (PostalAddress24): both
        schemas order StrtNm, BldgNb, PstCd, TwnNm, Ctry so, with nothing of their own in between."""
        node = self.el(parent, "PstlAdr")
        for tag, value in (("StrtNm", sepa_text(address.street or "", 70)),
                           ("BldgNb", sepa_text(address.building_number or "", 16)),
                           ("PstCd", sepa_text(address.postcode or "", 16)),
                           ("TwnNm", sepa_text(address.town, 35))):
            if value:
                self.el(node, tag, value)
        self.el(node, "Ctry", address.country)


def _check_version(version: object) -> str:
    if version not in PAIN_VERSIONS:
        raise Pain001Error(f"unknown pain.001 version {version!r}; this service writes {' and '.join(PAIN_VERSIONS)}")
    return version  # type: ignore[return-value]


def render_pain001(batch: PaymentBatch, version: str) -> bytes:
    """The batch as a pain.001 file (UTF-8 XML), validated against the version's XSD before it is returned."""
    _check_version(version)
    _check_batch(batch)
    root = _Writer(version).document(batch)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    validate_pain001(xml, version)
    return xml


# ---------------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------------


def _safe_parser() -> etree.XMLParser:
    # No entities, no DTDs, no network: a file or schema can never make the process fetch or expand anything.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@cache
def _schema(version: str) -> etree.XMLSchema:
    data = (resources.files(__package__) / "schemas" / f"{version}.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(data, _safe_parser()))


_TWO_DECIMALS = re.compile(r"^\d{1,9}\.\d{2}$")


def _sepa_rule_problems(root: etree._Element, ns: str) -> list[str]:
    """What the ISO schema allows but SEPA does not: amounts need EUR and exactly two decimals (the XSD
    allows five), and the control totals must add up."""
    names = {"p": ns}
    problems: list[str] = []

    def decimal_of(node: etree._Element) -> Decimal | None:
        try:
            return Decimal((node.text or "").strip())
        except InvalidOperation:
            return None

    def check_totals(scope: etree._Element, amounts: list[etree._Element], label: str) -> None:
        count = scope.find("p:NbOfTxs", names)
        if count is not None and count.text != str(len(amounts)):
            problems.append(f"line {count.sourceline}: {label} NbOfTxs is {count.text}, but it holds {len(amounts)}")
        control = scope.find("p:CtrlSum", names)
        values = [decimal_of(a) for a in amounts]
        if control is not None and None not in values:
            total = sum(values, Decimal(0))  # type: ignore[arg-type]
            if decimal_of(control) != total:
                problems.append(f"line {control.sourceline}: {label} CtrlSum is {control.text}, but the amounts add up to {total}")

    for amount in root.iterfind(".//p:InstdAmt", names):
        text = (amount.text or "").strip()
        if amount.get("Ccy") != "EUR":
            problems.append(f"line {amount.sourceline}: InstdAmt currency {amount.get('Ccy')!r} is not EUR")
        if not _TWO_DECIMALS.match(text) or Decimal(text) <= 0:
            problems.append(
                f"line {amount.sourceline}: InstdAmt {text!r} is not a SEPA amount (0.01 to 999999999.99, "
                "exactly two decimals)"
            )
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", names)
    if header is not None:
        check_totals(header, root.findall(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", names), "group header")
    for info in root.iterfind("p:CstmrCdtTrfInitn/p:PmtInf", names):
        check_totals(info, info.findall("p:CdtTrfTxInf/p:Amt/p:InstdAmt", names), "payment information")
    return problems


def validate_pain001(xml: bytes, version: str) -> None:
    """Validate a pain.001 file against the version's XSD and the SEPA rules the XSD cannot express.

    Raises `Pain001Error` with every problem as "line N: message".
    """
    _check_version(version)
    if not isinstance(xml, bytes):
        raise Pain001Error("validate_pain001 needs the file's bytes")
    try:
        root = etree.fromstring(xml, _safe_parser())
    except etree.XMLSyntaxError as error:
        raise Pain001Error(f"the file is not well-formed XML: line {error.lineno}: {error.msg}") from None
    if root.getroottree().docinfo.doctype:
        # A pain.001 file never has a DOCTYPE; one in it is a mistake or an entity trick.
        raise Pain001Error("the file has a DOCTYPE declaration, which a pain.001 file never has")
    ns = f"urn:iso:std:iso:20022:tech:xsd:{version}"
    actual = etree.QName(root).namespace
    if actual != ns:
        raise Pain001Error(f"the file is not a {version} document: its namespace is {actual!r}")
    schema = _schema(version)
    try:
        valid = schema.validate(root)
    except etree.XMLSchemaValidateError as error:
        raise Pain001Error(f"the file could not be checked against the {version} schema: {error}") from None
    if not valid:
        problems = [f"line {entry.line}: {entry.message}" for entry in schema.error_log]
        raise Pain001Error(f"the file does not validate against the {version} schema", problems)
    problems = _sepa_rule_problems(root, ns)
    if problems:
        raise Pain001Error(f"the file breaks SEPA rules for {version}", problems)
