"""The registry API for households: a budgetbeheerder registers S1 and S20, decides and overrides
eligibility, assigns begeleiders, records the client's leefgeld account and the rule profile; a begeleider
sees only their caseload, with the BSN masked; every other role may only read; bad input is a problem
naming its field, and nothing is written."""

from __future__ import annotations

import pytest
from api import ACTORS, api_client
from registry import count_rows

from budget_ledger.access import Role

BSN = "111222333"
S1_OVERRIDES = {
    "leefgeld": {"mode": "fixed", "amount": "250.00", "first_month_amount": "120.00"},
    "inrichtingskrediet_overbrugging": {"leefgeld_allowed": True},
    "krediet_aflossing": {"enabled": False},
}
BO = ACTORS[Role.BEGELEIDER]
WRITE_TABLES = ("gemeenten", "households", "household_members", "household_begeleiders", "eligibility_decisions",
                "household_profile_assignments", "household_leefgeld_accounts", "accounts")


@pytest.fixture
def api(database, services):
    with api_client(database, services) as client:
        yield client


def s1_body(**extra) -> dict:
    """S1: a single statushouder, housed and on bijstand from Saturday 15 March 2025 in Roermond."""
    return {"gemeente": "roermond", "permit_type": "asiel", "has_bijstand": True, "bijstand_start": "2025-03-15",
            "housing_date": "2025-03-15", "preferred_language": "ti", "bsn": BSN,
            "members": [{"name": "Yonas Tesfay", "date_of_birth": "1998-06-01", "role": "aanvrager"}], **extra}


def family_body(**extra) -> dict:
    """A couple with a child, housed in Roermond on 1 April 2025."""
    return {"gemeente": "roermond", "permit_type": "asiel", "has_bijstand": True, "bijstand_start": "2025-04-01",
            "housing_date": "2025-04-01", "bsn": "123456782",
            "members": [{"name": "Amal Haddad", "date_of_birth": "1990-02-11", "role": "aanvrager"},
                        {"name": "Omar Haddad", "date_of_birth": "1988-09-30", "role": "partner"},
                        {"name": "Lina Haddad", "date_of_birth": "2019-05-05", "role": "kind"}], **extra}


def register(api, body: dict) -> int:
    response = api.post("/v1/households", json=body)
    assert response.status_code == 201, response.text
    return response.json()["household"]["id"]


@pytest.fixture
def roermond(api):
    response = api.post("/v1/gemeenten", json={"code": "roermond", "name": "Roermond",
                                                "settings": {"rule_profile": "roermond"}})
    assert response.status_code == 201, response.text
    return "roermond"


@pytest.fixture
def two(api, roermond) -> tuple[int, int]:
    """S1 in begeleider.bo's caseload, and a family that is not."""
    return register(api, s1_body(begeleiders=[BO])), register(api, family_body(begeleiders=["begeleider.cas"]))


def counts(database) -> dict[str, int]:
    return {table: count_rows(database, table) for table in WRITE_TABLES}


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    if field is not None:
        assert problem["field"] == field, problem
    return problem


def assert_same_as_missing(response, missing, entity_id: int, missing_id: int) -> None:
    """Not visible answers exactly as does not exist: only the id in the sentence differs."""
    a, b = assert_problem(response, 404), assert_problem(missing, 404)
    assert a["detail"].replace(str(entity_id), "#") == b["detail"].replace(str(missing_id), "#")
    assert {k: v for k, v in a.items() if k != "detail"} == {k: v for k, v in b.items() if k != "detail"}


def reads_of(services, actor: str) -> list:
    return services.access.audit(actor=actor, kind="read", limit=1000)


# -- registering and reading ------------------------------------------------------------------------------


