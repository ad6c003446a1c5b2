"""Payment runs over the API: S1's first run of 17 March 2025 (huur 356.45, zorg 82.26, leefgeld 120.00)
started by a budgetbeheerder or the nightly batch, approved with four eyes, and downloaded as a pain.001
file that validates against its XSD; dry runs, cancellation and rejection; who may do what; bad input."""

from __future__ import annotations

import pytest
from api import ACTORS, api_client
from registry import count_rows
from scenario_households import s3_couple
from test_payment_runs import CHECKER, RUN_DAY, add_s1

from budget_ledger.access import Role
from budget_ledger.adapters.bank.pain001 import validate_pain001
from budget_ledger.adapters.http.controllers import payments as payments_api
from budget_ledger.chart import IN_TRANSIT

TABLES = ("payment_runs", "payment_instructions", "journal_entries")
START = {"run_date": RUN_DAY.isoformat(), "gemeente": "roermond"}


@pytest.fixture
def api(database, services):
    with api_client(database, services) as client:
        client.tokens["checker"] = client.token(CHECKER, Role.BUDGETBEHEERDER)
        yield client


@pytest.fixture
def s1(services) -> int:
    return add_s1(services)


def as_checker(api) -> dict:
    """The second budgetbeheerder (beheerder.bram): four eyes."""
    return {"Authorization": f"Bearer {api.tokens['checker']}"}


def counts(database) -> dict[str, int]:
    return {table: count_rows(database, table) for table in TABLES}


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def started(api, role: Role = Role.BUDGETBEHEERDER, **body) -> int:
    response = api.post("/v1/payment-runs", role=role, json={**START, **body})
    assert response.status_code == 201, response.text
    return response.json()["report"]["run_id"]


def test_s1s_first_run_started_over_the_api_reports_and_lists_its_instructions(api, database, s1):
    response = api.post("/v1/payment-runs", json=START)
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert report["households_processed"] == [s1] and report["instructions_created"] == 3
    assert report["total"] == "558.71" and report["failed"] == [] and response.json()["payments"] == []
    assert report["per_category"] == {"huur": "356.45", "leefgeld": "120.00", "zorgverzekering": "82.26"}
    assert any("geen IBAN van de klant" in w["message"] for w in report["warnings"])
    run_id = report["run_id"]

    detail = api.get(f"/v1/payment-runs/{run_id}", role=Role.AUDITOR).json()
    assert detail["run"]["status"] == "planned" and detail["run"]["started_by"] == ACTORS[Role.BUDGETBEHEERDER]
    assert detail["run"]["kind"] == "alles" and detail["run"]["gemeente"] == "roermond"
    assert detail["report"] == report
    listed = api.get("/v1/payment-runs", role=Role.BATCH).json()
    assert [r["id"] for r in listed["items"]] == [run_id] and listed["total"] == 1

    page = api.get(f"/v1/payment-runs/{run_id}/instructions?limit=2", role=Role.AUDITOR).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    every = api.get(f"/v1/payment-runs/{run_id}/instructions").json()["items"]
    huur = next(i for i in every if i["category"] == "huur")
    assert (huur["amount"], huur["iban"], huur["payee_name"], huur["status"]) == (
        "356.45", "NL91ABNA0417164300", "Woonstichting Roermond", "planned")
    assert huur["entry_id"] and len(huur["end_to_end_id"]) <= 35
    assert problem_of(api.get("/v1/payment-runs/999/instructions"), 404)["field"] == "run_id"


