"""The warnings over the API (issue 7 item 5): the batch's daily scan, the list a budgetbeheerder works from
(`within=P6M`, by gemeente, begeleider, type, status, household), one warning with its events, and
acknowledging and resolving with a note. A begeleider sees the warnings of their own caseload only, and
acknowledges or resolves only those that are for the begeleider (the training, S10 outcome C). On SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from api import ApiClient
from litestar.testing import TestClient
from registry import count_rows
from test_warnings import ontzorgd_from

from budget_ledger.access import Role
from budget_ledger.adapters.db.bootstrap import services as build_services
from budget_ledger.adapters.db.bootstrap import transactions
from budget_ledger.adapters.http.app import create_app
from budget_ledger.warnings import SCAN_ACTOR, NewWarning, Severity, WarningRole, WarningType, raise_in

BO = "begeleider.bo"
START = date(2025, 3, 1)
"""Both households start on 1 March: the tussenevaluatie is due by 1 June, the eindevaluatie and the training
on 1 August, the last day is 31 August."""


def clock() -> datetime:
    return datetime(2025, 8, 4, 7, 0, tzinfo=UTC)  # Monday 4 August 2025, the day of the scan


@pytest.fixture
def services(database, profile_catalog):
    return build_services(database, clock=clock, catalog=profile_catalog)


@pytest.fixture
def api(database, services):
    with TestClient(create_app(database.settings, database=database, services=services, clock=clock)) as client:
        yield ApiClient(client, services)


@pytest.fixture
def households(services) -> tuple[int, int]:
    """(mine, other): a household in Roermond assigned to begeleider.bo, one in Hoorn that is not."""
    mine, _ = ontzorgd_from(services, START, begeleiders=(BO,))
    other, _ = ontzorgd_from(services, START, code="hoorn", begeleiders=("begeleider.cas",))
    return mine, other


@pytest.fixture
def scanned(api, households) -> tuple[int, int]:
    response = api.post("/v1/warnings/scan", role=Role.BATCH)
    assert response.status_code == 200, response.text
    return households


def written(database) -> tuple[int, int]:
    return count_rows(database, "warnings"), count_rows(database, "warning_events")


def items(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["items"]


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def one(api, household: int, type_: str) -> dict:
    """The household's first warning of the type, by due date."""
    return items(api.get(f"/v1/warnings?household_id={household}&type={type_}&limit=500"))[0]


def organisation_warning(database) -> int:
    """A warning about the organisation as a whole (a reconciliation difference), as the bank import raises it."""
    warning = NewWarning(WarningType.BANK_VERSCHIL, None, "rekening:NL91ABNA0417164300", date(2025, 8, 1),
                         Severity.CRITICAL, WarningRole.BUDGETBEHEERDER,
                         "Het saldo van het afschrift wijkt € 12,00 af van het grootboek.")
    [warning_id] = transactions(database).run(lambda uow: raise_in(uow, [warning], date(2025, 8, 1), clock(),
                                                                   "bank-import"))
    return warning_id


# -- the scan --------------------------------------------------------------------------------------------


def test_the_batch_scans_once_a_day_and_a_second_scan_stores_nothing_twice(api, database, households):
    first = api.post("/v1/warnings/scan", role=Role.BATCH)
    assert first.status_code == 200
    report = first.json()
    assert report["day"] == "2025-08-04" and report["households"] == 2 and report["raised"] > 0
    assert report["failures"] == []
    stored = written(database)
    assert stored[0] == report["raised"]
    again = api.post("/v1/warnings/scan", role=Role.BUDGETBEHEERDER, json={})
    assert again.status_code == 200 and (again.json()["raised"], again.json()["resolved"]) == (0, 0)
    assert written(database) == stored
    by_day = api.post("/v1/warnings/scan", role=Role.BATCH, json={"day": "2025-07-07", "gemeente": "hoorn"})
    assert by_day.status_code == 200 and (by_day.json()["day"], by_day.json()["households"]) == ("2025-07-07", 1)
    trail = api.get("/v1/audit?kind=write", role=Role.AUDITOR).json()["items"]
    assert {(e["action"], e["entity"], e["actor"]) for e in trail} >= {
        ("POST /v1/warnings/scan", "warning-scan", "batch.nacht")}


BAD_SCANS = [
    ({"day": "gisteren"}, "day", 400),
    ({"day": "1999-12-31"}, "day", 400),
    ({"household_ids": [0]}, "household_ids.0", 400),
    ({"wanneer": "vandaag"}, "wanneer", 400),
    ({"gemeente": "atlantis"}, "gemeente", 404),
    ({"gemeente": "hoorn\x00"}, "gemeente", 400),
]


