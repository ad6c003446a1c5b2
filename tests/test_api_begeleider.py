"""The begeleider's screens over the API (issue 7 item 4): my households, and per household the leefgeld view
in plain words, read with the client of S1 after the run of 1 April. A begeleider sees their own caseload
only: any other household answers 404, as one that does not exist. Every read is in the audit trail. On
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from api import ApiClient
from litestar.testing import TestClient
from registry import BEHEERDER, count_rows
from scenario_households import income_received
from test_payment_runs import add_s1

from budget_ledger.access import Role
from budget_ledger.adapters.db.bootstrap import services as build_services
from budget_ledger.adapters.http.app import create_app

BO = "begeleider.bo"
TABLES = ("journal_entries", "payment_instructions", "warnings", "warning_events")


def clock() -> datetime:
    return datetime(2025, 4, 2, 8, 30, tzinfo=UTC)  # Wednesday 2 April 2025, the day after S1's April run


@pytest.fixture
def services(database, profile_catalog):
    return build_services(database, clock=clock, catalog=profile_catalog)


@pytest.fixture
def api(database, services):
    with TestClient(create_app(database.settings, database=database, services=services, clock=clock)) as client:
        yield ApiClient(client, services)


@pytest.fixture
def caseloads(services) -> tuple[int, int]:
    """(mine, other): two S1 households, the first begeleider.bo's, the second begeleider.cas's."""
    mine, other = add_s1(services), add_s1(services, "Saba Tesfay")
    services.households.assign_begeleider(mine, BO, BEHEERDER)
    services.households.assign_begeleider(other, "begeleider.cas", BEHEERDER)
    return mine, other


@pytest.fixture
def s1(services, caseloads) -> tuple[int, int]:
    """The two households after S1's runs of 17 March and 1 April."""
    mine, other = caseloads
    services.payment_runs.start(date(2025, 3, 17), actor=BEHEERDER)
    for h in (mine, other):
        services.ledger.post(income_received(h, date(2025, 4, 1), "bijstand", "702.69"))
    services.payment_runs.start(date(2025, 4, 1), actor=BEHEERDER)
    return mine, other


def written(database) -> dict[str, int]:
    return {table: count_rows(database, table) for table in TABLES}


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


# -- my households -----------------------------------------------------------------------------------------


def test_a_begeleider_lists_their_households_with_the_trajectory_dates_and_open_warnings(api, services, caseloads):
    mine, _ = caseloads
    services.warnings.scan(date(2025, 5, 21))  # the tussenevaluatie is due and the zorgtoeslag late
    response = api.get("/v1/begeleider/households", role=Role.BEGELEIDER)
    assert response.status_code == 200
    page = response.json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    [row] = page["items"]
    assert (row["household_id"], row["aanvrager"], row["gemeente"], row["gemeente_name"]) == (
        mine, "Yonas Tesfay", "roermond", "Roermond")
    assert row["trajectory"] == {
        "id": row["trajectory"]["id"], "status": "actief", "start_date": "2025-03-15",
        "minimum_last_day": "2025-09-14", "last_day": "2025-09-14", "ended_on": None,
        "next_evaluation": {"kind": "tussenevaluatie", "due_from": "2025-05-15", "due_on": "2025-06-15"}}
    assert row["open_warnings"] == len(services.warnings.list(household_id=mine)) >= 2
    assert api.get(f"/v1/begeleider/households?begeleider={BO}", role=Role.BEGELEIDER).json() == page
    for role in (Role.BUDGETBEHEERDER, Role.AUDITOR):  # they name the begeleider whose caseload they want
        assert api.get(f"/v1/begeleider/households?begeleider={BO}", role=role).json() == page
    assert api.get("/v1/begeleider/households?begeleider=begeleider.niemand").json()["items"] == []
    trail = api.get("/v1/audit?kind=read", role=Role.AUDITOR).json()["items"]
    assert (trail[-1]["entity"], trail[-1]["entity_id"], trail[-1]["actor"]) == ("caseload", BO, BO)


def test_the_caseload_is_paginated(api, services, caseloads):
    mine, other = caseloads
    services.households.assign_begeleider(other, BO, BEHEERDER)
    first = api.get("/v1/begeleider/households?limit=1", role=Role.BEGELEIDER).json()
    second = api.get("/v1/begeleider/households?limit=1&offset=1", role=Role.BEGELEIDER).json()
    assert (first["total"], second["total"]) == (2, 2)
    assert [r["household_id"] for r in first["items"] + second["items"]] == [mine, other]


def test_who_may_see_which_caseload(api, caseloads):
    assert problem(api.get("/v1/begeleider/households?begeleider=begeleider.cas", role=Role.BEGELEIDER), 403)
    [refused] = api.get("/v1/audit?kind=read", role=Role.AUDITOR).json()["items"]  # the attempt is in the trail
    assert (refused["entity"], refused["entity_id"], refused["actor"], refused["status_code"]) == (
        "caseload", "begeleider.cas", BO, 403)
    assert problem(api.get("/v1/begeleider/households", role=Role.BATCH), 403)
    assert problem(api.get("/v1/begeleider/households"), 422)["field"] == "begeleider"
    assert problem(api.get("/v1/begeleider/households?begeleider=%20", role=Role.AUDITOR), 422)["field"] == "begeleider"
    assert problem(api.get("/v1/begeleider/households?begeleider=bo%00", role=Role.AUDITOR), 422)["field"] == "begeleider"
    assert problem(api.get("/v1/begeleider/households?limit=0", role=Role.BEGELEIDER), 400)["field"] == "limit"