def test_a_dry_run_answers_what_it_would_pay_and_writes_nothing(api, database, services, s1):
    before = counts(database)
    response = api.post("/v1/payment-runs", json={**START, "dry_run": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["report"]["run_id"] is None and body["report"]["dry_run"] is True
    assert sorted((p["category"], p["amount"]) for p in body["payments"]) == [
        ("huur", "356.45"), ("leefgeld", "120.00"), ("zorgverzekering", "82.26")]
    assert counts(database) == before and services.ledger.balance(IN_TRANSIT).cents == 0


def test_four_eyes_the_starter_cannot_approve_another_budgetbeheerder_can(api, services, s1):
    run_id = started(api)
    refused = problem_of(api.post(f"/v1/payment-runs/{run_id}/approve"), 409)
    assert refused["field"] == "actor" and "four eyes" in refused["detail"]
    assert services.payment_runs.get(run_id).status.value == "planned"
    assert {i.status.value for i in services.payment_runs.instructions(run_id)} == {"planned"}

    approved = api.post(f"/v1/payment-runs/{run_id}/approve", headers=as_checker(api))
    assert approved.status_code == 200, approved.text
    assert approved.json()["run"]["status"] == "approved" and approved.json()["run"]["approved_by"] == CHECKER
    assert {i.status.value for i in services.payment_runs.instructions(run_id)} == {"approved"}
    assert problem_of(api.post(f"/v1/payment-runs/{run_id}/approve", headers=as_checker(api)), 409)["field"] == "status"


def test_the_batch_starts_the_nightly_run_but_only_a_budgetbeheerder_approves_it(api, database, s1):
    run_id = started(api, Role.BATCH, kind="vaste-lasten")
    detail = api.get(f"/v1/payment-runs/{run_id}").json()
    assert detail["run"]["started_by"] == ACTORS[Role.BATCH] and detail["run"]["kind"] == "vaste-lasten"
    assert detail["report"]["per_category"] == {"huur": "356.45", "zorgverzekering": "82.26"}
    before = counts(database)
    for role in (Role.BATCH, Role.AUDITOR, Role.BEGELEIDER):
        problem_of(api.post(f"/v1/payment-runs/{run_id}/approve", role=role), 403)
        problem_of(api.post(f"/v1/payment-runs/{run_id}/cancel", role=role, json={"reason": "mag niet"}), 403)
    for role in (Role.AUDITOR, Role.BEGELEIDER):
        problem_of(api.post("/v1/payment-runs", role=role, json=START), 403)
    problem_of(api.get(f"/v1/payment-runs/{run_id}", role=Role.BEGELEIDER), 403)
    problem_of(api.get("/v1/payment-runs", role=Role.BEGELEIDER), 403)
    assert counts(database) == before
    assert api.post(f"/v1/payment-runs/{run_id}/approve").status_code == 200  # anna did not start this one


def test_the_pain001_download_validates_and_marks_the_payments_exported_once(api, services, s1):
    version = "pain.001.001.09"
    run_id = started(api)
    problem_of(api.post(f"/v1/payment-runs/{run_id}/pain001?version={version}", role=Role.BATCH), 409)
    api.post(f"/v1/payment-runs/{run_id}/approve", headers=as_checker(api))

    response = api.post(f"/v1/payment-runs/{run_id}/pain001?version={version}", role=Role.BATCH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    message_id = response.headers["x-message-id"]
    assert f'filename="{message_id}.xml"' in response.headers["content-disposition"]
    validate_pain001(response.content, version)
    assert b"NL91ABNA0417164300" in response.content and b"356.45" in response.content
    assert b"120.00" not in response.content  # the leefgeld has no IBAN yet: stays approved, out of the file

    run = services.payment_runs.get(run_id)
    assert (run.status.value, run.message_id, run.exported_by) == ("exported", message_id, ACTORS[Role.BATCH])
    statuses = {i.category: i.status.value for i in services.payment_runs.instructions(run_id)}
    assert statuses == {"huur": "exported", "zorgverzekering": "exported", "leefgeld": "approved"}
    again = problem_of(api.post(f"/v1/payment-runs/{run_id}/pain001?version={version}"), 409)
    assert again["field"] == "status" and services.payment_runs.get(run_id).message_id == message_id


def test_the_pain001_download_needs_a_known_version_and_the_right_role(api, services, s1):
    run_id = started(api)
    api.post(f"/v1/payment-runs/{run_id}/approve", headers=as_checker(api))
    assert problem_of(api.post(f"/v1/payment-runs/{run_id}/pain001?version=pain.001.001.02"), 400)["field"] == "version"
    for role in (Role.AUDITOR, Role.BEGELEIDER):
        problem_of(api.post(f"/v1/payment-runs/{run_id}/pain001", role=role), 403)
    assert services.payment_runs.get(run_id).status.value == "approved"
    older = api.post(f"/v1/payment-runs/{run_id}/pain001?version=pain.001.001.03")
    assert older.status_code == 200 and b"pain.001.001.03" in older.content
    validate_pain001(older.content, "pain.001.001.03")


def test_cancel_a_run_and_reject_one_instruction(api, database, services, s1):
    run_id = started(api)
    instructions = api.get(f"/v1/payment-runs/{run_id}/instructions").json()["items"]
    zorg = next(i for i in instructions if i["category"] == "zorgverzekering")
    other_run = started(api, run_date="2025-03-24")  # nothing new is due: a run without these instructions
    problem_of(api.post(f"/v1/payment-runs/{other_run}/instructions/{zorg['id']}/reject",
                        json={"reason": "Verkeerde polis"}), 404)
    problem_of(api.post(f"/v1/payment-runs/{run_id}/instructions/{zorg['id']}/reject", json={"reason": "x"}), 400)

    rejected = api.post(f"/v1/payment-runs/{run_id}/instructions/{zorg['id']}/reject",
                        json={"reason": "Verkeerde polis", "on": "2025-03-17"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and rejected.json()["reversal_entry_id"]
    assert rejected.json()["rejected_by"] == ACTORS[Role.BUDGETBEHEERDER]
    assert problem_of(api.post(f"/v1/payment-runs/{run_id}/instructions/{zorg['id']}/reject",
                               json={"reason": "Nog eens"}), 409)["field"] == "status"

    cancelled = api.post(f"/v1/payment-runs/{run_id}/cancel", json={"reason": "Huur klopt niet", "on": "2025-03-17"})
    assert cancelled.status_code == 200 and cancelled.json()["run"]["status"] == "cancelled"
    assert {i.status.value for i in services.payment_runs.instructions(run_id)} == {"rejected"}
    assert services.ledger.balance(IN_TRANSIT).cents == 0 and services.ledger.trial_balance().is_balanced
    assert problem_of(api.post(f"/v1/payment-runs/{run_id}/approve", headers=as_checker(api)), 409)["field"] == "status"


BAD_STARTS = [
    ({"run_date": 20250317}, "run_date"),
    ({"run_date": "17-03-2025"}, "run_date"),
    ({"run_date": "9999-12-31"}, "run_date"),
    ({**START, "dry_run": "ja"}, "dry_run"),
    ({**START, "kind": "wekelijks"}, "kind"),
    ({**START, "households": ["een"]}, "households.0"),
    ({**START, "households": []}, "households"),
    ({**START, "betaaldatum": "2025-03-17"}, "betaaldatum"),
    ({"gemeente": "roermond"}, "run_date"),
]


def test_bad_input_to_start_a_run_is_a_400_problem_naming_the_field_and_writes_nothing(api, database, s1):
    before = counts(database)
    for body, field in BAD_STARTS:
        problem = problem_of(api.post("/v1/payment-runs", json=body), 400)
        assert problem["field"] == field and problem["errors"], (body, problem)
    assert counts(database) == before


def test_an_unknown_gemeente_or_another_households_id_writes_no_instruction(api, database, s1):
    before = counts(database)
    assert problem_of(api.post("/v1/payment-runs", json={**START, "gemeente": "atlantis"}), 404)["field"] == "gemeente"
    assert counts(database) == before
    response = api.post("/v1/payment-runs", json={"run_date": RUN_DAY.isoformat(), "households": [s1 + 1000]})
    assert response.status_code == 201
    report = response.json()["report"]
    assert report["instructions_created"] == 0 and report["skipped"][0]["household_id"] == s1 + 1000
    assert count_rows(database, "payment_instructions") == before["payment_instructions"]
    problem_of(api.post(f"/v1/payment-runs/{report['run_id']}/cancel", json={"reden": "x"}), 400)


def test_a_big_reports_shortfalls_and_warnings_are_counted_and_paged_not_sent_whole(api, services, monkeypatch):
    """A region's run has hundreds of thousands of findings; the report shows the first ones of each with how
    many there are, and /notes pages through all of them. Here S3's couple in June, without any income yet:
    May's and June's huur and zorg cannot be paid (six shortfalls) nor the leefgeld (one), energie is theirs
    to pay and their leefgeld is under the floor (two warnings); the report shows three of each."""
    monkeypatch.setattr(payments_api, "NOTES_SHOWN", 3)
    h = s3_couple(services)
    response = api.post("/v1/payment-runs", json={"run_date": "2025-06-02", "gemeente": "hoorn"})
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    assert (len(report["shortfalls"]), report["shortfalls_total"]) == (3, 7)
    assert (len(report["warnings"]), report["warnings_total"]) == (2, 2)
    run_id = report["run_id"]
    assert api.get(f"/v1/payment-runs/{run_id}").json()["report"] == report

    first = api.get(f"/v1/payment-runs/{run_id}/notes?limit=4", role=Role.AUDITOR).json()
    assert (first["total"], len(first["items"]), first["offset"]) == (9, 4, 0)
    assert first["items"][:3] == report["shortfalls"]
    last = api.get(f"/v1/payment-runs/{run_id}/notes?limit=4&offset=8", role=Role.BATCH).json()
    assert [n["kind"] for n in last["items"]] == ["leefgeld-onder-minimum"]
    energie = api.get(f"/v1/payment-runs/{run_id}/notes?kind=crediteur-hoort-bij-klant&household_id={h}").json()
    assert energie["total"] == 1 and energie["items"][0]["message"].startswith("Energie juni 2025 (Energie Noord)")
    assert api.get(f"/v1/payment-runs/{run_id}/notes?household_id={h + 1}").json()["total"] == 0

    assert api.get(f"/v1/payment-runs/{run_id}/notes", role=Role.BEGELEIDER).status_code == 403
    assert problem_of(api.get(f"/v1/payment-runs/{run_id + 1}/notes"), 404)["field"] == "run_id"
    assert problem_of(api.get(f"/v1/payment-runs/{run_id}/notes?kind="), 400)["field"] == "kind"
    assert problem_of(api.get(f"/v1/payment-runs/{run_id}/notes?household_id=0"), 400)["field"] == "household_id"
