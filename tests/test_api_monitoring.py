"""GET /v1/monitoring: the S19 report over the API, as JSON and CSV, for the roles that see every household."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from api import api_client
from registry import BEHEERDER, gemeente, single

from budget_ledger.access import Role


@pytest.fixture
def api(database, services):
    gemeente(services, "hoorn", name="Hoorn")
    for housed in (date(2022, 9, 1), date(2023, 3, 1)):
        h = single(services, gemeente_code="hoorn", bijstand_start=housed, housing_date=housed).household.id
        trajectory = services.trajectories.start(h, {}, BEHEERDER)
        services.trajectories.activate(trajectory.id, BEHEERDER)
    with api_client(database, services) as client:
        yield client


def test_the_report_as_json_and_csv_for_budgetbeheerder_auditor_and_batch(api):
    query = "/v1/monitoring?from=2022-07-01&to=2023-06-30"
    for role in (Role.BUDGETBEHEERDER, Role.AUDITOR, Role.BATCH):
        response = api.get(query, role=role)
        assert response.status_code == 200, response.text
        data = response.json()
        assert [g["gemeente"] for g in data["gemeenten"]] == ["hoorn"] and data["target_percent"] == 75
    rows = list(csv.reader(io.StringIO(api.get(query + "&format=csv&target=60").text)))
    assert rows[0][:3] == ["gemeente", "naam", "gestart"] and rows[1][:3] == ["hoorn", "Hoorn", "2"]
    assert rows[-1][0] == "totaal" and rows[-1][-2] == "60"


def test_a_begeleider_may_not_see_the_whole_organisations_figures(api):
    assert api.get("/v1/monitoring?from=2022-07-01&to=2023-06-30", role=Role.BEGELEIDER).status_code == 403


@pytest.mark.parametrize("query, field", [("from=2023-07-01&to=2022-07-01", "to"), ("from=2022-13-01&to=2023-01-01", "from"),
                                          ("to=2023-01-01", "from"), ("from=2022-07-01&to=2023-06-30&target=101", "target")])
def test_a_wrong_period_or_target_is_a_problem_naming_the_field(api, query, field):
    response = api.get(f"/v1/monitoring?{query}")
    assert 400 <= response.status_code < 500 and response.headers["content-type"].startswith("application/problem+json")
    assert field in response.json()["detail"]
