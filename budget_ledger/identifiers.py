"""Checking the numbers a budgetbeheerder types in: IBAN, BSN, betalingskenmerk, RF reference, description.

A mistyped IBAN or kenmerk sends a client's money to the wrong place, or lets a payment land unmatched at
the creditor, so every one is refused at the door with a reason the budgetbeheerder can act on, never
later by the bank (domain.md C3, C4, S18). Well-kept libraries do the checking wherever they can:
schwifty for IBAN and BIC, python-stdnum for the BSN and the ISO 11649 RF reference. Only the Dutch
betalingskenmerk (Betaalvereniging spec) and the SEPA character set are checked by hand, because no
library here covers them. Everything is pure: no I/O, no database.

Every refusal is an `InvalidInputError(field, reason)`, with `field` given by the caller so a form can
point at the right box.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from enum import StrEnum

import schwifty
from schwifty import exceptions as iban_errors
from stdnum import exceptions as stdnum_errors
from stdnum import iso11649
from stdnum.nl import bsn as stdnum_bsn

from budget_ledger.errors import InvalidInputError

__all__ = [
    "Iban",
    "PaymentReference",
    "REMITTANCE_TEXT_MAX",
    "PaymentReferenceKind",
    "mask_bsn",
    "parse_betalingskenmerk",
    "parse_bsn",
    "parse_iban",
    "parse_remittance_text",
    "parse_rf_reference",
]

_ASCII_ALNUM = frozenset(string.ascii_letters + string.digits)


def _show(char: str) -> str:
    """Name a character so that a space, a tab or a look-alike letter is still recognisable on screen."""
    if char == " ":
        return "a space"
    if char.isprintable() and char.isascii():
        return f"'{char}'"
    return f"'{char}' (U+{ord(char):04X})" if char.isprintable() else f"U+{ord(char):04X}"


def _without(text: str, separators: str) -> str:
    """Drop whitespace of any kind (a pasted tab or line break too) and the given separators."""
    return "".join(text.split()).translate(str.maketrans("", "", separators))


def _first_outside(text: str, allowed: frozenset[str]) -> str | None:
    return next((char for char in text if char not in allowed), None)


# ---------------------------------------------------------------------------------------------------------
# IBAN (schwifty)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Iban:
    """A checked IBAN with what the payment file and the screen need from it.

    `bic` is only a convenience for display and non-SEPA cases: SEPA payments never need it, and banks may
    not ask for it (domain.md C4), so it is `None` wherever schwifty's bank registry has no entry.
    """

    iban: str
    formatted: str
    country: str
    bank_code: str
    bic: str | None

    def __str__(self) -> str:
        return self.iban


_LAYOUT_TOKEN = re.compile(r"(\d+)(!?)([nace])")
_LAYOUT_WORDS = {"n": "digits", "a": "capital letters", "c": "letters or digits", "e": "spaces"}


def _describe_layout(bban_spec: str) -> str:
    """Turn schwifty's SWIFT notation ("4!a10!n") into words ("4 capital letters, then 10 digits")."""
    parts: list[list] = []
    for count, fixed, kind in _LAYOUT_TOKEN.findall(bban_spec):
        if parts and parts[-1][1] == kind and parts[-1][2] and fixed:
            parts[-1][0] += int(count)
        else:
            parts.append([int(count), kind, bool(fixed)])
    words = [f"{'' if fixed else 'up to '}{count} {_LAYOUT_WORDS[kind]}" for count, kind, fixed in parts]
    return ", then ".join(words)


def _country_label(iban: schwifty.IBAN) -> str:
    country = iban.country
    return f"{country.name} ({iban.country_code})" if country is not None else iban.country_code


