"""Ontzorgtrajecten through their lifecycle, with scenario S10's dates and S11's end dates."""

from __future__ import annotations

from datetime import date

import pytest
from registry import BEHEERDER, gemeente, single

from budget_ledger.errors import ConflictError, InvalidInputError
from budget_ledger.trajectories import MilestoneKind, TrajectoryStatus

CREDITOR = {
    "organisation": "Zorgverzekeraar", "account_holder_name": "Zorgverzekeraar U.A.", "iban": "NL91ABNA0417164300",
    "category": "zorgverzekering", "reference_kind": "betalingskenmerk", "reference": "5000056789012345",
}


def started(services, start: date, **settings):
    gemeente(services, **settings)
    household = single(services, bijstand_start=start).household
    return household, services.trajectories.start(household.id, {}, BEHEERDER)


def test_s10_a_trajectory_from_1_april_has_its_evaluations_and_minimum_end(services):
    household, trajectory = started(services, date(2025, 4, 1))

    assert trajectory.status is TrajectoryStatus.AANGEMELD
    assert trajectory.start_date == date(2025, 4, 1)
    assert trajectory.minimum_last_day == date(2025, 9, 30)
    assert trajectory.earliest_end == date(2025, 10, 1)
    by_kind = {m.kind: m for m in trajectory.milestones}
    assert (by_kind[MilestoneKind.EVALUATIE].due_from, by_kind[MilestoneKind.EVALUATIE].due_on) == (date(2025, 6, 1), date(2025, 7, 1))
    assert by_kind[MilestoneKind.EINDEVALUATIE].due_on == date(2025, 9, 1)
    assert by_kind[MilestoneKind.TRAINING_OMGAAN_MET_GELD].due_on == date(2025, 9, 1)


@pytest.mark.parametrize(
    "start, last_day",
    [
        (date(2025, 3, 15), date(2025, 9, 14)),
        (date(2025, 8, 28), date(2026, 2, 27)),
        (date(2025, 8, 31), date(2026, 2, 28)),
        (date(2027, 8, 31), date(2028, 2, 29)),
        (date(2026, 1, 1), date(2026, 6, 30)),
        (date(2025, 11, 15), date(2026, 5, 14)),  # retroactive bijstand granted on 10-02-2026
    ],
)
def test_s11_minimum_end_of_a_trajectory(services, start, last_day):
    _, trajectory = started(services, start)
    assert trajectory.minimum_last_day == last_day


def test_s1_zes_volle_maanden_runs_to_the_end_of_september(services):
    _, trajectory = started(services, date(2025, 3, 15), full_months=True)
    assert trajectory.minimum_last_day == date(2025, 9, 30)


def test_a_gemeente_anchored_on_housing_starts_at_the_housing_date(services):
    gemeente(services, code="hoorn", anchor="huisvesting")
    household = single(services, gemeente_code="hoorn", bijstand_start=date(2025, 4, 1), housing_date=date(2025, 3, 15)).household
    assert services.trajectories.start(household.id, {}, BEHEERDER).start_date == date(2025, 3, 15)


def test_s10_outcome_b_extension_by_three_months_ends_on_31_december(services):
    _, trajectory = started(services, date(2025, 4, 1))
    services.trajectories.activate(trajectory.id, "beheerder.bob")
    final = next(m for m in trajectory.milestones if m.kind is MilestoneKind.EINDEVALUATIE)
    services.trajectories.record_evaluation(
        trajectory.id, {"milestone_id": final.id, "completed_on": date(2025, 9, 1), "outcome": "verlengen",
                        "note": "Nog niet zelfredzaam voor huur en zorg"}, "mb.sara")

    extended = services.trajectories.extend(
        trajectory.id, {"months": 3, "reason": "Nog niet zelfredzaam voor huur en zorgverzekering"}, BEHEERDER)

    assert extended.status is TrajectoryStatus.VERLENGD
    assert extended.last_day == date(2025, 12, 31)
    assert extended.minimum_last_day == date(2025, 9, 30)
    extra = [m for m in extended.milestones if m.kind is MilestoneKind.EVALUATIE_VERLENGING]
    assert [m.due_on for m in extra] == [date(2025, 12, 1)]
    actions = [(h.action, h.from_status, h.to_status) for h in extended.history]
    assert actions == [
        ("aangemeld", None, TrajectoryStatus.AANGEMELD),
        ("activate", TrajectoryStatus.AANGEMELD, TrajectoryStatus.ACTIEF),
        ("eindevaluatie_vastgelegd", TrajectoryStatus.ACTIEF, TrajectoryStatus.ACTIEF),
        ("extend", TrajectoryStatus.ACTIEF, TrajectoryStatus.VERLENGD),
    ]
    assert extended.history[-1].details["reason"].startswith("Nog niet zelfredzaam")
    assert extended.history[-1].actor == BEHEERDER


