"""The monitoring report (S19): Westfriesland's 143 trajecten of 1 July 2022 to 30 June 2023.

Westfriesland reported 7 of 143 trajecten verlengd na 6 maanden, 4.9 %, and so "95 %" self-reliant
against its 75 % target (domain.md A11). The book below is entered through the services as it happened:
per gemeente the trajecten and extensions of A11, housed and started across the year. Those started from
31 December 2022 on reach six months only after the period; of the rest, the extended ones had their
eindevaluatie say "verlengen", a few in Hoorn and Koggenland have no decision yet, one household in
Hoorn moved away after two months, and everyone else was judged zelfredzaam and handed over at the end of
the minimum period. Two households opted out of technical ontzorging in the period (S20) and one after it.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from conftest import PG_URL_ENV, DatabaseMaker, postgres_admin_url, require_or_skip
from registry import BEHEERDER, gemeente, single
from sqlalchemy import create_engine, text

from budget_ledger.adapters.cli.main import cli
from budget_ledger.adapters.db.bootstrap import services as build_services
from budget_ledger.adapters.db.bootstrap import transactions
from budget_ledger.clock import AMSTERDAM
from budget_ledger.errors import InvalidInputError, NotFoundError
from budget_ledger.gemeenten import PeriodAnchor
from budget_ledger.monitoring import MonitoringService, SixMonthOutcome, six_month_mark, six_month_outcome
from budget_ledger.periods import minimum_last_day
from budget_ledger.trajectories import (
    EvaluationOutcome,
    HistoryLine,
    Milestone,
    MilestoneKind,
    Trajectory,
    TrajectoryStatus,
)

PERIOD_FROM, PERIOD_TO = date(2022, 7, 1), date(2023, 6, 30)
LAST_MARK_IN_PERIOD = date(2022, 12, 30)
"""Started on 30 December 2022, the minimum period ends 29 June 2023: six months on 30 June, in the period."""
FIRST_MARK_AFTER_PERIOD = date(2022, 12, 31)
"""Started on 31 December 2022, the minimum period ends 30 June 2023: six months on 1 July, after it."""
OPT_OUT = {"eligible": True, "form": "geen", "reason": "Financieel zelfredzaam bij de brede intake.",
           "policy_reference": "Kamerbrief 6-4-2023"}
WESTFRIESLAND_SETTINGS = {"anchor": "huisvesting", "nareiziger_asiel_eligible": False}


@dataclass(frozen=True)
class Column:
    """One line of A11's ontzorgen table, and how its trajecten stood at six months."""

    code: str
    name: str
    trajecten: int
    verlengd: int
    mark_after_period: int
    """Started from 31 December 2022: six months only after the period."""
    zonder_besluit: int = 0
    verhuisd: int = 0
    """Ended early: moved to another gemeente after two months."""


WESTFRIESLAND = (
    # In A11's order, Stede Broec first: neither alphabetical nor the order of the codes.
    Column("stede-broec", "Stede Broec", 8, 0, 3),
    Column("enkhuizen", "Enkhuizen", 6, 0, 2),
    Column("drechterland", "Drechterland", 12, 0, 4),
    Column("hoorn", "Hoorn", 64, 5, 24, zonder_besluit=3, verhuisd=1),
    Column("koggenland", "Koggenland", 13, 2, 5, zonder_besluit=1),
    Column("medemblik", "Medemblik", 32, 0, 12),
    Column("opmeer", "Opmeer", 8, 0, 3),
)


class EntryClock:
    """The services' clock, set to the day each step is entered, as if entered on the day itself."""

    def __init__(self) -> None:
        self.now = datetime.combine(PERIOD_FROM, time(12), AMSTERDAM)

    def __call__(self) -> datetime:
        return self.now

    def on(self, day: date) -> None:
        self.now = datetime.combine(day, time(12), AMSTERDAM)