def parse_iban(text: str, *, field: str = "iban", sepa_only: bool = True) -> Iban:
    """Check an IBAN as a person types it (spaces, lower case) by its mod-97 check and its country's layout.

    The old Dutch elfproef on the account number is deliberately not applied: since IBANnext not every
    Dutch account number satisfies it (domain.md C4), and schwifty no longer registers it for NL.
    `sepa_only` (the default) refuses countries outside SEPA, because a creditor outside SEPA cannot be
    paid by the SEPA credit transfers this service produces; use `sepa_only=False` where any IBAN may be
    recorded.
    """
    compact = "".join(text.split()).upper()
    if not compact:
        raise InvalidInputError(field, "no IBAN was given")
    bad = _first_outside(compact, _ASCII_ALNUM)
    if bad is not None:
        raise InvalidInputError(
            field, f"{_show(bad)} cannot be part of an IBAN: it has only letters and digits"
        )
    if len(compact) < 4 or not (compact[:2].isalpha() and compact[2:4].isdigit()):
        raise InvalidInputError(
            field, "an IBAN starts with a two-letter country code and two check digits, like NL91"
        )
    country_code = compact[:2]
    try:
        iban = schwifty.IBAN(compact)
    except iban_errors.InvalidCountryCode:
        raise InvalidInputError(
            field, f"{country_code} is not a country that uses IBANs: the country code is probably mistyped"
        ) from None
    except iban_errors.InvalidChecksumDigits:
        raise InvalidInputError(
            field, "the check digits do not match: a character is probably mistyped or two are swapped"
        ) from None
    except iban_errors.SchwiftyException:
        # Length, layout, or anything else schwifty refuses: the country is known by now.
        unchecked = schwifty.IBAN(compact, allow_invalid=True)
        spec, label = unchecked.spec, _country_label(unchecked)
        if len(compact) != spec.iban_length:
            reason = f"an IBAN from {label} has {spec.iban_length} characters; this one has {len(compact)}"
        else:
            reason = (
                f"the account part does not fit the layout of an IBAN from {label}: after the first four "
                f"characters come {_describe_layout(spec.bban_spec)}"
            )
        raise InvalidInputError(field, reason) from None
    if sepa_only and not iban.in_sepa_zone:
        raise InvalidInputError(
            field,
            f"this IBAN is from {_country_label(iban)}, outside SEPA: a SEPA transfer cannot pay it",
        )
    bic = iban.bic
    return Iban(
        iban=str(iban),
        formatted=iban.formatted,
        country=iban.country_code,
        bank_code=iban.bank_code,
        bic=str(bic) if bic is not None else None,
    )


# ---------------------------------------------------------------------------------------------------------
# BSN (python-stdnum)
# ---------------------------------------------------------------------------------------------------------


def parse_bsn(text: str, *, field: str = "bsn") -> str:
    """Check a burgerservicenummer by its elfproef and return it as 9 digits.

    The refusal never repeats the number, nor chains stdnum's exception: a BSN is special personal data
    (AVG, Wbsn) and error texts end up in logs, screens and bug reports. Eight digits are accepted
    because a leading zero is often dropped (in spreadsheets above all); fewer are a typo, although
    stdnum would pad them.
    """
    compact = _without(text, ".-")
    problem: str | None = None
    if not compact:
        problem = "no BSN was given"
    elif not (compact.isascii() and compact.isdigit()):
        problem = "a BSN has only digits (dots and spaces between them are fine)"
    elif len(compact) not in (8, 9):
        problem = f"a BSN has 9 digits (or 8 when the leading zero is left off); this one has {len(compact)}"
    else:
        try:
            return stdnum_bsn.validate(compact)
        except stdnum_errors.InvalidChecksum:
            problem = "this is not a valid BSN: it fails the elfproef, so a digit is probably mistyped"
        except stdnum_errors.ValidationError:
            problem = "this is not a valid BSN: a BSN cannot be all zeros"
    # Raised outside the `except` blocks so the exception carries no context that could hold the number.
    raise InvalidInputError(field, problem)


def mask_bsn(bsn: str) -> str:
    """Show a BSN as its last three digits only ("******782"), enough to tell clients apart on screen.

    Anything that is not an 8- or 9-digit number is masked whole: a display must neither leak nor fail.
    """
    compact = _without(bsn, ".-")
    if not (compact.isascii() and compact.isdigit() and len(compact) in (8, 9)):
        return "*" * 9
    return "*" * 6 + compact.zfill(9)[-3:]


# ---------------------------------------------------------------------------------------------------------
# Dutch betalingskenmerk (Betaalvereniging spec; by hand: no library covers it)
# ---------------------------------------------------------------------------------------------------------

