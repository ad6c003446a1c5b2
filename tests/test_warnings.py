"""Warnings, as a budgetbeheerder and a begeleider meet them: the end of ontzorging announced ahead, the
evaluations, the decision at the end, the hand-over of creditors (S10), what is still owed, the forecast's
shortfalls and income that did not arrive (S8). A daily scan stores them once and resolves what is gone; on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from registry import BEHEERDER, count_rows, gemeente, single
from scenario_households import add_creditor, bank_in, income_received, s1_household, s3_couple
from sqlalchemy.exc import DBAPIError

from budget_ledger.adapters.profiles import ProfileError, load_profile
from budget_ledger.chart import organisation_accounts
from budget_ledger.errors import ConflictError, InvalidInputError, NotFoundError
from budget_ledger.trajectories import MilestoneKind
from budget_ledger.warnings import (
    RESOLVED_BY_SCAN,
    SCAN_ACTOR,
    Severity,
    WarningRole,
    WarningStatus,
    WarningType,
)

BEGELEIDER = "begeleider.bram"
ALL = ("open", "acknowledged", "resolved")


def ontzorgd_from(services, start: date, *, code: str = "roermond", begeleiders: tuple[str, ...] = (),
                  **settings) -> tuple[int, object]:
    """A single statushouder whose ontzorging starts on `start`, registered and activated."""
    known = {g.code for g in services.gemeenten.list()}
    if not known:
        services.ledger.open_accounts(organisation_accounts())
    if code not in known:
        gemeente(services, code, **settings)
    household = single(services, gemeente_code=code, bijstand_start=start, housing_date=start,
                       begeleiders=list(begeleiders)).household
    trajectory = services.trajectories.start(household.id, {}, BEHEERDER)
    services.trajectories.activate(trajectory.id, BEHEERDER)
    return household.id, services.trajectories.get(trajectory.id)


def of_type(services, household: int, type_: WarningType, status=ALL):
    return [w for w in services.warnings.list(household_id=household, status=status) if w.type is type_]


def milestone(trajectory, kind: MilestoneKind):
    return next(m for m in trajectory.milestones if m.kind is kind)


# -- the end of ontzorging, announced 8, 4 and 2 weeks ahead -----------------------------------------


def test_a_trajectory_from_1_march_ends_on_31_august_and_is_announced_8_4_and_2_weeks_before(services):
    h, trajectory = ontzorgd_from(services, date(2025, 3, 1))
    assert trajectory.last_day == date(2025, 8, 31)

    services.warnings.scan(date(2025, 7, 6))
    assert of_type(services, h, WarningType.ONTZORGING_EINDE) == []

    # 8 weeks before the first day without ontzorging (1 September): a warning for the budgetbeheerder.
    services.warnings.scan(date(2025, 7, 7))
    [eight] = of_type(services, h, WarningType.ONTZORGING_EINDE)
    assert (eight.due_on, eight.role, eight.severity, eight.status) == (
        date(2025, 8, 31), WarningRole.BUDGETBEHEERDER, Severity.INFO, WarningStatus.OPEN)
    assert "eindigt over 8 weken: 31-08-2025 is de laatste dag" in eight.message
    assert eight.details["lead_weeks"] == 8 and eight.raised_on == date(2025, 7, 7)

    services.warnings.scan(date(2025, 8, 4))
    services.warnings.scan(date(2025, 8, 17))
    assert [w.details["lead_weeks"] for w in of_type(services, h, WarningType.ONTZORGING_EINDE)] == [8, 4]
    services.warnings.scan(date(2025, 8, 18))
    found = {w.details["lead_weeks"]: w for w in of_type(services, h, WarningType.ONTZORGING_EINDE)}
    assert sorted(found) == [2, 4, 8]
    assert [found[w].severity for w in (8, 4, 2)] == [Severity.INFO, Severity.WARNING, Severity.CRITICAL]
    assert {w.raised_on for w in found.values()} == {date(2025, 7, 7), date(2025, 8, 4), date(2025, 8, 18)}


def test_after_the_last_day_a_trajectory_not_yet_ended_is_critical_and_ending_it_resolves_the_warnings(services):
    h, trajectory = ontzorgd_from(services, date(2025, 3, 1))
    services.warnings.scan(date(2025, 8, 18))
    services.warnings.scan(date(2025, 9, 2))
    assert {w.severity for w in of_type(services, h, WarningType.ONTZORGING_EINDE)} == {Severity.CRITICAL}
    assert "het traject loopt nog" in of_type(services, h, WarningType.ONTZORGING_EINDE)[0].message

    services.trajectories.end(trajectory.id, {"ended_on": date(2025, 8, 31), "handover_note": "Incasso's gezet"},
                              BEHEERDER)
    services.warnings.scan(date(2025, 9, 3))
    ended = of_type(services, h, WarningType.ONTZORGING_EINDE)
    assert {(w.status, w.resolved_by, w.resolved_note) for w in ended} == {
        (WarningStatus.RESOLVED, SCAN_ACTOR, RESOLVED_BY_SCAN)}


def test_the_lead_times_come_from_the_profile_of_the_household_when_it_sets_them(services):
    h, _ = ontzorgd_from(services, date(2025, 3, 1))
    services.profiles.assign(h, {"valid_from": date(2025, 3, 1), "profile": None,
                                 "overrides": {"waarschuwingen": {"lead_weeks": [1, 6]}},
                                 "reason": "Kwetsbare klant: eerder en vlak voor het einde waarschuwen"}, BEHEERDER)
    services.warnings.scan(date(2025, 7, 20))  # 6 weeks before 1 September is 21 July; 8 weeks no longer counts
    assert of_type(services, h, WarningType.ONTZORGING_EINDE) == []
    services.warnings.scan(date(2025, 8, 25))
    assert [w.details["lead_weeks"] for w in of_type(services, h, WarningType.ONTZORGING_EINDE)] == [6, 1]
    assert "eindigt over 1 week" in of_type(services, h, WarningType.ONTZORGING_EINDE)[1].message


def test_without_a_profile_setting_the_gemeentes_lead_times_hold(services):
    h, _ = ontzorgd_from(services, date(2025, 3, 1), code="hoorn", warning_lead_weeks=[3])
    services.warnings.scan(date(2025, 8, 10))
    assert of_type(services, h, WarningType.ONTZORGING_EINDE) == []
    services.warnings.scan(date(2025, 8, 11))  # 3 weeks before 1 September
    assert [w.details["lead_weeks"] for w in of_type(services, h, WarningType.ONTZORGING_EINDE)] == [3]


PROFILE = """\
name = "{name}"
title = "Proefgemeente"

