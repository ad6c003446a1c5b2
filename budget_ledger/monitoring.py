"""Monitoring financieel ontzorgen: the figures a gemeente reports per period, and the KPI done right.

Westfriesland reports "7 of 143 trajecten verlengd na 6 maanden" (4.9 %), presents it as 5 %, and so
claims its target "na 6 maanden is 75 % van de inburgeraars in staat om zelf de financiën te beheren"
at 95 % (domain.md A11, S19). That figure treats *not extended* as *self-reliant*, and it counts trajecten
that had not yet reached six months when the period closed. This report gives both: the naive figure,
so it can be compared with what was reported, and the corrected KPI, with the target check.

**Per gemeente** (ordered by gemeente code, not by any table's position, S19) **and in total**, for a
period `period_from` to `period_to`, both days included:

| figure | CSV column | which trajecten |
| --- | --- | --- |
| started | `gestart` | start date in the period (the start is the gemeente's anchor date, A1 R6) |
| active_at_end | `actief_einde_periode` | started by the end of the period and not ended by then |
| ended | `beeindigd` | ended in the period (`ended_on` is the last day of ontzorging) |
| extended | `verlengd` | of those started in the period, the ones with an extension recorded (at any time) |
| opt_outs | `afwijkende_vorm` | households whose decision is an opt-out (S20), recorded in the period |
| reached_six_months | `zes_maanden_in_periode` | six-month mark in the period, not ended before it: the KPI's denominator |
| self_reliant | `zelfredzaam` | of those, not extended and with an exit decision: the KPI's numerator |
| extended_at_six_months | `verlengd_na_zes_maanden` | of those, extended |
| undecided | `zonder_besluit` | of those, neither extended nor an exit decision recorded |
| ended_early | `voortijdig_beeindigd` | six-month mark in the period, but ended before the minimum period |

Then `verlengd_pct` = extended / started and `niet_verlengd_pct` = its complement (the naive figure),
`zelfredzaam_pct` = self_reliant / reached_six_months (the corrected KPI), `doel_pct` the target and
`doel_gehaald` `ja`/`nee` (empty when no traject reached six months). Percentages are `Decimal`s with one
decimal, rounded half up; the target is checked on the exact fraction, so 74.96 % does not pass as 75.0 %.

**Decisions about the domain** (each documented where it is applied below):

- *The six-month mark* is the day after the minimum period (`Trajectory.earliest_end`), so a traject
  started 30-12-2022 reaches it on 30-06-2023 and one started 31-12-2022 on 01-07-2023 (S11 reckoning).
- *Verlengd* follows the report's cohort: the trajecten started in the period, with an extension recorded
  in their history whenever it was recorded. Westfriesland's table counts the 143 trajecten of the period
  and which of them were extended; an extension recorded after the period ended still belongs to them.
  The report therefore shows what is known when it is made (`made_at`).
- *Zelfredzaam* needs more than "not extended": an exit decision, being the eindevaluatie's outcome
  zelfredzaam or afbouwen, an afbouw started, or a regular end (on or after the minimum last day). A
  traject past its mark without any of these is `zonder besluit`: not counted as self-reliant, because
  nobody judged it (the warnings scan chases it as geen-verlengingsbesluit).
- *Voortijdig beëindigd* trajecten (ended before the minimum period, e.g. the household moved away) never
  reached six months of ontzorging; they are left out of the KPI and shown in their own column, so
  nothing disappears silently.
- *Opt-outs* (S20, "ontzorgd in afwijkende vorm": eligible, form `geen`) are counted per household, by
  the day (Europe/Amsterdam) their current decision was recorded. They get no technical ontzorging, so
  a traject such a household may have is not counted as a traject financieel ontzorgen.
- Households whose decision is maatwerk in form `afwijkend` (e.g. huur and zorg only) are still
  technically ontzorgd: their trajecten count like any other.

The CSV file itself is written by the adapter (adapters/cli/monitoring.py): the service layer imports no
file format (design.md §2); `csv_rows()` gives it the header and the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from budget_ledger.clock import AMSTERDAM, Clock, system_clock
from budget_ledger.eligibility import EligibilityDecision, OntzorgingForm
from budget_ledger.errors import InvalidInputError
from budget_ledger.gemeenten import Gemeente, require_gemeente
from budget_ledger.households import Household
from budget_ledger.ports import UnitOfWork
from budget_ledger.trajectories import EvaluationOutcome, MilestoneKind, Trajectory, TrajectoryStatus
from budget_ledger.transactions import Transactions

DEFAULT_TARGET_PERCENT = 75
"""Westfriesland's policy target (004:L344): 75 % manages its own finances after six months."""
TOTAL_CODE = "totaal"
_PAGE = 500
"""Households read per query, so the id lists the store sends stay far below the engines' bind limits."""
_TENTH = Decimal("0.1")
_EXIT_OUTCOMES = frozenset({EvaluationOutcome.ZELFREDZAAM, EvaluationOutcome.AFBOUWEN})