# From the rightmost digit leftwards, repeating for longer numbers.
_KENMERK_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3, 6, 1)
# The Betaalvereniging lists exactly these lengths: 7 = 7N, 9..14 = C+L+N with L = (length - 2) mod 10,
# 16 = C+15N. 8 and 15 are not in the list (C+L+6N and C+L+13N do not exist), so they are typos.
_KENMERK_LENGTHS = frozenset({7, 9, 10, 11, 12, 13, 14, 16})


def _kenmerk_check_digit(digits: str) -> str:
    total = sum(int(d) * _KENMERK_WEIGHTS[i % 10] for i, d in enumerate(reversed(digits)))
    check = 11 - total % 11
    return {10: "1", 11: "0"}.get(check, str(check))


def parse_betalingskenmerk(text: str, *, field: str = "betalingskenmerk") -> str:
    """Check a Dutch betalingskenmerk (formerly the acceptgiro kenmerk) and return its compact digits.

    A kenmerk with a wrong digit still gets paid, but the creditor cannot match it, and the client gets
    reminders and costs; so the check digit and, for 9 to 14 digits, the length code are checked before any
    payment. A 7-digit kenmerk has no check digit by the spec and is taken as it is.
    """
    compact = _without(text, ".")
    if not compact:
        raise InvalidInputError(field, "no betalingskenmerk was given")
    if compact[:2].upper() == "RF":
        raise InvalidInputError(
            field, "this looks like an RF reference (ISO 11649), not a Dutch betalingskenmerk of digits only"
        )
    bad = next((char for char in compact if not (char.isascii() and char.isdigit())), None)
    if bad is not None:
        raise InvalidInputError(
            field, f"{_show(bad)} cannot be part of a betalingskenmerk: it has only digits"
        )
    if len(compact) not in _KENMERK_LENGTHS:
        raise InvalidInputError(
            field, f"a betalingskenmerk has 7, 9 to 14, or 16 digits; this one has {len(compact)}"
        )
    if len(compact) == 7:
        return compact
    if len(compact) <= 14:
        expected_code = str((len(compact) - 2) % 10)
        if compact[1] != expected_code:
            raise InvalidInputError(
                field,
                f"the length code (second digit) should be {expected_code} for a betalingskenmerk of "
                f"{len(compact)} digits, but is {compact[1]}: a digit is probably missing, extra or mistyped",
            )
    if compact[0] != _kenmerk_check_digit(compact[1:]):
        raise InvalidInputError(
            field, "the check digit does not match: a digit is probably mistyped or two are swapped"
        )
    return compact


# ---------------------------------------------------------------------------------------------------------
# ISO 11649 RF reference (python-stdnum)
# ---------------------------------------------------------------------------------------------------------


def parse_rf_reference(text: str, *, field: str = "rf_reference") -> str:
    """Check an international RF creditor reference, which Dutch banks accept beside the betalingskenmerk.

    stdnum does the mod-97 check; the checks before it are only there to give a reason that says what is
    wrong, and to refuse letters in the check-digit positions, which stdnum's arithmetic would let through.
    """
    compact = iso11649.compact(text)
    if not compact:
        raise InvalidInputError(field, "no RF reference was given")
    bad = _first_outside(compact, _ASCII_ALNUM)
    if bad is not None:
        raise InvalidInputError(
            field, f"{_show(bad)} cannot be part of an RF reference: it has only letters and digits"
        )
    if not compact.startswith("RF"):
        raise InvalidInputError(field, "an RF reference starts with the letters RF")
    if not 5 <= len(compact) <= 25:
        raise InvalidInputError(field, f"an RF reference has 5 to 25 characters; this one has {len(compact)}")
    if not compact[2:4].isdigit():
        raise InvalidInputError(field, "an RF reference has two check digits after RF, like RF18")
    try:
        return iso11649.validate(compact)
    except stdnum_errors.InvalidChecksum:
        raise InvalidInputError(
            field, "the check digits do not match: a character is probably mistyped or two are swapped"
        ) from None
    except stdnum_errors.ValidationError:
        raise InvalidInputError(field, "this is not a valid RF reference") from None


# ---------------------------------------------------------------------------------------------------------
# Free text (SEPA unstructured remittance)
# ---------------------------------------------------------------------------------------------------------

REMITTANCE_TEXT_MAX = 140
# The EPC's basic Latin set: banks may strip or reject anything else, and a creditor's matching then fails.
_SEPA_CHARACTERS = frozenset(string.ascii_letters + string.digits + "/-?:().,'+ ")


