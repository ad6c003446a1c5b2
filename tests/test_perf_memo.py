"""The memos that keep the payment run fast give exactly the answers of the work they save."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from budget_ledger.errors import ConflictError
from budget_ledger.household_profiles import ProfileAssignment, effective_version
from budget_ledger.payment_calendar import DEFAULT_CALENDAR
from budget_ledger.planning import HouseholdRules, _MemoCalendar
from budget_ledger.rules.policies.afbouw import handover_date

FIXED_250 = {"leefgeld": {"mode": "fixed", "amount": "250.00"}}


def recorded(assignment_id, valid_from, *, profile=None, overrides=None):
    return ProfileAssignment(assignment_id, 1, valid_from, profile, overrides or {}, "Afspraak met de klant",
                             "beheerder", datetime(2025, 3, 1, tzinfo=UTC))


def days(first: date, n: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(n)]


def test_the_memo_gives_every_day_the_version_it_would_have_without_it(profile_catalog):
    roermond = profile_catalog["roermond"]
    assignments = [recorded(1, date(2025, 5, 1), overrides=FIXED_250),
                   recorded(2, date(2025, 7, 15), profile="westfriesland",
                            overrides={"leefgeld": {"mode": "fixed", "amount": "300.00"}}),
                   recorded(3, date(2025, 9, 1))]
    memo: dict = {}
    for day in days(date(2025, 4, 1), 300):
        assert effective_version(roermond, profile_catalog, assignments, day, memo=memo) == \
            effective_version(roermond, profile_catalog, assignments, day), day
    assert 0 < len(memo) < 10  # one merge per (assignment, profile version), not one per day


def test_a_merge_that_fails_is_never_remembered(profile_catalog):
    roermond = profile_catalog["roermond"]
    stale = [recorded(7, date(2025, 5, 1), overrides={"leefgeld": {"mode": "fixed"}})]
    memo: dict = {}
    for _ in range(2):
        with pytest.raises(ConflictError):
            effective_version(roermond, profile_catalog, stale, date(2025, 5, 2), memo=memo)
    assert memo == {}


def test_household_rules_answer_as_effective_version_does(profile_catalog):
    roermond = profile_catalog["roermond"]
    assignments = [recorded(1, date(2025, 5, 1), overrides=FIXED_250)]
    rules = HouseholdRules(roermond, profile_catalog, assignments)
    for day in days(date(2025, 4, 1), 120):
        assert rules.version_on(day) == effective_version(roermond, profile_catalog, assignments, day).version


def test_the_remembering_calendar_answers_as_the_calendar(profile_catalog):
    memo = _MemoCalendar(DEFAULT_CALENDAR)
    for _ in range(2):
        for day in days(date(2024, 12, 1), 400):
            assert memo.next_business_day(day) == DEFAULT_CALENDAR.next_business_day(day)
            assert memo.is_business_day(day) == DEFAULT_CALENDAR.is_business_day(day)
    assert memo.previous_business_day(date(2025, 4, 21)) == DEFAULT_CALENDAR.previous_business_day(date(2025, 4, 21))


def test_the_remembering_calendar_still_refuses_what_the_calendar_refuses():
    memo = _MemoCalendar(DEFAULT_CALENDAR)
    for bad in (datetime(2025, 5, 1, 12, tzinfo=UTC), date(1990, 1, 1)):
        with pytest.raises(Exception) as direct:
            DEFAULT_CALENDAR.next_business_day(bad)
        for _ in range(2):
            with pytest.raises(type(direct.value)):
                memo.next_business_day(bad)


@pytest.mark.parametrize("end", [date(2025, 10, 1), date(2025, 9, 16), date(2026, 1, 1)])
def test_handover_dates_are_the_same_asked_twice(end):
    for months in range(0, 4):
        assert handover_date(end, months) == handover_date.__wrapped__(end, months)


def test_two_households_with_the_same_overrides_share_one_merged_version(profile_catalog):
    roermond = profile_catalog["roermond"]
    merges: dict = {}
    first = HouseholdRules(roermond, profile_catalog, [recorded(1, date(2025, 5, 1), overrides=FIXED_250)],
                           merges=merges)
    second = HouseholdRules(roermond, profile_catalog, [recorded(2, date(2025, 5, 1), overrides=FIXED_250)],
                            merges=merges)
    other = HouseholdRules(roermond, profile_catalog,
                           [recorded(3, date(2025, 5, 1), overrides={"leefgeld": {"mode": "fixed", "amount": "260.00"}})],
                           merges=merges)
    day = date(2025, 6, 2)
    assert first.version_on(day) is second.version_on(day)
    assert other.version_on(day) is not first.version_on(day)
    assert other.version_on(day).leefgeld != first.version_on(day).leefgeld
    for rules, overrides in ((first, FIXED_250), (other, {"leefgeld": {"mode": "fixed", "amount": "260.00"}})):
        assert rules.version_on(day) == effective_version(
            roermond, profile_catalog, [recorded(9, date(2025, 5, 1), overrides=overrides)], day).version


def test_a_merge_that_fails_is_not_shared_either(profile_catalog):
    roermond = profile_catalog["roermond"]
    merges: dict = {}
    stale = [recorded(7, date(2025, 5, 1), overrides={"leefgeld": {"mode": "fixed"}})]
    for _ in range(2):
        with pytest.raises(ConflictError):
            effective_version(roermond, profile_catalog, stale, date(2025, 5, 2), merges=merges)
    assert merges == {}


def test_the_shared_merges_start_afresh_when_full(profile_catalog, monkeypatch):
    import budget_ledger.household_profiles as household_profiles

    monkeypatch.setattr(household_profiles, "MERGES_KEPT", 2)
    roermond = profile_catalog["roermond"]
    merges: dict = {}
    for i, amount in enumerate(("250.00", "260.00", "270.00")):
        overrides = {"leefgeld": {"mode": "fixed", "amount": amount}}
        version = effective_version(roermond, profile_catalog, [recorded(i, date(2025, 5, 1), overrides=overrides)],
                                    date(2025, 6, 2), merges=merges).version
        assert str(version.leefgeld.amount) == amount
    assert len(merges) == 1


def test_households_that_follow_their_gemeente_share_its_rules_and_others_do_not(profile_catalog):
    from budget_ledger.clock import system_clock
    from budget_ledger.planning import PlanningService

    service = PlanningService(None, profile_catalog, system_clock)  # type: ignore[arg-type]  # no database needed
    roermond, tilburg = profile_catalog["roermond"], profile_catalog["tilburg"]
    assert service._rules(roermond, (), None) is service._rules(roermond, (), None)
    assert service._rules(tilburg, (), None) is not service._rules(roermond, (), None)
    assert service._rules(roermond, (), tilburg) is not service._rules(roermond, (), None)
    assert service._rules(roermond, (), tilburg).version_on(date(2025, 6, 2)) == tilburg.version_on(date(2025, 6, 2))
    with_overrides = [recorded(1, date(2025, 5, 1), overrides=FIXED_250)]
    assert service._rules(roermond, with_overrides, None) is not service._rules(roermond, with_overrides, None)
