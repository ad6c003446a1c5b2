"""The budgetplan: a month's income, what the ledger pays, what the client pays, leefgeld and buffer.

First as pure worked examples (S3 and S12 of domain.md, a snapshot built by hand), then through the
services on SQLite and PostgreSQL: computed from the registry, recorded as a new version only when its
inputs change, read back and rendered as the Dutch document a client signs, and kept append-only by the
database itself.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from registry import BEHEERDER
from rules_book import bijstand_in_arrears, eur, monthly_bills, shipped, variant
from scenario_households import S3_START, s1_household, s3_couple
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from budget_ledger.errors import InvalidInputError, NotFoundError
from budget_ledger.rules.budgetplan import BudgetPlan, budgetplan, render_text
from budget_ledger.rules.plan import FindingKind
from budget_ledger.rules.profiles import CostCategory, LeefgeldFrequency, Regime
from budget_ledger.rules.snapshot import Balances, HouseholdSnapshot, Trajectory

HUUR, ZORG, ENERGIE = CostCategory.HUUR, CostCategory.ZORGVERZEKERING, CostCategory.ENERGIE
JUNE = date(2025, 6, 1)
MARCH, APRIL = date(2025, 3, 1), date(2025, 4, 1)


def household(*, first: date, last: date, members: int, income: str, costs: list[tuple[int, str, CostCategory, str]],
              opening: str = "0.00") -> HouseholdSnapshot:
    """A household on bijstand in arrears from `first`, with monthly bills due on the first business day."""
    bills = [bill for cid, name, category, amount in costs
             for bill in monthly_bills(cid, name, category, amount, first, last)]
    inflows = bijstand_in_arrears(income, first, last)
    monthly = {i.covers[0][0]: {"bijstand": i.amount} for i in inflows}
    return HouseholdSnapshot(
        household_id=1, members=members, as_of=first, trajectory=Trajectory(first, last),
        balances=Balances(basis=eur(opening)), bills=tuple(sorted(bills, key=lambda b: (b.due_on, b.creditor_id))),
        inflows=tuple(inflows), monthly_income=monthly)


def s3_snapshot(rent: str = "780.00") -> HouseholdSnapshot:
    return household(first=date(2025, 5, 1), last=date(2025, 10, 31), members=2, income="1830.54", costs=[
        (1, "Woonstichting Hoorn", HUUR, rent), (2, "Zorgverzekeraar Samir", ZORG, "150.00"),
        (3, "Zorgverzekeraar Lina", ZORG, "150.00"), (4, "Energie Noord", ENERGIE, "220.00")])


# -- S3: huur/zorg only, or the full vaste lasten ------------------------------------------------------


def test_s3_under_huur_zorg_the_ledger_withholds_1080_and_the_client_pays_energie_from_750_54_leefgeld():
    plan = budgetplan(s3_snapshot(), shipped("westfriesland"), JUNE)

    assert plan.regime is Regime.HUUR_ZORG and plan.members == 2
    assert plan.total_income == eur("1830.54")
    assert plan.withheld_for(HUUR) == eur("780.00")
    assert plan.withheld_for(ZORG) == eur("300.00")
    assert plan.total_withheld == eur("1080.00")
    assert plan.client_paid_for(ENERGIE) == eur("220.00") and plan.withheld_for(ENERGIE) == eur("0.00")
    assert plan.leefgeld.monthly_equivalent == eur("750.54")
    assert plan.leefgeld.payments == 1 and plan.leefgeld.in_month == eur("750.54")
    assert plan.buffer == eur("0.00")
    assert plan.free_to_spend == eur("530.54")  # the client pays energie from his leefgeld
    # The invariant of S3: an energy bill is never paid from the basisrekening; it is reported instead.
    [client_paid] = [f for f in plan.findings if f.kind is FindingKind.CLIENT_PAID_CREDITOR]
    assert client_paid.category is ENERGIE and client_paid.amount == eur("220.00")


def test_s3_under_the_full_vaste_lasten_1300_is_withheld_and_leefgeld_is_530_54_above_the_floor():
    plan = budgetplan(s3_snapshot(), shipped("wet-standaard"), JUNE)

    assert plan.regime is Regime.VOLLEDIG
    assert plan.total_withheld == eur("1300.00") and plan.client_paid == ()
    assert plan.leefgeld.monthly_equivalent == eur("530.54")
    assert plan.leefgeld.floor == eur("242.67")  # (45 + 11) × 52 / 12, rounded up
    assert plan.buffer == eur("0.00")
    assert not [f for f in plan.findings if f.kind is FindingKind.FLOOR_BREACH]


def test_s3_with_rent_1100_the_plan_breaks_the_floor_and_proposes_the_client_pays_energie():
    plan = budgetplan(s3_snapshot(rent="1100.00"), shipped("wet-standaard"), JUNE)

    assert plan.leefgeld.monthly_equivalent == eur("210.54")
    [breach] = [f for f in plan.findings if f.kind is FindingKind.FLOOR_BREACH and f.rule == "tekort"]
    assert breach.amount == eur("32.13")  # 242.67 − 210.54
    assert "energie" in breach.proposals[0] and "€ 430,54" in breach.proposals[0]


# -- S12: weekly leefgeld and the fifth Monday -----------------------------------------------------------

WEEKLY_60 = {"leefgeld": {"frequency": "weekly", "weekday": 1, "mode": "fixed", "amount": "60.00",
                          "buffer_per_month": "10.00"}}


def s12_snapshot() -> HouseholdSnapshot:
    return household(first=date(2025, 2, 1), last=date(2025, 7, 31), members=1, income="1281.38", opening="100.00",
                     costs=[(1, "Woonstichting", HUUR, "650.00"), (2, "Zorgverzekeraar", ZORG, "150.00")])


def test_s12_march_2025_has_five_mondays_300_leefgeld_against_a_monthly_equivalent_of_260():
    plan = budgetplan(s12_snapshot(), variant("wet-standaard", "wekelijks-60", WEEKLY_60), MARCH)

    leefgeld = plan.leefgeld
    assert leefgeld.frequency is LeefgeldFrequency.WEEKLY and leefgeld.weekday == 1
    assert leefgeld.per_payment == eur("60.00")
    assert leefgeld.payment_days == (date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17), date(2025, 3, 24),
                                     date(2025, 3, 31))
    assert leefgeld.in_month == eur("300.00")
    assert leefgeld.monthly_equivalent == eur("260.00")  # 60 × 52 / 12
    assert leefgeld.extra_this_month == eur("40.00")
    # The budget counts the monthly equivalent; the buffer on the basisrekening carries the fifth Monday.
    assert plan.buffer == eur("1281.38") - eur("800.00") - eur("260.00")
    assert not plan.buffer < leefgeld.extra_this_month
    [extra] = [f for f in plan.findings if f.kind is FindingKind.EXTRA_LEEFGELD_DAY]
    assert extra.on == date(2025, 3, 31) and extra.amount == eur("40.00")


def test_s12_april_2025_has_four_mondays_and_the_same_monthly_equivalent():
    plan = budgetplan(s12_snapshot(), variant("wet-standaard", "wekelijks-60", WEEKLY_60), APRIL)

    assert plan.leefgeld.payments == 4 and plan.leefgeld.in_month == eur("240.00")
    assert plan.leefgeld.monthly_equivalent == eur("260.00")
    assert plan.leefgeld.extra_this_month == eur("-20.00")
    assert not [f for f in plan.findings if f.kind is FindingKind.EXTRA_LEEFGELD_DAY]


# -- JSON, fingerprint, document -----------------------------------------------------------------------


def test_the_plan_as_json_has_decimal_strings_and_iso_dates_and_reads_back_the_same():
    plan = budgetplan(s3_snapshot(), shipped("westfriesland"), JUNE)
    data = plan.to_json()

    assert data["month"] == "2025-06-01" and data["profile_version"] == "2023-01-01"
    assert data["withheld"][0] == {"category": "huur", "amount": "780.00", "creditors": ["Woonstichting Hoorn"]}
    assert data["leefgeld"]["monthly_equivalent"] == "750.54"
    assert data["totals"]["buffer"] == "0.00"
    assert BudgetPlan.from_json(data) == plan
    assert BudgetPlan.from_json(data).fingerprint() == plan.fingerprint()


def test_the_fingerprint_follows_the_figures_not_the_findings():
    plan = budgetplan(s3_snapshot(), shipped("westfriesland"), JUNE)
    again = budgetplan(s3_snapshot(), shipped("westfriesland"), JUNE)

    assert len(plan.fingerprint()) == 64 and plan.fingerprint() == again.fingerprint()
    assert replace(plan, findings=()).fingerprint() == plan.fingerprint()
    assert budgetplan(s3_snapshot(rent="800.00"), shipped("westfriesland"), JUNE).fingerprint() != plan.fingerprint()
    assert budgetplan(s3_snapshot(), shipped("wet-standaard"), JUNE).fingerprint() != plan.fingerprint()


def test_the_document_is_dutch_with_amounts_in_dutch_format_and_lines_to_sign():
    plan = budgetplan(s3_snapshot(), shipped("westfriesland"), JUNE)
    document = render_text(plan, "Samir Haddad en Lina Haddad", "Hoorn")

    assert document.startswith("Budgetplan juni 2025\n")
    assert "profiel westfriesland, versie van 01-01-2023" in document
    assert "Samir Haddad en Lina Haddad (2 personen)" in document and "Hoorn" in document
    assert "basisrekening" in document and "leefgeldrekening" in document
    for amount in ("€ 1.830,54", "€ 780,00", "€ 300,00", "€ 220,00", "€ 750,54", "€ 530,54"):
        assert amount in document
    assert "Cliënt:" in document and "Budgetbeheerder:" in document
    assert all(len(line) <= 80 for line in document.splitlines())


def test_the_document_of_a_weekly_plan_names_the_five_payment_days():
    plan = budgetplan(s12_snapshot(), variant("wet-standaard", "wekelijks-60", WEEKLY_60), MARCH)
    document = render_text(plan, "Yonas Tesfay", "Roermond")

    assert "Per week, op maandag" in document
    assert "3, 10, 17, 24 en 31 maart" in document
    assert "€ 300,00" in document and "€ 260,00" in document and "€ 40,00 meer" in document


# -- through the services, on both engines -------------------------------------------------------------


def test_s3_through_the_services_gives_the_same_plan_as_the_worked_example(services):
    h = s3_couple(services)
    plan = services.budgetplans.current(h, "2025-06")

    assert plan.profile == "westfriesland" and plan.members == 2
    assert plan.total_withheld == eur("1080.00") and plan.client_paid_for(ENERGIE) == eur("220.00")
    assert plan.leefgeld.monthly_equivalent == eur("750.54") and plan.buffer == eur("0.00")
    assert [line.creditors for line in plan.withheld] == [("Woonstichting Hoorn",),
                                                           ("Zorgverzekeraar Samir", "Zorgverzekeraar Lina")]
    assert services.budgetplans.versions(h, "2025-06") == []  # computing stores nothing


def test_s1_march_is_the_first_part_month_with_the_leefgeld_of_120(services):
    h = s1_household(services)
    plan = services.budgetplans.current(h, date(2025, 3, 20))

    assert plan.month == MARCH
    assert plan.total_income == eur("702.69")  # 17/31 of the bijstand
    assert plan.withheld_for(HUUR) == eur("356.45") and plan.withheld_for(ZORG) == eur("82.26")
    assert plan.leefgeld.in_month == eur("120.00") and plan.leefgeld.payment_days == (date(2025, 3, 17),)
    # Made from the book on the trajectory's first day: the krediet is there to bridge, so nothing is short.
    assert not [f for f in plan.findings if f.kind is FindingKind.SHORTFALL]


def test_recording_twice_with_unchanged_inputs_keeps_one_version(services):
    h = s3_couple(services)
    first = services.budgetplans.record(h, "2025-06", BEHEERDER)
    again = services.budgetplans.record(h, date(2025, 6, 15), "beheerder.bram")

    assert first.version == 1 and again == first
    assert [v.version for v in services.budgetplans.versions(h, "2025-06")] == [1]
    assert first.plan == services.budgetplans.current(h, "2025-06")
    assert first.fingerprint == first.plan.fingerprint()


def test_a_changed_rent_makes_version_2_and_both_versions_can_be_read_and_rendered(services):
    h = s3_couple(services)
    v1 = services.budgetplans.record(h, "2025-06", BEHEERDER)
    rent = next(c for c in services.creditors.of_household(h) if c.category.value == "huur")
    services.creditors.change_schedule(rent.id, rent.schedules[0].id, {
        "amount": "800.00", "frequency": "monthly", "day": 1, "valid_from": S3_START}, BEHEERDER)

    v2 = services.budgetplans.record(h, "2025-06", "beheerder.bram")
    unchanged = services.budgetplans.record(h, "2025-06", BEHEERDER)

    assert v2.version == 2 and v2.fingerprint != v1.fingerprint and unchanged == v2
    versions = services.budgetplans.versions(h, "2025-06")
    assert [(v.version, v.recorded_by) for v in versions] == [(1, BEHEERDER), (2, "beheerder.bram")]
    assert versions[0].plan.withheld_for(HUUR) == eur("780.00")
    assert versions[1].plan.withheld_for(HUUR) == eur("800.00")
    assert versions[0].plan.leefgeld.monthly_equivalent == eur("750.54")
    assert versions[1].plan.leefgeld.monthly_equivalent == eur("730.54")

    old = services.budgetplans.document(h, "2025-06", version=1)
    latest = services.budgetplans.document(h, "2025-06")
    assert "versie 1" in old and "€ 780,00" in old and "€ 750,54" in old
    assert "versie 2" in latest and "beheerder.bram" in latest and "€ 800,00" in latest and "€ 730,54" in latest
    assert latest.startswith("Budgetplan juni 2025") and "Samir Haddad en Lina Haddad" in latest
    # Other months have their own versions.
    assert services.budgetplans.versions(h, "2025-07") == []


def test_refusals_name_the_field_and_write_nothing(services, database):
    h = s3_couple(services)
    with pytest.raises(InvalidInputError) as refused:
        services.budgetplans.current(h, "2025-13")
    assert refused.value.field == "month"
    with pytest.raises(InvalidInputError) as refused:
        services.budgetplans.record(h, "2026-01", BEHEERDER)  # after the trajectory
    assert refused.value.field == "month"
    with pytest.raises(NotFoundError) as refused:
        services.budgetplans.document(h, "2025-06")
    assert refused.value.field == "month"
    services.budgetplans.record(h, "2025-06", BEHEERDER)
    with pytest.raises(NotFoundError) as refused:
        services.budgetplans.document(h, "2025-06", version=2)
    assert refused.value.field == "version"
    with pytest.raises(InvalidInputError) as refused:
        services.budgetplans.version(h, "2025-06", 0)
    assert refused.value.field == "version"
    with pytest.raises(NotFoundError) as refused:
        services.budgetplans.current(999, "2025-06")
    assert refused.value.field == "household_id"
    with pytest.raises(NotFoundError):
        services.budgetplans.versions(999, "2025-06")
    assert len(rows(database)) == 1


# -- the database keeps every version ----------------------------------------------------------------------

APPEND_ONLY = "budgetplans is append-only"


def rows(database) -> list[tuple]:
    with database.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM budgetplans ORDER BY id"))]


def test_recorded_versions_cannot_be_changed_or_deleted_in_the_database(services, database):
    h = s3_couple(services)
    services.budgetplans.record(h, "2025-06", BEHEERDER)
    before = rows(database)
    statements = [
        "UPDATE budgetplans SET fingerprint = 'x'",
        "UPDATE budgetplans SET version = version",
        "DELETE FROM budgetplans",
    ]
    if database.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE budgetplans")

    for statement in statements:
        with pytest.raises(IntegrityError, match=APPEND_ONLY) as refusal, database.engine.begin() as conn:
            conn.execute(text(statement))
        if database.engine.dialect.name == "postgresql":
            assert refusal.value.orig.sqlstate == "23000"
        assert rows(database) == before, statement


def test_one_version_number_per_household_and_month(services, database):
    h = s3_couple(services)
    services.budgetplans.record(h, "2025-06", BEHEERDER)
    with pytest.raises(IntegrityError), database.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO budgetplans (household_id, month, version, fingerprint, content, recorded_by, recorded_at) "
            "SELECT household_id, month, version, 'other', content, recorded_by, recorded_at FROM budgetplans"))
    assert len(rows(database)) == 1