[[versions]]
valid_from = 2022-01-01
regime = "volledig"

[versions.waarschuwingen]
lead_weeks = {weeks}
"""


@pytest.mark.parametrize("weeks, reason", [
    ("[8, 0]", "from 1 to 52"), ("[60]", "from 1 to 52"), ("[]", "at least one lead time"),
    ('["8"]', "valid integer"), ("[4, 4]", "listed twice"), ("[2.5]", "valid integer"),
])
def test_profile_lead_times_are_checked_like_every_profile_setting(tmp_path, weeks, reason):
    path = tmp_path / "proef.toml"
    path.write_text(PROFILE.format(name="proef", weeks=weeks), encoding="utf-8")
    with pytest.raises(ProfileError) as refused:
        load_profile(path)
    assert refused.value.field.startswith("versions.0.waarschuwingen.lead_weeks")  # an item: ….lead_weeks.0
    assert reason in str(refused.value)


def test_profile_lead_times_are_stored_longest_first(tmp_path):
    path = tmp_path / "proef.toml"
    path.write_text(PROFILE.format(name="proef", weeks="[2, 12, 6]"), encoding="utf-8")
    assert load_profile(path).versions[0].waarschuwingen.lead_weeks == (12, 6, 2)


def test_a_household_override_of_the_lead_times_is_refused_when_it_is_wrong(services, database):
    h, _ = ontzorgd_from(services, date(2025, 3, 1))
    with pytest.raises(InvalidInputError) as refused:
        services.profiles.assign(h, {"valid_from": date(2025, 3, 1), "profile": None,
                                     "overrides": {"waarschuwingen": {"lead_weeks": [0]}},
                                     "reason": "Een fout in de invoer"}, BEHEERDER)
    assert refused.value.field == "overrides.waarschuwingen.lead_weeks"
    assert count_rows(database, "household_profile_assignments") == 0


# -- evaluations, the training and the decision at the end (S10) -------------------------------------


def test_s10_the_evaluation_window_from_1_june_to_1_july_and_the_eindevaluatie_on_1_september(services):
    h, trajectory = ontzorgd_from(services, date(2025, 4, 1))
    services.warnings.scan(date(2025, 5, 31))
    assert of_type(services, h, WarningType.EVALUATIE) == []

    services.warnings.scan(date(2025, 6, 1))
    [interim] = of_type(services, h, WarningType.EVALUATIE)
    assert (interim.due_on, interim.severity, interim.role) == (date(2025, 7, 1), Severity.WARNING,
                                                                 WarningRole.BUDGETBEHEERDER)
    assert "tussenevaluatie is aan de beurt: tussen 01-06-2025 en 01-07-2025" in interim.message
    services.warnings.scan(date(2025, 7, 1))
    assert of_type(services, h, WarningType.EVALUATIE)[0].severity is Severity.WARNING
    services.warnings.scan(date(2025, 7, 2))
    [late] = of_type(services, h, WarningType.EVALUATIE)
    assert late.id == interim.id and late.severity is Severity.CRITICAL and "niet vastgelegd" in late.message
    assert [e.action for e in services.warnings.events(late.id)] == ["raised", "escalated"]

    services.trajectories.record_evaluation(trajectory.id, {
        "milestone_id": milestone(trajectory, MilestoneKind.EVALUATIE).id, "completed_on": date(2025, 7, 3),
        "outcome": "doorgaan"}, BEHEERDER)
    services.warnings.scan(date(2025, 7, 3))
    [done] = of_type(services, h, WarningType.EVALUATIE)
    assert (done.status, done.resolved_note) == (WarningStatus.RESOLVED, RESOLVED_BY_SCAN)

    services.warnings.scan(date(2025, 9, 1))
    final = [w for w in of_type(services, h, WarningType.EVALUATIE) if w.status is WarningStatus.OPEN]
    assert [(w.due_on, w.details["milestone"]) for w in final] == [(date(2025, 9, 1), "eindevaluatie")]
    assert "eindevaluatie is aan de beurt: op 01-09-2025" in final[0].message


def test_s10_outcome_c_the_training_not_done_by_month_five_is_a_warning_for_the_begeleider(services):
    h, trajectory = ontzorgd_from(services, date(2025, 4, 1))
    services.warnings.scan(date(2025, 9, 1))
    assert of_type(services, h, WarningType.TRAINING) == []
    services.warnings.scan(date(2025, 9, 2))
    [training] = of_type(services, h, WarningType.TRAINING)
    assert (training.due_on, training.role) == (date(2025, 9, 1), WarningRole.BEGELEIDER)
    assert "Omgaan met geld" in training.message

    services.trajectories.complete_training(trajectory.id, date(2025, 9, 5), "mb.sara")
    services.warnings.scan(date(2025, 9, 5))
    assert of_type(services, h, WarningType.TRAINING)[0].status is WarningStatus.RESOLVED


def test_no_decision_after_the_eindevaluatie_is_a_warning_until_one_is_recorded(services):
    h, trajectory = ontzorgd_from(services, date(2025, 4, 1))
    services.warnings.scan(date(2025, 9, 1))
    assert of_type(services, h, WarningType.GEEN_VERLENGINGSBESLUIT) == []
    services.warnings.scan(date(2025, 9, 2))
    [undecided] = of_type(services, h, WarningType.GEEN_VERLENGINGSBESLUIT)
    assert (undecided.due_on, undecided.severity) == (date(2025, 9, 30), Severity.WARNING)
    services.warnings.scan(date(2025, 9, 17))
    assert of_type(services, h, WarningType.GEEN_VERLENGINGSBESLUIT)[0].severity is Severity.CRITICAL

    final = milestone(trajectory, MilestoneKind.EINDEVALUATIE)
    services.trajectories.record_evaluation(trajectory.id, {"milestone_id": final.id, "completed_on": date(2025, 9, 17),
                                                            "outcome": "zelfredzaam"}, BEHEERDER)
    services.warnings.scan(date(2025, 9, 18))
    assert of_type(services, h, WarningType.GEEN_VERLENGINGSBESLUIT)[0].status is WarningStatus.RESOLVED


def test_s10_outcome_b_an_extension_moves_the_end_and_the_warnings_follow(services):
    h, trajectory = ontzorgd_from(services, date(2025, 4, 1))
    services.warnings.scan(date(2025, 8, 20))  # 8 weeks before 1 October was 6 August
    assert [w.due_on for w in of_type(services, h, WarningType.ONTZORGING_EINDE)] == [date(2025, 9, 30)]
    final = milestone(trajectory, MilestoneKind.EINDEVALUATIE)
    services.trajectories.record_evaluation(trajectory.id, {"milestone_id": final.id, "completed_on": date(2025, 9, 1),
                                                            "outcome": "verlengen"}, BEHEERDER)
    services.trajectories.extend(trajectory.id, {"months": 3, "reason": "Nog niet zelfredzaam voor huur en zorg"},
                                 BEHEERDER)

    services.warnings.scan(date(2025, 9, 2))
    old = of_type(services, h, WarningType.ONTZORGING_EINDE)
    assert {(w.due_on, w.status) for w in old} == {(date(2025, 9, 30), WarningStatus.RESOLVED)}
    assert of_type(services, h, WarningType.GEEN_VERLENGINGSBESLUIT) == []
    services.warnings.scan(date(2025, 11, 6))  # 8 weeks before 1 January
    current = of_type(services, h, WarningType.ONTZORGING_EINDE, status="open")
    assert [(w.due_on, w.details["lead_weeks"]) for w in current] == [(date(2025, 12, 31), 8)]


# -- hand-over of creditors to the client's incasso (S10 outcome A) -----------------------------------


def s10_with_creditors(services) -> tuple[int, object, dict[str, int]]:
    h, trajectory = ontzorgd_from(services, date(2025, 4, 1))
    creditors = {
        "huur": add_creditor(services, h, "Woonstichting", "NL91ABNA0417164300", "huur", "650.00", date(2025, 4, 1)),
        "zorgverzekering": add_creditor(services, h, "Zorgverzekeraar", "NL20INGB0001234567", "zorgverzekering",
                                        "150.00", date(2025, 4, 1)),
        "energie": add_creditor(services, h, "Energie B.V.", "NL64ABNA0417164301", "energie", "180.00",
                                date(2025, 4, 1)),
    }
    return h, trajectory, {name: c.id for name, c in creditors.items()}


def test_s10_each_creditor_still_paid_by_the_ledger_on_its_handover_day_is_a_warning_for_the_begeleider(services):
    h, _, ids = s10_with_creditors(services)
    # wet-standaard hands energie over a month before the end (from 1 September), the rest from 1 October.
    services.warnings.scan(date(2025, 7, 6))
    assert of_type(services, h, WarningType.CREDITEUR_NIET_OVERGEDRAGEN) == []
    services.warnings.scan(date(2025, 7, 7))
    [energie] = of_type(services, h, WarningType.CREDITEUR_NIET_OVERGEDRAGEN)
    assert (energie.subject, energie.due_on, energie.role) == (f"crediteur:{ids['energie']}", date(2025, 9, 1),
                                                              WarningRole.BEGELEIDER)
    assert "vanaf 01-09-2025 betaalt de klant zelf via automatische incasso" in energie.message

    services.creditors.assign_payer(ids["energie"], {"payer": "client_incasso", "valid_from": date(2025, 9, 1),
                                                     "reason": "Afbouw: energie naar de klant"}, BEHEERDER)
    services.warnings.scan(date(2025, 8, 6))
    found = {w.subject: w for w in of_type(services, h, WarningType.CREDITEUR_NIET_OVERGEDRAGEN)}
    assert found[f"crediteur:{ids['energie']}"].status is WarningStatus.RESOLVED
    assert {found[f"crediteur:{ids[n]}"].due_on for n in ("huur", "zorgverzekering")} == {date(2025, 10, 1)}

    for name in ("huur", "zorgverzekering"):
        services.creditors.assign_payer(ids[name], {"payer": "client_incasso", "valid_from": date(2025, 10, 1),
                                                    "reason": "Afbouw: einde ontzorging"}, BEHEERDER)
    services.warnings.scan(date(2025, 8, 7))
    assert {w.status for w in of_type(services, h, WarningType.CREDITEUR_NIET_OVERGEDRAGEN)} == {WarningStatus.RESOLVED}


def test_s10_a_creditor_left_on_the_ledger_after_the_end_is_paid_by_nobody(services):
    h, trajectory, ids = s10_with_creditors(services)
    for name in ("huur", "energie"):
        services.creditors.assign_payer(ids[name], {"payer": "client_incasso", "valid_from": date(2025, 9, 1),
                                                    "reason": "Incasso door de klant"}, BEHEERDER)
    services.trajectories.end(trajectory.id, {"ended_on": date(2025, 9, 30), "handover_note": "Huur en energie over"},
                              BEHEERDER)
    services.warnings.scan(date(2025, 10, 1))
    [gap] = of_type(services, h, WarningType.CREDITEUR_NIET_OVERGEDRAGEN)
    assert (gap.subject, gap.severity, gap.due_on) == (f"crediteur:{ids['zorgverzekering']}", Severity.CRITICAL,
                                                       date(2025, 10, 1))
    assert "niemand" in gap.message and "beëindigd" in gap.message


# -- money still owed at the end -----------------------------------------------------------------------


def test_krediet_and_voorschot_still_outstanding_at_the_end(services):
    h = s1_household(services)  # S1: inrichtingskrediet of 3,500.00 granted on 15-03; last day 14-09
    services.warnings.scan(date(2025, 7, 20))
    assert of_type(services, h, WarningType.KREDIET_OPENSTAAND) == []

    services.warnings.scan(date(2025, 7, 21))  # 8 weeks before 15 September
    [krediet] = of_type(services, h, WarningType.KREDIET_OPENSTAAND)
    assert (krediet.due_on, krediet.role, krediet.details["amount"]) == (
        date(2025, 9, 14), WarningRole.BUDGETBEHEERDER, "3500.00")
    assert "€ 3.500,00 open bij het einde van de ontzorging op 14-09-2025" in krediet.message
    assert of_type(services, h, WarningType.VOORSCHOT_OPENSTAAND) == []

    services.ledger.post(bank_in(h, "voorschot", date(2025, 7, 22), ("basis",), ("voorschot", "toeslag"), "461.00",
                                 "Voorschot zorg- en huurtoeslag"))
    services.warnings.scan(date(2025, 7, 22))
    [voorschot] = of_type(services, h, WarningType.VOORSCHOT_OPENSTAAND)
    assert voorschot.details["amount"] == "461.00" and "niet stilzwijgend van het leefgeld" in voorschot.message


# -- the forecast: leefgeld under the floor, payments that would fail ---------------------------------


def expensive_home(services) -> tuple[int, int]:
    """A single on the law's standard form whose rent of 1,100 leaves nothing of a bijstand of 1,281.38."""
    h, _ = ontzorgd_from(services, date(2025, 3, 1))
    huur = add_creditor(services, h, "Woonstichting", "NL91ABNA0417164300", "huur", "1100.00", date(2025, 3, 1))
    add_creditor(services, h, "Zorgverzekeraar", "NL20INGB0001234567", "zorgverzekering", "150.00", date(2025, 3, 1))
    add_creditor(services, h, "Energie B.V.", "NL64ABNA0417164301", "energie", "180.00", date(2025, 3, 1))
    services.income.add(h, {"source": "bijstand", "amount": "1281.38", "entitlement_from": date(2025, 3, 1)},
                        BEHEERDER)
    return h, huur.id


