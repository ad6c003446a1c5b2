"""The budgetplan of one month: what comes in, what the ledger pays, what the client pays, and what is left.

NVVK's definition (domain.md B8): a "plan voor het beheer van het te ontvangen inkomen, de te verrichten
betalingen, de reserveringen en het huishoudgeld". Every figure comes from `month_budget`, the same
definition the engine pays from, so the plan a client signs is the plan the payment run carries out:

- income per source, counted for the month it is *for* (April's bijstand, though it arrives on 1 May);
- the fixed costs the ledger withholds, per category, and the ones the client pays himself (S3: energie
  by automatische incasso from the leefgeldrekening);
- reserveringen (S13), the krediet instalment (S14);
- leefgeld: how often, how much per payment, how many payments fall in this month (S12: March 2025 has
  five Mondays) and the monthly equivalent the budget counts (weekly × 52 / 12);
- the buffer: income minus everything above, which stays on the basisrekening.

The findings are the engine's for that month (a leefgeld under the floor, a fifth leefgeld day, a bill
that cannot be paid). They are advice, not terms: they depend on the day's balances and disappear once a
payment is booked, so they are left out of the fingerprint that decides whether the plan has a new
version ("versioned when its inputs change", domain.md A10).

Pure: no I/O, no clock. `render_text` makes the Dutch document a client signs.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from dataclasses import dataclass
from datetime import date
from typing import Any

from budget_ledger.ledger.money import Money
from budget_ledger.rules.budget import month_budget
from budget_ledger.rules.engine import PlanState, RuleSource
from budget_ledger.rules.engine import plan as run_engine
from budget_ledger.rules.plan import Finding, FindingKind, Severity
from budget_ledger.rules.policies import default_policies
from budget_ledger.rules.policies.leefgeld import Leefgeld
from budget_ledger.rules.profiles import CostCategory, LeefgeldFrequency, LeefgeldMode, Regime
from budget_ledger.rules.snapshot import HouseholdSnapshot, Payer, month_end, month_start
from budget_ledger.rules.texts import category_name, day_text, month_name

# -- the plan ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncomeLine:
    source: str
    amount: Money


@dataclass(frozen=True, slots=True)
class CostLine:
    category: CostCategory
    amount: Money
    creditors: tuple[str, ...]
    """The creditors billing this category for the month, by name, so a client recognises the line."""


@dataclass(frozen=True, slots=True)
class ReserveringLine:
    name: str
    amount: Money


@dataclass(frozen=True, slots=True)
class LeefgeldLine:
    frequency: LeefgeldFrequency
    mode: LeefgeldMode
    weekday: int | None
    """ISO weekday of weekly leefgeld (1 = Monday); None for monthly."""
    per_payment: Money
    payment_days: tuple[date, ...]
    """The days the leefgeld is transferred in this month (moved to the next business day)."""
    in_month: Money
    """What is transferred in this month: the sum of its payments (S12: 5 × 60 = 300 in March 2025)."""
    monthly_equivalent: Money
    """What the budget counts for a month: weekly × 52 / 12 (S12: 260), or the month's payment."""
    floor: Money
    """The profile's minimum per month for this household (the weekly floor × 52 / 12, rounded up)."""

    @property
    def payments(self) -> int:
        return len(self.payment_days)

    @property
    def extra_this_month(self) -> Money:
        """What this month transfers beyond the monthly equivalent (a fifth Monday); negative in a short month."""
        return self.in_month - self.monthly_equivalent