class SixMonthOutcome(StrEnum):
    """Where a traject stands at its six-month mark, for the corrected KPI."""

    ZELFREDZAAM = "zelfredzaam"
    VERLENGD = "verlengd"
    ZONDER_BESLUIT = "zonder_besluit"
    VOORTIJDIG_BEEINDIGD = "voortijdig_beeindigd"


def six_month_mark(trajectory: Trajectory) -> date:
    """The first day after the minimum period, as trajectories.py reckons it (S11)."""
    return trajectory.earliest_end


def was_extended(trajectory: Trajectory) -> bool:
    """An extension is recorded in the trajectory's history (S10 outcome B)."""
    return any(line.action == "extend" for line in trajectory.history)


def six_month_outcome(trajectory: Trajectory) -> SixMonthOutcome:
    """Extended, self-reliant, undecided, or ended before six months (see the module's decisions)."""
    ended_on = trajectory.ended_on
    if ended_on is not None and ended_on < trajectory.minimum_last_day:
        return SixMonthOutcome.VOORTIJDIG_BEEINDIGD
    if was_extended(trajectory):
        return SixMonthOutcome.VERLENGD
    final = next((m for m in trajectory.milestones if m.kind is MilestoneKind.EINDEVALUATIE), None)
    decided_exit = (
        (final is not None and final.outcome in _EXIT_OUTCOMES)
        or trajectory.status is TrajectoryStatus.IN_AFBOUW
        or ended_on is not None
    )
    return SixMonthOutcome.ZELFREDZAAM if decided_exit else SixMonthOutcome.ZONDER_BESLUIT


def is_opt_out(decision: EligibilityDecision | None) -> bool:
    """S20: eligible, but no technical ontzorging ("ontzorgd in afwijkende vorm", incasso-begeleiding only)."""
    return decision is not None and decision.eligible and decision.form is OntzorgingForm.GEEN


def percent(part: int, whole: int) -> Decimal | None:
    """`part` of `whole` in percent, one decimal, rounded half up; None when there is no whole."""
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_TENTH, rounding=ROUND_HALF_UP)


def format_percent(value: Decimal | None) -> str:
    """Dutch notation, "4,9 %"; a dash when there is nothing to divide by."""
    return "–" if value is None else f"{value:f}".replace(".", ",") + " %"


@dataclass(frozen=True, slots=True)
class MonitoringFigures:
    """One gemeente's figures for the period, or the total (code `totaal`)."""

    gemeente: str
    name: str
    started: int = 0
    active_at_end: int = 0
    ended: int = 0
    extended: int = 0
    opt_outs: int = 0
    reached_six_months: int = 0
    self_reliant: int = 0
    extended_at_six_months: int = 0
    undecided: int = 0
    ended_early: int = 0

    @property
    def naive_extended_percent(self) -> Decimal | None:
        """What the gemeente reports: extended of started (Westfriesland: 7 of 143 = 4.9 %)."""
        return percent(self.extended, self.started)

    @property
    def naive_not_extended_percent(self) -> Decimal | None:
        """The naive "zelfredzaam": everything not extended, however young (Westfriesland: 95.1 %)."""
        return percent(self.started - self.extended, self.started)

    @property
    def self_reliant_percent(self) -> Decimal | None:
        """The corrected KPI: self-reliant of the trajecten that reached six months in the period."""
        return percent(self.self_reliant, self.reached_six_months)

    def target_met(self, target_percent: int) -> bool | None:
        """On the exact fraction, not the rounded one; None when no traject reached six months."""
        if self.reached_six_months == 0:
            return None
        return self.self_reliant * 100 >= target_percent * self.reached_six_months

    def to_json(self, target_percent: int) -> dict[str, Any]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else f"{value:f}"

        return {
            "gemeente": self.gemeente, "name": self.name, "started": self.started,
            "active_at_end": self.active_at_end, "ended": self.ended, "extended": self.extended,
            "opt_outs": self.opt_outs,
            "naive": {"extended_percent": text(self.naive_extended_percent),
                      "not_extended_percent": text(self.naive_not_extended_percent)},
            "kpi": {"reached_six_months": self.reached_six_months, "self_reliant": self.self_reliant,
                    "extended": self.extended_at_six_months, "undecided": self.undecided,
                    "ended_early": self.ended_early, "self_reliant_percent": text(self.self_reliant_percent),
                    "target_percent": target_percent, "target_met": self.target_met(target_percent)},
        }