def test_a_shortfall_and_leefgeld_under_the_floor_in_next_months_forecast(services):
    h, huur = expensive_home(services)
    services.warnings.scan(date(2025, 5, 10))
    [shortfall] = of_type(services, h, WarningType.TEKORT_PROGNOSE)
    assert (shortfall.due_on, shortfall.severity) == (date(2025, 6, 2), Severity.CRITICAL)
    assert shortfall.message.startswith("Prognose: Energie juni 2025") and "kan niet betaald worden" in shortfall.message
    floors = of_type(services, h, WarningType.LEEFGELD_ONDER_MINIMUM)
    assert floors and all(w.due_on.month == 6 for w in floors)
    assert any("minimum" in w.message for w in floors)

    schedule = services.creditors.get(huur).schedules[0]
    services.creditors.change_schedule(huur, schedule.id, {"amount": "600.00", "frequency": "monthly", "day": 1,
                                                           "valid_from": schedule.valid_from}, BEHEERDER)
    services.warnings.scan(date(2025, 5, 10))
    for type_ in (WarningType.TEKORT_PROGNOSE, WarningType.LEEFGELD_ONDER_MINIMUM):
        assert {w.status for w in of_type(services, h, type_)} == {WarningStatus.RESOLVED}


def test_a_household_whose_money_reaches_gets_no_forecast_warning(services):
    h = s3_couple(services)  # S3: huur and zorg withheld, 750.54 leefgeld above the floor
    services.warnings.scan(date(2025, 6, 10))
    assert of_type(services, h, WarningType.TEKORT_PROGNOSE) == []
    assert of_type(services, h, WarningType.LEEFGELD_ONDER_MINIMUM) == []