@dataclass(frozen=True)
class BudgetPlan:
    household_id: int
    month: date
    profile: str
    profile_version: date
    """valid_from of the profile version in force for the month."""
    regime: Regime
    members: int
    income: tuple[IncomeLine, ...]
    withheld: tuple[CostLine, ...]
    """Fixed costs the ledger pays from the basisrekening."""
    client_paid: tuple[CostLine, ...]
    """Fixed costs the client pays himself (automatische incasso from the leefgeldrekening)."""
    reserveringen: tuple[ReserveringLine, ...]
    aflossing: Money
    leefgeld: LeefgeldLine
    findings: tuple[Finding, ...] = ()

    @property
    def total_income(self) -> Money:
        return Money.sum(line.amount for line in self.income)

    @property
    def total_withheld(self) -> Money:
        return Money.sum(line.amount for line in self.withheld)

    @property
    def total_client_paid(self) -> Money:
        return Money.sum(line.amount for line in self.client_paid)

    @property
    def total_reserveringen(self) -> Money:
        return Money.sum(line.amount for line in self.reserveringen)

    @property
    def buffer(self) -> Money:
        """Income minus fixed costs, reserveringen, aflossing and the monthly leefgeld: what stays on the
        basisrekening. Negative means the budget does not fit (a tekort)."""
        return (self.total_income - self.total_withheld - self.total_reserveringen - self.aflossing
                - self.leefgeld.monthly_equivalent)

    @property
    def free_to_spend(self) -> Money:
        """The monthly leefgeld after the costs the client pays from it himself (S3: 750.54 − 220 = 530.54)."""
        return self.leefgeld.monthly_equivalent - self.total_client_paid

    def withheld_for(self, category: CostCategory) -> Money:
        return Money.sum(line.amount for line in self.withheld if line.category == category)

    def client_paid_for(self, category: CostCategory) -> Money:
        return Money.sum(line.amount for line in self.client_paid if line.category == category)

    # -- serialised --------------------------------------------------------------------------------

    def terms(self) -> dict[str, Any]:
        """The plan's figures and the rules they come from, as plain JSON: what the fingerprint covers."""
        return {
            "household_id": self.household_id,
            "month": self.month.isoformat(),
            "profile": self.profile,
            "profile_version": self.profile_version.isoformat(),
            "regime": self.regime.value,
            "members": self.members,
            "income": [{"source": line.source, "amount": str(line.amount)} for line in self.income],
            "withheld": [_cost_json(line) for line in self.withheld],
            "client_paid": [_cost_json(line) for line in self.client_paid],
            "reserveringen": [{"name": line.name, "amount": str(line.amount)} for line in self.reserveringen],
            "aflossing": str(self.aflossing),
            "leefgeld": {
                "frequency": self.leefgeld.frequency.value,
                "mode": self.leefgeld.mode.value,
                "weekday": self.leefgeld.weekday,
                "per_payment": str(self.leefgeld.per_payment),
                "payments": self.leefgeld.payments,
                "payment_days": [d.isoformat() for d in self.leefgeld.payment_days],
                "in_month": str(self.leefgeld.in_month),
                "monthly_equivalent": str(self.leefgeld.monthly_equivalent),
                "floor": str(self.leefgeld.floor),
            },
            "totals": {
                "income": str(self.total_income),
                "withheld": str(self.total_withheld),
                "client_paid": str(self.total_client_paid),
                "reserveringen": str(self.total_reserveringen),
                "buffer": str(self.buffer),
            },
        }

    def to_json(self) -> dict[str, Any]:
        """The whole plan as a plain dict: amounts as decimal strings, dates ISO. Findings included."""
        return {**self.terms(), "findings": [finding_json(f) for f in self.findings]}

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON of the plan's terms: equal figures and rules, equal fingerprint."""
        return fingerprint_of(self.terms())

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BudgetPlan:
        """The plan back from `to_json()` (a stored version)."""
        leefgeld = data["leefgeld"]
        return cls(
            household_id=data["household_id"],
            month=date.fromisoformat(data["month"]),
            profile=data["profile"],
            profile_version=date.fromisoformat(data["profile_version"]),
            regime=Regime(data["regime"]),
            members=data["members"],
            income=tuple(IncomeLine(i["source"], Money.parse(i["amount"])) for i in data["income"]),
            withheld=tuple(_cost_from_json(c) for c in data["withheld"]),
            client_paid=tuple(_cost_from_json(c) for c in data["client_paid"]),
            reserveringen=tuple(ReserveringLine(r["name"], Money.parse(r["amount"])) for r in data["reserveringen"]),
            aflossing=Money.parse(data["aflossing"]),
            leefgeld=LeefgeldLine(
                frequency=LeefgeldFrequency(leefgeld["frequency"]),
                mode=LeefgeldMode(leefgeld["mode"]),
                weekday=leefgeld["weekday"],
                per_payment=Money.parse(leefgeld["per_payment"]),
                payment_days=tuple(date.fromisoformat(d) for d in leefgeld["payment_days"]),
                in_month=Money.parse(leefgeld["in_month"]),
                monthly_equivalent=Money.parse(leefgeld["monthly_equivalent"]),
                floor=Money.parse(leefgeld["floor"]),
            ),
            findings=tuple(finding_from_json(f) for f in data.get("findings", ())),
        )


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def fingerprint_of(data: Any) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def _cost_json(line: CostLine) -> dict[str, Any]:
    return {"category": line.category.value, "amount": str(line.amount), "creditors": list(line.creditors)}


