"""Rule profiles: what a gemeente (or its uitvoeringsorganisatie) withholds, how it bridges the first
months, how leefgeld is paid and how ontzorging is wound down.

Practice differs per gemeente and changes over time (domain.md A6, A7, A12.4), so a profile is a list of
dated versions and the engine asks for the version in force on a day; a changed policy is a new version,
never an edit of an old one, so a past plan can always be explained by the version that made it.

Every model refuses unknown keys: a misspelt key in a profile file would otherwise fall back to a default
without anyone noticing, and a default here decides whether a client has money for food. Flags and
counts are strict (no "yes" for true, no "3" for 3) for the same reason, and amounts are decimal strings.

This module is pure: the layering rule lets rules/ import only the ledger core, so the amount type and
the cost categories are defined here instead of being imported from the service layer (`inputs`,
`creditors`); tests/test_profiles.py checks that the duplicated categories stay equal.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
)

from budget_ledger.ledger.errors import LedgerError
from budget_ledger.ledger.money import Money
from budget_ledger.ledger.money_field import MoneyField

# -- value types -------------------------------------------------------------------------------------

Flag = Annotated[bool, Strict()]
Count = Annotated[int, Strict()]
Day = Annotated[date, Strict()]
"""A TOML local date (2023-01-01). A datetime is refused: a version starts on a day, not at an hour."""

Amount = MoneyField
"""An amount in a profile: a decimal string such as '650.00' (a TOML 650.0 is refused)."""

SLUG = r"^[a-z0-9][a-z0-9_-]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# -- enums -------------------------------------------------------------------------------------------


class Regime(StrEnum):
    """Which fixed costs are withheld from the bijstand (domain.md A6)."""

    VOLLEDIG = "volledig"
    """The law's standard form: huur, gas, water, stroom and zorgverzekering (002:L341)."""
    HUUR_ZORG = "huur_zorg"
    """Only huur and zorgverzekering; the rest by the client's automatische incasso (004:L330)."""
    GEEN = "geen"
    """No technical ontzorging: begeleiding sets up the client's incasso's (001:L1175). Must be documented."""


class CostCategory(StrEnum):
    """The fixed-cost categories of creditors and profiles (`budget_ledger.creditors.CreditorCategory` is this)."""

    HUUR = "huur"
    ZORGVERZEKERING = "zorgverzekering"
    ENERGIE = "energie"
    GAS = "gas"
    WATER = "water"
    STADSVERWARMING = "stadsverwarming"
    GEMEENTELIJKE_BELASTINGEN = "gemeentelijke-belastingen"
    OVERIG = "overig"


class Toeslag(StrEnum):
    """The toeslagen that can be advanced; the same values as `budget_ledger.expected_income.IncomeSource`."""

    ZORGTOESLAG = "zorgtoeslag"
    HUURTOESLAG = "huurtoeslag"
    KINDGEBONDEN_BUDGET = "kindgebonden-budget"


class LeefgeldFrequency(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class LeefgeldMode(StrEnum):
    FIXED = "fixed"
    """A set amount per payment; what is left over stays on the basisrekening as buffer."""
    REMAINDER = "remainder"
    """Whatever is left after fixed costs, reserveringen and repayments (the budgetplan's huishoudgeld)."""


class GiftPortion(StrEnum):
    PRO_RATA_FROM_START = "pro_rata_from_start"
    """The rent from the start date to the end of that month (S1: 17/31 × 650 = 356.45)."""
    FULL_MONTH = "full_month"
    """One whole month's rent, whatever the start date."""


_REGIME_CATEGORIES: dict[Regime, frozenset[CostCategory]] = {
    # Stadsverwarming is in because it replaces gas for heating where a home has no gas connection, and
    # Utrecht's Huishoudboekje pays it (001:L2341); leaving it out would make "volledig" depend on the house.
    # Gemeentelijke belastingen are out: the law names only huur, gas, water, stroom and zorgverzekering
    # (002:L341; 004:L334), no seed withholds them, and statushouders on bijstand usually get kwijtschelding.
    # A gemeente that does withhold them lists them in `extra_categories`.
    Regime.VOLLEDIG: frozenset(
        {
            CostCategory.HUUR,
            CostCategory.ZORGVERZEKERING,
            CostCategory.ENERGIE,
            CostCategory.GAS,
            CostCategory.WATER,
            CostCategory.STADSVERWARMING,
        }
    ),
    Regime.HUUR_ZORG: frozenset({CostCategory.HUUR, CostCategory.ZORGVERZEKERING}),
    Regime.GEEN: frozenset(),
}


def regime_categories(regime: Regime) -> frozenset[CostCategory]:
    """The cost categories withheld from the bijstand under `regime`; under `geen` there is no basisrekening."""
    return _REGIME_CATEGORIES[Regime(regime)]


def _unique(values: Iterable[Any], what: str) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value} is listed twice")
        seen.add(value)