# -- income that did not arrive (S8) -------------------------------------------------------------------


def test_s8_a_zorgtoeslag_paid_to_the_clients_own_account_is_a_warning_until_it_is_transferred(services):
    h = s1_household(services)
    for on, source, amount in ((date(2025, 4, 1), "bijstand", "702.69"), (date(2025, 5, 2), "bijstand", "1281.38")):
        services.ledger.post(income_received(h, on, source, amount))
    services.warnings.scan(date(2025, 5, 20))
    assert of_type(services, h, WarningType.INKOMEN_TE_LAAT) == []

    services.warnings.scan(date(2025, 5, 21))
    [late] = of_type(services, h, WarningType.INKOMEN_TE_LAAT)
    assert (late.subject, late.due_on, late.severity, late.details["missing"]) == (
        "zorgtoeslag", date(2025, 5, 20), Severity.WARNING, "393.00")
    assert "niet ontvangen" in late.message and "eigen rekening van de klant" in late.message

    services.ledger.post(income_received(h, date(2025, 5, 22), "zorgtoeslag", "393.00"))  # the client transfers it
    services.warnings.scan(date(2025, 5, 22))
    [done] = of_type(services, h, WarningType.INKOMEN_TE_LAAT)
    assert (done.status, done.resolved_by, done.resolved_note) == (WarningStatus.RESOLVED, SCAN_ACTOR,
                                                                  RESOLVED_BY_SCAN)