def _cost_from_json(data: dict[str, Any]) -> CostLine:
    return CostLine(CostCategory(data["category"]), Money.parse(data["amount"]), tuple(data["creditors"]))


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind.value,
        "severity": finding.severity.value,
        "on": finding.on.isoformat(),
        "rule": finding.rule,
        "message": finding.message,
        "amount": None if finding.amount is None else str(finding.amount),
        "creditor_id": finding.creditor_id,
        "category": None if finding.category is None else finding.category.value,
        "proposals": list(finding.proposals),
    }


def finding_from_json(data: dict[str, Any]) -> Finding:
    return Finding(
        kind=FindingKind(data["kind"]),
        severity=Severity(data["severity"]),
        on=date.fromisoformat(data["on"]),
        rule=data["rule"],
        message=data["message"],
        amount=None if data["amount"] is None else Money.parse(data["amount"]),
        creditor_id=data["creditor_id"],
        category=None if data["category"] is None else CostCategory(data["category"]),
        proposals=tuple(data["proposals"]),
    )


# -- making it ---------------------------------------------------------------------------------------


def _policy_state(snapshot: HouseholdSnapshot, rules: RuleSource, end: date) -> PlanState:
    """A planning state with every policy's schedule laid out, as the engine lays it out before its first
    day: the afbouw hand-over dates are known, so `state.withheld` says what the ledger pays in a month."""
    state = PlanState(snapshot, rules, snapshot.trajectory.start, max(end, snapshot.trajectory.start),
                      default_policies())
    for policy in state.policies:
        for _step in policy.steps(state):
            pass
    return state


def budgetplan(snapshot: HouseholdSnapshot, rules: RuleSource, month: date) -> BudgetPlan:
    """The budgetplan of `month` (any day in it) for the household in `snapshot` under `rules`.

    The findings are those the engine reports for the month when it runs as the payment run does: from the
    trajectory's start through the month's end, skipping what the book already holds (`snapshot.history`).
    """
    month = month_start(month)
    last = month_end(month)
    trajectory = snapshot.trajectory
    state = _policy_state(snapshot, rules, last)
    version_day = max(month, trajectory.start)
    version = rules.version_on(version_day)
    budget = month_budget(snapshot, version, month, state.withheld)

    creditors: dict[tuple[CostCategory, bool], list[str]] = {}
    for bill in snapshot.bills:
        if bill.period == month and not bill.one_off:
            withheld = bill.payer is not Payer.CLIENT and state.withheld(bill.category, month)
            names = creditors.setdefault((bill.category, withheld), [])
            if bill.creditor not in names:
                names.append(bill.creditor)

    def lines(amounts: dict[CostCategory, Money], withheld: bool) -> tuple[CostLine, ...]:
        order = version.tekort.rank
        return tuple(
            CostLine(category, amount, tuple(creditors.get((category, withheld), ())))
            for category, amount in sorted(amounts.items(), key=lambda item: (order(item[0]), item[0].value))
        )

    leefgeld = _leefgeld(state, rules, month, version_day)
    findings: tuple[Finding, ...] = ()
    if last >= trajectory.start:
        made = run_engine(snapshot, rules, trajectory.start, last)
        findings = tuple(f for f in made.findings if month_start(f.on) == month)
    return BudgetPlan(
        household_id=snapshot.household_id,
        month=month,
        profile=rules.name,
        profile_version=version.valid_from,
        regime=version.regime,
        members=snapshot.members,
        income=tuple(IncomeLine(source, amount) for source, amount in sorted(budget.income.items()) if amount.cents),
        withheld=lines(budget.withheld, True),
        client_paid=lines(budget.client_paid, False),
        reserveringen=tuple(ReserveringLine(name, amount) for name, amount in sorted(budget.reserveringen.items())),
        aflossing=budget.aflossing,
        leefgeld=leefgeld,
        findings=findings,
    )