# -- the leefgeld view -------------------------------------------------------------------------------------


def test_the_leefgeld_view_tells_the_client_what_was_paid_why_and_what_comes_next(api, database, s1):
    mine, _ = s1
    before = written(database)
    response = api.get(f"/v1/begeleider/households/{mine}/leefgeld?as_of=2025-04-01", role=Role.BEGELEIDER)
    assert response.status_code == 200
    view = response.json()
    assert (view["household_id"], view["aanvrager"], view["as_of"]) == (mine, "Yonas Tesfay", "2025-04-01")
    assert view["last_leefgeld"] == {"on": "2025-04-01", "amount": "250.00",
                                     "reason": "Leefgeld april 2025 naar de leefgeldrekening"}
    assert view["next_leefgeld"] == {"on": "2025-05-02", "amount": "250.00", "planned": "250.00", "overdue": False}
    assert [(p["kind"], p["amount"], p["counterparty"]) for p in view["paid_this_month"]] == [
        ("huur", "650.00", "Woonstichting Roermond"), ("zorgverzekering", "150.00", "Zorgverzekeraar"),
        ("energie", "180.00", "Energie B.V."), ("leefgeld", "250.00", "Yonas Tesfay")]
    assert view["paid_this_month"][0]["reason"] == \
        "Huur april 2025 (Woonstichting Roermond), ingehouden volgens profiel roermond"
    assert (view["paid_this_month_total"], view["leefgeldrekening"], view["basisrekening"],
            view["krediet_unspent"]) == ("1230.00", "0.00", "0.00", "2770.43")
    assert [(a["source"], a["due_on"], a["expected"], a["late"]) for a in view["awaited_income"]] == [
        ("bijstand", "2025-05-02", "1281.38", False), ("zorgtoeslag", "2025-05-20", "393.00", False)]
    assert (view["trajectory"]["start_date"], view["trajectory"]["minimum_last_day"]) == ("2025-03-15", "2025-09-14")
    assert view["open_warnings"] == []
    assert "01-04-2025: € 650,00 huur aan Woonstichting Roermond. Reden: Huur april 2025 (Woonstichting " \
           "Roermond), ingehouden volgens profiel roermond." in view["sentences"]
    assert "Nog niet binnen: zorgtoeslag van € 393,00, verwacht op 20-05-2025." in view["sentences"]
    assert written(database) == before
    # Without as_of it is today's view (the app's clock: 2 April).
    today = api.get(f"/v1/begeleider/households/{mine}/leefgeld", role=Role.BEGELEIDER).json()
    assert today["as_of"] == "2025-04-02" and today["next_leefgeld"]["on"] == "2025-05-02"


def test_the_view_shows_the_households_open_warnings(api, services, s1):
    mine, _ = s1
    services.warnings.scan(date(2025, 5, 21))
    view = api.get(f"/v1/begeleider/households/{mine}/leefgeld?as_of=2025-05-21", role=Role.BEGELEIDER).json()
    # Roermond's gift for March's huur was never transferred in this book: that is open too.
    assert {w["type"] for w in view["open_warnings"]} == {"evaluatie", "inkomen-te-laat", "inleg-niet-ontvangen"}
    assert any(s.startswith("Te laat: zorgtoeslag van € 393,00, verwacht op 20-05-2025") for s in view["sentences"])


def test_a_household_outside_the_caseload_is_404_for_a_begeleider_the_same_as_one_that_does_not_exist(
        api, database, s1):
    _, other = s1
    not_mine = problem(api.get(f"/v1/begeleider/households/{other}/leefgeld", role=Role.BEGELEIDER), 404)
    nowhere = problem(api.get("/v1/begeleider/households/99999/leefgeld", role=Role.BEGELEIDER), 404)
    assert {k: v for k, v in not_mine.items() if k != "detail"} == {k: v for k, v in nowhere.items() if k != "detail"}
    assert not_mine["field"] == "household_id" and str(other) in not_mine["detail"]
    for role in (Role.BUDGETBEHEERDER, Role.AUDITOR):
        assert api.get(f"/v1/begeleider/households/{other}/leefgeld", role=role).json()["aanvrager"] == "Saba Tesfay"
    problem(api.get(f"/v1/begeleider/households/{other}/leefgeld", role=Role.BATCH), 403)
    # Every read of the view is audited with its household, the refused one too.
    trail = api.get(f"/v1/audit?household_id={other}&kind=read", role=Role.AUDITOR).json()["items"]
    assert sorted((e["actor"], e["status_code"]) for e in trail) == sorted([
        ("auditor.ida", 200), ("beheerder.anna", 200), (BO, 404)])
    assert {(e["entity"], e["entity_id"]) for e in trail} == {("leefgeld", str(other))}


def test_a_bad_day_is_a_problem_naming_the_field(api, database, caseloads):
    mine, _ = caseloads
    before = written(database)
    for query, status in (("as_of=1-4-2025", 400), ("as_of=morgen", 400), ("as_of=1850-01-01", 422)):
        response = api.get(f"/v1/begeleider/households/{mine}/leefgeld?{query}", role=Role.BEGELEIDER)
        assert problem(response, status)["field"] == "as_of", query
    assert written(database) == before