def test_only_the_batch_and_a_budgetbeheerder_scan_and_a_bad_request_scans_nothing(api, database, households):
    for role in (Role.BEGELEIDER, Role.AUDITOR):
        problem(api.post("/v1/warnings/scan", role=role), 403)
    for body, field, status in BAD_SCANS:
        assert problem(api.post("/v1/warnings/scan", role=Role.BATCH, json=body), status)["field"] == field, body
    assert written(database) == (0, 0)


# -- the list ----------------------------------------------------------------------------------------------


def test_within_p6m_lists_what_falls_due_in_the_next_six_months_by_due_date(api, scanned):
    mine, other = scanned

    def listed(query: str) -> list[tuple[int, str, str]]:
        return [(w["household_id"], w["type"], w["due_on"])
                for w in items(api.get(f"/v1/warnings?type=evaluatie&type=ontzorging-einde&limit=500&{query}"))]

    everything = listed("within=P6M")
    # The end on 31 August is announced 8 and 4 weeks ahead: two warnings per household by 4 August.
    assert set(everything) == {(h, t, d) for h in (mine, other) for t, d in (
        ("evaluatie", "2025-06-01"), ("evaluatie", "2025-08-01"), ("ontzorging-einde", "2025-08-31"))}
    assert len(everything) == 8
    assert [d for _, _, d in everything] == sorted(d for _, _, d in everything)
    assert listed("within=P6M") == listed("") == listed("within=p26w")
    # Two weeks from 4 August: the overdue evaluations stay in view, the end on 31 August is not due yet.
    assert {d for _, _, d in listed("within=P2W")} == {"2025-06-01", "2025-08-01"}
    # Six months from 1 January reach to 1 July: only the tussenevaluatie falls due in them.
    assert {d for _, _, d in listed("within=P6M&as_of=2025-01-01")} == {"2025-06-01"}
    assert {h for h, _, _ in listed("within=P6M&gemeente=hoorn")} == {other}
    assert {h for h, _, _ in listed(f"within=P6M&begeleider={BO}")} == {mine}
    assert {h for h, _, _ in listed(f"household_id={other}")} == {other}
    page = api.get("/v1/warnings?type=evaluatie&limit=1&offset=1").json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (4, 1, 1, 1)
    training = items(api.get("/v1/warnings?type=training-omgaan-met-geld"))
    assert {w["role"] for w in training} == {"begeleider"} and {w["due_on"] for w in training} == {"2025-08-01"}


BAD_FILTERS = [
    ("within=6M", "within", 422),
    ("within=PT12H", "within", 422),
    ("within=P99999Y", "within", 422),
    ("type=onbekend", "type", 400),
    ("status=weg", "status", 400),
    ("household_id=0", "household_id", 400),
    ("as_of=1-8-2025", "as_of", 400),
    ("as_of=1850-01-01", "as_of", 422),
    ("limit=0", "limit", 400),
    ("gemeente=atlantis", "gemeente", 404),
    ("gemeente=hoorn%00", "gemeente", 422),
    ("begeleider=bo%00", "begeleider", 422),
]


def test_a_bad_filter_is_a_problem_naming_the_field(api, database, scanned):
    before = written(database)
    for query, field, status in BAD_FILTERS:
        assert problem(api.get(f"/v1/warnings?{query}"), status)["field"] == field, query
    assert written(database) == before


def test_a_begeleider_sees_the_warnings_of_their_own_households_and_no_other(api, database, scanned):
    mine, other = scanned
    organisation = organisation_warning(database)
    seen = items(api.get("/v1/warnings?limit=500", role=Role.BEGELEIDER))
    assert seen and {w["household_id"] for w in seen} == {mine}
    assert {w["role"] for w in seen} == {"budgetbeheerder", "begeleider"}  # whatever role they are for
    assert items(api.get(f"/v1/warnings?household_id={other}", role=Role.BEGELEIDER)) == []
    problem(api.get("/v1/warnings?begeleider=begeleider.cas", role=Role.BEGELEIDER), 403)
    assert items(api.get(f"/v1/warnings?begeleider={BO}", role=Role.BEGELEIDER)) == seen
    # The organisation's warnings and the other household's are not there for the begeleider: 404, as an id
    # that exists nowhere.
    not_mine = items(api.get(f"/v1/warnings?household_id={other}"))[0]["id"]
    for warning_id in (not_mine, organisation, 99_999):
        assert problem(api.get(f"/v1/warnings/{warning_id}", role=Role.BEGELEIDER), 404)["field"] == "warning_id"
    everything = items(api.get("/v1/warnings?limit=500", role=Role.AUDITOR))
    assert {w["household_id"] for w in everything} == {mine, other, None}
    assert api.get(f"/v1/warnings/{organisation}", role=Role.BATCH).json()["warning"]["household_id"] is None


# -- one warning, acknowledging and resolving ----------------------------------------------------------------