# -- the scan's bookkeeping ----------------------------------------------------------------------------


def test_scanning_twice_creates_nothing_twice(services, database):
    h, _ = expensive_home(services)
    first = services.warnings.scan(date(2025, 7, 7))
    rows, events = count_rows(database, "warnings"), count_rows(database, "warning_events")
    assert first.raised == rows > 0 and events == rows

    again = services.warnings.scan(date(2025, 7, 7))
    assert (again.raised, again.changed, again.reopened, again.resolved) == (0, 0, 0, 0)
    assert (count_rows(database, "warnings"), count_rows(database, "warning_events")) == (rows, events)
    keys = [w.key for w in services.warnings.list(status=ALL)]
    assert len(keys) == len(set(keys))


def test_an_acknowledged_warning_stays_acknowledged_while_its_condition_holds(services):
    h, _ = ontzorgd_from(services, date(2025, 3, 1))
    services.warnings.scan(date(2025, 7, 7))
    [end] = of_type(services, h, WarningType.ONTZORGING_EINDE)
    seen = services.warnings.acknowledge(end.id, {"note": "Uitstroomgesprek gepland op 20 augustus"}, BEHEERDER)
    assert (seen.status, seen.acknowledged_by, seen.acknowledged_note) == (
        WarningStatus.ACKNOWLEDGED, BEHEERDER, "Uitstroomgesprek gepland op 20 augustus")
    assert seen.acknowledged_at is not None

    services.warnings.scan(date(2025, 7, 8))
    services.warnings.scan(date(2025, 7, 8))
    [still] = of_type(services, h, WarningType.ONTZORGING_EINDE)
    assert (still.id, still.status, still.acknowledged_by) == (end.id, WarningStatus.ACKNOWLEDGED, BEHEERDER)
    assert [(e.action, e.actor) for e in services.warnings.events(end.id)] == [
        ("raised", SCAN_ACTOR), ("acknowledged", BEHEERDER)]
    with pytest.raises(ConflictError):
        services.warnings.acknowledge(end.id, None, BEHEERDER)