# -- policies ----------------------------------------------------------------------------------------


class EersteHuurGiftPolicy(_Model):
    """The gemeente pays the first month's rent as a gift, so the client starts without a rent gap (Roermond)."""

    enabled: Flag = False
    portion: GiftPortion = GiftPortion.PRO_RATA_FROM_START


class KredietOverbruggingPolicy(_Model):
    """Fixed costs (and perhaps leefgeld) paid from the inrichtingskrediet until bijstand and toeslagen arrive.

    Whether the krediet may pay leefgeld is a gemeente's earmarking choice (S15): where it may not, the
    engine has to propose something else (toeslag advance, voedselbank, bijzondere bijstand).
    """

    enabled: Flag = False
    limit: Amount | None = Field(default=None, description="at most this much in all; none: the krediet itself")
    max_months: Count | None = Field(
        default=None, ge=1, le=12,
        description="bridge only the costs of the first N months of the trajectory; none: until toeslagen arrive",
    )
    leefgeld_allowed: Flag = False
    repay_to_krediet: Flag = Field(
        default=True, description="a later surplus (the toeslag back-payment) refills the krediet sub-ledger first"
    )

    @field_validator("limit")
    @classmethod
    def _positive_limit(cls, value: Money | None) -> Money | None:
        if value is not None and value.cents <= 0:
            raise ValueError("the limit must be above zero; leave it out for no limit")
        return value


class ToeslagVoorschotPolicy(_Model):
    """An explicit, auditable advance on toeslagen that have been applied for but not yet paid (S2, A12.5).

    Repaying only from back-payment parts for the advanced months keeps the advance from eating into a
    later month's toeslag, which that month's rent needs.
    """

    enabled: Flag = False
    toeslagen: tuple[Toeslag, ...] = (Toeslag.ZORGTOESLAG, Toeslag.HUURTOESLAG)
    repay_only_from_back_payment: Flag = True
    only_without_krediet: Flag = Field(
        default=False, description="only for households without an inrichtingskrediet (Deventer tussenvoorziening)"
    )
    on_request: Flag = Field(default=False, description="the client asks for it; the engine proposes, never books")

    @field_validator("toeslagen")
    @classmethod
    def _toeslagen(cls, value: tuple[Toeslag, ...]) -> tuple[Toeslag, ...]:
        _unique(value, "toeslag")
        return value