def test_a_warning_is_read_with_its_events_and_the_read_is_audited(api, scanned):
    mine, _ = scanned
    end = one(api, mine, "ontzorging-einde")
    response = api.get(f"/v1/warnings/{end['id']}", role=Role.BEGELEIDER)
    assert response.status_code == 200
    body = response.json()
    assert body["warning"]["message"].startswith("De ontzorging eindigt over 8 weken: 31-08-2025 is de laatste dag")
    assert [(e["action"], e["actor"]) for e in body["events"]] == [("raised", SCAN_ACTOR)]
    trail = api.get(f"/v1/audit?household_id={mine}&kind=read", role=Role.AUDITOR).json()["items"]
    assert (trail[0]["entity"], trail[0]["entity_id"], trail[0]["actor"]) == ("warning", str(end["id"]), BO)


def test_a_budgetbeheerder_acknowledges_then_resolves_with_a_note(api, database, scanned):
    mine, _ = scanned
    end = one(api, mine, "ontzorging-einde")
    seen = api.post(f"/v1/warnings/{end['id']}/acknowledge", json={"note": "Uitstroomgesprek op 20 augustus"})
    assert seen.status_code == 200
    assert (seen.json()["status"], seen.json()["acknowledged_by"], seen.json()["acknowledged_note"]) == (
        "acknowledged", "beheerder.anna", "Uitstroomgesprek op 20 augustus")
    problem(api.post(f"/v1/warnings/{end['id']}/acknowledge"), 409)

    before = written(database)
    for body, field in (({}, "note"), ({"note": ""}, "note"), ({"note": "ok", "door": "x"}, "door")):
        assert problem(api.post(f"/v1/warnings/{end['id']}/resolve", json=body), 400)["field"] == field
    assert written(database) == before
    done = api.post(f"/v1/warnings/{end['id']}/resolve", json={"note": "Verlengd met drie maanden"})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["resolved_by"], done.json()["resolved_note"]) == (
        "resolved", "beheerder.anna", "Verlengd met drie maanden")
    assert end["id"] not in {w["id"] for w in items(api.get("/v1/warnings?limit=500"))}
    assert end["id"] in {w["id"] for w in items(api.get("/v1/warnings?status=resolved&limit=500"))}
    events = api.get(f"/v1/warnings/{end['id']}").json()["events"]
    assert [(e["action"], e["actor"], e["note"]) for e in events] == [
        ("raised", SCAN_ACTOR, None), ("acknowledged", "beheerder.anna", "Uitstroomgesprek op 20 augustus"),
        ("resolved", "beheerder.anna", "Verlengd met drie maanden")]
    # Every write is audited, a refused one too; one the handler reached names the warning's household.
    trail = api.get("/v1/audit?kind=write&actor=beheerder.anna", role=Role.AUDITOR).json()["items"]
    resolves = [(e["entity"], e["entity_id"], e["household_id"], e["status_code"]) for e in trail
                if e["action"] == f"POST /v1/warnings/{end['id']}/resolve"]
    assert resolves == [("warning", str(end["id"]), mine, 200)] + [("warnings", str(end["id"]), None, 400)] * 3
    problem(api.post("/v1/warnings/99999/resolve", json={"note": "weg"}), 404)


def test_a_begeleider_acknowledges_and_resolves_only_the_begeleider_warnings_of_their_own_households(
        api, database, scanned):
    mine, other = scanned
    training = one(api, mine, "training-omgaan-met-geld")
    evaluation = one(api, mine, "evaluatie")
    theirs = one(api, other, "training-omgaan-met-geld")
    before = written(database)

    refused = problem(api.post(f"/v1/warnings/{evaluation['id']}/acknowledge", role=Role.BEGELEIDER), 403)
    assert "budgetbeheerder" in refused["detail"]
    problem(api.post(f"/v1/warnings/{evaluation['id']}/resolve", role=Role.BEGELEIDER, json={"note": "gedaan"}), 403)
    problem(api.post(f"/v1/warnings/{theirs['id']}/acknowledge", role=Role.BEGELEIDER), 404)
    for role in (Role.AUDITOR, Role.BATCH):
        problem(api.post(f"/v1/warnings/{training['id']}/acknowledge", role=role), 403)
    assert written(database) == before
    assert api.get(f"/v1/warnings/{evaluation['id']}").json()["warning"]["status"] == "open"

    seen = api.post(f"/v1/warnings/{training['id']}/acknowledge", role=Role.BEGELEIDER)
    assert seen.status_code == 200 and (seen.json()["status"], seen.json()["acknowledged_by"]) == ("acknowledged", BO)
    done = api.post(f"/v1/warnings/{training['id']}/resolve", role=Role.BEGELEIDER,
                    json={"note": "Training gevolgd bij het Informatiepunt Geldzaken op 5 augustus"})
    assert done.status_code == 200 and (done.json()["status"], done.json()["resolved_by"]) == ("resolved", BO)