def test_s1_registered_through_the_api_is_eligible_gets_its_accounts_and_reads_back_whole(api, services, roermond):
    created = api.post("/v1/households", json=s1_body(begeleiders=[BO]))
    assert created.status_code == 201
    body = created.json()
    assert body["assessment"] == {"eligible": True, "reason_code": "ELIGIBLE_ASIEL", "form": "standaard",
                                  "explanation": body["assessment"]["explanation"]}
    assert body["accounts_opened"] > 0
    h = body["household"]["id"]
    assert body["household"]["bsn"] == BSN and body["household"]["created_by"] == ACTORS[Role.BUDGETBEHEERDER]

    household = api.get(f"/v1/households/{h}").json()
    assert household["gemeente"] == "roermond" and household["permit_type"] == "asiel"
    assert household["bijstand_start"] == household["housing_date"] == "2025-03-15"
    assert household["bsn"] == BSN and household["begeleiders"] == [BO] and household["leefgeld_account"] is None
    assert household["eligibility"]["register_status"] == "ontzorgd"

    members = api.get(f"/v1/households/{h}/members").json()
    assert members["total"] == 1 and members["items"][0]["name"] == "Yonas Tesfay"
    assert members["items"][0] == {"id": members["items"][0]["id"], "name": "Yonas Tesfay",
                                   "date_of_birth": "1998-06-01", "role": "aanvrager", "joined_on": None}
    decisions = api.get(f"/v1/households/{h}/eligibility").json()
    assert [d["reason_code"] for d in decisions["items"]] == ["ELIGIBLE_ASIEL"]

    family = register(api, family_body())
    listed = api.get("/v1/households?gemeente=roermond").json()
    assert [x["id"] for x in listed["items"]] == [h, family] and listed["total"] == 2
    assert api.get(f"/v1/households/{family}/members").json()["total"] == 3
    first_page = api.get("/v1/households?limit=1").json()
    assert [x["id"] for x in first_page["items"]] == [h] and first_page["total"] == 2  # there is more
    assert [x["id"] for x in api.get("/v1/households?limit=1&offset=1").json()["items"]] == [family]
    assert api.get(f"/v1/households?begeleider={BO}").json()["items"][0]["id"] == h
    assert_problem(api.get("/v1/households?gemeente=venlo"), 404, "gemeente")

    # every read of a household or its parts is in the audit trail, with the household it was about
    trail = reads_of(services, ACTORS[Role.BUDGETBEHEERDER])
    assert {(r.entity, r.household_id) for r in trail} >= {("household", h), ("member", h), ("eligibility", h),
                                                            ("household", family)}
    writes = services.access.audit(kind="write", limit=100)
    assert ("household", str(h), h) in {(r.entity, r.entity_id, r.household_id) for r in writes}


def test_s20_an_opt_out_is_recorded_as_an_override_and_a_gezinsmigrant_may_be_included_by_maatwerk(api, roermond):
    s20 = register(api, s1_body())
    override = {"eligible": True, "form": "geen", "reason": "Cliënt regelt zijn betalingen zelf, incasso-begeleiding",
                "policy_reference": "Kamerbrief 6-4-2023 (maatwerk)"}
    decided = api.post(f"/v1/households/{s20}/eligibility/overrides", json=override)
    assert decided.status_code == 201
    assert decided.json()["reason_code"] == "OVERRIDE_OPT_OUT" and decided.json()["override"] is True
    assert decided.json()["register_status"] == "ontzorgd_afwijkende_vorm"
    history = api.get(f"/v1/households/{s20}/eligibility").json()["items"]
    assert [d["reason_code"] for d in history] == ["ELIGIBLE_ASIEL", "OVERRIDE_OPT_OUT"]
    assert api.get(f"/v1/households/{s20}").json()["eligibility"]["id"] == decided.json()["id"]

    migrant = api.post("/v1/households", json=family_body(permit_type="gezinsmigrant")).json()
    assert migrant["assessment"]["reason_code"] == "E1_GEZINSMIGRANT" and migrant["accounts_opened"] == 0
    included = api.post(f"/v1/households/{migrant['household']['id']}/eligibility/overrides", json={
        "eligible": True, "form": "afwijkend", "reason": "Utrecht-praktijk: gezinsmigrant met uitkering, huur en zorg",
        "policy_reference": "Kamerbrief 6-4-2023 (maatwerk)"})
    assert included.json()["reason_code"] == "OVERRIDE_MAATWERK" and included.json()["eligible"] is True
    # inconsistent: not eligible but with a form of ontzorging
    refused = api.post(f"/v1/households/{s20}/eligibility/overrides", json={**override, "eligible": False, "form": "standaard"})
    assert_problem(refused, 400)
    assert_problem(api.post("/v1/households/999/eligibility/overrides", json=override), 404, "household_id")


