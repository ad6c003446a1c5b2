"""A household's plans over the API: S1's budgetplan for April 2025 (bijstand 1,281.38; huur, zorg and
energie withheld; leefgeld 250.00), recorded as versions by a budgetbeheerder; the forecast from the day he
was housed; the what-if under the law's standard profile, which fails on the first rent of 17 March; and
what the rules would book in March. A begeleider reads the plans of their own caseload only."""

from __future__ import annotations

from datetime import date

import pytest
from api import ACTORS, api_client
from registry import BEHEERDER, count_rows
from test_payment_runs import add_s1

from budget_ledger.access import Role

BEGELEIDER = ACTORS[Role.BEGELEIDER]
HOUSED = "2025-03-15"


@pytest.fixture
def api(database, services):
    with api_client(database, services) as client:
        yield client


@pytest.fixture
def households(services):
    """S1, in begeleider.bo's caseload, and a second household that is not."""
    mine, other = add_s1(services), add_s1(services, name="Selam Haile")
    services.households.assign_begeleider(mine, BEGELEIDER, BEHEERDER)
    return mine, other


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def test_the_budgetplan_for_april_as_the_rules_make_it_now(api, services, households):
    h, _ = households
    response = api.get(f"/v1/households/{h}/budgetplans/2025-04", role=Role.BEGELEIDER)
    assert response.status_code == 200, response.text
    plan = response.json()
    expected = services.budgetplans.current(h, "2025-04")
    assert plan["month"] == "2025-04-01" and plan["profile"] == expected.profile == "roermond"
    assert {line["category"]: line["amount"] for line in plan["withheld"]} == {
        "huur": "650.00", "zorgverzekering": "150.00", "energie": "180.00"}
    assert plan["income"] == [{"source": i.source, "amount": str(i.amount)} for i in expected.income]
    assert plan["leefgeld"]["monthly_equivalent"] == "250.00" and plan["leefgeld"]["mode"] == "fixed"
    assert plan["totals"]["buffer"] == str(expected.buffer) and plan["fingerprint"] == expected.fingerprint()
    assert problem_of(api.get(f"/v1/households/{h}/budgetplans/2025-13"), 422)["field"] == "month"
    assert problem_of(api.get(f"/v1/households/{h}/budgetplans/2024-01"), 422)["field"] == "month"


def test_a_budgetbeheerder_records_versions_and_the_client_signs_the_document(api, database, households):
    h, _ = households
    assert problem_of(api.get(f"/v1/households/{h}/budgetplans/2025-04/document"), 404)["field"] == "month"
    first = api.post(f"/v1/households/{h}/budgetplans/2025-04")
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1 and first.json()["recorded_by"] == ACTORS[Role.BUDGETBEHEERDER]
    unchanged = api.post(f"/v1/households/{h}/budgetplans/2025-04")
    assert unchanged.status_code == 200 and unchanged.json()["id"] == first.json()["id"]
    versions = api.get(f"/v1/households/{h}/budgetplans/2025-04/versions", role=Role.AUDITOR).json()
    assert versions["total"] == 1 and versions["items"][0]["plan"] == first.json()["plan"]
    document = api.get(f"/v1/households/{h}/budgetplans/2025-04/document?version=1", role=Role.BEGELEIDER)
    assert document.status_code == 200 and document.headers["content-type"].startswith("text/plain")
    assert "Yonas Tesfay" in document.text and "versie 1" in document.text
    assert problem_of(api.get(f"/v1/households/{h}/budgetplans/2025-04/document?version=2"), 404)["field"] == "version"

    rows = count_rows(database, "budgetplans")
    for role in (Role.BEGELEIDER, Role.BATCH, Role.AUDITOR):
        problem_of(api.post(f"/v1/households/{h}/budgetplans/2025-05", role=role), 403)
    assert count_rows(database, "budgetplans") == rows


def test_the_forecast_from_the_day_s1_was_housed(api, services, households):
    h, _ = households
    response = api.get(f"/v1/households/{h}/forecast?months=3&as_of={HOUSED}", role=Role.BEGELEIDER)
    assert response.status_code == 200, response.text
    forecast = response.json()
    expected = services.forecasts.forecast(h, months=3, as_of=date(2025, 3, 15))
    assert [m["month"] for m in forecast["months"]] == ["2025-03-01", "2025-04-01", "2025-05-01"]
    assert [m["closing"] for m in forecast["months"]] == [str(m.closing) for m in expected.months]
    assert forecast["first_failure"] is None and forecast["profile"] == "roermond"
    assert forecast["months"][1]["money_out"] == {k: str(v) for k, v in sorted(expected.months[1].money_out.items())}
    assert problem_of(api.get(f"/v1/households/{h}/forecast?months=25"), 400)["field"] == "months"
    assert problem_of(api.get(f"/v1/households/{h}/forecast?as_of=morgen"), 400)["field"] == "as_of"
    assert problem_of(api.get(f"/v1/households/{h}/forecast?as_of=9999-12-01"), 422)["field"] == "as_of"