def _leefgeld(state: PlanState, rules: RuleSource, month: date, version_day: date) -> LeefgeldLine:
    schedule = Leefgeld()
    days = tuple(day for day, belongs_to in schedule.payment_days(state) if belongs_to == month)
    version = rules.version_on(days[0] if days else version_day)
    policy = version.leefgeld
    # Each payment is worth what the leefgeld policy would pay on its day (a pro rata first month, a fixed
    # amount, or the room the month's budget leaves).
    amounts = [schedule.amount(state, rules.version_on(day), day, month) for day in days]
    per_payment = amounts[0] if amounts else schedule.amount(state, version, version_day, month)
    in_month = Money.sum(amounts)
    weekly = policy.frequency is LeefgeldFrequency.WEEKLY
    monthly_equivalent = Money(per_payment.cents * 52 // 12) if weekly else in_month
    return LeefgeldLine(
        frequency=policy.frequency,
        mode=policy.mode,
        weekday=policy.weekday if weekly else None,
        per_payment=per_payment,
        payment_days=days,
        in_month=in_month,
        monthly_equivalent=monthly_equivalent,
        floor=policy.monthly_floor(state.snapshot.members),
    )


# -- the document ------------------------------------------------------------------------------------

WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")

SOURCE_NAMES = {
    "bijstand": "Bijstand (Participatiewet)",
    "bijstand-voorschot": "Voorschot bijstand",
    "zorgtoeslag": "Zorgtoeslag",
    "huurtoeslag": "Huurtoeslag",
    "kindgebonden-budget": "Kindgebonden budget",
    "kinderbijslag": "Kinderbijslag",
    "loon": "Loon",
    "vakantiegeld": "Vakantiegeld",
    "gift": "Gift of bijzondere bijstand",
    "overig": "Overig inkomen",
}

REGIME_TEXT = {
    Regime.VOLLEDIG: "alle vaste lasten (huur, energie, water, zorgverzekering) uit de basisrekening",
    Regime.HUUR_ZORG: "huur en zorgverzekering uit de basisrekening; de andere vaste lasten betaalt u zelf",
    Regime.GEEN: "geen betalingen uit een basisrekening; u betaalt zelf, met hulp van uw begeleider",
}

WIDTH = 72
AMOUNT = 14


def _row(label: str, amount: Money | str, indent: int = 2) -> str:
    """A label and a right-aligned amount; a label too long for its column wraps, the amount on its last line."""
    text = amount if isinstance(amount, str) else amount.format_nl()
    room = WIDTH - AMOUNT - indent - 1
    lines = textwrap.wrap(label, room, subsequent_indent="  ", break_on_hyphens=False) or [""]
    head = [" " * indent + line for line in lines[:-1]]
    return "\n".join([*head, " " * indent + lines[-1].ljust(room + 1) + text.rjust(AMOUNT)])


def _rule(indent: int = 2) -> str:
    return " " * indent + " " * (WIDTH - AMOUNT - indent) + "-" * AMOUNT


def _heading(text: str) -> list[str]:
    return ["", text, "-" * len(text)]


def _days_text(days: tuple[date, ...]) -> str:
    if not days:
        return "geen"
    numbers = [str(d.day) for d in days]
    listed = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " en " + numbers[-1]
    return f"{listed} {month_name(days[0]).split()[0]}"


def _cost_label(line: CostLine) -> str:
    name = category_name(line.category).capitalize()
    return f"{name} ({', '.join(line.creditors)})" if line.creditors else name


def _wrap(text: str, indent: str = "", first: str = "") -> list[str]:
    """Wrapped at the document's width, never between "€" and its amount."""
    kept = text.replace("€ ", "€\u00a0")
    lines = textwrap.wrap(kept, WIDTH, initial_indent=first or indent, subsequent_indent=indent,
                          break_on_hyphens=False) or [first]
    return [line.replace("\u00a0", " ") for line in lines]


def render_text(plan: BudgetPlan, household_name: str, gemeente: str, *, version_note: str | None = None) -> str:
    """The budgetplan as a plain-text Dutch document the client and the budgetbeheerder sign.

    `version_note` says which recorded version this is ("versie 2, vastgelegd op …")."""
    title = f"Budgetplan {month_name(plan.month)}"
    persons = "1 persoon" if plan.members == 1 else f"{plan.members} personen"
    out = [title, "=" * len(title), ""]
    out.append(f"Huishouden:   {household_name} ({persons})")
    out.append(f"Gemeente:     {gemeente}")
    out.append(f"Regels:       profiel {plan.profile}, versie van {day_text(plan.profile_version)}")
    out += _wrap(REGIME_TEXT[plan.regime], " " * 14, "Vorm:         ")
    if version_note:
        out += _wrap(version_note, " " * 14, "Budgetplan:   ")

    out += _heading("Hoe uw geld loopt")
    out += _wrap(
        "Al uw inkomen (uitkering, toeslagen) komt binnen op de basisrekening. Van de basisrekening betalen "
        "wij de vaste lasten die hieronder staan, op tijd en in de juiste volgorde. De basisrekening staat "
        "nooit rood: is er te weinig, dan betalen wij niet en nemen wij contact met u op."
    )
    out += _wrap(
        "Uw leefgeld zetten wij van de basisrekening op uw leefgeldrekening. Met het leefgeld doet u zelf de "
        "boodschappen en betaalt u de kosten die u zelf betaalt. Wat op de basisrekening overblijft, is een "
        "buffer voor onverwachte kosten."
    )

    number = 0

    def section(text: str) -> None:
        nonlocal number
        number += 1
        out.extend(_heading(f"{number}. {text}"))

    section("Inkomsten voor deze maand")
    for income in plan.income:
        out.append(_row(SOURCE_NAMES.get(income.source, income.source.capitalize()), income.amount))
    if not plan.income:
        out.append("  Geen inkomsten bekend voor deze maand.")
    out += [_rule(), _row("Totaal inkomsten", plan.total_income)]

    section("Vaste lasten die wij voor u betalen (van de basisrekening)")
    for line in plan.withheld:
        out.append(_row(_cost_label(line), line.amount))
    if not plan.withheld:
        out.append("  Geen.")
    out += [_rule(), _row("Totaal vaste lasten", plan.total_withheld)]

    if plan.client_paid:
        section("Vaste lasten die u zelf betaalt (automatische incasso)")
        for line in plan.client_paid:
            out.append(_row(_cost_label(line), line.amount))
        out += [_rule(), _row("Totaal zelf te betalen (van uw leefgeld)", plan.total_client_paid)]

    if plan.reserveringen:
        section("Reserveringen (apart gezet voor latere rekeningen)")
        for line in plan.reserveringen:
            out.append(_row(f"Reservering {line.name}", line.amount))
        out += [_rule(), _row("Totaal reserveringen", plan.total_reserveringen)]

    if plan.aflossing.cents:
        section("Aflossing inrichtingskrediet")
        out.append(_row("Ingehouden op de uitkering", plan.aflossing))

    leefgeld = plan.leefgeld
    section("Leefgeld (naar uw leefgeldrekening)")
    if leefgeld.frequency is LeefgeldFrequency.WEEKLY:
        weekday = WEEKDAYS[(leefgeld.weekday or 1) - 1]
        out.append(_row(f"Per week, op {weekday}", leefgeld.per_payment))
        out.append(_row(f"Betaaldagen: {_days_text(leefgeld.payment_days)}", f"{leefgeld.payments} ×"))
        out.append(_row(f"Leefgeld in {month_name(plan.month)}", leefgeld.in_month))
        out.append(_row("Per maand gemiddeld (52 weken / 12 maanden)", leefgeld.monthly_equivalent))
        extra = leefgeld.extra_this_month
        if extra.cents > 0:
            out += _wrap(f"Deze maand heeft {leefgeld.payments} betaaldagen: {extra.format_nl()} meer dan het "
                         f"maandbedrag. Dat komt uit de buffer op de basisrekening.", "  ")
    else:
        out.append(_row("Per maand", leefgeld.in_month))
        if leefgeld.payment_days:
            out.append(f"  Betaaldag: {day_text(leefgeld.payment_days[0])}.")
    if plan.client_paid:
        out.append(_row("Na de vaste lasten die u zelf betaalt, blijft over", plan.free_to_spend))
    out.append(_row("Minimum leefgeld per maand volgens de regels", leefgeld.floor))

    section("Overzicht")
    out.append(_row("Inkomsten", plan.total_income))
    out.append(_row("Vaste lasten (betaald door ons)", -plan.total_withheld))
    if plan.reserveringen:
        out.append(_row("Reserveringen", -plan.total_reserveringen))
    if plan.aflossing.cents:
        out.append(_row("Aflossing inrichtingskrediet", -plan.aflossing))
    out.append(_row("Leefgeld (per maand)", -leefgeld.monthly_equivalent))
    out += [_rule(), _row("Buffer op de basisrekening", plan.buffer)]
    if plan.buffer.is_negative:
        out += _wrap("Het inkomen is niet genoeg voor dit plan. Wij bespreken met u wat anders kan.", "  ")

    if plan.findings:
        out += _heading("Aandachtspunten")
        for finding in plan.findings:
            out += _wrap(f"{day_text(finding.on)}: {finding.message}", "  ", "- ")
            for proposal in finding.proposals:
                out += _wrap(proposal, "      ", "    voorstel: ")

    out += _heading("Ondertekening")
    out += _wrap("Met dit budgetplan gaan cliënt en budgetbeheerder akkoord met de betalingen hierboven. "
                 "Verandert uw inkomen of een vaste last, dan maken wij een nieuwe versie.")
    out += [
        "",
        "Cliënt:            ______________________________   Datum: ______________",
        f"                   {household_name}",
        "",
        "Budgetbeheerder:   ______________________________   Datum: ______________",
        "",
    ]
    return "\n".join(out)