def test_s10_outcome_a_afbouw_and_end_with_handover(services):
    household, trajectory = started(services, date(2025, 4, 1))
    services.trajectories.activate(trajectory.id, BEHEERDER)
    zorg = services.creditors.add(household.id, {**CREDITOR, "schedule": {
        "amount": "150.00", "frequency": "monthly", "day": 1, "valid_from": date(2025, 4, 1)}}, BEHEERDER)
    services.trajectories.start_afbouw(trajectory.id, {"reason": "Eindevaluatie positief"}, BEHEERDER)

    early = services.trajectories.end(trajectory.id, {"ended_on": date(2025, 9, 30), "handover_note": "Incasso's ingesteld"}, BEHEERDER)
    assert early.trajectory.status is TrajectoryStatus.BEEINDIGD
    assert [item.creditor_id for item in early.open_handover] == [zorg.id]  # the ledger would still pay it


def test_the_handover_is_complete_when_every_creditor_moved_to_the_clients_incasso(services):
    household, trajectory = started(services, date(2025, 4, 1))
    services.trajectories.activate(trajectory.id, BEHEERDER)
    zorg = services.creditors.add(household.id, {**CREDITOR, "schedule": {
        "amount": "150.00", "frequency": "monthly", "day": 1, "valid_from": date(2025, 4, 1)}}, BEHEERDER)
    services.creditors.assign_payer(zorg.id, {"payer": "client_incasso", "valid_from": date(2025, 10, 1),
                                              "reason": "Afbouw: incasso door klant"}, BEHEERDER)
    ended = services.trajectories.end(trajectory.id, {"ended_on": date(2025, 9, 30), "handover_note": "Alles over"}, BEHEERDER)
    assert ended.open_handover == ()


def test_outcome_c_the_training_milestone_is_recorded(services):
    _, trajectory = started(services, date(2025, 4, 1))
    done = services.trajectories.complete_training(trajectory.id, date(2025, 8, 20), "mb.sara")
    training = next(m for m in done.milestones if m.kind is MilestoneKind.TRAINING_OMGAAN_MET_GELD)
    assert training.completed_on == date(2025, 8, 20) and training.outcome == "afgerond"
    with pytest.raises(ConflictError):
        services.trajectories.complete_training(trajectory.id, date(2025, 8, 21), "mb.sara")


def test_ending_before_the_minimum_period_needs_a_documented_reason(services):
    _, trajectory = started(services, date(2025, 4, 1))
    services.trajectories.activate(trajectory.id, BEHEERDER)
    with pytest.raises(InvalidInputError) as refused:
        services.trajectories.end(trajectory.id, {"ended_on": date(2025, 8, 1), "handover_note": "Verhuisd"}, BEHEERDER)
    assert refused.value.field == "ended_on"
    assert services.trajectories.get(trajectory.id).status is TrajectoryStatus.ACTIEF
    ended = services.trajectories.end(trajectory.id, {"ended_on": date(2025, 8, 1), "handover_note": "Verhuisd",
                                                      "early_reason": "Verhuisd naar een andere gemeente"}, BEHEERDER)
    assert ended.trajectory.ended_on == date(2025, 8, 1)


def test_transitions_out_of_order_are_refused_and_change_nothing(services):
    _, trajectory = started(services, date(2025, 4, 1))
    with pytest.raises(ConflictError, match="aangemeld cannot start afbouw"):
        services.trajectories.start_afbouw(trajectory.id, {"reason": "te vroeg"}, BEHEERDER)
    ended = services.trajectories.end(trajectory.id, {"ended_on": date(2025, 4, 2), "handover_note": "Afgemeld",
                                                      "early_reason": "Geen bijstand meer"}, BEHEERDER)
    with pytest.raises(ConflictError):
        services.trajectories.activate(ended.trajectory.id, BEHEERDER)
    assert len(services.trajectories.get(trajectory.id).history) == 2


def test_one_open_trajectory_per_household_and_only_for_eligible_households(services):
    household, _ = started(services, date(2025, 4, 1))
    with pytest.raises(ConflictError, match="already has an open trajectory"):
        services.trajectories.start(household.id, {}, BEHEERDER)
    ineligible = single(services, permit_type="gezinsmigrant").household
    with pytest.raises(ConflictError, match="not eligible"):
        services.trajectories.start(ineligible.id, {}, BEHEERDER)


def test_a_household_without_bijstand_start_needs_an_explicit_start(services):
    gemeente(services)
    household = single(services, bijstand_start=None, has_bijstand=True).household
    with pytest.raises(InvalidInputError) as refused:
        services.trajectories.start(household.id, {}, BEHEERDER)
    assert refused.value.field == "start_date"
    assert services.trajectories.start(household.id, {"start_date": date(2025, 5, 1)}, BEHEERDER).start_date == date(2025, 5, 1)


def test_the_history_is_append_only_in_the_database(services, database):
    from sqlalchemy.exc import IntegrityError

    started(services, date(2025, 4, 1))
    for statement in ("UPDATE trajectory_history SET actor = 'someone else'", "DELETE FROM trajectory_history",
                      "DELETE FROM eligibility_decisions"):
        with pytest.raises(IntegrityError, match="append-only"), database.engine.begin() as conn:
            conn.exec_driver_sql(statement)
