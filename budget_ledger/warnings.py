"""Warnings: what a budgetbeheerder or begeleider must act on, found by a daily scan and kept until done.

One service computes every warning (issue 7 item 5) and stores it, so the list a person works from is the
same in the API, the CLI and the scheduler's daily scan (issue 5 item 4). Each warning has a type, a
severity, the household, the day it is about (`due_on`), the role it is for and a Dutch message.

**Idempotent by business key.** A warning is stored once per (household, type, subject, due date): a scan
that finds the same condition again finds the row it stored before and writes nothing new (it updates the
message or severity when they changed, e.g. an amount still open). A condition that is gone is resolved by
the scan itself ("opgelost bij scan"); a person acknowledges a warning (it stays acknowledged while the
condition holds) or resolves it with a note (it stays resolved, even if the scan still finds it: the person
decided). A warning the scan resolved and then finds again is reopened. Every step is an append-only event.

**What is scanned, and when a warning is raised** (day = the scan's day; L = the trajectory's last day;
lead times W = the profile's `waarschuwingen.lead_weeks`, else the gemeente's `warning_lead_weeks`, by
default 8, 4 and 2 weeks, taken from the rules in force on L, as the afbouw takes its hand-over dates):

| type | raised while | due on | for |
| --- | --- | --- | --- |
| ontzorging-einde | a running trajectory, one per lead time w in W from (L + 1) − w weeks until it is ended or extended | L | budgetbeheerder |
| evaluatie | a running trajectory's tussenevaluatie, eindevaluatie or verlengingsevaluatie not recorded, from its first day | its last day | budgetbeheerder |
| training-omgaan-met-geld | the training milestone not recorded after its due day (S10 outcome C) | its due day | begeleider |
| geen-verlengingsbesluit | a running trajectory not in afbouw whose decisive evaluation (the eindevaluatie, or after an extension the verlengingsevaluatie) has no outcome zelfredzaam, verlengen or afbouwen, from the day after that evaluation was due | L | budgetbeheerder |
| crediteur-niet-overgedragen | a creditor the ledger still pays on its hand-over day H (the afbouw's, S10) while bills fall due from H, from H − max(W) weeks; after the trajectory ended, H is the day after the end | H | begeleider |
| krediet-openstaand, voorschot-openstaand | krediet:inrichting or voorschot:toeslag not zero, from (L + 1) − max(W) weeks, and after the end | L or the end day | budgetbeheerder |
| leefgeld-onder-minimum, tekort-prognose | the rules engine's findings in a forecast from the scan day through the end of next month | the finding's day | budgetbeheerder |
| inkomen-te-laat | expected income not received by the business day after its due date (S8, `IncomeWatchService.late`) | its due date | budgetbeheerder |
| inleg-niet-ontvangen | money the rules had the gemeente put in (`org:gemeente:te-ontvangen`) not yet transferred, per put-in, from its booking day + the gemeente's `inleg_warning_days` (10); critical after three times that (budget_ledger/inleg_warnings.py) | booking day + days | budgetbeheerder |

**Extension point.** Each kind of warning comes from a `WarningSource`: it names the types it decides and,
for the households it was asked about, returns what holds now and which households it could judge (a
household whose forecast failed is not judged, so its earlier forecast warnings are left alone). The bank
side (issue 6: unmatched bank lines older than N days, a reconciliation difference) is added as another
source with its own `WarningType` members, registered in the composition root; a warning about the
organisation as a whole has no household (`household_id` None) and comes from a source that is
`organisation_wide`, asked once per scan of the whole organisation with `household_ids=None`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from dateutil.relativedelta import relativedelta
from pydantic import Field

from budget_ledger.chart import household_code
from budget_ledger.clock import AMSTERDAM, Clock, system_clock
from budget_ledger.creditors import Creditor, Payer
from budget_ledger.errors import ConflictError, InvalidInputError, NotFoundError
from budget_ledger.forecasts import ForecastService
from budget_ledger.gemeenten import GemeenteSettings, require_gemeente
from budget_ledger.household_profiles import ProfileCatalog, effective_version
from budget_ledger.households import Household
from budget_ledger.income_watch import IncomeWatchService
from budget_ledger.inputs import Command, validated
from budget_ledger.ledger.money import Money
from budget_ledger.planning import current_trajectory
from budget_ledger.ports import UnitOfWork
from budget_ledger.rules.plan import FindingKind, Severity
from budget_ledger.rules.policies.afbouw import handover_date
from budget_ledger.rules.profiles import ProfileVersion
from budget_ledger.rules.texts import category_name, day_text
from budget_ledger.trajectories import (
    EvaluationOutcome,
    Milestone,
    MilestoneKind,
    Trajectory,
    TrajectoryStatus,
)
from budget_ledger.transactions import Transactions

__all__ = [
    "WarningType", "WarningStatus", "WarningRole", "Severity", "NewWarning", "WarningRecord", "WarningEvent",
    "Found", "WarningSource", "TrajectoryWarnings", "ForecastWarnings", "IncomeWarnings", "ScanReport",
    "WarningsService", "parse_within", "SCAN_ACTOR", "RESOLVED_BY_SCAN", "raise_in",
]


class WarningType(StrEnum):
    ONTZORGING_EINDE = "ontzorging-einde"
    EVALUATIE = "evaluatie"
    TRAINING = "training-omgaan-met-geld"
    GEEN_VERLENGINGSBESLUIT = "geen-verlengingsbesluit"
    CREDITEUR_NIET_OVERGEDRAGEN = "crediteur-niet-overgedragen"
    KREDIET_OPENSTAAND = "krediet-openstaand"
    VOORSCHOT_OPENSTAAND = "voorschot-openstaand"
    LEEFGELD_ONDER_MINIMUM = "leefgeld-onder-minimum"
    TEKORT_PROGNOSE = "tekort-prognose"
    INKOMEN_TE_LAAT = "inkomen-te-laat"
    BANK_VERSCHIL = "bank-verschil"
    """The statement's balance differs from the ledger's bank account (issue 6, reconciliation)."""
    BANKREGEL_NIET_TOEGEWEZEN = "bankregel-niet-toegewezen"
    BETALING_TERUGGEBOEKT = "betaling-teruggeboekt"
    BETALING_NA_AFWIJZING = "betaling-na-afwijzing"
    """The bank executed a payment we had rejected (and reversed) already."""
    TERUGBETALING_ONTVANGEN = "terugbetaling-ontvangen"
    """A creditor paid money back (S7): offer it to the client as leefgeld."""
    INLEG_NIET_ONTVANGEN = "inleg-niet-ontvangen"
    """The gemeente put money in by the rules (a gift, a toeslag voorschot) and its transfer is late."""


class WarningStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    """Seen by a person, who is working on it; it stays so while the condition holds."""
    RESOLVED = "resolved"


class WarningRole(StrEnum):
    BUDGETBEHEERDER = "budgetbeheerder"
    BEGELEIDER = "begeleider"


UNRESOLVED = (WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED)
SCAN_ACTOR = "waarschuwingsscan"
RESOLVED_BY_SCAN = "opgelost bij scan"
DEFAULT_LEAD_WEEKS = (8, 4, 2)
FORECAST_MONTHS = 2
"""The forecast behind leefgeld-onder-minimum and tekort-prognose: the rest of this month and all of the next."""
LATE_INCOME_CRITICAL_AFTER = 5
"""Business days late from which expected income that has not arrived is critical (a week)."""
_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
type_of = type
"""The builtin, for the methods whose parameter `type` (the API's filter name) hides it."""


def warning_key(household_id: int | None, type_: WarningType, subject: str, due_on: date) -> str:
    """`<household or org>:<type>:<subject>:<due date>`: the business key a scan finds a warning by again."""
    return f"{'org' if household_id is None else household_id}:{type_.value}:{subject}:{due_on.isoformat()}"


@dataclass(frozen=True, slots=True)
class NewWarning:
    """A condition that holds on the scan's day, as a source found it."""

    type: WarningType
    household_id: int | None
    subject: str
    """What in the household it is about (a milestone, a creditor, a lead time), stable from scan to scan."""
    due_on: date
    severity: Severity
    role: WarningRole
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return warning_key(self.household_id, self.type, self.subject, self.due_on)


@dataclass(frozen=True, slots=True)
class WarningRecord:
    id: int
    key: str
    type: WarningType
    household_id: int | None
    gemeente: str | None
    """The household's gemeente (its code); None for a warning about the organisation."""
    subject: str
    due_on: date
    severity: Severity
    role: WarningRole
    message: str
    details: Mapping[str, Any]
    status: WarningStatus
    raised_on: date
    created_at: datetime
    updated_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_note: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolved_note: str | None = None

    def to_json(self) -> dict[str, Any]:
        def moment(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id, "type": self.type.value, "severity": self.severity.value,
            "household_id": self.household_id, "gemeente": self.gemeente, "subject": self.subject,
            "due_on": self.due_on.isoformat(), "role": self.role.value, "message": self.message,
            "details": dict(self.details), "status": self.status.value, "raised_on": self.raised_on.isoformat(),
            "acknowledged_by": self.acknowledged_by, "acknowledged_at": moment(self.acknowledged_at),
            "acknowledged_note": self.acknowledged_note, "resolved_by": self.resolved_by,
            "resolved_at": moment(self.resolved_at), "resolved_note": self.resolved_note,
        }


@dataclass(frozen=True, slots=True)
class WarningEvent:
    id: int
    warning_id: int
    at: datetime
    actor: str
    action: str
    """raised, acknowledged, resolved, reopened, escalated or deescalated."""
    note: str | None


# -- sources -----------------------------------------------------------------------------------------


@dataclass
class Found:
    """What a source found for the households it was asked about."""

    warnings: list[NewWarning] = field(default_factory=list)
    judged: set[int | None] = field(default_factory=set)
    """The households (None: the organisation) the source could judge: for them, a stored warning of the
    source's types that was not found again is gone. A household it could not judge is left as it was."""
    failures: list[tuple[int | None, str]] = field(default_factory=list)


class WarningSource(Protocol):
    types: tuple[WarningType, ...]
    organisation_wide: bool
    """False: asked per chunk of household ids. True: asked once per scan of the whole organisation, with
    `household_ids=None` (issue 6's reconciliation difference, bank lines not matched to a household)."""

    def find(self, day: date, household_ids: Sequence[int] | None) -> Found: ...


def lead_weeks(version: ProfileVersion | None, settings: GemeenteSettings) -> tuple[int, ...]:
    """The ontzorging-end lead times: the profile's when it sets them, else the gemeente's (8, 4, 2 by default)."""
    if version is not None and version.waarschuwingen.lead_weeks is not None:
        return version.waarschuwingen.lead_weeks
    return tuple(sorted(set(settings.warning_lead_weeks), reverse=True))


def _weeks(count: int) -> str:
    return f"{count} {'week' if count == 1 else 'weken'}"


_EVALUATIONS = {
    MilestoneKind.EVALUATIE: "tussenevaluatie",
    MilestoneKind.EINDEVALUATIE: "eindevaluatie",
    MilestoneKind.EVALUATIE_VERLENGING: "evaluatie van de verlenging",
}
_DECISIONS = frozenset({EvaluationOutcome.ZELFREDZAAM, EvaluationOutcome.VERLENGEN, EvaluationOutcome.AFBOUWEN})


class TrajectoryWarnings:
    """Everything that follows from a trajectory's dates, its milestones, its creditors' payers and the
    household's krediet and voorschot balances: one read transaction per chunk of households."""

    types = (WarningType.ONTZORGING_EINDE, WarningType.EVALUATIE, WarningType.TRAINING,
             WarningType.GEEN_VERLENGINGSBESLUIT, WarningType.CREDITEUR_NIET_OVERGEDRAGEN,
             WarningType.KREDIET_OPENSTAAND, WarningType.VOORSCHOT_OPENSTAAND)
    organisation_wide = False

    def __init__(self, transactions: Transactions, catalog: ProfileCatalog) -> None:
        self._tx = transactions
        self._catalog = catalog

    def find(self, day: date, household_ids: Sequence[int] | None) -> Found:
        def work(uow: UnitOfWork) -> Found:
            found = Found()
            gemeenten: dict[int, Any] = {}
            for household in uow.registry.households(ids=list(household_ids or [])):
                found.judged.add(household.id)
                if household.gemeente_id not in gemeenten:
                    gemeenten[household.gemeente_id] = uow.registry.gemeente(household.gemeente_id)
                self._household(uow, found, day, household, gemeenten[household.gemeente_id])
            return found

        return self._tx.run(work, write=False)

    def _household(self, uow: UnitOfWork, found: Found, day: date, household: Household, gemeente: Any) -> None:
        trajectories = uow.registry.trajectories_of(household.id)
        running = current_trajectory(trajectories)
        if running is not None:
            version = self._version(uow, found, household, gemeente, running.last_day)
            leads = lead_weeks(version, gemeente.settings)
            notice = timedelta(weeks=max(leads, default=DEFAULT_LEAD_WEEKS[0]))
            found.warnings += _end_approaching(day, household.id, running, leads)
            found.warnings += _evaluations(day, household.id, running)
            found.warnings += _no_decision(day, household.id, running)
            creditors = uow.registry.creditors_of(household.id)
            found.warnings += _not_handed_over(day, household.id, running, creditors, version, notice)
            if day >= running.last_day + timedelta(days=1) - notice:
                found.warnings += _outstanding(uow, day, household.id, running.last_day, ended=False)
            return
        ended = [t for t in trajectories if t.status is TrajectoryStatus.BEEINDIGD and t.ended_on is not None]
        if not ended:
            return
        last = max(ended, key=lambda t: (t.ended_on, t.id))
        assert last.ended_on is not None
        if day <= last.ended_on:
            return
        creditors = uow.registry.creditors_of(household.id)
        found.warnings += _not_handed_over(day, household.id, last, creditors, None, timedelta(0))
        found.warnings += _outstanding(uow, day, household.id, last.ended_on, ended=True)

    def _version(self, uow: UnitOfWork, found: Found, household: Household, gemeente: Any,
                 day: date) -> ProfileVersion | None:
        """The household's rules on `day`; None (the gemeente's settings hold) when they cannot be made, which
        is reported: the payment run and the forecast will refuse the household for the same reason."""
        try:
            profile = self._catalog.for_gemeente(gemeente)
            return effective_version(profile, self._catalog, uow.registry.profile_assignments(household.id),
                                     day).version
        except Exception as exc:  # noqa: BLE001 - reported, and the gemeente's own lead times still apply
            found.failures.append((household.id, f"profiel: {getattr(exc, 'message', None) or exc}"))
            return None


def _end_approaching(day: date, household_id: int, trajectory: Trajectory, leads: Iterable[int]) -> list[NewWarning]:
    last = trajectory.last_day
    found = []
    for weeks in leads:
        if day < last + timedelta(days=1) - timedelta(weeks=weeks):
            continue
        if day > last:
            severity = Severity.CRITICAL
            message = (f"De ontzorging had op {day_text(last)} haar laatste dag, maar het traject loopt nog: "
                       "beëindig het met een overdracht, of verleng het met een reden.")
        else:
            severity = Severity.CRITICAL if weeks <= 2 else Severity.WARNING if weeks <= 4 else Severity.INFO
            message = (f"De ontzorging eindigt over {_weeks(weeks)}: {day_text(last)} is de laatste dag. Bereid "
                       "de uitstroom voor: eindevaluatie, overdracht van de vaste lasten naar de automatische "
                       "incasso van de klant, of een verlenging met een reden.")
        found.append(NewWarning(
            WarningType.ONTZORGING_EINDE, household_id, f"traject:{trajectory.id}:{weeks}w", last, severity,
            WarningRole.BUDGETBEHEERDER, message,
            {"trajectory_id": trajectory.id, "lead_weeks": weeks, "last_day": last.isoformat()}))
    return found


def _evaluations(day: date, household_id: int, trajectory: Trajectory) -> list[NewWarning]:
    found = []
    for m in trajectory.milestones:
        if m.completed_on is not None:
            continue
        details = {"trajectory_id": trajectory.id, "milestone_id": m.id, "milestone": m.kind.value,
                   "due_from": m.due_from.isoformat(), "due_on": m.due_on.isoformat()}
        if m.kind is MilestoneKind.TRAINING_OMGAAN_MET_GELD:
            if day > m.due_on:
                found.append(NewWarning(
                    WarningType.TRAINING, household_id, f"mijlpaal:{m.id}", m.due_on, Severity.WARNING,
                    WarningRole.BEGELEIDER,
                    f"De training 'Omgaan met geld' is niet afgerond; dat had uiterlijk {day_text(m.due_on)} "
                    f"moeten zijn. Plan haar vóór het einde van de ontzorging op {day_text(trajectory.last_day)}.",
                    details))
            continue
        name = _EVALUATIONS.get(m.kind)
        if name is None or day < m.due_from:
            continue
        if day > m.due_on:
            severity = Severity.CRITICAL
            message = f"De {name} had uiterlijk {day_text(m.due_on)} moeten plaatsvinden en is niet vastgelegd."
        else:
            severity = Severity.WARNING
            when = (f"op {day_text(m.due_on)}" if m.due_from == m.due_on
                    else f"tussen {day_text(m.due_from)} en {day_text(m.due_on)}")
            message = f"De {name} is aan de beurt: {when}. Leg de uitkomst vast bij het traject."
        found.append(NewWarning(WarningType.EVALUATIE, household_id, f"mijlpaal:{m.id}", m.due_on, severity,
                                WarningRole.BUDGETBEHEERDER, message, details))
    return found


def decisive_evaluation(trajectory: Trajectory) -> Milestone | None:
    """The evaluation that decides about the current end: the eindevaluatie, or after an extension the
    evaluation planned before the new end (the latest one due by the last day)."""
    candidates = [m for m in trajectory.milestones
                  if m.kind in (MilestoneKind.EINDEVALUATIE, MilestoneKind.EVALUATIE_VERLENGING)
                  and m.due_on <= trajectory.last_day]
    return max(candidates, key=lambda m: (m.due_on, m.id), default=None)


def _no_decision(day: date, household_id: int, trajectory: Trajectory) -> list[NewWarning]:
    if trajectory.status is TrajectoryStatus.IN_AFBOUW:
        return []  # afbouw is the decision to exit
    last = trajectory.last_day
    evaluation = decisive_evaluation(trajectory)
    if evaluation is not None and evaluation.outcome in _DECISIONS:
        return []
    from_day = evaluation.due_on + timedelta(days=1) if evaluation else last + timedelta(days=1) - timedelta(weeks=2)
    if day < from_day:
        return []
    closing = day >= last + timedelta(days=1) - timedelta(weeks=2)  # the last two weeks, and after
    ends = f"eindigde op {day_text(last)}" if day > last else f"eindigt op {day_text(last)}"
    name = _EVALUATIONS[evaluation.kind] if evaluation else "eindevaluatie"
    return [NewWarning(
        WarningType.GEEN_VERLENGINGSBESLUIT, household_id, f"traject:{trajectory.id}", last,
        Severity.CRITICAL if closing else Severity.WARNING, WarningRole.BUDGETBEHEERDER,
        f"Er is geen besluit over verlenging of uitstroom vastgelegd, en de ontzorging {ends}. Leg de "
        f"uitkomst van de {name} vast (zelfredzaam, verlengen of afbouwen), en verleng het traject of "
        "start de afbouw.",
        {"trajectory_id": trajectory.id, "last_day": last.isoformat(),
         "milestone_id": evaluation.id if evaluation else None})]


def _not_handed_over(day: date, household_id: int, trajectory: Trajectory, creditors: Iterable[Creditor],
                     version: ProfileVersion | None, notice: timedelta) -> list[NewWarning]:
    """S10: each creditor the ledger pays moves to the client's incasso on its hand-over day. Still on the
    ledger then, with bills falling due from that day, it would go unpaid (the Tholen gap, 001:L2910)."""
    ended = trajectory.status is TrajectoryStatus.BEEINDIGD
    end_exclusive = (trajectory.ended_on if ended else trajectory.last_day) + timedelta(days=1)  # type: ignore[operator]
    found = []
    for creditor in creditors:
        if ended or version is None:
            handover = end_exclusive
        else:
            handover = handover_date(end_exclusive, version.afbouw.months_before_end(creditor.category))
        if day < handover - notice:
            continue
        if creditor.payer_on(handover) is not Payer.LEDGER:
            continue
        upcoming = [d for d, _amount, payer in creditor.due_dates(handover, handover + timedelta(days=366))
                    if payer is Payer.LEDGER]
        if not upcoming:
            continue
        what = f"{creditor.organisation} ({category_name(creditor.category)})"
        if ended:
            severity = Severity.CRITICAL
            message = (f"{what}: de ontzorging is op {day_text(end_exclusive - timedelta(days=1))} beëindigd, "
                       f"maar de crediteur staat nog op betaling uit de basisrekening; de rekening van "
                       f"{day_text(upcoming[0])} betaalt niemand. Zet de automatische incasso van de klant op "
                       "en leg de overdracht vast.")
        else:
            severity = Severity.CRITICAL if day >= handover - timedelta(days=14) else Severity.WARNING
            message = (f"{what}: vanaf {day_text(handover)} betaalt de klant zelf via automatische incasso, maar "
                       "de crediteur staat nog op betaling uit de basisrekening. Zet de incasso op en leg de "
                       "overdracht vast.")
        found.append(NewWarning(
            WarningType.CREDITEUR_NIET_OVERGEDRAGEN, household_id, f"crediteur:{creditor.id}", handover, severity,
            WarningRole.BEGELEIDER, message,
            {"trajectory_id": trajectory.id, "creditor_id": creditor.id, "category": creditor.category.value,
             "handover_on": handover.isoformat(), "next_bill_on": upcoming[0].isoformat()}))
    return found


def _outstanding(uow: UnitOfWork, day: date, household_id: int, end: date, *, ended: bool) -> list[NewWarning]:
    """Krediet and voorschot still owed at the end: liabilities of the household, credit-normal."""
    balances = uow.ledger.balances_as_of(day, household_id=household_id)
    found = []
    when = f"na het einde van de ontzorging op {day_text(end)}" if ended \
        else f"bij het einde van de ontzorging op {day_text(end)}"
    for type_, account, text in (
        (WarningType.KREDIET_OPENSTAAND, "krediet:inrichting",
         "Van het inrichtingskrediet staat nog {amount} open {when}. Spreek af hoe de aflossing daarna "
         "doorloopt (bijvoorbeeld inhouding op de uitkering door de gemeente)."),
        (WarningType.VOORSCHOT_OPENSTAAND, "voorschot:toeslag",
         "Van het voorschot op toeslagen staat nog {amount} open {when}. Regel de terugbetaling of een "
         "betalingsregeling; het gaat niet stilzwijgend van het leefgeld af."),
    ):
        owed = Money(-balances.get(household_code(household_id, *account.split(":")), 0))
        if owed.cents <= 0:
            continue
        found.append(NewWarning(type_, household_id, account, end, Severity.WARNING, WarningRole.BUDGETBEHEERDER,
                                text.format(amount=owed.format_nl(), when=when),
                                {"account": account, "amount": str(owed), "end": end.isoformat()}))
    return found


class ForecastWarnings:
    """The rules engine's findings for the coming month: leefgeld under the floor and payments that would
    fail. One forecast per household with a running trajectory and a basisrekening, per scan."""

    types = (WarningType.LEEFGELD_ONDER_MINIMUM, WarningType.TEKORT_PROGNOSE)
    organisation_wide = False
    _KINDS = {FindingKind.FLOOR_BREACH: WarningType.LEEFGELD_ONDER_MINIMUM,
              FindingKind.SHORTFALL: WarningType.TEKORT_PROGNOSE}

    def __init__(self, transactions: Transactions, forecasts: ForecastService, months: int = FORECAST_MONTHS) -> None:
        self._tx = transactions
        self._forecasts = forecasts
        self._months = months

    def find(self, day: date, household_ids: Sequence[int] | None) -> Found:
        found = Found()

        def to_forecast(uow: UnitOfWork) -> list[int]:
            wanted = []
            for household in uow.registry.households(ids=list(household_ids or [])):
                found.judged.add(household.id)  # without a running trajectory or a basisrekening: nothing to forecast
                running = current_trajectory(uow.registry.trajectories_of(household.id))
                if running is not None and household.eligibility.needs_ledger:
                    wanted.append(household.id)
            return wanted

        for household_id in self._tx.run(to_forecast, write=False):
            try:
                forecast = self._forecasts.forecast(household_id, months=self._months, as_of=day)
            except Exception as exc:  # noqa: BLE001 - one household's failure never stops the scan
                found.judged.discard(household_id)
                found.failures.append((household_id, f"prognose: {getattr(exc, 'message', None) or exc}"))
                continue
            for finding in forecast.findings:
                type_ = self._KINDS.get(finding.kind)
                if type_ is None:
                    continue
                about = finding.creditor_id or (finding.category.value if finding.category else None)
                subject = f"{finding.rule}:{about}" if about is not None else finding.rule
                found.warnings.append(NewWarning(
                    type_, household_id, subject, finding.on, finding.severity, WarningRole.BUDGETBEHEERDER,
                    f"Prognose: {finding.message}",
                    {"rule": finding.rule, "amount": None if finding.amount is None else str(finding.amount),
                     "creditor_id": finding.creditor_id,
                     "category": finding.category.value if finding.category else None,
                     "proposals": list(finding.proposals), "forecast_through": forecast.end.isoformat()}))
        return found


class IncomeWarnings:
    """S8: expected income that did not arrive by the business day after its due date."""

    types = (WarningType.INKOMEN_TE_LAAT,)
    organisation_wide = False

    def __init__(self, watch: IncomeWatchService) -> None:
        self._watch = watch

    def find(self, day: date, household_ids: Sequence[int] | None) -> Found:
        ids = list(household_ids or [])
        found = Found(judged=set(ids))
        for late in self._watch.late(day, household_ids=ids):
            severity = Severity.CRITICAL if late.business_days_late >= LATE_INCOME_CRITICAL_AFTER else Severity.WARNING
            found.warnings.append(NewWarning(
                WarningType.INKOMEN_TE_LAAT, late.household_id, late.source, late.due_on, severity,
                WarningRole.BUDGETBEHEERDER,
                f"{late.message} Ga na of het op de eigen rekening van de klant is binnengekomen en laat het dan "
                "overmaken naar de basisrekening.",
                {"source": late.source, "expected": str(late.expected), "missing": str(late.missing),
                 "business_days_late": late.business_days_late}))
        return found


# -- the service -------------------------------------------------------------------------------------


_DURATION = re.compile(r"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def parse_within(value: Any, field_name: str = "within") -> relativedelta | None:
    """An ISO-8601 duration of years, months, weeks and days ('P6M', 'P8W', 'P1Y2M10D'), a relativedelta or
    a timedelta, as a relativedelta; None stays None (no limit). Negative or time-of-day parts are refused."""
    if value is None:
        return None
    if isinstance(value, relativedelta):
        result = value
    elif isinstance(value, timedelta):
        result = relativedelta(days=value.days)
    elif isinstance(value, str):
        match = _DURATION.match(value.strip().upper())
        if match is None:
            raise InvalidInputError(field_name, f"{value!r} is not an ISO-8601 duration of years, months, weeks "
                                                "or days, such as P6M, P8W or P1Y2M")
        years, months, weeks, days = (int(part or 0) for part in match.groups())
        return relativedelta(years=years, months=months, days=days + 7 * weeks)
    else:
        raise InvalidInputError(field_name, f"must be an ISO-8601 duration such as P6M, not {value!r}")
    base = date(2000, 1, 1)
    if base + result < base or any((result.hours, result.minutes, result.seconds, result.microseconds)) \
            or any(v is not None for v in (result.year, result.month, result.day, result.weekday)):
        raise InvalidInputError(field_name, "must be a forward duration of years, months, weeks or days")
    return result


def _choices(value: Any, enum: type[StrEnum], field_name: str) -> tuple[Any, ...] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, str) else list(value)
    chosen = []
    for item in values:
        try:
            chosen.append(enum(item))
        except ValueError:
            known = ", ".join(e.value for e in enum)  # type: ignore[attr-defined]
            raise InvalidInputError(field_name, f"there is no {field_name} {item!r} (known: {known})") from None
    if not chosen:
        raise InvalidInputError(field_name, "name at least one, or leave it out")
    return tuple(chosen)


def _actor(actor: Any) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise InvalidInputError("actor", "name the user who does this")
    return actor.strip()


class AcknowledgeWarning(Command):
    note: str | None = Field(default=None, min_length=1, max_length=2000,
                             description="optional; what is being done about it")


class ResolveWarning(Command):
    note: str = Field(min_length=1, max_length=2000, description="how it was resolved")


@dataclass(frozen=True, slots=True)
class ScanReport:
    day: date
    households: int
    raised: int = 0
    reopened: int = 0
    changed: int = 0
    resolved: int = 0
    failures: tuple[tuple[int | None, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "households": self.households, "raised": self.raised,
                "reopened": self.reopened, "changed": self.changed, "resolved": self.resolved,
                "failures": [{"household_id": h, "message": m} for h, m in self.failures]}

    def __str__(self) -> str:
        return (f"{self.households} huishouden(s): {self.raised} nieuw, {self.reopened} heropend, "
                f"{self.changed} gewijzigd, {self.resolved} opgelost, {len(self.failures)} mislukt")


@dataclass
class _Tally:
    raised: int = 0
    reopened: int = 0
    changed: int = 0
    resolved: int = 0


class WarningsService:
    def __init__(self, transactions: Transactions, sources: Sequence[WarningSource], clock: Clock = system_clock,
                 *, chunk_size: int = 200) -> None:
        self._tx = transactions
        self._sources = tuple(sources)
        self._clock = clock
        self._chunk_size = chunk_size

    @property
    def types(self) -> tuple[WarningType, ...]:
        """The types the scan decides, in the order of its sources."""
        return tuple(t for source in self._sources for t in source.types)

    def _today(self) -> date:
        return self._clock().astimezone(AMSTERDAM).date()

    # -- the scan ----------------------------------------------------------------------------------

    def scan(self, day: date | None = None, *, gemeente: str | None = None,
             household_ids: Sequence[int] | None = None) -> ScanReport:
        """Find what holds on `day` (default today) for every household (of a gemeente, or those named) and
        store it: new conditions raised, changed ones updated, those gone resolved. Idempotent per day."""
        if day is not None and (not isinstance(day, date) or isinstance(day, datetime)):
            raise InvalidInputError("day", f"must be a date (YYYY-MM-DD), not {day!r}")
        day = day or self._today()

        def scope(uow: UnitOfWork) -> list[int]:
            gemeente_id = require_gemeente(uow, gemeente).id if gemeente else None
            found = [h.id for h in uow.registry.households(gemeente_id=gemeente_id)]
            return sorted(set(found) & set(household_ids)) if household_ids is not None else found

        ids = self._tx.run(scope, write=False)
        tally = _Tally()
        failures: list[tuple[int | None, str]] = []
        for start in range(0, len(ids), self._chunk_size):
            chunk = ids[start:start + self._chunk_size]
            results = [(source, source.find(day, chunk)) for source in self._sources if not source.organisation_wide]
            self._store(day, results, tally, failures)
        if gemeente is None and household_ids is None:
            results = [(source, source.find(day, None)) for source in self._sources if source.organisation_wide]
            if results:
                self._store(day, results, tally, failures)
        return ScanReport(day, len(ids), tally.raised, tally.reopened, tally.changed, tally.resolved, tuple(failures))

    def _store(self, day: date, results: Sequence[tuple[WarningSource, Found]], tally: _Tally,
               failures: list[tuple[int | None, str]]) -> None:
        candidates: dict[str, NewWarning] = {}
        judged: set[tuple[int | None, WarningType]] = set()
        for source, found in results:
            failures += found.failures
            judged |= {(household, t) for household in found.judged for t in source.types}
            for warning in found.warnings:
                if warning.type not in source.types:
                    raise ValueError(f"source {type(source).__name__} raised {warning.type}, not one of its types")
                if warning.household_id not in found.judged:
                    continue  # a source cannot both fail a household and raise a warning for it
                before = candidates.get(warning.key)
                if before is None or _SEVERITY_RANK[warning.severity] > _SEVERITY_RANK[before.severity]:
                    candidates[warning.key] = warning
        if not candidates and not judged:
            return

        def work(uow: UnitOfWork) -> _Tally:
            done = _Tally()
            now = self._clock()
            store = uow.warnings
            stored = store.by_keys(list(candidates))
            for key, new in candidates.items():
                existing = stored.get(key)
                if existing is None:
                    warning_id = store.insert(new, day, now)
                    if warning_id is not None:  # None: a concurrent scan stored it a moment ago
                        store.add_event(warning_id, "raised", SCAN_ACTOR, now)
                        done.raised += 1
                    continue
                changes: dict[str, Any] = {}
                if existing.status is WarningStatus.RESOLVED:
                    if existing.resolved_by != SCAN_ACTOR:
                        continue  # a person resolved it: their decision stands
                    changes.update(status=WarningStatus.OPEN.value, resolved_by=None, resolved_at=None,
                                   resolved_note=None, acknowledged_by=None, acknowledged_at=None,
                                   acknowledged_note=None)
                if (existing.severity, existing.role, existing.message, dict(existing.details)) != \
                        (new.severity, new.role, new.message, dict(new.details)):
                    changes.update(severity=new.severity.value, role=new.role.value, message=new.message,
                                   details=dict(new.details))
                if not changes:
                    continue
                changes["updated_at"] = now
                if not store.update(existing.id, [existing.status.value], **changes):
                    continue  # changed by someone meanwhile; the next scan sees it again
                if existing.status is WarningStatus.RESOLVED:
                    store.add_event(existing.id, "reopened", SCAN_ACTOR, now)
                    done.reopened += 1
                else:
                    done.changed += 1
                if existing.severity is not new.severity:
                    up = _SEVERITY_RANK[new.severity] > _SEVERITY_RANK[existing.severity]
                    store.add_event(existing.id, "escalated" if up else "deescalated", SCAN_ACTOR, now,
                                    f"{existing.severity.value} → {new.severity.value}")
            households = {h for h, _ in judged if h is not None}
            organisation = any(h is None for h, _ in judged)
            for existing in store.unresolved(household_ids=households, organisation=organisation,
                                             types=sorted({t.value for _, t in judged})):
                if existing.key in candidates or (existing.household_id, existing.type) not in judged:
                    continue
                if store.update(existing.id, [s.value for s in UNRESOLVED], status=WarningStatus.RESOLVED.value,
                                resolved_by=SCAN_ACTOR, resolved_at=now, resolved_note=RESOLVED_BY_SCAN,
                                updated_at=now):
                    store.add_event(existing.id, "resolved", SCAN_ACTOR, now, RESOLVED_BY_SCAN)
                    done.resolved += 1
            return done

        done = self._tx.run(work)
        tally.raised += done.raised
        tally.reopened += done.reopened
        tally.changed += done.changed
        tally.resolved += done.resolved

    # -- reading -----------------------------------------------------------------------------------

    def list(self, *, within: Any = None, gemeente: str | None = None, begeleider: str | None = None,
             type: Any = None, status: Any = None, household_id: int | None = None,  # noqa: A002 - the API's name
             as_of: date | None = None, limit: int | None = None, offset: int = 0) -> list[WarningRecord]:
        """The stored warnings due by `as_of` (default today) + `within` (an ISO-8601 duration such as 'P6M'; None:
        any time), overdue ones included, by due date. `status` defaults to open and acknowledged."""
        period = parse_within(within)
        types = _choices(type, WarningType, "type")
        statuses = _choices(status, WarningStatus, "status") or UNRESOLVED
        if begeleider is not None and (not isinstance(begeleider, str) or not begeleider.strip()):
            raise InvalidInputError("begeleider", "name the begeleider, or leave it out")
        if as_of is not None and (not isinstance(as_of, date) or isinstance(as_of, datetime)):
            raise InvalidInputError("as_of", f"must be a date (YYYY-MM-DD), not {as_of!r}")
        if limit is not None and (type_of(limit) is not int or limit < 1):
            raise InvalidInputError("limit", "must be a whole number of at least 1")
        if type_of(offset) is not int or offset < 0:
            raise InvalidInputError("offset", "must be a whole number of at least 0")
        until = None if period is None else (as_of or self._today()) + period

        def work(uow: UnitOfWork) -> list[WarningRecord]:
            gemeente_id = require_gemeente(uow, gemeente).id if gemeente else None
            return uow.warnings.warnings(
                statuses=[s.value for s in statuses], types=None if types is None else [t.value for t in types],
                due_until=until, gemeente_id=gemeente_id, begeleider=begeleider.strip() if begeleider else None,
                household_id=household_id, limit=limit, offset=offset)

        return self._tx.run(work, write=False)

    def get(self, warning_id: int) -> WarningRecord:
        return self._tx.run(lambda uow: require_warning(uow, warning_id), write=False)

    def events(self, warning_id: int) -> list[WarningEvent]:
        def work(uow: UnitOfWork) -> list[WarningEvent]:
            require_warning(uow, warning_id)
            return uow.warnings.events(warning_id)

        return self._tx.run(work, write=False)

    # -- what people do ----------------------------------------------------------------------------

    def acknowledge(self, warning_id: int, data: AcknowledgeWarning | Mapping[str, Any] | None, actor: str
                    ) -> WarningRecord:
        """Seen, and being worked on: it stays acknowledged while the condition holds."""
        command = validated(AcknowledgeWarning, data if data is not None else {})
        who = _actor(actor)

        def work(uow: UnitOfWork) -> WarningRecord:
            warning = require_warning(uow, warning_id, lock=True)
            if warning.status is not WarningStatus.OPEN:
                raise ConflictError(f"warning {warning_id} is {warning.status.value}, not open", field="status")
            now = self._clock()
            uow.warnings.update(warning_id, [WarningStatus.OPEN.value], status=WarningStatus.ACKNOWLEDGED.value,
                                acknowledged_by=who, acknowledged_at=now, acknowledged_note=command.note,
                                updated_at=now)
            uow.warnings.add_event(warning_id, "acknowledged", who, now, command.note)
            return require_warning(uow, warning_id)

        return self._tx.run(work)

    def resolve(self, warning_id: int, data: ResolveWarning | Mapping[str, Any], actor: str) -> WarningRecord:
        """Done, with a note saying how. A warning a person resolved stays resolved."""
        command = validated(ResolveWarning, data)
        who = _actor(actor)

        def work(uow: UnitOfWork) -> WarningRecord:
            warning = require_warning(uow, warning_id, lock=True)
            if warning.status is WarningStatus.RESOLVED:
                raise ConflictError(f"warning {warning_id} was already resolved by {warning.resolved_by}",
                                    field="status")
            now = self._clock()
            uow.warnings.update(warning_id, [s.value for s in UNRESOLVED], status=WarningStatus.RESOLVED.value,
                                resolved_by=who, resolved_at=now, resolved_note=command.note, updated_at=now)
            uow.warnings.add_event(warning_id, "resolved", who, now, command.note)
            return require_warning(uow, warning_id)

        return self._tx.run(work)


def raise_in(uow: UnitOfWork, warnings: Iterable[NewWarning], day: date, now: datetime, actor: str) -> list[int]:
    """Store warnings an event found as it happened (a bank return, a reconciliation difference), inside
    that event's own transaction. A key stored already is left as it is; the ids of the new ones."""
    raised = []
    for warning in warnings:
        warning_id = uow.warnings.insert(warning, day, now)
        if warning_id is not None:
            uow.warnings.add_event(warning_id, "raised", actor, now)
            raised.append(warning_id)
    return raised


def require_warning(uow: UnitOfWork, warning_id: int, *, lock: bool = False) -> WarningRecord:
    if type_of(warning_id) is not int:
        raise InvalidInputError("warning_id", f"must be a whole number, not {warning_id!r}")
    warning = uow.warnings.warning(warning_id, lock=lock)
    if warning is None:
        raise NotFoundError(f"there is no warning {warning_id}", field="warning_id")
    return warning


def default_sources(transactions: Transactions, catalog: ProfileCatalog, forecasts: ForecastService,
                    watch: IncomeWatchService) -> list[WarningSource]:
    """The sources of the household warnings; the composition root adds the bank side
    (budget_ledger/bank_warnings.py), which needs the organisation's settings."""
    return [TrajectoryWarnings(transactions, catalog), ForecastWarnings(transactions, forecasts),
            IncomeWarnings(watch)]