def test_the_what_if_under_the_law_standard_fails_on_the_first_rent(api, households):
    h, _ = households
    response = api.get(f"/v1/households/{h}/what-if?profile=wet-standaard&months=6&as_of={HOUSED}",
                       role=Role.BEGELEIDER)
    assert response.status_code == 200, response.text
    what_if = response.json()
    assert (what_if["current"]["profile"], what_if["other"]["profile"]) == ("roermond", "wet-standaard")
    assert what_if["current"]["first_failure"] is None
    failure = what_if["other"]["first_failure"]
    assert (failure["on"], failure["category"], failure["amount"]) == ("2025-03-17", "huur", "356.45")
    march = what_if["months"][0]
    assert (march["leefgeld_current"], march["leefgeld_other"]) == ("120.00", "0.00")
    regime = api.get(f"/v1/households/{h}/what-if?regime=huur_zorg&months=2&as_of={HOUSED}")
    assert regime.status_code == 200 and len(regime.json()["months"]) == 2
    assert problem_of(api.get(f"/v1/households/{h}/what-if?regime=koning"), 400)["field"] == "regime"
    assert problem_of(api.get(f"/v1/households/{h}/what-if?as_of={HOUSED}"), 422)["field"] == "profile"
    assert problem_of(api.get(f"/v1/households/{h}/what-if?profile=atlantis&as_of={HOUSED}"), 404)["field"] == \
        "profile"


def test_the_plan_for_march_shows_what_the_rules_would_book_and_writes_nothing(api, database, households):
    h, _ = households
    before = count_rows(database, "journal_entries")
    response = api.get(f"/v1/households/{h}/plan?from={HOUSED}&to=2025-03-31", role=Role.BEGELEIDER)
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["household_id"] == h and (plan["start"], plan["end"]) == (HOUSED, "2025-03-31")
    paid = {(m["category"] or m["rule"], m["amount"]) for m in plan["movements"] if m["flow"] == "out"}
    assert {("huur", "356.45"), ("zorgverzekering", "82.26"), ("leefgeld", "120.00")} <= paid
    huur = next(m for m in plan["movements"] if m["category"] == "huur")
    assert huur["due_on"] == "2025-03-17" and sum(float(p["amount"]) for p in huur["postings"]) == 0
    assert count_rows(database, "journal_entries") == before
    assert problem_of(api.get(f"/v1/households/{h}/plan?from=2025-04-01&to=2025-03-01"), 422)["field"] == "to"
    assert problem_of(api.get(f"/v1/households/{h}/plan?from=2025-01-01&to=2026-12-31"), 422)["field"] == "to"
    missing = problem_of(api.get(f"/v1/households/{h}/plan?to=2025-03-31"), 400)
    assert missing["field"] == "from" and missing["detail"] == "from: is required"


def test_a_begeleider_reads_the_plans_of_their_caseload_only_and_every_read_is_audited(api, households):
    mine, other = households
    for path in ("/budgetplans/2025-04", "/budgetplans/2025-04/versions", f"/forecast?as_of={HOUSED}",
                 f"/what-if?regime=geen&as_of={HOUSED}", f"/plan?from={HOUSED}&to=2025-03-31"):
        assert api.get(f"/v1/households/{mine}{path}", role=Role.BEGELEIDER).status_code == 200, path
        refused = problem_of(api.get(f"/v1/households/{other}{path}", role=Role.BEGELEIDER), 404)
        assert refused["field"] == "household_id"
        assert refused["detail"] == f"there is no household {other}"
        assert api.get(f"/v1/households/{other}{path}").status_code == 200, path
    assert problem_of(api.get("/v1/households/999999/forecast"), 404)["detail"] == "there is no household 999999"
    trail = api.get(f"/v1/audit?household_id={mine}&kind=read&actor={BEGELEIDER}", role=Role.AUDITOR).json()
    assert {r["entity"] for r in trail["items"]} == {"budgetplan", "forecast", "plan"}