def test_a_warning_a_person_resolved_stays_resolved_and_one_the_scan_resolved_comes_back(services):
    h, _, ids = s10_with_creditors(services)
    services.warnings.scan(date(2025, 8, 6))
    by_subject = {w.subject: w for w in of_type(services, h, WarningType.CREDITEUR_NIET_OVERGEDRAGEN)}
    huur, energie = by_subject[f"crediteur:{ids['huur']}"], by_subject[f"crediteur:{ids['energie']}"]

    closed = services.warnings.resolve(huur.id, {"note": "Woonstichting bevestigt de incasso per 1 oktober"}, BEGELEIDER)
    assert (closed.status, closed.resolved_by) == (WarningStatus.RESOLVED, BEGELEIDER)
    services.warnings.scan(date(2025, 8, 7))
    assert services.warnings.get(huur.id).resolved_by == BEGELEIDER  # the person's decision stands

    services.creditors.assign_payer(ids["energie"], {"payer": "client_incasso", "valid_from": date(2025, 8, 25),
                                                     "reason": "Incasso door de klant"}, BEHEERDER)
    services.warnings.scan(date(2025, 8, 8))
    assert services.warnings.get(energie.id).resolved_by == SCAN_ACTOR
    services.creditors.assign_payer(ids["energie"], {"payer": "ledger", "valid_from": date(2025, 9, 1),
                                                     "reason": "Incasso geweigerd door de bank"}, BEHEERDER)
    services.warnings.scan(date(2025, 8, 9))
    back = services.warnings.get(energie.id)
    assert (back.status, back.resolved_by) == (WarningStatus.OPEN, None)
    assert [e.action for e in services.warnings.events(energie.id)] == ["raised", "resolved", "reopened"]