def test_begeleiders_are_assigned_and_taken_off_and_their_caseload_follows(api, services, roermond):
    h = register(api, s1_body())
    assert api.get(f"/v1/households/{h}", role=Role.BEGELEIDER).status_code == 404
    assigned = api.request("PUT", f"/v1/households/{h}/begeleiders/{BO}")
    assert assigned.status_code == 200 and assigned.json()["begeleiders"] == [BO]
    assert assigned.json()["bsn"] == BSN
    assert api.request("PUT", f"/v1/households/{h}/begeleiders/{BO}").json()["begeleiders"] == [BO]  # idempotent
    api.request("PUT", f"/v1/households/{h}/begeleiders/begeleider.cas")
    assert api.get(f"/v1/households/{h}", role=Role.BEGELEIDER).status_code == 200
    assert services.access.caseload(BO) == {h}

    removed = api.request("DELETE", f"/v1/households/{h}/begeleiders/{BO}")
    assert removed.status_code == 200 and removed.json()["begeleiders"] == ["begeleider.cas"]
    assert api.get(f"/v1/households/{h}", role=Role.BEGELEIDER).status_code == 404
    assert_problem(api.request("DELETE", f"/v1/households/{h}/begeleiders/{BO}"), 404, "begeleider")
    assert_problem(api.request("PUT", f"/v1/households/{h}/begeleiders/{'x' * 201}"), 400)
    assert_problem(api.request("PUT", f"/v1/households/999/begeleiders/{BO}"), 404, "household_id")


def test_the_clients_leefgeld_account_is_recorded_and_a_change_is_appended(api, database, roermond):
    h = register(api, s1_body(begeleiders=[BO]))
    first = api.post(f"/v1/households/{h}/leefgeld-accounts",
                     json={"iban": "nl20 ingb 0001 2345 67", "account_holder_name": "Y. Tesfay"})
    assert first.status_code == 201
    assert first.json()["iban"] == "NL20INGB0001234567" and first.json()["bic"] == "INGBNL2A"
    assert first.json()["recorded_by"] == ACTORS[Role.BUDGETBEHEERDER]
    second = api.post(f"/v1/households/{h}/leefgeld-accounts",
                      json={"iban": "NL91ABNA0417164300", "account_holder_name": "Yonas Tesfay"})
    history = api.get(f"/v1/households/{h}/leefgeld-accounts", role=Role.BEGELEIDER).json()
    assert [a["iban"] for a in history["items"]] == ["NL20INGB0001234567", "NL91ABNA0417164300"]
    assert api.get(f"/v1/households/{h}").json()["leefgeld_account"]["id"] == second.json()["id"]

    before = counts(database)
    assert_problem(api.post(f"/v1/households/{h}/leefgeld-accounts",
                            json={"iban": "NL91ABNA0417164301", "account_holder_name": "Y"}), 400, "iban")
    assert_problem(api.post(f"/v1/households/{h}/leefgeld-accounts", json={"iban": "NL91ABNA0417164300"}),
                   400, "account_holder_name")
    assert counts(database) == before


