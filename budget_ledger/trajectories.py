"""Ontzorgtrajecten: the period of at least six months, its evaluations, extension, afbouw and end.

The lifecycle is aangemeld → actief → verlengd → in afbouw → beëindigd. Only the transitions in
`TRANSITIONS` are allowed; every change is written to an append-only history (the database refuses to
change or delete it) with the actor, the time and the details, so an auditor can replay a trajectory.
Milestones follow domain.md A8: an evaluation window at 2–3 months, the eindevaluatie at 5 months, and
the "Omgaan met geld" training, which should be done by the eindevaluatie.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field

from budget_ledger.clock import Clock, system_clock
from budget_ledger.creditors import Payer
from budget_ledger.errors import ConflictError, InvalidInputError, NotFoundError
from budget_ledger.gemeenten import GemeenteSettings, PeriodAnchor
from budget_ledger.households import Household, read_for_household, require_household
from budget_ledger.inputs import Command, validated
from budget_ledger.periods import (
    add_months,
    evaluation_window,
    extended_last_day,
    milestone,
    minimum_last_day,
)
from budget_ledger.ports import UnitOfWork
from budget_ledger.transactions import Transactions


class TrajectoryStatus(StrEnum):
    AANGEMELD = "aangemeld"
    ACTIEF = "actief"
    VERLENGD = "verlengd"
    IN_AFBOUW = "in_afbouw"
    BEEINDIGD = "beeindigd"


TRANSITIONS: dict[str, tuple[frozenset[TrajectoryStatus], TrajectoryStatus]] = {
    "activate": (frozenset({TrajectoryStatus.AANGEMELD}), TrajectoryStatus.ACTIEF),
    "extend": (frozenset({TrajectoryStatus.ACTIEF, TrajectoryStatus.VERLENGD, TrajectoryStatus.IN_AFBOUW}),
               TrajectoryStatus.VERLENGD),
    "start_afbouw": (frozenset({TrajectoryStatus.ACTIEF, TrajectoryStatus.VERLENGD}), TrajectoryStatus.IN_AFBOUW),
    "end": (frozenset({TrajectoryStatus.AANGEMELD, TrajectoryStatus.ACTIEF, TrajectoryStatus.VERLENGD,
                       TrajectoryStatus.IN_AFBOUW}), TrajectoryStatus.BEEINDIGD),
}


class MilestoneKind(StrEnum):
    EVALUATIE = "evaluatie"
    """The evaluation in the window at 2–3 months."""
    EINDEVALUATIE = "eindevaluatie"
    TRAINING_OMGAAN_MET_GELD = "training_omgaan_met_geld"
    EVALUATIE_VERLENGING = "evaluatie_verlenging"
    """An evaluation a month before the end of an extension."""


class EvaluationOutcome(StrEnum):
    DOORGAAN = "doorgaan"
    """Continue as planned."""
    ZELFREDZAAM = "zelfredzaam"
    """Self-reliant: may exit at the end of the period."""
    VERLENGEN = "verlengen"
    AFBOUWEN = "afbouwen"
    AFGEROND = "afgerond"
    """For the training: completed."""


@dataclass(frozen=True, slots=True)
class PlannedMilestone:
    kind: MilestoneKind
    due_from: date
    due_on: date


@dataclass(frozen=True, slots=True)
class Milestone:
    id: int
    kind: MilestoneKind
    due_from: date
    due_on: date
    completed_on: date | None
    outcome: EvaluationOutcome | None
    note: str | None
    recorded_by: str | None


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    actor: str
    action: str
    from_status: TrajectoryStatus | None
    to_status: TrajectoryStatus | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Trajectory:
    id: int
    household_id: int
    anchor: PeriodAnchor
    start_date: date
    minimum_last_day: date
    last_day: date
    status: TrajectoryStatus
    ended_on: date | None
    version: int
    milestones: tuple[Milestone, ...] = ()
    history: tuple[HistoryLine, ...] = ()

    @property
    def earliest_end(self) -> date:
        """The first day after the minimum period (exclusive end), e.g. 15-09-2025 for a start on 15-03."""
        return self.minimum_last_day + timedelta(days=1)


def planned_period(start: date, settings: GemeenteSettings) -> tuple[date, list[PlannedMilestone]]:
    """The minimum last day and the milestones for a trajectory starting on `start`."""
    last = minimum_last_day(start, settings.minimum_months, full_months=settings.full_months)
    first, until = evaluation_window(start, *settings.evaluation_window_months)
    final = milestone(start, settings.final_evaluation_months)
    training = milestone(start, settings.training_due_months)
    return last, [
        PlannedMilestone(MilestoneKind.EVALUATIE, first, until),
        PlannedMilestone(MilestoneKind.EINDEVALUATIE, final, final),
        PlannedMilestone(MilestoneKind.TRAINING_OMGAAN_MET_GELD, start, training),
    ]


def extension_plan(current_last_day: date, months: int) -> tuple[date, PlannedMilestone]:
    """The new last day after extending by `months`, and the evaluation a month before it."""
    new_last = extended_last_day(current_last_day, months)
    evaluation = add_months(new_last + timedelta(days=1), -1)
    return new_last, PlannedMilestone(MilestoneKind.EVALUATIE_VERLENGING, evaluation, evaluation)


class StartTrajectory(Command):
    start_date: date | None = Field(
        default=None, description="defaults to the gemeente's anchor: bijstand start or housing date"
    )


class ExtendTrajectory(Command):
    months: int = Field(ge=1, le=24)
    reason: str = Field(min_length=5, max_length=2000)


class RecordEvaluation(Command):
    milestone_id: int
    completed_on: date
    outcome: EvaluationOutcome
    note: str | None = Field(default=None, max_length=4000)


class StartAfbouw(Command):
    reason: str = Field(min_length=5, max_length=2000)


class EndTrajectory(Command):
    ended_on: date
    handover_note: str = Field(min_length=5, max_length=4000, description="what was handed over to whom")
    early_reason: str | None = Field(
        default=None, min_length=5, max_length=2000, description="required to end before the minimum period"
    )


@dataclass(frozen=True, slots=True)
class OpenHandoverItem:
    """A creditor the ledger still pays after the trajectory ends: it must move to the client's incasso."""

    creditor_id: int
    organisation: str
    category: str