def spread(first: date, last: date, count: int) -> list[date]:
    """`count` start dates from `first` to `last`, both included."""
    if count == 1:
        return [first]
    span = (last - first).days
    return [first + timedelta(days=span * i // (count - 1)) for i in range(count)]


def housed(services, clock: EntryClock, code: str, day: date) -> Trajectory:
    """A statushouder housed and on bijstand from `day`, with the traject started and active."""
    clock.on(day)
    household = single(services, gemeente_code=code, bijstand_start=day, housing_date=day).household
    started = services.trajectories.start(household.id, {}, BEHEERDER)
    return services.trajectories.activate(started.id, BEHEERDER)


def eindevaluatie(services, clock: EntryClock, trajectory: Trajectory, outcome: str) -> None:
    final = next(m for m in trajectory.milestones if m.kind is MilestoneKind.EINDEVALUATIE)
    clock.on(final.due_on)
    services.trajectories.record_evaluation(
        trajectory.id, {"milestone_id": final.id, "completed_on": final.due_on, "outcome": outcome}, "mb.sara")


def enter_column(services, clock: EntryClock, column: Column) -> None:
    gemeente(services, code=column.code, name=column.name, **WESTFRIESLAND_SETTINGS)
    early = column.trajecten - column.mark_after_period
    for n, day in enumerate(spread(PERIOD_FROM, LAST_MARK_IN_PERIOD, early)):
        trajectory = housed(services, clock, column.code, day)
        if n < column.verlengd:
            eindevaluatie(services, clock, trajectory, "verlengen")
            services.trajectories.extend(
                trajectory.id, {"months": 3, "reason": "Nog niet zelfredzaam voor huur en zorgverzekering"}, BEHEERDER)
        elif n < column.verlengd + column.zonder_besluit:
            pass  # past the eindevaluatie, nothing recorded yet
        elif n < column.verlengd + column.zonder_besluit + column.verhuisd:
            moved = day + timedelta(days=60)
            clock.on(moved)
            services.trajectories.end(trajectory.id, {
                "ended_on": moved, "handover_note": "Dossier overgedragen aan de nieuwe gemeente",
                "early_reason": "Verhuisd naar een andere gemeente"}, BEHEERDER)
        else:
            eindevaluatie(services, clock, trajectory, "zelfredzaam")
            clock.on(trajectory.minimum_last_day)
            services.trajectories.end(trajectory.id, {
                "ended_on": trajectory.minimum_last_day,
                "handover_note": "Automatische incasso's huur, zorg en energie door de klant"}, BEHEERDER)
    for day in spread(FIRST_MARK_AFTER_PERIOD, PERIOD_TO, column.mark_after_period):
        housed(services, clock, column.code, day)


def enter_opt_outs(services, clock: EntryClock) -> None:
    # Hoorn: the brede intake finds the client self-reliant; no traject, no basisrekening (S20).
    clock.on(date(2023, 2, 1))
    single(services, gemeente_code="hoorn", bijstand_start=date(2023, 2, 1), housing_date=date(2023, 2, 1),
           eligibility_override=OPT_OUT)
    # Opmeer: the traject was aangemeld at housing; two weeks later the brede intake decides on the opt-out.
    clock.on(date(2023, 3, 1))
    household = single(services, gemeente_code="opmeer", bijstand_start=date(2023, 3, 1),
                       housing_date=date(2023, 3, 1)).household
    trajectory = services.trajectories.start(household.id, {}, BEHEERDER)
    clock.on(date(2023, 3, 15))
    services.households.override_eligibility(household.id, OPT_OUT, BEHEERDER)
    services.trajectories.end(trajectory.id, {
        "ended_on": date(2023, 3, 15), "handover_note": "Incasso-begeleiding door de MB",
        "early_reason": "Opt-out bij de brede intake (S20)"}, BEHEERDER)
    # Medemblik: an opt-out recorded after the period belongs to the next report.
    clock.on(date(2023, 8, 1))
    single(services, gemeente_code="medemblik", bijstand_start=date(2023, 8, 1), housing_date=date(2023, 8, 1),
           eligibility_override=OPT_OUT)


@dataclass(frozen=True)
class Westfriesland:
    database: object
    service: MonitoringService


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def westfriesland(request, tmp_path_factory, profile_catalog):
    """The Westfriesland book, entered once per engine for the tests below (its own databases, so the
    function-scoped fixtures' clean-up cannot drop them)."""
    backend = request.param
    if backend == "postgresql" and not postgres_admin_url():
        require_or_skip(f"PostgreSQL ({PG_URL_ENV})")
    maker = DatabaseMaker(backend, tmp_path_factory.mktemp(f"monitoring-{backend}"))
    try:
        database = maker.make(sqlite_synchronous="NORMAL")  # a test book: no fsync per commit, same semantics
        clock = EntryClock()
        services = build_services(database, clock=clock, catalog=profile_catalog)
        for column in WESTFRIESLAND:
            enter_column(services, clock, column)
        enter_opt_outs(services, clock)
        yield Westfriesland(database, MonitoringService(transactions(database), clock))
    finally:
        maker.cleanup()
        if maker._template is not None:
            admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{maker._template}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(scope="module")
def report(westfriesland):
    return westfriesland.service.report(PERIOD_FROM, PERIOD_TO)


# -- the report ----------------------------------------------------------------------------------------


def test_the_report_reproduces_what_westfriesland_reported(report):
    assert report.naive_summary == "7 van 143 trajecten verlengd (4,9 %)"
    assert (report.total.started, report.total.extended) == (143, 7)
    assert report.total.naive_extended_percent == Decimal("4.9")
    assert report.total.naive_not_extended_percent == Decimal("95.1")
    by_code = {g.gemeente: (g.started, g.extended) for g in report.gemeenten}
    assert by_code == {c.code: (c.trajecten, c.verlengd) for c in WESTFRIESLAND}


def test_the_corrected_kpi_counts_only_trajecten_that_reached_six_months_in_the_period(report):
    total = report.total
    # 143 trajecten less 53 started from 31 December 2022, less the household that moved away after two months.
    assert total.reached_six_months == 89
    assert (total.extended_at_six_months, total.undecided, total.ended_early) == (7, 4, 1)
    assert total.self_reliant == 78
    assert total.self_reliant_percent == Decimal("87.6")
    assert report.kpi_summary == ("78 van 89 trajecten met zes maanden in de periode zelfredzaam (87,6 %); "
                                  "doel 75 %: gehaald")


def test_the_target_check_per_gemeente_against_75_percent(report):
    kpi = {g.gemeente: (g.self_reliant, g.reached_six_months, g.self_reliant_percent, g.target_met(75))
           for g in report.gemeenten}
    assert kpi["hoorn"] == (31, 39, Decimal("79.5"), True)
    assert kpi["koggenland"] == (5, 8, Decimal("62.5"), False)
    assert kpi["stede-broec"] == (5, 5, Decimal("100.0"), True)
    assert report.total.target_met(75) is True


def test_a_stricter_target_is_missed_where_the_naive_figure_would_still_pass_it(westfriesland):
    strict = westfriesland.service.report(PERIOD_FROM, PERIOD_TO, target_percent=90)
    assert strict.total.naive_not_extended_percent >= 90
    assert strict.total.target_met(90) is False
    assert strict.kpi_summary.endswith("doel 90 %: niet gehaald")


def test_the_columns_are_in_the_order_of_the_gemeente_codes_not_of_the_table(report):
    assert [g.gemeente for g in report.gemeenten] == [
        "drechterland", "enkhuizen", "hoorn", "koggenland", "medemblik", "opmeer", "stede-broec"]
    assert [g.gemeente for g in report.gemeenten] != [c.code for c in WESTFRIESLAND]  # the order they were entered


def test_an_opt_out_is_counted_as_ontzorgd_in_afwijkende_vorm_and_not_as_a_traject(report):
    opt_outs = {g.gemeente: g.opt_outs for g in report.gemeenten}
    assert opt_outs == {"drechterland": 0, "enkhuizen": 0, "hoorn": 1, "koggenland": 0, "medemblik": 0,
                        "opmeer": 1, "stede-broec": 0}  # Medemblik's was recorded after the period
    opmeer = next(g for g in report.gemeenten if g.gemeente == "opmeer")
    # Not 9, 6 and 3: the traject the opted-out household had from 1 to 15 March 2023 is not one of them.
    assert (opmeer.started, opmeer.ended, opmeer.active_at_end) == (8, 5, 3)


def test_started_active_and_ended_in_the_period(report):
    total = report.total
    # Ended: the 78 self-reliant at the end of their minimum period, and the household that moved away.
    assert (total.started, total.ended, total.active_at_end) == (143, 79, 64)


def test_one_gemeente_only(westfriesland):
    hoorn = westfriesland.service.report(PERIOD_FROM, PERIOD_TO, gemeente="hoorn")
    assert [g.gemeente for g in hoorn.gemeenten] == ["hoorn"]
    assert hoorn.naive_summary == "5 van 64 trajecten verlengd (7,8 %)"
    assert hoorn.total.self_reliant_percent == Decimal("79.5")


def test_a_later_period_has_its_own_cohort(westfriesland):
    second_half = westfriesland.service.report(date(2023, 1, 1), PERIOD_TO)
    assert second_half.total.started == 53 - 7  # the late starters, less the seven of 31 December 2022
    assert second_half.total.reached_six_months == 89  # every six-month mark of the early starters is in 2023


def test_the_json_keeps_percentages_as_exact_decimal_text(report):
    data = json.loads(json.dumps(report.to_json()))
    assert data["period"] == {"from": "2022-07-01", "to": "2023-06-30"}
    assert data["total"]["naive"] == {"extended_percent": "4.9", "not_extended_percent": "95.1"}
    assert data["total"]["kpi"]["self_reliant_percent"] == "87.6"
    assert data["total"]["kpi"]["target_met"] is True
    assert [g["gemeente"] for g in data["gemeenten"]][0] == "drechterland"


# -- the command ---------------------------------------------------------------------------------------


def monitoring(westfriesland, *args: str):
    url = westfriesland.database.settings.database_url
    return CliRunner().invoke(cli, ["--database-url", url, "monitoring", "--from", "2022-07-01",
                                                "--to", "2023-06-30", *args])


def test_the_csv_has_a_header_a_row_per_gemeente_by_code_and_the_total(westfriesland):
    result = monitoring(westfriesland, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["gemeente", "naam", "gestart", "actief_einde_periode", "beeindigd", "verlengd",
                       "afwijkende_vorm", "verlengd_pct", "niet_verlengd_pct", "zes_maanden_in_periode",
                       "zelfredzaam", "verlengd_na_zes_maanden", "zonder_besluit", "voortijdig_beeindigd",
                       "zelfredzaam_pct", "doel_pct", "doel_gehaald"]
    assert [row[0] for row in rows[1:]] == ["drechterland", "enkhuizen", "hoorn", "koggenland", "medemblik",
                                            "opmeer", "stede-broec", "totaal"]
    assert rows[3] == ["hoorn", "Hoorn", "64", "32", "32", "5", "1", "7.8", "92.2", "39", "31", "5", "3", "1",
                       "79.5", "75", "ja"]
    assert rows[4][-3:] == ["62.5", "75", "nee"]
    assert rows[-1] == ["totaal", "Totaal", "143", "64", "79", "7", "2", "4.9", "95.1", "89", "78", "7", "4",
                        "1", "87.6", "75", "ja"]


def test_the_text_report_says_both_figures(westfriesland):
    result = monitoring(westfriesland)
    assert result.exit_code == 0, result.output
    assert "Zoals gerapporteerd: 7 van 143 trajecten verlengd (4,9 %), dus 95,1 % niet verlengd." in result.stdout
    assert "Gecorrigeerd: 78 van 89 trajecten met zes maanden in de periode zelfredzaam (87,6 %)" in result.stdout


def test_the_command_takes_a_target_and_one_gemeente_as_json(westfriesland):
    result = monitoring(westfriesland, "--gemeente", "koggenland", "--target", "60", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["target_percent"] == 60
    assert data["total"]["kpi"] == data["gemeenten"][0]["kpi"]
    assert data["total"]["kpi"]["target_met"] is True


def test_an_unknown_gemeente_is_a_message_and_exit_1(westfriesland):
    result = monitoring(westfriesland, "--gemeente", "atlantis")
    assert result.exit_code == 1
    assert "there is no gemeente 'atlantis'" in result.stderr


def test_a_period_ending_before_it_starts_is_a_usage_error(westfriesland):
    url = westfriesland.database.settings.database_url
    result = CliRunner().invoke(cli, ["--database-url", url, "monitoring", "--from", "2023-07-01",
                                                  "--to", "2022-07-01"])
    assert result.exit_code == 2
    assert "--to" in result.stderr


# -- the rules, one traject at a time (no database) ----------------------------------------------------


def trajectory(start: date, *, ended_on: date | None = None, outcome: EvaluationOutcome | None = None,
               extended: bool = False, status: TrajectoryStatus = TrajectoryStatus.ACTIEF) -> Trajectory:
    last = minimum_last_day(start)
    final = Milestone(1, MilestoneKind.EINDEVALUATIE, start, start, start if outcome else None, outcome, None, None)
    history = (HistoryLine(datetime.now(AMSTERDAM), BEHEERDER, "extend", status, TrajectoryStatus.VERLENGD, {}),
               ) if extended else ()
    return Trajectory(1, 1, PeriodAnchor.HUISVESTING, start, last, last, status, ended_on, 1, (final,), history)


def test_the_six_month_mark_is_the_day_after_the_minimum_period():
    assert six_month_mark(trajectory(LAST_MARK_IN_PERIOD)) == date(2023, 6, 30)
    assert six_month_mark(trajectory(FIRST_MARK_AFTER_PERIOD)) == date(2023, 7, 1)
    assert six_month_mark(trajectory(date(2022, 8, 31))) == date(2023, 3, 1)  # 28 February is the last day


@pytest.mark.parametrize("case, expected", [
    ({"outcome": EvaluationOutcome.ZELFREDZAAM}, SixMonthOutcome.ZELFREDZAAM),
    ({"outcome": EvaluationOutcome.AFBOUWEN}, SixMonthOutcome.ZELFREDZAAM),
    ({"status": TrajectoryStatus.IN_AFBOUW}, SixMonthOutcome.ZELFREDZAAM),
    ({"ended_on": date(2023, 1, 31), "status": TrajectoryStatus.BEEINDIGD}, SixMonthOutcome.ZELFREDZAAM),
    ({"outcome": EvaluationOutcome.ZELFREDZAAM, "extended": True}, SixMonthOutcome.VERLENGD),
    ({"outcome": EvaluationOutcome.DOORGAAN}, SixMonthOutcome.ZONDER_BESLUIT),
    ({}, SixMonthOutcome.ZONDER_BESLUIT),
    ({"ended_on": date(2022, 10, 1), "status": TrajectoryStatus.BEEINDIGD}, SixMonthOutcome.VOORTIJDIG_BEEINDIGD),
])
def test_where_a_traject_from_1_august_stands_at_six_months(case, expected):
    assert six_month_outcome(trajectory(date(2022, 8, 1), **case)) is expected


def test_a_period_or_target_that_makes_no_sense_is_refused_before_reading():
    service = MonitoringService(transactions=None)  # type: ignore[arg-type]  # never reached
    with pytest.raises(InvalidInputError) as backwards:
        service.report(PERIOD_TO, PERIOD_FROM)
    assert backwards.value.field == "period_to"
    with pytest.raises(InvalidInputError) as target:
        service.report(PERIOD_FROM, PERIOD_TO, target_percent=101)
    assert target.value.field == "target_percent"


def test_an_unknown_gemeente_is_not_found(westfriesland):
    with pytest.raises(NotFoundError):
        westfriesland.service.report(PERIOD_FROM, PERIOD_TO, gemeente="atlantis")
