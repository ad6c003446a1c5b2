"""Maatwerk per household: from a date, another rule profile than the gemeente's, or parts of one overridden,
each with a reason, kept in a history the database will not let anyone rewrite."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from registry import BEHEERDER, count_rows, gemeente, single
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from budget_ledger.errors import ConflictError, InvalidInputError, NotFoundError
from budget_ledger.household_profiles import (
    ProfileAssignment,
    ProfileCatalog,
    apply_overrides,
    effective_version,
)
from budget_ledger.ledger import Money
from budget_ledger.rules.profiles import CostCategory, LeefgeldMode, Profile, Regime

APRIL_30 = date(2025, 4, 30)
MAY_1 = date(2025, 5, 1)
JUNE_1 = date(2025, 6, 1)
SEPTEMBER_1 = date(2025, 9, 1)

FIXED_250 = {"leefgeld": {"mode": "fixed", "amount": "250.00"}}
APPEND_ONLY = "household_profile_assignments is append-only"


def roermond_household(services):
    """Yonas, housed in Roermond on 15 March 2025; Roermond follows its own profile (gift, krediet bridge)."""
    gemeente(services, "roermond", rule_profile="roermond")
    return single(services).household


def assign(services, household, valid_from, *, profile=None, overrides=None, reason="Afspraak met de klant"):
    data = {"valid_from": valid_from, "profile": profile, "overrides": overrides or {}, "reason": reason}
    return services.profiles.assign(household.id, data, BEHEERDER)


def refused(services, household, **kwargs) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as refusal:
        assign(services, household, **kwargs)
    return refusal.value


def roermond_on(services, day):
    return services.profile_catalog["roermond"].version_on(day)


# -- following the gemeente --------------------------------------------------------------------------


def test_a_household_follows_its_gemeentes_profile_until_something_is_assigned(services):
    household = roermond_household(services)

    effective = services.profiles.effective(household.id, APRIL_30)

    assert effective.profile_name == "roermond"
    assert effective.version == roermond_on(services, APRIL_30)
    assert effective.assignment_id is None
    assert effective.overridden_keys == ()
    assert services.profiles.history(household.id) == []


def test_a_gemeente_that_names_no_profile_follows_the_laws_standard_form(services):
    gemeente(services, "maastricht")
    household = single(services, gemeente_code="maastricht").household

    effective = services.profiles.effective(household.id, APRIL_30)

    assert effective.profile_name == ProfileCatalog.default_name == "wet-standaard"
    assert effective.version.eerste_huur_gift.enabled is False


# -- overrides ---------------------------------------------------------------------------------------


def test_a_fixed_leefgeld_of_250_holds_from_its_first_day_and_not_before(services):
    household = roermond_household(services)

    assignment = assign(services, household, MAY_1, overrides=FIXED_250,
                        reason="Vaste leefgeld van 250 euro per maand op verzoek van de klant")

    april = services.profiles.effective(household.id, APRIL_30)
    may = services.profiles.effective(household.id, MAY_1)
    assert april.version.leefgeld.mode is LeefgeldMode.REMAINDER
    assert april.assignment_id is None
    assert may.version.leefgeld.mode is LeefgeldMode.FIXED
    assert may.version.leefgeld.amount == Money.parse("250.00")
    assert may.profile_name == "roermond"
    assert may.assignment_id == assignment.id
    assert may.overridden_keys == ("leefgeld.amount", "leefgeld.mode")
    # Everything not overridden is Roermond's: the floor, the gift, the krediet bridge.
    roermond = roermond_on(services, MAY_1)
    assert may.version.leefgeld.floor_per_week == roermond.leefgeld.floor_per_week == Money.parse("45.00")
    assert may.version.model_dump(exclude={"leefgeld"}) == roermond.model_dump(exclude={"leefgeld"})


def test_the_history_keeps_who_recorded_what_and_why(services):
    household = roermond_household(services)

    assignment = assign(services, household, MAY_1, overrides=FIXED_250, reason="Vaste leefgeld afgesproken")

    assert services.profiles.history(household.id) == [assignment]
    assert assignment.household_id == household.id
    assert assignment.valid_from == MAY_1
    assert assignment.profile is None
    assert assignment.overrides == FIXED_250
    assert assignment.reason == "Vaste leefgeld afgesproken"
    assert assignment.recorded_by == BEHEERDER
    assert assignment.recorded_at.tzinfo is not None


def test_a_correction_for_the_same_day_wins_and_the_first_stays_in_the_history(services):
    household = roermond_household(services)
    first = assign(services, household, MAY_1, overrides=FIXED_250, reason="Vaste leefgeld afgesproken")

    correction = assign(services, household, MAY_1, overrides={"leefgeld": {"mode": "fixed", "amount": "275.00"}},
                        reason="Correctie: afgesproken was 275 euro, niet 250")

    may = services.profiles.effective(household.id, MAY_1)
    assert may.version.leefgeld.amount == Money.parse("275.00")
    assert may.assignment_id == correction.id
    assert services.profiles.history(household.id) == [first, correction]


# -- another profile ---------------------------------------------------------------------------------


def test_moving_a_household_to_westfriesland_withholds_only_huur_and_zorgverzekering_from_that_day(services):
    household = roermond_household(services)

    moved = assign(services, household, JUNE_1, profile="westfriesland",
                   reason="Verhuisd naar Hoorn; WerkSaam neemt het budgetbeheer over")

    may = services.profiles.effective(household.id, date(2025, 5, 31))
    june = services.profiles.effective(household.id, JUNE_1)
    assert (may.profile_name, may.version.regime) == ("roermond", Regime.VOLLEDIG)
    assert (june.profile_name, june.version.regime) == ("westfriesland", Regime.HUUR_ZORG)
    assert june.version.withheld_categories() == {CostCategory.HUUR, CostCategory.ZORGVERZEKERING}
    assert june.assignment_id == moved.id
    assert june.overridden_keys == ()


def test_an_assignment_without_a_profile_returns_the_household_to_its_gemeentes(services):
    household = roermond_household(services)
    assign(services, household, JUNE_1, profile="westfriesland", reason="Tijdelijk zoals WerkSaam")

    back = assign(services, household, SEPTEMBER_1, profile=None, reason="Terug naar de werkwijze van Roermond")

    september = services.profiles.effective(household.id, SEPTEMBER_1)
    assert september.profile_name == "roermond"
    assert september.version == roermond_on(services, SEPTEMBER_1)
    assert september.assignment_id == back.id


def test_overrides_apply_to_the_assigned_profile(services):
    household = roermond_household(services)

    assign(services, household, JUNE_1, profile="westfriesland",
           overrides={"leefgeld": {"frequency": "weekly", "weekday": 5}}, reason="WerkSaam, leefgeld op vrijdag")

    june = services.profiles.effective(household.id, JUNE_1)
    assert june.profile_name == "westfriesland"
    assert (june.version.leefgeld.frequency.value, june.version.leefgeld.weekday) == ("weekly", 5)
    assert june.version.regime is Regime.HUUR_ZORG


# -- refusals ----------------------------------------------------------------------------------------


def test_a_floor_given_as_a_number_is_refused_naming_the_key_and_nothing_is_written(services, database):
    household = roermond_household(services)

    error = refused(services, household, valid_from=MAY_1, overrides={"leefgeld": {"floor_per_week": 45.0}})

    assert error.field == "overrides.leefgeld.floor_per_week"
    assert "decimal string" in error.problems[0].reason
    assert count_rows(database, "household_profile_assignments") == 0
    assert services.profiles.history(household.id) == []


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"leefgeld": {"floor_per_weak": "50.00"}}, "overrides.leefgeld.floor_per_weak"),
        ({"leefgelt": {"mode": "fixed"}}, "overrides.leefgelt"),
    ],
    ids=["misspelt-key", "misspelt-policy"],
)
def test_an_unknown_key_is_refused_naming_it(services, database, overrides, field):
    household = roermond_household(services)

    error = refused(services, household, valid_from=MAY_1, overrides=overrides)

    assert error.field == field
    assert error.problems[0].reason == "Extra inputs are not permitted"
    assert count_rows(database, "household_profile_assignments") == 0


def test_an_override_is_checked_as_part_of_the_whole_version(services, database):
    """A fixed leefgeld needs its amount: the merged version is validated, not the override on its own."""
    household = roermond_household(services)

    error = refused(services, household, valid_from=MAY_1, overrides={"leefgeld": {"mode": "fixed"}})

    assert error.field == "overrides.leefgeld.amount"
    assert error.problems[0].reason == "mode 'fixed' needs an amount"
    assert count_rows(database, "household_profile_assignments") == 0


def test_an_override_that_a_later_version_of_the_profile_would_break_is_refused_now(database, profile_catalog):
    """Hoorn has announced that from 2026 it only withholds huur and zorgverzekering. Handing gas over to
    the client two months before the end works under today's rules, but there is no gas to hand over
    in 2026, so it is refused when it is recorded rather than when a 2026 payment run meets it."""
    from budget_ledger.adapters.db.bootstrap import services as build

    hoorn = Profile.model_validate({
        "name": "hoorn", "title": "Hoorn",
        "versions": [{"valid_from": date(2022, 1, 1), "regime": "volledig"},
                     {"valid_from": date(2026, 1, 1), "regime": "huur_zorg"}],
    })
    services = build(database, catalog=ProfileCatalog([*profile_catalog.values(), hoorn]))
    gemeente(services, "hoorn", rule_profile="hoorn")
    household = single(services, gemeente_code="hoorn").household
    gas_early = {"afbouw": {"enabled": True, "steps": [{"category": "gas", "months_before_end": 2}]}}

    error = refused(services, household, valid_from=JUNE_1, overrides=gas_early)

    assert error.field == "overrides.afbouw"
    assert "gas" in error.problems[0].reason and "2026-01-01" in error.problems[0].reason
    assert count_rows(database, "household_profile_assignments") == 0


def test_an_unknown_profile_is_refused(services, database):
    household = roermond_household(services)

    error = refused(services, household, valid_from=MAY_1, profile="amsterdam")

    assert error.field == "profile"
    assert "amsterdam" in error.problems[0].reason
    assert count_rows(database, "household_profile_assignments") == 0


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"reason": "ok"}, "reason"),
        ({"overrides": {"valid_from": "2025-01-01"}}, "overrides"),
        ({"overrides": {"leefgeld": {"floor_per_week": float("nan")}}}, "overrides"),
    ],
    ids=["reason-too-short", "valid-from-overridden", "not-json"],
)
def test_an_assignment_needs_a_reason_and_plain_overrides(services, database, changes, field):
    household = roermond_household(services)
    data = {"valid_from": MAY_1, "profile": None, "overrides": {}, "reason": "Afspraak met de klant", **changes}

    with pytest.raises(InvalidInputError) as refusal:
        services.profiles.assign(household.id, data, BEHEERDER)

    assert refusal.value.field == field
    assert count_rows(database, "household_profile_assignments") == 0


def test_an_unknown_household_is_not_found(services):
    roermond_household(services)
    data = {"valid_from": MAY_1, "profile": None, "overrides": FIXED_250, "reason": "Vaste leefgeld afgesproken"}

    with pytest.raises(NotFoundError):
        services.profiles.assign(999, data, BEHEERDER)
    with pytest.raises(NotFoundError):
        services.profiles.history(999)
    with pytest.raises(NotFoundError):
        services.profiles.effective(999, MAY_1)


# -- the database keeps the history ------------------------------------------------------------------


def rows(database) -> list[tuple]:
    with database.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM household_profile_assignments ORDER BY id"))]


def test_the_history_cannot_be_rewritten_in_the_database(services, database):
    household = roermond_household(services)
    assign(services, household, MAY_1, overrides=FIXED_250, reason="Vaste leefgeld afgesproken")
    before = rows(database)
    statements = [
        "UPDATE household_profile_assignments SET overrides = '{}'",
        "UPDATE household_profile_assignments SET valid_from = valid_from",
        "DELETE FROM household_profile_assignments",
    ]
    if database.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE household_profile_assignments")

    for statement in statements:
        with pytest.raises(IntegrityError, match=APPEND_ONLY) as refusal, database.engine.begin() as conn:
            conn.execute(text(statement))
        if database.engine.dialect.name == "postgresql":
            assert refusal.value.orig.sqlstate == "23000"
        assert rows(database) == before, statement


# -- the rule itself, without a database -------------------------------------------------------------


def recorded(assignment_id, valid_from, *, at, profile=None, overrides=None):
    return ProfileAssignment(assignment_id, 1, valid_from, profile, overrides or {}, "Afspraak met de klant",
                             BEHEERDER, at)


def test_for_one_day_the_latest_recorded_assignment_wins_whatever_its_id(profile_catalog):
    roermond = profile_catalog["roermond"]
    later = recorded(1, MAY_1, at=datetime(2025, 4, 20, 10, tzinfo=UTC), overrides=FIXED_250)
    earlier = recorded(2, MAY_1, at=datetime(2025, 4, 20, 9, tzinfo=UTC), profile="westfriesland")

    effective = effective_version(roermond, profile_catalog, [later, earlier], MAY_1)

    assert (effective.assignment_id, effective.profile_name) == (1, "roermond")


def test_a_list_in_an_override_replaces_the_profiles_list(profile_catalog):
    roermond = profile_catalog["roermond"]
    order = recorded(1, MAY_1, at=datetime(2025, 4, 20, tzinfo=UTC),
                     overrides={"tekort": {"payment_order": ["zorgverzekering", "huur"]}})

    effective = effective_version(roermond, profile_catalog, [order], MAY_1)

    assert effective.version.tekort.payment_order == (CostCategory.ZORGVERZEKERING, CostCategory.HUUR)
    assert effective.version.tekort.propose_client_paid is True
    assert effective.overridden_keys == ("tekort.payment_order",)


def test_overrides_that_no_longer_fit_a_changed_profile_are_a_conflict_not_a_crash(profile_catalog):
    """Checked when recorded; only an edited profile file or a gemeente that changed profile can do this."""
    roermond = profile_catalog["roermond"]
    stale = recorded(7, MAY_1, at=datetime(2025, 4, 20, tzinfo=UTC), overrides={"leefgeld": {"mode": "fixed"}})

    with pytest.raises(ConflictError) as conflict:
        effective_version(roermond, profile_catalog, [stale], MAY_1)

    assert conflict.value.field == "overrides"
    assert "assignment 7" in conflict.value.message and "overrides.leefgeld.amount" in conflict.value.message


def test_every_shipped_version_comes_through_a_merge_unchanged(profile_catalog):
    """Overrides are merged onto the version's JSON form: nothing may be lost or changed on the way."""
    for profile in profile_catalog.values():
        for version in profile.versions:
            assert apply_overrides(version, {"leefgeld": {}}) == version, (profile.name, version.valid_from)
