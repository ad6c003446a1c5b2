"""Forecasts: the household's basisrekening month by month, as the rules will move it, and what-ifs.

A forecast runs the engine from a day through the end of the N-th month on a snapshot that counts on the
expected income (`build_snapshot(..., project_income=True)`): the bijstand in arrears, the toeslagen with
their late first payment. Per month it shows the opening balance, the income arriving, what goes out and
comes in by kind (vaste lasten, leefgeld, reserveringen, aflossing, overbrugging and voorschot in and
out, the gift), the closing balance and the lowest balance reached. The first payment the engine could not
make (its first SHORTFALL finding) is the forecast's `first_failure`: the day the household would fall
into arrears with a creditor, or get less leefgeld than planned.

A what-if runs the same snapshot under other rules — another profile, or the household's own profile
under another regime (`OverriddenRules`, `under_regime`) — and sets the two side by side (domain.md A7:
"who should organise bridging when toeslagen are slow" is answered by showing what happens without it).

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta

from budget_ledger.ledger.money import Money
from budget_ledger.rules.budgetplan import finding_json
from budget_ledger.rules.engine import RuleSource, months_between
from budget_ledger.rules.engine import plan as run_engine
from budget_ledger.rules.plan import Finding, FindingKind, Movement, Plan
from budget_ledger.rules.profiles import ProfileVersion, Regime, regime_categories
from budget_ledger.rules.snapshot import BASIS, KREDIET_UNSPENT, HouseholdSnapshot, month_end, month_start

MAX_MONTHS = 24

# -- kinds of money moving on the basisrekening ------------------------------------------------------

VASTE_LASTEN = "vaste-lasten"
LEEFGELD = "leefgeld"
RESERVERINGEN = "reserveringen"
AFLOSSING = "aflossing"
OVERBRUGGING = "overbrugging"
VOORSCHOT = "voorschot"
GIFT = "gift"

_KIND_OF_RULE = {
    "vaste_lasten": VASTE_LASTEN,
    "leefgeld": LEEFGELD,
    "reserveringen": RESERVERINGEN,
    "krediet_aflossing": AFLOSSING,
    "inrichtingskrediet_overbrugging": OVERBRUGGING,
    "toeslag_voorschot": VOORSCHOT,
    "eerste_huur_gift": GIFT,
}


def kind_of(movement: Movement) -> str:
    """What a movement is, for the forecast's columns; a rule not listed keeps its own name."""
    return _KIND_OF_RULE.get(movement.rule, movement.rule)


# -- the forecast ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ForecastMonth:
    month: date
    first_day: date
    """The month's first day, or the forecast's start when it begins mid-month."""
    opening: Money
    income: Money
    """Income arriving on the basisrekening this month (bijstand, toeslagen, wages …)."""
    money_in: Mapping[str, Money]
    """Other money onto the basisrekening by kind: overbrugging from the krediet, a toeslag voorschot, the gift,
    a reservering released for a bill."""
    money_out: Mapping[str, Money]
    """Money off the basisrekening by kind: vaste lasten, leefgeld, reserveringen, aflossing, the bridge or
    voorschot repaid."""
    closing: Money
    lowest: Money
    lowest_on: date
    closing_krediet: Money
    """What is left of the inrichtingskrediet's unspent money (reservering:inrichting) at the month's end."""

    @property
    def paid_out(self) -> Money:
        return Money.sum(self.money_out.values())

    @property
    def leefgeld(self) -> Money:
        return self.money_out.get(LEEFGELD, Money(0))

    def out(self, kind: str) -> Money:
        return self.money_out.get(kind, Money(0))

    def into(self, kind: str) -> Money:
        return self.money_in.get(kind, Money(0))

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month.isoformat(),
            "first_day": self.first_day.isoformat(),
            "opening": str(self.opening),
            "income": str(self.income),
            "in": {kind: str(amount) for kind, amount in sorted(self.money_in.items())},
            "out": {kind: str(amount) for kind, amount in sorted(self.money_out.items())},
            "closing": str(self.closing),
            "lowest": str(self.lowest),
            "lowest_on": self.lowest_on.isoformat(),
            "closing_krediet": str(self.closing_krediet),
        }


@dataclass(frozen=True, slots=True)
class Failure:
    """The first payment that could not be made."""

    on: date
    what: str
    """The engine's Dutch message, e.g. "Huur maart 2025 (…) van € 356,45 op 17-03-2025 kan niet betaald worden"."""
    amount: Money | None
    """What was missing."""
    rule: str
    category: str | None = None
    creditor_id: int | None = None

    @classmethod
    def of(cls, finding: Finding) -> Failure:
        return cls(finding.on, finding.message, finding.amount, finding.rule,
                   finding.category.value if finding.category else None, finding.creditor_id)

    def to_json(self) -> dict[str, Any]:
        return {"on": self.on.isoformat(), "what": self.what,
                "amount": None if self.amount is None else str(self.amount), "rule": self.rule,
                "category": self.category, "creditor_id": self.creditor_id}


