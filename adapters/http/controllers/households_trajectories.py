"""Ontzorgtrajecten (budgetbeheerder): start, activate, evaluate, extend, afbouw and end, each a command of
TrajectoryService; reads for everyone who may see the household.

A trajectory is reached under its household (`/v1/households/{household_id}/trajectories/{trajectory_id}`)
or, to read it, by its own id (`/v1/trajectories/{trajectory_id}`); either way a trajectory of another
household, or of a household outside a begeleider's caseload, answers as one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from pydantic import Field

from budget_ledger.adapters.http.audit import audited_read, principal_of
from budget_ledger.adapters.http.auth import BEHEER, EVERYONE
from budget_ledger.adapters.http.controllers.registry_support import (
    owned,
    plain,
    visible,
    visible_part,
    writing,
)
from budget_ledger.adapters.http.pagination import LIMIT, OFFSET, Page, page_of
from budget_ledger.adapters.http.types import Id
from budget_ledger.gemeenten import PeriodAnchor
from budget_ledger.inputs import Command
from budget_ledger.services import Services
from budget_ledger.trajectories import (
    EndedTrajectory,
    EndTrajectory,
    EvaluationOutcome,
    ExtendTrajectory,
    HistoryLine,
    Milestone,
    MilestoneKind,
    RecordEvaluation,
    StartAfbouw,
    StartTrajectory,
    Trajectory,
    TrajectoryStatus,
)

ENTITY, FIELD = "trajectory", "trajectory_id"


class CompleteTraining(Command):
    """The client finished the "Omgaan met geld" training (TrajectoryService.complete_training)."""

    completed_on: date = Field(description="the day the training was completed")


@dataclass(frozen=True)
class MilestoneView:
    id: int
    kind: MilestoneKind
    due_from: date
    due_on: date
    completed_on: date | None
    outcome: EvaluationOutcome | None
    note: str | None
    recorded_by: str | None

    @classmethod
    def of(cls, m: Milestone) -> MilestoneView:
        return cls(m.id, m.kind, m.due_from, m.due_on, m.completed_on, m.outcome, m.note, m.recorded_by)


@dataclass(frozen=True)
class HistoryView:
    at: datetime
    actor: str
    action: str
    from_status: TrajectoryStatus | None
    to_status: TrajectoryStatus | None
    details: dict[str, Any]

    @classmethod
    def of(cls, h: HistoryLine) -> HistoryView:
        return cls(h.at, h.actor, h.action, h.from_status, h.to_status, plain(h.details))


@dataclass(frozen=True)
class TrajectoryView:
    id: int
    household_id: int
    status: TrajectoryStatus
    anchor: PeriodAnchor
    start_date: date
    minimum_last_day: date
    earliest_end: date
    """The first day after the minimum period."""
    last_day: date
    ended_on: date | None
    version: int
    milestones: list[MilestoneView]
    history: list[HistoryView]

    @classmethod
    def of(cls, t: Trajectory) -> TrajectoryView:
        return cls(t.id, t.household_id, t.status, t.anchor, t.start_date, t.minimum_last_day, t.earliest_end,
                   t.last_day, t.ended_on, t.version, [MilestoneView.of(m) for m in t.milestones],
                   [HistoryView.of(h) for h in t.history])


@dataclass(frozen=True)
class OpenHandoverView:
    creditor_id: int
    organisation: str
    category: str


@dataclass(frozen=True)
class EndedTrajectoryView:
    trajectory: TrajectoryView
    open_handover: list[OpenHandoverView]
    """Creditors the ledger would still pay after the end: move them to the client's own incasso."""

    @classmethod
    def of(cls, ended: EndedTrajectory) -> EndedTrajectoryView:
        return cls(TrajectoryView.of(ended.trajectory),
                   [OpenHandoverView(i.creditor_id, i.organisation, i.category) for i in ended.open_handover])


def _trajectory(request: Request, services: Services, household_id: int, trajectory_id: int) -> Trajectory:
    return owned(request, services, household_id, services.trajectories.get, trajectory_id, ENTITY, FIELD)