_COUNTS = tuple(f.name for f in fields(MonitoringFigures) if f.name not in ("gemeente", "name"))

CSV_HEADER = (
    "gemeente", "naam", "gestart", "actief_einde_periode", "beeindigd", "verlengd", "afwijkende_vorm",
    "verlengd_pct", "niet_verlengd_pct", "zes_maanden_in_periode", "zelfredzaam", "verlengd_na_zes_maanden",
    "zonder_besluit", "voortijdig_beeindigd", "zelfredzaam_pct", "doel_pct", "doel_gehaald",
)
"""The CSV columns, Dutch, as the module docstring explains them."""


@dataclass(frozen=True, slots=True)
class MonitoringReport:
    period_from: date
    period_to: date
    target_percent: int
    made_at: datetime
    """When it was made: extensions and decisions recorded up to then are in it."""
    gemeenten: tuple[MonitoringFigures, ...]
    """By gemeente code."""
    total: MonitoringFigures

    @property
    def naive_summary(self) -> str:
        """The figure as Westfriesland reported it: "7 van 143 trajecten verlengd (4,9 %)"."""
        t = self.total
        return f"{t.extended} van {t.started} trajecten verlengd ({format_percent(t.naive_extended_percent)})"

    @property
    def kpi_summary(self) -> str:
        t = self.total
        met = t.target_met(self.target_percent)
        verdict = "geen traject bereikte zes maanden" if met is None else "gehaald" if met else "niet gehaald"
        return (f"{t.self_reliant} van {t.reached_six_months} trajecten met zes maanden in de periode zelfredzaam "
                f"({format_percent(t.self_reliant_percent)}); doel {self.target_percent} %: {verdict}")

    def to_json(self) -> dict[str, Any]:
        return {
            "period": {"from": self.period_from.isoformat(), "to": self.period_to.isoformat()},
            "target_percent": self.target_percent,
            "made_at": self.made_at.isoformat(),
            "gemeenten": [g.to_json(self.target_percent) for g in self.gemeenten],
            "total": self.total.to_json(self.target_percent),
        }

    def csv_rows(self) -> list[tuple[str, ...]]:
        """The header (`CSV_HEADER`), one row per gemeente by code, and the total row last."""

        def row(f: MonitoringFigures) -> tuple[str, ...]:
            met = f.target_met(self.target_percent)
            return tuple(str(v) for v in (
                f.gemeente, f.name, f.started, f.active_at_end, f.ended, f.extended, f.opt_outs,
                _plain(f.naive_extended_percent), _plain(f.naive_not_extended_percent), f.reached_six_months,
                f.self_reliant, f.extended_at_six_months, f.undecided, f.ended_early,
                _plain(f.self_reliant_percent), self.target_percent, "" if met is None else "ja" if met else "nee",
            ))

        return [CSV_HEADER, *(row(g) for g in self.gemeenten), row(self.total)]

    def to_text(self) -> str:
        """A table for the terminal, in Dutch, and the two summary lines."""
        head = (f"{'gemeente':<16}{'gestart':>8}{'actief':>8}{'beëind.':>8}{'verlengd':>9}{'afwijk.':>8}"
                f"{'verl. %':>9} | {'6 mnd':>6}{'zelfr.':>7}{'verl.':>6}{'z. besl.':>9}{'voortijd.':>10}"
                f"{'zelfr. %':>10}  doel")
        lines = [
            f"Monitoring financieel ontzorgen {self.period_from:%d-%m-%Y} t/m {self.period_to:%d-%m-%Y}",
            "", head, "-" * len(head),
        ]
        for f in (*self.gemeenten, self.total):
            met = f.target_met(self.target_percent)
            lines.append(
                f"{f.name[:15]:<16}{f.started:>8}{f.active_at_end:>8}{f.ended:>8}{f.extended:>9}{f.opt_outs:>8}"
                f"{format_percent(f.naive_extended_percent):>9} | {f.reached_six_months:>6}{f.self_reliant:>7}"
                f"{f.extended_at_six_months:>6}{f.undecided:>9}{f.ended_early:>10}"
                f"{format_percent(f.self_reliant_percent):>10}  {'–' if met is None else 'ja' if met else 'nee'}")
        lines += ["", "afwijk. = opt-out, ontzorgd in afwijkende vorm (S20); 6 mnd = zes maanden bereikt in de periode; "
                      "zelfr. = zelfredzaam; verl. = verlengd; z. besl. = zonder besluit; "
                      "voortijd. = voortijdig beëindigd (buiten de KPI)",
                  "", f"Zoals gerapporteerd: {self.naive_summary}, dus "
                      f"{format_percent(self.total.naive_not_extended_percent)} niet verlengd.",
                  f"Gecorrigeerd: {self.kpi_summary}."]
        return "\n".join(lines)


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