class LeefgeldPolicy(_Model):
    """How the leefgeldrekening is fed, and the floor below which the engine must not push it.

    The floor is per week because the reference norm is weekly (€45 for one person, €11 per extra member,
    domain.md S3); a monthly schedule compares against its monthly equivalent.
    """

    frequency: LeefgeldFrequency = LeefgeldFrequency.MONTHLY
    weekday: Count | None = Field(
        default=None, ge=1, le=7, validate_default=True, description="ISO weekday for weekly leefgeld, 1 = Monday"
    )
    mode: LeefgeldMode = LeefgeldMode.REMAINDER
    amount: Amount | None = Field(
        default=None, validate_default=True, description="per payment (per week or per month); only for mode fixed"
    )
    first_month_amount: Amount | None = Field(
        default=None,
        description="monthly leefgeld for a trajectory that starts mid-month; none: the amount pro rata by days",
    )
    buffer_per_month: Amount = Field(
        default=Money(0),
        description="kept on the basisrekening each month before the remainder is leefgeld (S12: €5-10)",
    )
    floor_per_week: Amount = Money(4500)
    floor_per_extra_member_per_week: Amount = Money(1100)

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value: int | None, info: ValidationInfo) -> int | None:
        frequency = info.data.get("frequency")
        if frequency is LeefgeldFrequency.WEEKLY and value is None:
            raise ValueError("weekly leefgeld needs a weekday (1 = Monday … 7 = Sunday)")
        if frequency is LeefgeldFrequency.MONTHLY and value is not None:
            raise ValueError("a weekday only applies to weekly leefgeld")
        return value

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: Money | None, info: ValidationInfo) -> Money | None:
        mode = info.data.get("mode")
        if mode is LeefgeldMode.FIXED and value is None:
            raise ValueError("mode 'fixed' needs an amount")
        if mode is LeefgeldMode.REMAINDER and value is not None:
            raise ValueError("mode 'remainder' takes no amount: leefgeld is what is left")
        if value is not None and value.cents <= 0:
            raise ValueError("the amount must be above zero")
        return value

    @field_validator("first_month_amount")
    @classmethod
    def _first_month(cls, value: Money | None, info: ValidationInfo) -> Money | None:
        if value is None:
            return value
        if info.data.get("mode") is not LeefgeldMode.FIXED or info.data.get("frequency") is not LeefgeldFrequency.MONTHLY:
            raise ValueError("a first-month amount only applies to fixed monthly leefgeld")
        if value.is_negative:
            raise ValueError("the amount cannot be below zero")
        return value

    @field_validator("floor_per_week", "floor_per_extra_member_per_week", "buffer_per_month")
    @classmethod
    def _not_negative(cls, value: Money) -> Money:
        if value.is_negative:
            raise ValueError("a floor cannot be below zero")
        return value

    def weekly_floor(self, household_size: int) -> Money:
        if type(household_size) is not int or household_size < 1:
            raise ValueError("a household has at least one member")
        return self.floor_per_week + self.floor_per_extra_member_per_week * (household_size - 1)

    def monthly_floor(self, household_size: int) -> Money:
        """The weekly floor × 52 / 12, rounded up: a floor rounded down would let a cent slip under the norm."""
        weekly = self.weekly_floor(household_size).cents * 52
        return Money(-(-weekly // 12))


class TekortPolicy(_Model):
    """What gets paid first when the basisrekening cannot pay everything (S3, A7).

    Categories not in `payment_order` come after the listed ones. With `propose_client_paid` the engine
    proposes moving the last unpaid creditor to the client's own incasso instead of leaving no leefgeld
    (BUCH: 001:L1201).
    """

    payment_order: tuple[CostCategory, ...] = (
        CostCategory.HUUR,
        CostCategory.ZORGVERZEKERING,
        CostCategory.ENERGIE,
        CostCategory.GAS,
        CostCategory.STADSVERWARMING,
        CostCategory.WATER,
    )
    propose_client_paid: Flag = True

    @field_validator("payment_order")
    @classmethod
    def _order(cls, value: tuple[CostCategory, ...]) -> tuple[CostCategory, ...]:
        _unique(value, "category")
        return value

    def rank(self, category: CostCategory) -> int:
        """0 for the first to be paid; every unlisted category shares the last rank."""
        category = CostCategory(category)
        return self.payment_order.index(category) if category in self.payment_order else len(self.payment_order)


class AfbouwStep(_Model):
    category: CostCategory
    months_before_end: Count = Field(ge=0, le=12)


class AfbouwPolicy(_Model):
    """Staged hand-over of creditors to the client's incasso before the trajectory ends (S10 outcome A).

    Moving one creditor early lets a missed first incasso show while the ledger can still step in; a
    category not listed moves at the end. Disabled: every category moves at the end at once.
    """

    enabled: Flag = False
    steps: tuple[AfbouwStep, ...] = (AfbouwStep(category=CostCategory.ENERGIE, months_before_end=1),)

    @field_validator("steps")
    @classmethod
    def _steps(cls, value: tuple[AfbouwStep, ...]) -> tuple[AfbouwStep, ...]:
        _unique((step.category for step in value), "category")
        return value

    def months_before_end(self, category: CostCategory) -> int:
        if not self.enabled:
            return 0
        return next((step.months_before_end for step in self.steps if step.category == category), 0)


class Reservering(_Model):
    """Money put aside each month for a known later bill (eigen risico, energie jaarafrekening; S13)."""

    name: str = Field(pattern=SLUG, max_length=40, description="becomes the account reservering:<name>")
    amount_per_month: Amount
    from_month: Count = Field(default=1, ge=1, le=36, description="month of the trajectory, 1 = the start month")
    pays: CostCategory | None = Field(
        default=None, description="one-off bills of this category (a jaarafrekening) are paid from it first"
    )

    @field_validator("amount_per_month")
    @classmethod
    def _positive(cls, value: Money) -> Money:
        if value.cents <= 0:
            raise ValueError("the amount must be above zero")
        return value


class KredietAflossingPolicy(_Model):
    """Repayment of the inrichtingskrediet by withholding from the bijstand (S14).

    Suspending rather than skipping a month keeps the total repaid equal to the krediet; suspension exists
    because the repayment otherwise competes with the fixed costs and leefgeld (Tholen: 001:L2905).
    """

    enabled: Flag = False
    months: Count = Field(default=36, ge=1, le=120)
    from_month: Count = Field(
        default=2, ge=1, le=36,
        description="month of the trajectory of the first instalment; 2: after the bijstand's first, partial month",
    )
    suspend_below_leefgeld_floor: Flag = True


class WaarschuwingenPolicy(_Model):
    """When the warnings service tells the budgetbeheerder that the ontzorging period is about to end.

    The sharp transition after six months is where clients fall into arrears (domain.md A8, 001:L719,
    L1893), so the end is announced several times ahead. Left out, the lead times are the gemeente's own
    setting (`GemeenteSettings.warning_lead_weeks`, by default 8, 4 and 2 weeks); a profile or a household
    override sets them here instead.
    """

    lead_weeks: tuple[Count, ...] | None = Field(
        default=None,
        description="weeks before the first day without ontzorging, one warning each; none: the gemeente's "
        "warning_lead_weeks (default 8, 4, 2)",
    )

    @field_validator("lead_weeks")
    @classmethod
    def _lead_weeks(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is None:
            return value
        if not value:
            raise ValueError("name at least one lead time, or leave the key out to use the gemeente's")
        if any(not 1 <= weeks <= 52 for weeks in value):
            raise ValueError("a lead time is a whole number of weeks from 1 to 52")
        _unique(value, "lead time")
        return tuple(sorted(value, reverse=True))


# -- versions and the profile ------------------------------------------------------------------------

_NEEDS_BASISREKENING = ("eerste_huur_gift", "inrichtingskrediet_overbrugging", "toeslag_voorschot", "afbouw",
                        "krediet_aflossing")


class ProfileVersion(_Model):
    """The rules in force from `valid_from` until the next version's `valid_from`."""

    valid_from: Day
    regime: Regime
    reason: str | None = Field(
        default=None, validate_default=True,
        description="why this version exists; required for regime geen, because an opt-out must be documented",
    )
    extra_categories: tuple[CostCategory, ...] = Field(default=(), description="withheld on top of the regime")
    eerste_huur_gift: EersteHuurGiftPolicy = EersteHuurGiftPolicy()
    inrichtingskrediet_overbrugging: KredietOverbruggingPolicy = KredietOverbruggingPolicy()
    toeslag_voorschot: ToeslagVoorschotPolicy = ToeslagVoorschotPolicy()
    leefgeld: LeefgeldPolicy = LeefgeldPolicy()
    tekort: TekortPolicy = TekortPolicy()
    afbouw: AfbouwPolicy = AfbouwPolicy()
    reserveringen: tuple[Reservering, ...] = ()
    krediet_aflossing: KredietAflossingPolicy = KredietAflossingPolicy()
    waarschuwingen: WaarschuwingenPolicy = WaarschuwingenPolicy()

    # Field validators, not one model validator, so a refusal names the key it is about.

    @field_validator("reason")
    @classmethod
    def _documented_opt_out(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("regime") is Regime.GEEN and not value:
            raise ValueError("regime 'geen' is an opt-out and needs a reason (S20: reason and policy reference)")
        return value or None

    @field_validator("extra_categories")
    @classmethod
    def _extras(cls, value: tuple[CostCategory, ...], info: ValidationInfo) -> tuple[CostCategory, ...]:
        _unique(value, "category")
        regime = info.data.get("regime")
        if regime is None:
            return value
        if value and regime is Regime.GEEN:
            raise ValueError("regime 'geen' withholds nothing, so it takes no extra categories")
        already = [c.value for c in value if c in regime_categories(regime)]
        if already:
            raise ValueError(f"{', '.join(already)} already withheld under regime '{regime.value}'")
        return value

    @field_validator(*_NEEDS_BASISREKENING)
    @classmethod
    def _basisrekening_needed(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("regime") is Regime.GEEN and value.enabled:
            raise ValueError("needs a basisrekening, and regime 'geen' has none: set enabled = false")
        return value

    @field_validator("reserveringen")
    @classmethod
    def _reserveringen(cls, value: tuple[Reservering, ...], info: ValidationInfo) -> tuple[Reservering, ...]:
        _unique((r.name for r in value), "reservering")
        if value and info.data.get("regime") is Regime.GEEN:
            raise ValueError("reserveringen need a basisrekening, and regime 'geen' has none")
        return value

    @field_validator("afbouw")
    @classmethod
    def _afbouw_withheld_only(cls, value: AfbouwPolicy, info: ValidationInfo) -> AfbouwPolicy:
        regime = info.data.get("regime")
        extras = info.data.get("extra_categories")
        if regime is None or extras is None or not value.enabled:
            return value
        withheld = regime_categories(regime) | set(extras)
        for step in value.steps:
            if step.category not in withheld:
                raise ValueError(
                    f"step for '{step.category.value}': that category is not withheld under regime "
                    f"'{regime.value}', so there is nothing to hand over"
                )
        return value

    def withheld_categories(self) -> frozenset[CostCategory]:
        return regime_categories(self.regime) | frozenset(self.extra_categories)


class NoVersionInForceError(LedgerError):
    """The day lies before the first version of the profile: no rules existed for it."""

    code = "no-profile-version"


class Profile(_Model):
    """One gemeente's (or uitvoeringsorganisatie's) rules over time, oldest version first."""

    name: str = Field(pattern=SLUG, max_length=60, description="equals the file stem and GemeenteSettings.rule_profile")
    title: str = Field(min_length=1)
    uitvoeringsorganisatie: str | None = None
    gemeenten: tuple[str, ...] = ()
    # Not Field(min_length=1): pydantic would add "at least 1 item" to every error inside a version.
    versions: tuple[ProfileVersion, ...]

    @field_validator("versions")
    @classmethod
    def _in_order(cls, value: tuple[ProfileVersion, ...]) -> tuple[ProfileVersion, ...]:
        if not value:
            raise ValueError("a profile needs at least one version")
        for i, (before, after) in enumerate(zip(value, value[1:], strict=False)):
            if after.valid_from == before.valid_from:
                raise ValueError(
                    f"versions.{i}.valid_from and versions.{i + 1}.valid_from are both {after.valid_from}: "
                    "one version per date"
                )
            if after.valid_from < before.valid_from:
                raise ValueError(
                    f"versions.{i + 1}.valid_from {after.valid_from} lies before versions.{i}.valid_from "
                    f"{before.valid_from}: list versions oldest first"
                )
        return value

    def version_on(self, day: date) -> ProfileVersion:
        """The version in force on `day`: the last one whose valid_from is not after it."""
        in_force = [v for v in self.versions if v.valid_from <= day]
        if not in_force:
            raise NoVersionInForceError(
                f"profile {self.name} has no version in force on {day}; its first starts on {self.versions[0].valid_from}",
                field="day",
            )
        return in_force[-1]