class TrajectoryController(Controller):
    path = "/households/{household_id:int}/trajectories"
    tags = ["trajectories"]

    @get("/", guards=[EVERYONE], sync_to_thread=True, summary="The household's trajectories")
    def trajectories(self, request: Request, services: NamedDependency[Services], household_id: Id,
                     limit: Annotated[int, LIMIT] = 50, offset: Annotated[int, OFFSET] = 0) -> Page[TrajectoryView]:
        visible(request, services, household_id)
        found = services.trajectories.of_household(household_id)
        audited_read(request, ENTITY, None, household_id=household_id)
        return page_of([TrajectoryView.of(t) for t in found], limit, offset)

    @post("/", guards=[BEHEER], sync_to_thread=True,
          summary="Register (aangemeld) the ontzorgtraject of an eligible household, with its milestones")
    def start(self, request: Request, services: NamedDependency[Services], household_id: Id,
              data: JSONBody[StartTrajectory]) -> TrajectoryView:
        with writing(request, ENTITY, household_id=household_id) as note:
            visible(request, services, household_id)
            started = services.trajectories.start(household_id, data, principal_of(request).actor)
            note.entity_id = started.id
        return TrajectoryView.of(started)

    @get("/{trajectory_id:int}", guards=[EVERYONE], sync_to_thread=True, summary="One trajectory")
    def trajectory(self, request: Request, services: NamedDependency[Services], household_id: Id,
                   trajectory_id: Id) -> TrajectoryView:
        found = _trajectory(request, services, household_id, trajectory_id)
        audited_read(request, ENTITY, trajectory_id, household_id=household_id)
        return TrajectoryView.of(found)

    @post("/{trajectory_id:int}/activate", guards=[BEHEER], sync_to_thread=True, status_code=200,
          summary="aangemeld → actief")
    def activate(self, request: Request, services: NamedDependency[Services], household_id: Id,
                 trajectory_id: Id) -> TrajectoryView:
        with writing(request, ENTITY, trajectory_id, household_id):
            _trajectory(request, services, household_id, trajectory_id)
            changed = services.trajectories.activate(trajectory_id, principal_of(request).actor)
        return TrajectoryView.of(changed)

    @post("/{trajectory_id:int}/evaluations", guards=[BEHEER], sync_to_thread=True,
          summary="Record an evaluation (or the training) of one of the trajectory's milestones")
    def record_evaluation(self, request: Request, services: NamedDependency[Services], household_id: Id,
                          trajectory_id: Id, data: JSONBody[RecordEvaluation]) -> TrajectoryView:
        with writing(request, ENTITY, trajectory_id, household_id):
            _trajectory(request, services, household_id, trajectory_id)
            changed = services.trajectories.record_evaluation(trajectory_id, data, principal_of(request).actor)
        return TrajectoryView.of(changed)

    @post("/{trajectory_id:int}/training", guards=[BEHEER], sync_to_thread=True,
          summary='Record that the client finished the "Omgaan met geld" training')
    def complete_training(self, request: Request, services: NamedDependency[Services], household_id: Id,
                          trajectory_id: Id, data: JSONBody[CompleteTraining]) -> TrajectoryView:
        with writing(request, ENTITY, trajectory_id, household_id):
            _trajectory(request, services, household_id, trajectory_id)
            changed = services.trajectories.complete_training(trajectory_id, data.completed_on,
                                                              principal_of(request).actor)
        return TrajectoryView.of(changed)

    @post("/{trajectory_id:int}/extend", guards=[BEHEER], sync_to_thread=True, status_code=200,
          summary="Extend by some months with a reason; an evaluation is planned a month before the new end")
    def extend(self, request: Request, services: NamedDependency[Services], household_id: Id,
               trajectory_id: Id, data: JSONBody[ExtendTrajectory]) -> TrajectoryView:
        with writing(request, ENTITY, trajectory_id, household_id):
            _trajectory(request, services, household_id, trajectory_id)
            changed = services.trajectories.extend(trajectory_id, data, principal_of(request).actor)
        return TrajectoryView.of(changed)

    @post("/{trajectory_id:int}/afbouw", guards=[BEHEER], sync_to_thread=True, status_code=200,
          summary="Start the afbouw: creditors move to the client one by one")
    def start_afbouw(self, request: Request, services: NamedDependency[Services], household_id: Id,
                     trajectory_id: Id, data: JSONBody[StartAfbouw]) -> TrajectoryView:
        with writing(request, ENTITY, trajectory_id, household_id):
            _trajectory(request, services, household_id, trajectory_id)
            changed = services.trajectories.start_afbouw(trajectory_id, data, principal_of(request).actor)
        return TrajectoryView.of(changed)

    @post("/{trajectory_id:int}/end", guards=[BEHEER], sync_to_thread=True, status_code=200,
          summary="End with a handover; before the minimum period only with a documented reason")
    def end(self, request: Request, services: NamedDependency[Services], household_id: Id,
            trajectory_id: Id, data: JSONBody[EndTrajectory]) -> EndedTrajectoryView:
        with writing(request, ENTITY, trajectory_id, household_id):
            _trajectory(request, services, household_id, trajectory_id)
            ended = services.trajectories.end(trajectory_id, data, principal_of(request).actor)
        return EndedTrajectoryView.of(ended)


@get("/trajectories/{trajectory_id:int}", guards=[EVERYONE], sync_to_thread=True, tags=["trajectories"],
     summary="One trajectory, by its own id")
def trajectory_by_id(request: Request, services: NamedDependency[Services],
                     trajectory_id: Id) -> TrajectoryView:
    found = visible_part(request, services, services.trajectories.get, trajectory_id, ENTITY, FIELD)
    audited_read(request, ENTITY, trajectory_id, household_id=found.household_id)
    return TrajectoryView.of(found)


ROUTES = [TrajectoryController, trajectory_by_id]