def parse_remittance_text(text: str, *, field: str = "payment_reference") -> str:
    """Check a free-text description (omschrijving) for a SEPA transfer; surrounding whitespace is dropped.

    Refused rather than silently transliterated, so that the budgetbeheerder sees exactly what the creditor
    will receive (e.g. an invoice number typed with a "#" or an "&").
    """
    stripped = text.strip()
    if not stripped:
        raise InvalidInputError(field, "the description is empty")
    bad = _first_outside(stripped, _SEPA_CHARACTERS)
    if bad is not None:
        raise InvalidInputError(
            field,
            f"{_show(bad)} is not allowed in a SEPA description: use only letters a-z and A-Z, digits, spaces "
            "and / - ? : ( ) . , ' +",
        )
    if len(stripped) > REMITTANCE_TEXT_MAX:
        raise InvalidInputError(
            field,
            f"a SEPA description has at most {REMITTANCE_TEXT_MAX} characters; this one has {len(stripped)}",
        )
    return stripped


# ---------------------------------------------------------------------------------------------------------
# Payment reference on a creditor
# ---------------------------------------------------------------------------------------------------------


class PaymentReferenceKind(StrEnum):
    """What a creditor expects in the remittance: it decides how the payment file carries it (S18)."""

    BETALINGSKENMERK = "betalingskenmerk"
    RF = "rf"
    VRIJ = "vrij"


_PARSERS = {
    PaymentReferenceKind.BETALINGSKENMERK: parse_betalingskenmerk,
    PaymentReferenceKind.RF: parse_rf_reference,
    PaymentReferenceKind.VRIJ: parse_remittance_text,
}


def _kind(kind: PaymentReferenceKind | str, field: str) -> PaymentReferenceKind:
    try:
        return PaymentReferenceKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in PaymentReferenceKind)
        raise InvalidInputError(
            field, f"{kind!r} is not a kind of payment reference; use one of: {known}"
        ) from None


@dataclass(frozen=True, slots=True)
class PaymentReference:
    """The reference a creditor wants with each payment, kept with its kind so the payment file can tell a
    structured kenmerk (Issr CUR, or RF) from free text.

    Build it from input with `parse`; the plain constructor and `from_storage` trust their value.
    """

    kind: PaymentReferenceKind
    value: str

    @classmethod
    def parse(
        cls, kind: PaymentReferenceKind | str, text: str, *, field: str = "payment_reference"
    ) -> PaymentReference:
        checked_kind = _kind(kind, field)
        return cls(checked_kind, _PARSERS[checked_kind](text, field=field))

    def to_storage(self) -> tuple[str, str]:
        return self.kind.value, self.value

    @classmethod
    def from_storage(cls, kind: str, value: str, *, field: str = "payment_reference") -> PaymentReference:
        """Load a reference that was checked when it was stored.

        Not checked again, so that a stored reference stays readable even if a rule is tightened later;
        an unknown kind is still refused, since no payment file could carry it.
        """
        return cls(_kind(kind, field), value)


# ---------------------------------------------------------------------------------------------------------
# The household's own betalingskenmerk, for money sent to its basisrekening
# ---------------------------------------------------------------------------------------------------------

HOUSEHOLD_REFERENCE_PREFIX = "77"
"""Household kenmerken are 16 digits: check digit, "77", then the household id in 13 digits."""


def household_reference(household_id: int) -> str:
    """The betalingskenmerk a client, employer or creditor puts on a transfer to the household's
    basisrekening (a kredietbank's "klantkenmerk"), so the bank statement names the household by itself."""
    if not 0 < household_id < 10**13:
        raise InvalidInputError("household_id", "is outside the range a household kenmerk can carry")
    body = f"{HOUSEHOLD_REFERENCE_PREFIX}{household_id:013d}"
    return _kenmerk_check_digit(body) + body


def household_of_reference(text: str) -> int | None:
    """The household a valid household kenmerk names; None for any other text or a wrong check digit."""
    compact = _without(text or "", ". ")
    if len(compact) != 16 or not compact.isdigit() or compact[1:3] != HOUSEHOLD_REFERENCE_PREFIX:
        return None
    if compact[0] != _kenmerk_check_digit(compact[1:]):
        return None
    household_id = int(compact[3:])
    return household_id or None
