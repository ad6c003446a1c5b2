"""What the budgetbeheerder does on a trajectory's milestones (domain.md A8, S10), on the simulated days.

- The evaluation in the 2–3 month window: "doorgaan".
- The eindevaluatie at 5 months: either an extension by three months with the case's reason (S10
  outcome B), or "zelfredzaam": the training is recorded as done, the afbouw starts and every creditor the
  ledger pays is moved to the client's automatische incasso from its hand-over date (energie a month before
  the end under most profiles, the rest at the end: S10 outcome A).
- An extended trajectory gets the same at the evaluation a month before its new end.
- The day after the last day the trajectory is ended with its hand-over note; the bank then pays the
  household's income to the client's own account, and payment runs leave it alone.

Actions fall on business days (the office is closed otherwise) and are kept in an agenda by day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from budget_ledger.adapters.simulation.intake import BEHEERDER, Registered
from budget_ledger.creditors import Payer
from budget_ledger.payment_calendar import DEFAULT_CALENDAR
from budget_ledger.rules.policies.afbouw import handover_date
from budget_ledger.services import Services
from budget_ledger.trajectories import MilestoneKind, Trajectory

Action = Callable[[date], None]


@dataclass
class CaseworkLog:
    evaluations: int = 0
    extensions: list[int] = field(default_factory=list)
    afbouw_started: list[int] = field(default_factory=list)
    handovers: int = 0
    """Creditors moved to the client's own incasso."""
    ended: list[int] = field(default_factory=list)


class Casework:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._agenda: dict[date, list[tuple[int, str, Action]]] = defaultdict(list)
        self._last_day: dict[int, date] = {}
        self.log = CaseworkLog()

    def stopped(self, household_id: int, day: date) -> bool:
        """Whether the household's trajectory is over on `day` (its last day is decided and has passed)."""
        last = self._last_day.get(household_id)
        return last is not None and day > last

    def _plan(self, day: date, household_id: int, what: str, action: Action) -> None:
        self._agenda[DEFAULT_CALENDAR.next_business_day(day)].append((household_id, what, action))

    def follow(self, registered: Registered) -> None:
        """Put a new trajectory's milestones in the agenda."""
        if registered.trajectory_id is None:
            return
        trajectory = self._services.trajectories.get(registered.trajectory_id)
        for milestone in trajectory.milestones:
            if milestone.kind is MilestoneKind.EVALUATIE:
                self._plan(milestone.due_from + timedelta(days=7), registered.household_id, "evaluatie",
                           lambda day, r=registered, m=milestone.id: self._evaluate(r, m, day))
            elif milestone.kind is MilestoneKind.EINDEVALUATIE:
                self._plan(milestone.due_on, registered.household_id, "eindevaluatie",
                           lambda day, r=registered: self._final_evaluation(r, day))

    def due(self, day: date) -> list[tuple[int, str, Action]]:
        """Today's actions, in the order they were planned."""
        return self._agenda.pop(day, [])

    def run(self, day: date) -> list[tuple[int, str]]:
        done = []
        for household_id, what, action in self.due(day):
            action(day)
            done.append((household_id, what))
        return done

    # -- the actions -------------------------------------------------------------------------------------

    def _evaluate(self, registered: Registered, milestone_id: int, day: date) -> None:
        self._services.trajectories.record_evaluation(registered.trajectory_id, {
            "milestone_id": milestone_id, "completed_on": day, "outcome": "doorgaan",
            "note": "Vaste lasten lopen via de basisrekening; leefgeld besproken met de klant."}, BEHEERDER)
        self.log.evaluations += 1

    def _final_evaluation(self, registered: Registered, day: date) -> None:
        trajectories = self._services.trajectories
        trajectory = trajectories.get(registered.trajectory_id)
        milestone = next(m for m in trajectory.milestones if m.kind is MilestoneKind.EINDEVALUATIE)
        reason = registered.case.extension_reason
        if reason:
            trajectories.record_evaluation(trajectory.id, {"milestone_id": milestone.id, "completed_on": day,
                                                           "outcome": "verlengen", "note": reason}, BEHEERDER)
            extended = trajectories.extend(trajectory.id, {"months": 3, "reason": reason}, BEHEERDER)
            self.log.evaluations += 1
            self.log.extensions.append(registered.household_id)
            again = next(m for m in extended.milestones if m.kind is MilestoneKind.EVALUATIE_VERLENGING)
            self._plan(again.due_on, registered.household_id, "evaluatie verlenging",
                       lambda d, r=registered, m=again.id: self._wind_down(r, m, d))
            return
        self._wind_down(registered, milestone.id, day)

    def _wind_down(self, registered: Registered, milestone_id: int, day: date) -> None:
        """Zelfredzaam: training done, afbouw started, creditors handed over from their dates, end planned."""
        trajectories = self._services.trajectories
        trajectory = trajectories.get(registered.trajectory_id)
        training = next(m for m in trajectory.milestones if m.kind is MilestoneKind.TRAINING_OMGAAN_MET_GELD)
        if training.completed_on is None:
            trajectories.complete_training(trajectory.id, day, BEHEERDER)
        trajectories.record_evaluation(trajectory.id, {
            "milestone_id": milestone_id, "completed_on": day, "outcome": "zelfredzaam",
            "note": "Klant kan huur en zorgverzekering zelf betalen; afbouw naar automatische incasso."}, BEHEERDER)
        trajectory = trajectories.start_afbouw(trajectory.id, {
            "reason": "Eindevaluatie: zelfredzaam; vaste lasten gaan een voor een naar automatische incasso"}, BEHEERDER)
        self.log.evaluations += 1
        self.log.afbouw_started.append(registered.household_id)
        self._hand_over(registered.household_id, trajectory)
        self._last_day[registered.household_id] = trajectory.last_day
        self._plan(trajectory.last_day + timedelta(days=1), registered.household_id, "einde",
                   lambda d, r=registered: self._end(r, d))

    def _hand_over(self, household_id: int, trajectory: Trajectory) -> None:
        """Record the client's incasso from each creditor's hand-over date under the household's rules."""
        version = self._services.profiles.effective(household_id, trajectory.last_day).version
        for creditor in self._services.creditors.of_household(household_id):
            start = handover_date(trajectory.last_day + timedelta(days=1),
                                  version.afbouw.months_before_end(creditor.category))
            if creditor.payer_on(start) is not Payer.LEDGER:
                continue
            self._services.creditors.assign_payer(creditor.id, {
                "payer": "client_incasso", "valid_from": start,
                "reason": "Afbouw: de klant betaalt vanaf deze datum zelf via automatische incasso"}, BEHEERDER)
            self.log.handovers += 1

    def _end(self, registered: Registered, day: date) -> None:
        trajectory = self._services.trajectories.get(registered.trajectory_id)
        self._services.trajectories.end(trajectory.id, {
            "ended_on": trajectory.last_day,
            "handover_note": "Alle vaste lasten lopen via automatische incasso van de klant; MB blijft betrokken."},
            BEHEERDER)
        self.log.ended.append(registered.household_id)
