"""Who is ontzorgd, decided with a reason code (domain.md A2 and scenarios S5, S20).

The computed decision follows the law and the gemeente's setting for nareizigers with an
asiel-afhankelijk permit. A budgetbeheerder may override it with a documented reason (maatwerk since the
Kamerbrief of 6 April 2023): an opt-out keeps the person counted as "ontzorgd in afwijkende vorm", and an
exceptional inclusion (Utrecht's practice for a gezinsmigrant with an uitkering) makes them eligible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import Field, model_validator

from budget_ledger.inputs import Command


class PermitType(StrEnum):
    ASIEL = "asiel"
    NAREIZIGER_ASIEL = "nareiziger_asiel"
    """Nareiziger with an afhankelijke asielvergunning."""
    NAREIZIGER_REGULIER = "nareiziger_regulier"
    GEZINSMIGRANT = "gezinsmigrant"
    OVERIG = "overig"


class OntzorgingForm(StrEnum):
    STANDAARD = "standaard"
    """Technical ontzorging: fixed costs paid from the basisrekening."""
    AFWIJKEND = "afwijkend"
    """Maatwerk: technical ontzorging in a deviating form (e.g. huur and zorg only)."""
    GEEN = "geen"
    """No technical ontzorging: incasso-begeleiding only. No basisrekening is opened."""


class ReasonCode(StrEnum):
    ELIGIBLE_ASIEL = "ELIGIBLE_ASIEL"
    ELIGIBLE_NAREIZIGER_ASIEL = "ELIGIBLE_NAREIZIGER_ASIEL"
    E1_GEZINSMIGRANT = "E1_GEZINSMIGRANT"
    E2_NAREIZIGER_REGULIER = "E2_NAREIZIGER_REGULIER"
    E2_NAREIZIGER_ASIEL_GEMEENTE = "E2_NAREIZIGER_ASIEL_GEMEENTE"
    E3_GEEN_BIJSTAND = "E3_GEEN_BIJSTAND"
    E_OVERIG = "E_OVERIG"
    OVERRIDE_MAATWERK = "OVERRIDE_MAATWERK"
    OVERRIDE_OPT_OUT = "OVERRIDE_OPT_OUT"


EXPLANATIONS = {
    ReasonCode.ELIGIBLE_ASIEL: "Asielvergunning en bijstand: financieel ontzorgen volgens art. 56a Pw.",
    ReasonCode.ELIGIBLE_NAREIZIGER_ASIEL: "Nareiziger met afhankelijke asielvergunning: de gemeente ontzorgt.",
    ReasonCode.E1_GEZINSMIGRANT: "Gezinsmigrant: geen recht op financieel ontzorgen.",
    ReasonCode.E2_NAREIZIGER_REGULIER: "Nareiziger met reguliere vergunning: valt niet onder art. 56a Pw.",
    ReasonCode.E2_NAREIZIGER_ASIEL_GEMEENTE: "Nareiziger: deze gemeente ontzorgt nareizigers niet.",
    ReasonCode.E3_GEEN_BIJSTAND: "Geen bijstand: financieel ontzorgen geldt alleen bij bijstand.",
    ReasonCode.E_OVERIG: "Andere vergunning: niet inburgeringsplichtig als statushouder; maatwerk mogelijk.",
    ReasonCode.OVERRIDE_MAATWERK: "Maatwerk: afwijkend besluit met vastgelegde reden.",
    ReasonCode.OVERRIDE_OPT_OUT: "Maatwerk: geen technisch ontzorgen, wel geteld als ontzorgd in afwijkende vorm.",
}


@dataclass(frozen=True, slots=True)
class Assessment:
    eligible: bool
    reason_code: ReasonCode
    form: OntzorgingForm

    @property
    def explanation(self) -> str:
        return EXPLANATIONS[self.reason_code]


def assess(permit_type: PermitType, has_bijstand: bool, *, nareiziger_asiel_eligible: bool) -> Assessment:
    """The decision the rules give, before any documented override."""
    if permit_type is PermitType.GEZINSMIGRANT:
        return Assessment(False, ReasonCode.E1_GEZINSMIGRANT, OntzorgingForm.GEEN)
    if permit_type is PermitType.NAREIZIGER_REGULIER:
        return Assessment(False, ReasonCode.E2_NAREIZIGER_REGULIER, OntzorgingForm.GEEN)
    if permit_type is PermitType.OVERIG:
        return Assessment(False, ReasonCode.E_OVERIG, OntzorgingForm.GEEN)
    if not has_bijstand:
        return Assessment(False, ReasonCode.E3_GEEN_BIJSTAND, OntzorgingForm.GEEN)
    if permit_type is PermitType.NAREIZIGER_ASIEL:
        if not nareiziger_asiel_eligible:
            return Assessment(False, ReasonCode.E2_NAREIZIGER_ASIEL_GEMEENTE, OntzorgingForm.GEEN)
        return Assessment(True, ReasonCode.ELIGIBLE_NAREIZIGER_ASIEL, OntzorgingForm.STANDAARD)
    return Assessment(True, ReasonCode.ELIGIBLE_ASIEL, OntzorgingForm.STANDAARD)


class EligibilityOverride(Command):
    """A documented deviation from the computed decision."""

    eligible: bool
    form: OntzorgingForm
    reason: str = Field(min_length=10, max_length=2000, description="why, in words an auditor can follow")
    policy_reference: str = Field(min_length=3, max_length=200, examples=["Kamerbrief 6-4-2023 (maatwerk)"])

    @model_validator(mode="after")
    def _consistent(self) -> EligibilityOverride:
        if not self.eligible and self.form is not OntzorgingForm.GEEN:
            raise ValueError("a household that is not eligible has form 'geen'")
        return self


@dataclass(frozen=True, slots=True)
class EligibilityDecision:
    id: int
    household_id: int
    eligible: bool
    reason_code: ReasonCode
    form: OntzorgingForm
    override: bool
    override_reason: str | None
    policy_reference: str | None
    decided_at: datetime
    decided_by: str

    @property
    def needs_ledger(self) -> bool:
        """Only technical ontzorging gets a basisrekening (S20: an opt-out gets none)."""
        return self.eligible and self.form is not OntzorgingForm.GEEN

    @property
    def register_status(self) -> str:
        """How the person counts in the ontzorgen register and statutory reporting."""
        if not self.eligible:
            return "niet_ontzorgd"
        return "ontzorgd" if self.form is OntzorgingForm.STANDAARD else "ontzorgd_afwijkende_vorm"

    @property
    def explanation(self) -> str:
        return EXPLANATIONS[self.reason_code]