@dataclass(frozen=True)
class Forecast:
    household_id: int
    profile: str
    start: date
    end: date
    months: tuple[ForecastMonth, ...]
    findings: tuple[Finding, ...]
    first_failure: Failure | None
    plan: Plan = field(repr=False, compare=False)

    def month(self, month: date) -> ForecastMonth:
        wanted = month_start(month)
        return next(m for m in self.months if m.month == wanted)

    @property
    def lowest(self) -> Money:
        return min((m.lowest for m in self.months), default=Money(0))

    def to_json(self) -> dict[str, Any]:
        return {
            "household_id": self.household_id,
            "profile": self.profile,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "months": [m.to_json() for m in self.months],
            "first_failure": None if self.first_failure is None else self.first_failure.to_json(),
            "findings": [finding_json(f) for f in self.findings],
        }


def forecast_end(start: date, months: int) -> date:
    """The last day of the `months`-th month, counting `start`'s month as the first."""
    if type(months) is not int or not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be a whole number from 1 to {MAX_MONTHS}, not {months!r}")
    return month_end(month_start(start) + relativedelta(months=months - 1))


def forecast(snapshot: HouseholdSnapshot, rules: RuleSource, start: date, months: int = 6) -> Forecast:
    """The basisrekening from `start` through the end of the `months`-th month under `rules`.

    Run the engine on a snapshot with projected income; balances are the snapshot's at `start`.
    """
    end = forecast_end(start, months)
    made = run_engine(snapshot, rules, start, end)
    shortfalls = made.of_kind(FindingKind.SHORTFALL)
    return Forecast(
        household_id=snapshot.household_id,
        profile=rules.name,
        start=start,
        end=end,
        months=tuple(_months(snapshot, made)),
        findings=made.findings,
        first_failure=Failure.of(shortfalls[0]) if shortfalls else None,
        plan=made,
    )


def _months(snapshot: HouseholdSnapshot, made: Plan) -> list[ForecastMonth]:
    """Replay the plan with the money arriving, day by day: on each day the inflows first, then the
    movements in the order the engine made them (domain.md: money arriving first, leefgeld last)."""
    start, end = made.start, made.end
    arriving = sorted((i for i in snapshot.inflows if start <= i.on <= end and not i.booked),
                      key=lambda i: (i.on, i.source))
    basis = snapshot.balances.basis
    krediet = snapshot.balances.krediet_unspent
    result = []
    for month in months_between(start, end):
        first, last = max(month, start), min(month_end(month), end)
        opening, lowest, lowest_on = basis, basis, first
        income = Money(0)
        money_in: dict[str, Money] = {}
        money_out: dict[str, Money] = {}
        inflows = [i for i in arriving if first <= i.on <= last]
        movements = [m for m in made.movements if first <= m.due_on <= last]
        for day in sorted({i.on for i in inflows} | {m.due_on for m in movements}):
            for inflow in (i for i in inflows if i.on == day):
                basis = basis + inflow.amount
                income = income + inflow.amount
            for movement in (m for m in movements if m.due_on == day):
                change = movement.change(BASIS)
                krediet = krediet + movement.change(KREDIET_UNSPENT)
                if not change.cents:
                    continue
                kind = kind_of(movement)
                if change.is_negative:
                    money_out[kind] = money_out.get(kind, Money(0)) - change
                else:
                    money_in[kind] = money_in.get(kind, Money(0)) + change
                basis = basis + change
                if basis < lowest:
                    lowest, lowest_on = basis, day
        result.append(ForecastMonth(month, first, opening, income, money_in, money_out, basis, lowest, lowest_on,
                                    krediet))
    return result


# -- what-if -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WhatIfMonth:
    month: date
    closing_current: Money
    closing_other: Money
    leefgeld_current: Money
    leefgeld_other: Money

    @property
    def closing_difference(self) -> Money:
        """Other minus current: positive when the other rules leave more on the basisrekening."""
        return self.closing_other - self.closing_current

    @property
    def leefgeld_difference(self) -> Money:
        """Other minus current: positive when the client would get more leefgeld under the other rules."""
        return self.leefgeld_other - self.leefgeld_current

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month.isoformat(),
            "closing_current": str(self.closing_current),
            "closing_other": str(self.closing_other),
            "closing_difference": str(self.closing_difference),
            "leefgeld_current": str(self.leefgeld_current),
            "leefgeld_other": str(self.leefgeld_other),
            "leefgeld_difference": str(self.leefgeld_difference),
        }