def test_s1_follows_its_gemeentes_profile_with_overrides_from_15_march(api, database, roermond):
    h = register(api, s1_body(begeleiders=[BO]))
    before = api.get(f"/v1/households/{h}/profile?on=2025-03-20").json()
    assert before["profile"] == "roermond" and before["assignment_id"] is None and before["overridden_keys"] == []

    assigned = api.post(f"/v1/households/{h}/profile-assignments", json={
        "valid_from": "2025-03-15", "profile": None, "overrides": S1_OVERRIDES,
        "reason": "S1: vast leefgeld, maart naar rato €120"})
    assert assigned.status_code == 201
    assert assigned.json()["overrides"] == S1_OVERRIDES and assigned.json()["profile"] is None
    effective = api.get(f"/v1/households/{h}/profile?on=2025-03-20", role=Role.BEGELEIDER).json()
    assert effective["assignment_id"] == assigned.json()["id"] and "leefgeld.amount" in effective["overridden_keys"]
    assert effective["version"]["leefgeld"]["amount"] == "250.00" and effective["on"] == "2025-03-20"
    assert api.get(f"/v1/households/{h}/profile?on=2025-03-01").json()["assignment_id"] is None
    assert api.get(f"/v1/households/{h}/profile").status_code == 200  # today
    history = api.get(f"/v1/households/{h}/profile-assignments", role=Role.AUDITOR).json()
    assert [a["id"] for a in history["items"]] == [assigned.json()["id"]]

    before_counts = counts(database)
    wrong = api.post(f"/v1/households/{h}/profile-assignments", json={
        "valid_from": "2025-04-01", "profile": None, "overrides": {"leefgeld": {"mode": "royaal"}},
        "reason": "een onbekende leefgeldwijze"})
    assert_problem(wrong, 422, "overrides.leefgeld.mode")
    unknown = api.post(f"/v1/households/{h}/profile-assignments", json={
        "valid_from": "2025-04-01", "profile": "atlantis", "reason": "een profiel dat niet bestaat"})
    assert_problem(unknown, 422, "profile")
    assert counts(database) == before_counts


# -- who sees what ----------------------------------------------------------------------------------------


def test_a_begeleider_sees_only_their_caseload_with_the_bsn_masked(api, services, two):
    mine, other = two
    listed = api.get("/v1/households", role=Role.BEGELEIDER).json()
    assert [h["id"] for h in listed["items"]] == [mine] and listed["total"] == 1
    assert listed["items"][0]["bsn"] == "******333"
    assert api.get("/v1/households?begeleider=begeleider.cas", role=Role.BEGELEIDER).json()["items"] == []
    assert api.get(f"/v1/households?begeleider={BO}", role=Role.BEGELEIDER).json()["total"] == 1
    own = api.get(f"/v1/households/{mine}", role=Role.BEGELEIDER)
    assert own.status_code == 200 and own.json()["bsn"] == "******333"
    for part in ("members", "eligibility", "leefgeld-accounts", "profile-assignments", "profile"):
        assert api.get(f"/v1/households/{mine}/{part}", role=Role.BEGELEIDER).status_code == 200, part

    reads_before = len(reads_of(services, BO))
    for suffix in ("", "/members", "/eligibility", "/leefgeld-accounts", "/profile-assignments", "/profile"):
        assert_same_as_missing(api.get(f"/v1/households/{other}{suffix}", role=Role.BEGELEIDER),
                               api.get(f"/v1/households/9999{suffix}", role=Role.BEGELEIDER), other, 9999)
    assert len(reads_of(services, BO)) == reads_before  # a refused read is not a read
    assert all(r.household_id != other for r in reads_of(services, BO))


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.BATCH])
def test_auditors_and_batch_read_every_household_with_the_bsn_masked(api, two, role):
    listed = api.get("/v1/households", role=role).json()
    assert [h["bsn"] for h in listed["items"]] == ["******333", "******782"]
    assert api.get(f"/v1/households/{two[1]}", role=role).json()["bsn"] == "******782"


@pytest.mark.parametrize("role", [Role.BEGELEIDER, Role.AUDITOR, Role.BATCH])
def test_only_a_budgetbeheerder_writes_the_registry(api, database, two, role):
    mine, _ = two
    writes = [
        ("POST", "/v1/households", s1_body()),
        ("POST", f"/v1/households/{mine}/eligibility/overrides",
         {"eligible": True, "form": "geen", "reason": "zelf betalen met begeleiding", "policy_reference": "maatwerk"}),
        ("PUT", f"/v1/households/{mine}/begeleiders/{ACTORS[role]}", None),
        ("DELETE", f"/v1/households/{mine}/begeleiders/{BO}", None),
        ("POST", f"/v1/households/{mine}/leefgeld-accounts",
         {"iban": "NL91ABNA0417164300", "account_holder_name": "Yonas Tesfay"}),
        ("POST", f"/v1/households/{mine}/profile-assignments",
         {"valid_from": "2025-03-15", "profile": None, "reason": "eigen leefgeld"}),
    ]
    before = counts(database)
    for method, path, body in writes:
        assert_problem(api.request(method, path, role=role, json=body), 403)
    assert counts(database) == before