@dataclass(frozen=True, slots=True)
class EndedTrajectory:
    trajectory: Trajectory
    open_handover: tuple[OpenHandoverItem, ...]


class TrajectoryService:
    def __init__(self, transactions: Transactions, clock: Clock = system_clock) -> None:
        self._tx = transactions
        self._clock = clock

    def start(self, household_id: int, data: StartTrajectory | Mapping[str, Any], actor: str) -> Trajectory:
        """Register (aangemeld) the ontzorgtraject of an eligible household, with its milestones."""
        command = validated(StartTrajectory, data)

        def work(uow: UnitOfWork) -> Trajectory:
            household = require_household(uow, household_id)
            if not household.eligibility.eligible:
                raise ConflictError(
                    f"household {household_id} is not eligible ({household.eligibility.reason_code.value}); "
                    "record an override first", field="household_id")
            if any(t.status is not TrajectoryStatus.BEEINDIGD for t in uow.registry.trajectories_of(household_id)):
                raise ConflictError(f"household {household_id} already has an open trajectory", field="household_id")
            settings = uow.registry.gemeente(household.gemeente_id).settings
            start = command.start_date or _anchor_date(household, settings.anchor)
            last, milestones = planned_period(start, settings)
            now = self._clock()
            trajectory_id = uow.registry.insert_trajectory(household_id, settings.anchor, start, last, now)
            uow.registry.insert_milestones(trajectory_id, milestones)
            uow.registry.append_history(
                trajectory_id, actor=actor, action="aangemeld", from_status=None, to_status=TrajectoryStatus.AANGEMELD,
                details={"start_date": start.isoformat(), "minimum_last_day": last.isoformat(),
                         "anchor": settings.anchor.value},
                now=now,
            )
            return uow.registry.trajectory(trajectory_id)

        return self._tx.run(work)

    def activate(self, trajectory_id: int, actor: str) -> Trajectory:
        return self._tx.run(lambda uow: self._transition(uow, trajectory_id, "activate", actor, {}))

    def extend(self, trajectory_id: int, data: ExtendTrajectory | Mapping[str, Any], actor: str) -> Trajectory:
        """Extend with a reason (S10 outcome B): the last day moves and an evaluation is planned before it."""
        command = validated(ExtendTrajectory, data)

        def work(uow: UnitOfWork) -> Trajectory:
            current = require_trajectory(uow, trajectory_id)
            new_last, evaluation = extension_plan(current.last_day, command.months)
            uow.registry.insert_milestones(trajectory_id, [evaluation])
            return self._transition(
                uow, trajectory_id, "extend", actor,
                {"reason": command.reason, "months": command.months, "previous_last_day": current.last_day.isoformat(),
                 "last_day": new_last.isoformat()},
                last_day=new_last, expected=current,
            )

        return self._tx.run(work)

    def start_afbouw(self, trajectory_id: int, data: StartAfbouw | Mapping[str, Any], actor: str) -> Trajectory:
        command = validated(StartAfbouw, data)
        return self._tx.run(
            lambda uow: self._transition(uow, trajectory_id, "start_afbouw", actor, {"reason": command.reason})
        )

    def record_evaluation(self, trajectory_id: int, data: RecordEvaluation | Mapping[str, Any], actor: str) -> Trajectory:
        command = validated(RecordEvaluation, data)

        def work(uow: UnitOfWork) -> Trajectory:
            trajectory = require_trajectory(uow, trajectory_id)
            milestone = next((m for m in trajectory.milestones if m.id == command.milestone_id), None)
            if milestone is None:
                raise NotFoundError(f"trajectory {trajectory_id} has no milestone {command.milestone_id}",
                                    field="milestone_id")
            if command.completed_on < trajectory.start_date:
                raise InvalidInputError("completed_on", "lies before the start of the trajectory")
            if not uow.registry.complete_milestone(milestone.id, command.completed_on, command.outcome, command.note, actor):
                raise ConflictError(f"milestone {milestone.id} was already recorded", field="milestone_id")
            uow.registry.append_history(
                trajectory_id, actor=actor, action=f"{milestone.kind.value}_vastgelegd",
                from_status=trajectory.status, to_status=trajectory.status,
                details={"milestone_id": milestone.id, "outcome": command.outcome.value,
                         "completed_on": command.completed_on.isoformat(), "note": command.note},
                now=self._clock(),
            )
            return uow.registry.trajectory(trajectory_id)

        return self._tx.run(work)

    def complete_training(self, trajectory_id: int, completed_on: date, actor: str) -> Trajectory:
        """Record that the client finished the "Omgaan met geld" training."""
        trajectory = self.get(trajectory_id)
        training = next(m for m in trajectory.milestones if m.kind is MilestoneKind.TRAINING_OMGAAN_MET_GELD)
        return self.record_evaluation(
            trajectory_id,
            RecordEvaluation(milestone_id=training.id, completed_on=completed_on, outcome=EvaluationOutcome.AFGEROND),
            actor,
        )

    def end(self, trajectory_id: int, data: EndTrajectory | Mapping[str, Any], actor: str) -> EndedTrajectory:
        """End with a handover. Before the minimum period only with a documented reason. Creditors the
        ledger would still pay after the end are returned as open handover items."""
        command = validated(EndTrajectory, data)

        def work(uow: UnitOfWork) -> EndedTrajectory:
            current = require_trajectory(uow, trajectory_id)
            if command.ended_on < current.start_date:
                raise InvalidInputError("ended_on", "lies before the start of the trajectory")
            if command.ended_on < current.minimum_last_day and not command.early_reason:
                raise InvalidInputError(
                    "ended_on",
                    f"lies before the end of the minimum period ({current.minimum_last_day.isoformat()}); "
                    "give early_reason to end it sooner",
                )
            day_after = command.ended_on + timedelta(days=1)
            open_items = tuple(
                OpenHandoverItem(c.id, c.organisation, c.category.value)
                for c in uow.registry.creditors_of(current.household_id)
                if c.payer_on(day_after) is Payer.LEDGER and c.schedule_on(day_after) is not None
            )
            ended = self._transition(
                uow, trajectory_id, "end", actor,
                {"ended_on": command.ended_on.isoformat(), "handover_note": command.handover_note,
                 "early_reason": command.early_reason,
                 "open_handover": [item.creditor_id for item in open_items]},
                ended_on=command.ended_on, expected=current,
            )
            return EndedTrajectory(ended, open_items)

        return self._tx.run(work)

    def get(self, trajectory_id: int) -> Trajectory:
        return self._tx.run(lambda uow: require_trajectory(uow, trajectory_id), write=False)

    def of_household(self, household_id: int) -> list[Trajectory]:
        return read_for_household(self._tx, household_id, lambda uow: uow.registry.trajectories_of(household_id))

    def _transition(
        self, uow: UnitOfWork, trajectory_id: int, action: str, actor: str, details: dict[str, Any],
        *, expected: Trajectory | None = None, **values: Any,
    ) -> Trajectory:
        current = expected or require_trajectory(uow, trajectory_id)
        allowed, target = TRANSITIONS[action]
        if current.status not in allowed:
            raise ConflictError(
                f"a trajectory that is {current.status.value} cannot {action.replace('_', ' ')}", field="status"
            )
        if not uow.registry.update_trajectory(trajectory_id, current.version, status=target.value, **values):
            raise ConflictError("the trajectory was changed by someone else meanwhile; reload and try again",
                                field="version")
        uow.registry.append_history(
            trajectory_id, actor=actor, action=action, from_status=current.status, to_status=target,
            details=details, now=self._clock(),
        )
        return uow.registry.trajectory(trajectory_id)


def require_trajectory(uow: UnitOfWork, trajectory_id: int) -> Trajectory:
    trajectory = uow.registry.trajectory(trajectory_id)
    if trajectory is None:
        raise NotFoundError(f"there is no trajectory {trajectory_id}", field="trajectory_id")
    return trajectory


def _anchor_date(household: Household, anchor: PeriodAnchor) -> date:
    if anchor is PeriodAnchor.BIJSTAND_START:
        if household.bijstand_start is None:
            raise InvalidInputError("start_date", "the household has no bijstand start date: record it or give start_date")
        return household.bijstand_start
    if household.housing_date is None:
        raise InvalidInputError("start_date", "the household has no housing date: record it or give start_date")
    return household.housing_date