def test_the_events_of_a_warning_cannot_be_changed_or_removed(services, database):
    ontzorgd_from(services, date(2025, 3, 1))
    services.warnings.scan(date(2025, 7, 7))
    for statement in ("UPDATE warning_events SET actor = 'iemand anders'", "DELETE FROM warning_events"):
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    with pytest.raises(DBAPIError), database.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE warnings SET status = 'resolved'")  # resolved needs who, when and a note


# -- listing -------------------------------------------------------------------------------------------


def test_within_p6m_lists_what_falls_due_in_the_next_six_months_by_gemeente_begeleider_and_type(services):
    a, _ = ontzorgd_from(services, date(2025, 3, 1), begeleiders=(BEGELEIDER,))
    b, _ = ontzorgd_from(services, date(2025, 3, 1), code="hoorn")
    services.warnings.scan(date(2025, 7, 7))
    # On 7 July: the tussenevaluatie (due 1 June) is overdue, the end (31 August) is 8 weeks away.
    types = (WarningType.EVALUATIE, WarningType.ONTZORGING_EINDE)

    def listed(**filters):
        filters.setdefault("type", types)
        return sorted((w.household_id, w.type.value, w.due_on.isoformat())
                      for w in services.warnings.list(as_of=date(2025, 7, 7), **filters))

    assert listed(within="P6M") == listed() == sorted(
        (h, t, d) for h in (a, b) for t, d in (("evaluatie", "2025-06-01"), ("ontzorging-einde", "2025-08-31")))
    assert listed(within="P4W") == sorted((h, "evaluatie", "2025-06-01") for h in (a, b))  # overdue stays in view
    assert listed(within="P8W") == listed(within="P6M")
    assert {h for h, _, _ in listed(within="P6M", gemeente="hoorn")} == {b}
    assert {h for h, _, _ in listed(within="P6M", begeleider=BEGELEIDER)} == {a}
    assert {t for _, t, _ in listed(within="P6M", type="evaluatie")} == {"evaluatie"}
    everything = services.warnings.list(as_of=date(2025, 7, 7), within="P6M")
    assert [w.due_on for w in everything] == sorted(w.due_on for w in everything)
    assert {w.gemeente for w in everything} == {"roermond", "hoorn"}