class MonitoringService:
    def __init__(self, transactions: Transactions, clock: Clock = system_clock) -> None:
        self._tx = transactions
        self._clock = clock

    def report(self, period_from: date, period_to: date, *, gemeente: str | None = None,
               target_percent: int = DEFAULT_TARGET_PERCENT) -> MonitoringReport:
        """The monitoring figures of every gemeente (or one, by code) for the period, both days included.
        Read in one read-only transaction, so the figures are one consistent snapshot."""
        _check(period_from, period_to, target_percent)

        def work(uow: UnitOfWork) -> MonitoringReport:
            chosen = [require_gemeente(uow, gemeente)] if gemeente else uow.registry.gemeenten()
            counts: dict[int, Counter[str]] = {g.id: Counter() for g in chosen}
            gemeente_id = chosen[0].id if gemeente else None
            for households, trajectories in _pages(uow, gemeente_id):
                for household in households:
                    if household.gemeente_id in counts:
                        _count(counts[household.gemeente_id], household, trajectories.get(household.id, ()),
                               period_from, period_to)
            return _report(chosen, counts, period_from, period_to, target_percent, self._clock())

        return self._tx.run(work, write=False)


def _check(period_from: date, period_to: date, target_percent: int) -> None:
    if isinstance(period_from, datetime) or not isinstance(period_from, date):
        raise InvalidInputError("period_from", "must be a date (without a time)")
    if isinstance(period_to, datetime) or not isinstance(period_to, date):
        raise InvalidInputError("period_to", "must be a date (without a time)")
    if period_to < period_from:
        raise InvalidInputError("period_to", "lies before period_from")
    if isinstance(target_percent, bool) or not isinstance(target_percent, int) or not 0 <= target_percent <= 100:
        raise InvalidInputError("target_percent", "must be a whole percentage from 0 to 100")


def _pages(uow: UnitOfWork, gemeente_id: int | None) -> Iterator[tuple[list[Household], dict[int, list[Trajectory]]]]:
    """The households with their trajecten, a page at a time, each page in two bulk reads."""
    offset = 0
    while True:
        households = uow.registry.households(gemeente_id=gemeente_id, limit=_PAGE, offset=offset)
        if not households:
            return
        yield households, uow.registry.trajectories_of_households([h.id for h in households])
        if len(households) < _PAGE:
            return
        offset += _PAGE


def _count(counts: Counter[str], household: Household, trajectories: Iterable[Trajectory],
           period_from: date, period_to: date) -> None:
    def within(day: date | None) -> bool:
        return day is not None and period_from <= day <= period_to

    if is_opt_out(household.eligibility):
        # S20: counted as ontzorgd in afwijkende vorm, never as a traject financieel ontzorgen.
        if within(household.eligibility.decided_at.astimezone(AMSTERDAM).date()):
            counts["opt_outs"] += 1
        return
    for trajectory in trajectories:
        if trajectory.start_date > period_to:
            continue
        if within(trajectory.start_date):
            counts["started"] += 1
            if was_extended(trajectory):
                counts["extended"] += 1
        if trajectory.ended_on is None or trajectory.ended_on > period_to:
            counts["active_at_end"] += 1
        elif within(trajectory.ended_on):
            counts["ended"] += 1
        if within(six_month_mark(trajectory)):
            counts[_KPI_FIELD[six_month_outcome(trajectory)]] += 1


_KPI_FIELD = {
    SixMonthOutcome.ZELFREDZAAM: "self_reliant",
    SixMonthOutcome.VERLENGD: "extended_at_six_months",
    SixMonthOutcome.ZONDER_BESLUIT: "undecided",
    SixMonthOutcome.VOORTIJDIG_BEEINDIGD: "ended_early",
}


def _report(chosen: list[Gemeente], counts: dict[int, Counter[str]], period_from: date, period_to: date,
            target_percent: int, made_at: datetime) -> MonitoringReport:
    columns = []
    total: Counter[str] = Counter()
    for g in sorted(chosen, key=lambda g: g.code):
        c = counts[g.id]
        c["reached_six_months"] = c["self_reliant"] + c["extended_at_six_months"] + c["undecided"]
        columns.append(MonitoringFigures(g.code, g.name, **{name: c[name] for name in _COUNTS}))
        total.update(c)
    return MonitoringReport(
        period_from, period_to, target_percent, made_at, tuple(columns),
        MonitoringFigures(TOTAL_CODE, "Totaal", **{name: total[name] for name in _COUNTS}),
    )