@dataclass(frozen=True)
class WhatIf:
    current: Forecast
    other: Forecast
    months: tuple[WhatIfMonth, ...]

    @property
    def current_failure(self) -> Failure | None:
        return self.current.first_failure

    @property
    def other_failure(self) -> Failure | None:
        return self.other.first_failure

    def month(self, month: date) -> WhatIfMonth:
        wanted = month_start(month)
        return next(m for m in self.months if m.month == wanted)

    def to_json(self) -> dict[str, Any]:
        return {
            "current": self.current.to_json(),
            "other": self.other.to_json(),
            "months": [m.to_json() for m in self.months],
            "current_failure": None if self.current_failure is None else self.current_failure.to_json(),
            "other_failure": None if self.other_failure is None else self.other_failure.to_json(),
        }


def what_if(snapshot: HouseholdSnapshot, current_rules: RuleSource, other_rules: RuleSource, start: date,
            months: int = 6) -> WhatIf:
    """The same household from `start` under its current rules and under `other_rules`, side by side."""
    current = forecast(snapshot, current_rules, start, months)
    other = forecast(snapshot, other_rules, start, months)
    paired = [
        WhatIfMonth(a.month, a.closing, b.closing, a.leefgeld, b.leefgeld)
        for a, b in zip(current.months, other.months, strict=True)
    ]
    return WhatIf(current, other, tuple(paired))


# -- other rules for the same household ---------------------------------------------------------------


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` laid over it: mappings merge key by key, lists and scalars are replaced."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


Overrides = Mapping[str, Any] | Callable[[ProfileVersion], Mapping[str, Any]]


class OverriddenRules:
    """A RuleSource: `rules` with `overrides` merged onto every version it returns.

    `overrides` is a partial profile version ({"leefgeld": {"mode": "fixed", "amount": "250.00"}}) or a
    function that makes one from the version in force. The merged version is validated as a whole, so it
    is always a version a profile file could contain; pydantic's ValidationError if it is not.
    """

    def __init__(self, rules: RuleSource, overrides: Overrides, *, name: str | None = None) -> None:
        self._rules = rules
        self._overrides = overrides
        self.name = name or f"{rules.name} (aangepast)"
        self._made: dict[date, ProfileVersion] = {}

    def version_on(self, day: date) -> ProfileVersion:
        made = self._made.get(day)
        if made is None:
            version = self._rules.version_on(day)
            changes = self._overrides(version) if callable(self._overrides) else self._overrides
            merged = deep_merge(version.model_dump(mode="json"), changes)
            merged["valid_from"] = version.valid_from  # a strict date; the JSON dump made it a string
            made = self._made[day] = ProfileVersion.model_validate(merged)
        return made


_NEEDS_BASISREKENING = ("eerste_huur_gift", "inrichtingskrediet_overbrugging", "toeslag_voorschot", "afbouw",
                        "krediet_aflossing")


def regime_overrides(version: ProfileVersion, regime: Regime | str) -> dict[str, Any]:
    """What changes in `version` when the same gemeente's rules are applied under `regime`.

    The regime decides which categories are withheld; the rest is made to fit it, as a profile file would
    have to: extra categories the regime already withholds are dropped, afbouw steps only for categories
    still withheld, and under `geen` (no basisrekening) every policy that needs one is off.
    """
    regime = Regime(regime)
    withheld = regime_categories(regime)
    if regime is Regime.GEEN:
        changes: dict[str, Any] = {
            "regime": regime.value,
            "reason": "Wat-als: geen technische ontzorging, de klant betaalt zelf",
            "extra_categories": [],
            "reserveringen": [],
        }
        for key in _NEEDS_BASISREKENING:
            changes[key] = {"enabled": False}
        return changes
    extras = [c.value for c in version.extra_categories if c not in withheld]
    still = withheld | {c for c in version.extra_categories}
    steps = [step.model_dump(mode="json") for step in version.afbouw.steps if step.category in still]
    return {"regime": regime.value, "extra_categories": extras, "afbouw": {"steps": steps}}


def under_regime(rules: RuleSource, regime: Regime | str) -> OverriddenRules:
    """The household's own rules, but withholding what `regime` withholds (domain.md A6)."""
    regime = Regime(regime)
    return OverriddenRules(rules, lambda version: regime_overrides(version, regime),
                           name=f"{rules.name} (regime {regime.value})")