def test_bad_input_is_refused_naming_the_field_and_writes_nothing(services, database):
    h, _ = ontzorgd_from(services, date(2025, 3, 1))
    services.warnings.scan(date(2025, 7, 7))
    [end] = of_type(services, h, WarningType.ONTZORGING_EINDE)
    before = (count_rows(database, "warnings"), count_rows(database, "warning_events"))
    refusals = {
        "type": lambda: services.warnings.list(type="onbekend"),
        "within": lambda: services.warnings.list(within="6 maanden"),
        "status": lambda: services.warnings.list(status="weg"),
        "note": lambda: services.warnings.resolve(end.id, {"note": ""}, BEHEERDER),
        "actor": lambda: services.warnings.resolve(end.id, {"note": "Opgelost"}, " "),
    }
    for field, call in refusals.items():
        with pytest.raises(InvalidInputError) as refused:
            call()
        assert refused.value.field == field
    with pytest.raises(InvalidInputError) as refused:
        services.warnings.resolve(end.id, {}, BEHEERDER)
    assert refused.value.field == "note"
    with pytest.raises(InvalidInputError) as refused:
        services.warnings.acknowledge(end.id, {"note": "   "}, BEHEERDER)
    assert refused.value.field == "note"
    with pytest.raises(InvalidInputError) as refused:
        services.warnings.list(within="PT12H")
    assert refused.value.field == "within"
    with pytest.raises(NotFoundError):
        services.warnings.resolve(end.id + 1000, {"note": "Opgelost"}, BEHEERDER)
    with pytest.raises(NotFoundError):
        services.warnings.list(gemeente="atlantis")
    assert (count_rows(database, "warnings"), count_rows(database, "warning_events")) == before
    assert services.warnings.get(end.id).status is WarningStatus.OPEN


# -- the command line ----------------------------------------------------------------------------------


def command(database, *args: str):
    from click.testing import CliRunner

    from budget_ledger.adapters.cli.main import cli

    return CliRunner().invoke(cli, ["--database-url", database.settings.database_url, *args])


def test_the_command_line_scans_lists_acknowledges_and_resolves(services, database):
    import json

    h, _ = ontzorgd_from(services, date(2025, 3, 1))
    scanned = command(database, "warnings", "scan", "--date", "2025-07-07")
    assert scanned.exit_code == 0, scanned.output
    assert "Waarschuwingsscan 2025-07-07" in scanned.output and "0 mislukt" in scanned.output
    assert "0 nieuw" in command(database, "warnings", "scan", "--date", "2025-07-07").output

    listed = command(database, "warnings", "--within", "P6M", "--as-of", "2025-07-07", "--type", "ontzorging-einde",
                     "--format", "json")
    assert listed.exit_code == 0, listed.output
    [item] = json.loads(listed.stdout)
    assert (item["household_id"], item["due_on"], item["role"], item["status"]) == (
        h, "2025-08-31", "budgetbeheerder", "open")
    text = command(database, "warnings", "--within", "P6M", "--as-of", "2025-07-07", "--gemeente", "roermond")
    assert f"huishouden {h} (roermond)" in text.output and "eindigt over 8 weken" in text.output

    warning_id = str(item["id"])
    seen = command(database, "warnings", "acknowledge", warning_id, "--as", BEHEERDER, "--note", "Gesprek gepland")
    assert seen.exit_code == 0 and f"bevestigd door {BEHEERDER}" in seen.output
    shown = command(database, "warnings", "show", warning_id)
    assert "acknowledged" in shown.output and "Gesprek gepland" in shown.output
    closed = command(database, "warnings", "resolve", warning_id, "--as", BEHEERDER, "--note", "Traject verlengd")
    assert closed.exit_code == 0 and "opgelost door" in closed.output
    assert command(database, "warnings", "--status", "resolved", "--type", "ontzorging-einde").output.count("#") == 1


@pytest.mark.parametrize("args, field", [
    (("warnings", "--within", "6M"), "within"),
    (("warnings", "--type", "onbekend"), "type"),
    (("warnings", "resolve", "1", "--as", BEHEERDER, "--note", ""), "note"),
    (("warnings", "acknowledge", "1", "--as", " "), "actor"),
    (("warnings", "show", "999"), "warning_id"),
    (("warnings", "scan", "--gemeente", "atlantis"), "gemeente"),
])
def test_the_command_line_refuses_bad_input_with_a_message_naming_the_field(services, database, args, field):
    ontzorgd_from(services, date(2025, 3, 1))
    services.warnings.scan(date(2025, 7, 7))
    before = (count_rows(database, "warnings"), count_rows(database, "warning_events"))
    result = command(database, *args)
    assert result.exit_code == 1, result.output
    assert f"Error ({field}):" in result.output and "Traceback" not in result.output
    assert (count_rows(database, "warnings"), count_rows(database, "warning_events")) == before