# -- bad input --------------------------------------------------------------------------------------------


BAD_HOUSEHOLDS = [
    (s1_body(has_bijstand="ja"), 400, "has_bijstand"),
    (s1_body(bsn="111222334"), 400, "bsn"),
    (s1_body(nationality="ER"), 400, "nationality"),
    (s1_body(members=[]), 400, None),
    (s1_body(members=[{"name": "Yonas", "date_of_birth": "1998-06-01", "role": "oom"}]), 400, "members.0.role"),
    (s1_body(members=[{"name": "Yonas", "date_of_birth": "2998-06-01", "role": "aanvrager"}]), 400,
     "members.0.date_of_birth"),
    (s1_body(preferred_language=7), 400, "preferred_language"),
    (s1_body(gemeente="atlantis"), 422, "gemeente"),
    ([s1_body()], 400, None),
]


def test_a_bad_household_is_a_problem_naming_the_field_and_nothing_is_written(api, database, roermond):
    before = counts(database)
    for body, status, field in BAD_HOUSEHOLDS:
        problem = assert_problem(api.post("/v1/households", json=body), status, field)
        assert problem.get("field") or problem.get("errors"), body
    assert counts(database) == before


def test_an_oversized_or_malformed_body_is_refused_and_nothing_is_written(api, database, roermond):
    before = counts(database)
    huge = s1_body(members=[{"name": "x" * 150, "date_of_birth": "1998-06-01", "role": "kind"}] * 8000)
    assert_problem(api.post("/v1/households", json=huge), 413)
    assert_problem(api.post("/v1/households", content=b"{not json", headers={"Content-Type": "application/json"}),
                   400)
    assert_problem(api.get("/v1/households/abc"), 404)
    assert_problem(api.get(f"/v1/households/{2**64}"), 400, "household_id")  # would overflow the database's BIGINT
    assert_problem(api.get("/v1/households/0/members"), 400, "household_id")
    assert_problem(api.get(f"/v1/creditors/{2**63}"), 400, "creditor_id")
    assert_problem(api.get(f"/v1/households/1/trajectories/{2**63}"), 400, "trajectory_id")
    assert_problem(api.get("/v1/households?limit=501"), 400, "limit")
    assert_problem(api.get(f"/v1/households?offset={2**64}"), 400, "offset")
    assert_problem(api.get("/v1/households/1/profile?on=gisteren"), 400, "on")
    assert counts(database) == before


def test_a_nareiziger_joins_the_household_later_and_only_a_budgetbeheerder_records_it(api, two):
    """S4: the husband of a statushouder arrives on 15 August 2025; he joins her household as partner."""
    h, _ = two
    arrival = {"name": "Dawit Haile", "date_of_birth": "1986-02-03", "role": "partner", "joined_on": "2025-08-15"}
    for role in (Role.BEGELEIDER, Role.BATCH, Role.AUDITOR):
        assert api.post(f"/v1/households/{h}/members", role=role, json=arrival).status_code == 403
    joined = api.post(f"/v1/households/{h}/members", json=arrival)
    assert joined.status_code == 201, joined.text
    members = {m["name"]: m for m in api.get(f"/v1/households/{h}/members").json()["items"]}
    assert members["Dawit Haile"]["role"] == "partner" and members["Dawit Haile"]["joined_on"] == "2025-08-15"
    assert members[next(n for n in members if n != "Dawit Haile")]["joined_on"] is None
    again = api.post(f"/v1/households/{h}/members", json={**arrival, "name": "Another"})
    assert again.status_code == 409 and again.json()["field"] == "role"
    early = api.post(f"/v1/households/{h}/members", json={**arrival, "role": "kind", "joined_on": "2020-01-01"})
    assert early.status_code == 422 and early.json()["field"] == "joined_on"
    assert len(api.get(f"/v1/households/{h}/members").json()["items"]) == 2
