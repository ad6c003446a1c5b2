"""The registry API around a household: gemeenten; the ontzorgtraject from aanmelding to its end (S1, S10);
creditors with their schedules, payers and addresses (S1, S9, S10); expected income and a toeslag's
rejection (S2). Only a budgetbeheerder writes; a begeleider reads only their caseload; an id of another
household answers as one that does not exist; bad input is a problem naming its field, and nothing is
written."""

from __future__ import annotations

import pytest
from api import ACTORS, api_client
from registry import BEHEERDER, count_rows, gemeente, single

from budget_ledger.access import Role

BO = ACTORS[Role.BEGELEIDER]
TABLES = ("gemeenten", "trajectories", "trajectory_milestones", "trajectory_history", "creditors",
          "creditor_schedules", "creditor_payers", "expected_income")
HUUR = {"organisation": "Woonstichting Roermond", "account_holder_name": "Woonstichting Roermond",
        "iban": "NL91ABNA0417164300", "category": "huur", "reference_kind": "vrij", "reference": "huur Yonas Tesfay",
        "schedule": {"amount": "650.00", "frequency": "monthly", "day": 1, "valid_from": "2025-03-15"}}
ZORG = {"organisation": "Zorgverzekeraar", "account_holder_name": "Zorgverzekeraar NV",
        "iban": "NL20INGB0001234567", "category": "zorgverzekering", "reference_kind": "vrij",
        "reference": "polis 123456", "schedule": {"amount": "150.00", "frequency": "monthly", "day": 1,
                                                  "valid_from": "2025-03-15"}}


@pytest.fixture
def api(database, services):
    with api_client(database, services) as client:
        yield client


@pytest.fixture
def two(services) -> tuple[int, int]:
    """S1 in Roermond, in begeleider.bo's caseload; and another single statushouder who is not."""
    gemeente(services, "roermond", rule_profile="roermond")
    s1 = single(services, begeleiders=[BO], bsn="111222333").household.id
    other = single(services, begeleiders=["begeleider.cas"], bijstand_start=None, housing_date=None,
                   has_bijstand=True).household.id
    return s1, other


def counts(database) -> dict[str, int]:
    return {table: count_rows(database, table) for table in TABLES}


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    if field is not None:
        assert problem["field"] == field, problem
    return problem


def assert_same_as_missing(response, missing, entity_id: int, missing_id: int) -> None:
    a, b = assert_problem(response, 404), assert_problem(missing, 404)
    assert a["detail"].replace(str(entity_id), "#") == b["detail"].replace(str(missing_id), "#")
    assert {k: v for k, v in a.items() if k != "detail"} == {k: v for k, v in b.items() if k != "detail"}


def milestone(trajectory: dict, kind: str) -> dict:
    return next(m for m in trajectory["milestones"] if m["kind"] == kind)


# -- gemeenten --------------------------------------------------------------------------------------------


def test_gemeenten_are_added_read_by_everyone_and_changed_by_a_budgetbeheerder(api, database):
    created = ok(api.post("/v1/gemeenten", json={
        "code": "roermond", "name": "Roermond",
        "settings": {"rule_profile": "roermond", "repayment_iban": "NL39RABO0300065264",
                     "repayment_account_holder_name": "Gemeente Roermond"}}), 201)
    assert created["settings"]["anchor"] == "bijstand_start" and created["settings"]["minimum_months"] == 6
    ok(api.post("/v1/gemeenten", json={"code": "venlo", "name": "Venlo", "settings": {"anchor": "huisvesting"}}), 201)
    for role in Role:
        listed = ok(api.get("/v1/gemeenten", role=role))
        assert [g["code"] for g in listed["items"]] == ["roermond", "venlo"] and listed["total"] == 2
    assert ok(api.get("/v1/gemeenten/roermond", role=Role.BEGELEIDER))["settings"]["repayment_iban"] == \
        "NL39RABO0300065264"
    assert [g["code"] for g in ok(api.get("/v1/gemeenten?limit=1&offset=1"))["items"]] == ["venlo"]

    changed = ok(api.request("PUT", "/v1/gemeenten/roermond/settings",
                             json={"anchor": "huisvesting", "full_months": True, "rule_profile": "roermond"}))
    assert changed["settings"]["anchor"] == "huisvesting" and changed["settings"]["full_months"] is True
    assert ok(api.get("/v1/gemeenten/roermond"))["settings"]["anchor"] == "huisvesting"

    before = counts(database)
    assert_problem(api.post("/v1/gemeenten", json={"code": "roermond", "name": "Roermond"}), 409, "code")
    assert_problem(api.post("/v1/gemeenten", json={"code": "Roer mond", "name": "Roermond"}), 400, "code")
    assert_problem(api.post("/v1/gemeenten", json={"code": "echt", "name": "Echt",
                                                   "settings": {"minimum_months": 5}}), 400,
                   "settings.minimum_months")
    assert_problem(api.post("/v1/gemeenten", json={"code": "echt", "name": "Echt",
                                                   "settings": {"repayment_iban": "NL39RABO0300065265"}}), 400,
                   "settings.repayment_iban")
    assert_problem(api.post("/v1/gemeenten", json={"code": "echt", "name": "Echt", "mayor": "X"}), 400, "mayor")
    assert_problem(api.request("PUT", "/v1/gemeenten/roermond/settings", json={"anchor": "maanstand"}), 400, "anchor")
    assert_problem(api.request("PUT", "/v1/gemeenten/atlantis/settings", json={}), 404, "gemeente")
    assert_problem(api.get("/v1/gemeenten/atlantis"), 404, "gemeente")
    for role in (Role.BEGELEIDER, Role.AUDITOR, Role.BATCH):
        assert_problem(api.post("/v1/gemeenten", role=role, json={"code": "echt", "name": "Echt"}), 403)
        assert_problem(api.request("PUT", "/v1/gemeenten/roermond/settings", role=role, json={}), 403)
    assert counts(database) == before
    assert ok(api.get("/v1/gemeenten/roermond"))["settings"]["anchor"] == "huisvesting"


# -- trajectories -----------------------------------------------------------------------------------------


def test_s1_and_s10_the_trajectory_runs_from_aanmelding_through_extension_and_afbouw_to_its_end(api, two):
    h, _ = two
    base = f"/v1/households/{h}/trajectories"
    huur = ok(api.post(f"/v1/households/{h}/creditors", json=HUUR), 201)
    ok(api.post(f"/v1/households/{h}/creditors", json=ZORG), 201)

    started = ok(api.post(base, json={}), 201)
    assert started["status"] == "aangemeld" and started["start_date"] == "2025-03-15"
    assert started["minimum_last_day"] == "2025-09-14" and started["earliest_end"] == "2025-09-15"
    assert {m["kind"] for m in started["milestones"]} == {"evaluatie", "eindevaluatie", "training_omgaan_met_geld"}
    t = started["id"]
    assert_problem(api.post(base, json={}), 409, "household_id")  # one open trajectory at a time

    assert ok(api.post(f"{base}/{t}/activate"))["status"] == "actief"
    assert_problem(api.post(f"{base}/{t}/activate"), 409, "status")
    evaluated = ok(api.post(f"{base}/{t}/evaluations", json={
        "milestone_id": milestone(started, "evaluatie")["id"], "completed_on": "2025-05-20", "outcome": "doorgaan",
        "note": "Loopt goed; huur op tijd betaald"}), 201)
    assert milestone(evaluated, "evaluatie")["outcome"] == "doorgaan"
    assert milestone(evaluated, "evaluatie")["recorded_by"] == ACTORS[Role.BUDGETBEHEERDER]
    trained = ok(api.post(f"{base}/{t}/training", json={"completed_on": "2025-07-01"}), 201)
    assert milestone(trained, "training_omgaan_met_geld")["completed_on"] == "2025-07-01"
    assert_problem(api.post(f"{base}/{t}/evaluations", json={
        "milestone_id": milestone(started, "evaluatie")["id"], "completed_on": "2025-05-21", "outcome": "doorgaan"}),
        409, "milestone_id")

    extended = ok(api.post(f"{base}/{t}/extend", json={"months": 3, "reason": "S10 uitkomst B: nog niet zelfredzaam"}))
    assert extended["status"] == "verlengd" and extended["last_day"] == "2025-12-14"
    assert milestone(extended, "evaluatie_verlenging")["due_on"] == "2025-11-15"
    afbouw = ok(api.post(f"{base}/{t}/afbouw", json={"reason": "S10 uitkomst A: huur eerst naar eigen incasso"}))
    assert afbouw["status"] == "in_afbouw"
    ok(api.post(f"/v1/households/{h}/creditors/{huur['id']}/payers", json={
        "payer": "client_incasso", "valid_from": "2025-11-01", "reason": "afbouw: huur via eigen incasso"}), 201)

    ended = ok(api.post(f"{base}/{t}/end", json={"ended_on": "2025-12-14",
                                                 "handover_note": "Overgedragen aan de cliënt en begeleider.bo"}))
    assert ended["trajectory"]["status"] == "beeindigd" and ended["trajectory"]["ended_on"] == "2025-12-14"
    assert [i["organisation"] for i in ended["open_handover"]] == ["Zorgverzekeraar"]
    actions = [line["action"] for line in ended["trajectory"]["history"]]
    assert actions == ["aangemeld", "activate", "evaluatie_vastgelegd", "training_omgaan_met_geld_vastgelegd",
                       "extend", "start_afbouw", "end"]
    assert ended["trajectory"]["history"][-1]["details"]["handover_note"].startswith("Overgedragen")

    listed = ok(api.get(base, role=Role.BEGELEIDER))
    assert [x["id"] for x in listed["items"]] == [t]
    assert ok(api.get(f"{base}/{t}", role=Role.AUDITOR))["status"] == "beeindigd"
    assert ok(api.get(f"/v1/trajectories/{t}", role=Role.BEGELEIDER))["household_id"] == h
    assert_problem(api.post(f"{base}/{t}/afbouw", json={"reason": "te laat voor afbouw"}), 409, "status")


def test_ending_before_the_minimum_period_needs_a_reason_and_a_start_needs_an_anchor(api, database, two):
    h, other = two
    before = counts(database)
    assert_problem(api.post(f"/v1/households/{other}/trajectories", json={}), 422, "start_date")
    assert counts(database) == before
    t = ok(api.post(f"/v1/households/{other}/trajectories", json={"start_date": "2025-04-01"}), 201)["id"]
    early = {"ended_on": "2025-06-30", "handover_note": "Verhuisd naar Venlo"}
    assert_problem(api.post(f"/v1/households/{other}/trajectories/{t}/end", json=early), 422, "ended_on")
    ended = ok(api.post(f"/v1/households/{other}/trajectories/{t}/end",
                        json={**early, "early_reason": "Verhuisd naar een andere gemeente"}))
    assert ended["trajectory"]["status"] == "beeindigd" and ended["open_handover"] == []
    for body, field in [({"months": 0, "reason": "te kort verlengd"}, "months"),
                        ({"months": "drie", "reason": "verkeerd type"}, "months"),
                        ({"months": 3}, "reason"),
                        ({"months": 3, "reason": "verlengen", "version": 2}, "version")]:
        assert_problem(api.post(f"/v1/households/{other}/trajectories/{t}/extend", json=body), 400, field)


# -- creditors and expected income -----------------------------------------------------------------------


def test_s1_and_s9_creditors_and_expected_income_and_the_zorgtoeslag_follows_the_polis(api, two):
    h, _ = two
    huur = ok(api.post(f"/v1/households/{h}/creditors", json=HUUR), 201)
    assert huur["iban"] == "NL91ABNA0417164300" and huur["bic"] == "ABNANL2A" and huur["category"] == "huur"
    assert huur["schedules"][0]["amount"] == "650.00" and huur["payers"][0]["payer"] == "ledger"
    zorg = ok(api.post(f"/v1/households/{h}/creditors", json=ZORG), 201)

    bijstand = ok(api.post(f"/v1/households/{h}/expected-income", json={
        "source": "bijstand", "amount": "1281.38", "entitlement_from": "2025-03-15",
        "payer_ibans": ["NL39RABO0300065264"], "references": ["Gemeente Roermond uitkering"]}), 201)
    assert bijstand["amount"] == "1281.38" and bijstand["coverage"] == "arrears"
    assert bijstand["payment_day"] is not None and bijstand["payer_ibans"] == ["NL39RABO0300065264"]
    toeslag = ok(api.post(f"/v1/households/{h}/expected-income", json={
        "source": "zorgtoeslag", "amount": "131.00", "depends_on_creditor_id": zorg["id"]}), 201)
    assert toeslag["entitlement_from"] == "2025-04-01" and toeslag["conditions_met_on"] == "2025-03-15"

    # S9: the polis turns out to start a month later; the zorgtoeslag waiting on it moves along
    corrected = ok(api.request("PUT", f"/v1/households/{h}/creditors/{zorg['id']}/schedules/"
                                      f"{zorg['schedules'][0]['id']}",
                               json={**ZORG["schedule"], "valid_from": "2025-04-15"}))
    assert corrected["schedules"][0]["valid_from"] == "2025-04-15"
    moved = ok(api.get(f"/v1/households/{h}/expected-income/{toeslag['id']}", role=Role.BEGELEIDER))
    assert moved["entitlement_from"] == "2025-05-01" and moved["conditions_met_on"] == "2025-04-15"

    # the rent goes up on 1 January: end the first schedule, then add the next
    first = huur["schedules"][0]
    assert_problem(api.post(f"/v1/households/{h}/creditors/{huur['id']}/schedules",
                            json={"amount": "675.00", "frequency": "monthly", "day": 1, "valid_from": "2026-01-01"}),
                   422, "schedule.valid_from")
    ok(api.request("PUT", f"/v1/households/{h}/creditors/{huur['id']}/schedules/{first['id']}",
                   json={**HUUR["schedule"], "valid_to": "2025-12-31"}))
    raised = ok(api.post(f"/v1/households/{h}/creditors/{huur['id']}/schedules",
                         json={"amount": "675.00", "frequency": "monthly", "day": 1, "valid_from": "2026-01-01"}), 201)
    assert [(s["amount"], s["valid_to"]) for s in raised["schedules"]] == [("650.00", "2025-12-31"), ("675.00", None)]

    addressed = ok(api.request("PUT", f"/v1/households/{h}/creditors/{huur['id']}/address", json={
        "street_name": "Kapellerlaan", "building_number": "34", "postcode": "6041 ab", "town": "Roermond"}))
    assert addressed["address"] == {"town": "Roermond", "country": "NL", "street_name": "Kapellerlaan",
                                    "building_number": "34", "postcode": "6041 AB"}
    assert addressed["address_recorded_by"] == ACTORS[Role.BUDGETBEHEERDER]
    assert ok(api.request("DELETE", f"/v1/households/{h}/creditors/{huur['id']}/address"))["address"] is None

    moved_payer = ok(api.post(f"/v1/households/{h}/creditors/{huur['id']}/payers", json={
        "payer": "client_incasso", "valid_from": "2025-11-01", "reason": "afbouw: eigen incasso"}), 201)
    assert [p["payer"] for p in moved_payer["payers"]] == ["ledger", "client_incasso"]
    assert_problem(api.post(f"/v1/households/{h}/creditors/{huur['id']}/payers", json={
        "payer": "ledger", "valid_from": "2025-11-01", "reason": "toch niet"}), 422, "valid_from")

    listed = ok(api.get(f"/v1/households/{h}/creditors", role=Role.BEGELEIDER))
    assert [c["organisation"] for c in listed["items"]] == ["Woonstichting Roermond", "Zorgverzekeraar"]
    assert ok(api.get(f"/v1/households/{h}/creditors/{zorg['id']}", role=Role.AUDITOR))["id"] == zorg["id"]
    assert ok(api.get(f"/v1/creditors/{zorg['id']}", role=Role.BEGELEIDER))["household_id"] == h
    incomes = ok(api.get(f"/v1/households/{h}/expected-income"))
    assert [i["source"] for i in incomes["items"]] == ["bijstand", "zorgtoeslag"]


def test_s2_a_rejected_toeslag_is_no_longer_expected_once(api, database, two):
    h, _ = two
    toeslag = ok(api.post(f"/v1/households/{h}/expected-income", json={
        "source": "huurtoeslag", "amount": "310.00", "conditions_met_on": "2025-03-15"}), 201)
    bijstand = ok(api.post(f"/v1/households/{h}/expected-income", json={
        "source": "bijstand", "amount": "1281.38", "entitlement_from": "2025-03-15"}), 201)
    rejection = {"decided_on": "2025-06-01", "reason": "Beschikking huurtoeslag €0: inkomen te hoog"}
    rejected = ok(api.post(f"/v1/households/{h}/expected-income/{toeslag['id']}/rejection", json=rejection))
    assert rejected["rejected_on"] == "2025-06-01" and rejected["rejection_reason"].startswith("Beschikking")
    before = counts(database)
    assert_problem(api.post(f"/v1/households/{h}/expected-income/{toeslag['id']}/rejection", json=rejection),
                   409, "income_id")
    assert_problem(api.post(f"/v1/households/{h}/expected-income/{bijstand['id']}/rejection", json=rejection),
                   422, "income_id")
    assert_problem(api.post(f"/v1/households/{h}/expected-income/{toeslag['id']}/rejection",
                            json={"decided_on": "1 juni", "reason": "Beschikking €0"}), 400, "decided_on")
    assert counts(database) == before


BAD_CREDITORS = [
    ({**HUUR, "iban": "NL91ABNA0417164301"}, 400, "iban"),
    ({**HUUR, "iban": 91}, 400, "iban"),
    ({**HUUR, "schedule": {**HUUR["schedule"], "amount": 650.0}}, 400, "schedule.amount"),
    ({**HUUR, "schedule": {**HUUR["schedule"], "amount": 650}}, 400, "schedule.amount"),
    ({**HUUR, "schedule": {**HUUR["schedule"], "amount": "650.001"}}, 400, "schedule.amount"),
    ({**HUUR, "schedule": {**HUUR["schedule"], "amount": "-650.00"}}, 400, "schedule.amount"),
    ({**HUUR, "schedule": {**HUUR["schedule"], "day": "eerste"}}, 400, "schedule.day"),
    ({**HUUR, "schedule": {**HUUR["schedule"], "interval": 2}}, 400, "schedule.interval"),
    ({**HUUR, "category": "boodschappen"}, 400, "category"),
    ({**HUUR, "reference_kind": "betalingskenmerk", "reference": "1234"}, 400, None),
    ({**HUUR, "address": {"postcode": "6041 SS", "town": "Roermond"}}, 400, "address.postcode"),
    ({**HUUR, "owner": "someone"}, 400, "owner"),
]


def test_a_bad_creditor_is_a_problem_naming_the_field_and_nothing_is_written(api, database, two):
    h, _ = two
    before = counts(database)
    for body, status, field in BAD_CREDITORS:
        problem = assert_problem(api.post(f"/v1/households/{h}/creditors", json=body), status, field)
        assert problem["field"] and problem["errors"], body
    assert counts(database) == before
    creditor = ok(api.post(f"/v1/households/{h}/creditors", json=HUUR), 201)
    after_one = counts(database)
    path = f"/v1/households/{h}/creditors/{creditor['id']}"
    assert_problem(api.request("PUT", f"{path}/address", json={"postcode": "0041 AB", "town": "Roermond"}), 400,
                   "postcode")
    assert_problem(api.request("PUT", f"{path}/address", json={"country": "XX", "town": "Roermond"}), 400, "country")
    assert_problem(api.post(f"{path}/payers", json={"payer": "buurman", "valid_from": "2025-06-01",
                                                    "reason": "een onbekende betaler"}), 400, "payer")
    assert_problem(api.request("PUT", f"{path}/schedules/{creditor['schedules'][0]['id']}",
                               json={**HUUR["schedule"], "amount": 700.5}), 400, "amount")
    assert_problem(api.request("PUT", f"{path}/schedules/999", json=HUUR["schedule"]), 404, "schedule_id")
    assert counts(database) == after_one
    assert ok(api.get(path))["address"] is None


def test_bad_expected_income_and_oversized_bodies_are_refused_and_nothing_is_written(api, database, two):
    h, _ = two
    before = counts(database)
    base = f"/v1/households/{h}/expected-income"
    for body, status, field in [
        ({"source": "bijstand", "amount": 1281.38, "entitlement_from": "2025-03-15"}, 400, "amount"),
        ({"source": "bijstand", "amount": "1281.38", "entitlement_from": "2025-03-15",
          "payer_ibans": ["NL39RABO0300065265"]}, 400, "payer_ibans"),
        ({"source": "loterij", "amount": "10.00", "entitlement_from": "2025-03-15"}, 400, "source"),
        ({"source": "bijstand", "amount": "1281.38"}, 400, None),
        ({"source": "bijstand", "amount": "1281.38", "entitlement_from": "2025-03-15", "iban": "x"}, 400, "iban"),
    ]:
        assert_problem(api.post(base, json=body), status, field)
    huge = {**HUUR, "organisation": "x" * 100, "reference": "y" * 100, "padding": ["z" * 1000] * 1100}
    assert_problem(api.post(f"/v1/households/{h}/creditors", json=huge), 413)
    assert counts(database) == before


# -- another household's ids, another begeleider's caseload, other roles -----------------------------------


def test_an_id_of_another_household_answers_as_one_that_does_not_exist_and_nothing_is_written(
        api, database, services, two):
    a, b = two
    creditor = ok(api.post(f"/v1/households/{a}/creditors", json=ZORG), 201)
    c = creditor["id"]
    t = ok(api.post(f"/v1/households/{a}/trajectories", json={}), 201)
    income = ok(api.post(f"/v1/households/{a}/expected-income", json={
        "source": "zorgtoeslag", "amount": "131.00", "depends_on_creditor_id": c}), 201)["id"]
    ok(api.post(f"/v1/households/{b}/trajectories", json={"start_date": "2025-04-01"}), 201)
    before = counts(database)

    schedule = creditor["schedules"][0]["id"]
    cases = [
        ("GET", f"/v1/households/{b}/creditors/{c}", f"/v1/households/{b}/creditors/999", None),
        ("PUT", f"/v1/households/{b}/creditors/{c}/schedules/{schedule}",
         f"/v1/households/{b}/creditors/999/schedules/{schedule}", ZORG["schedule"]),
        ("POST", f"/v1/households/{b}/creditors/{c}/schedules", f"/v1/households/{b}/creditors/999/schedules",
         {**ZORG["schedule"], "valid_from": "2027-01-01"}),
        ("POST", f"/v1/households/{b}/creditors/{c}/payers", f"/v1/households/{b}/creditors/999/payers",
         {"payer": "client_incasso", "valid_from": "2025-06-01", "reason": "via het verkeerde huishouden"}),
        ("PUT", f"/v1/households/{b}/creditors/{c}/address", f"/v1/households/{b}/creditors/999/address",
         {"town": "Roermond"}),
        ("DELETE", f"/v1/households/{b}/creditors/{c}/address", f"/v1/households/{b}/creditors/999/address", None),
    ]
    for method, path, missing_path, body in cases:
        assert_same_as_missing(api.request(method, path, json=body), api.request(method, missing_path, json=body),
                               c, 999)
    traj = [("GET", "", None), ("POST", "/activate", None), ("POST", "/extend", {"months": 1, "reason": "verkeerd"}),
            ("POST", "/afbouw", {"reason": "verkeerd"}), ("POST", "/training", {"completed_on": "2025-06-01"}),
            ("POST", "/evaluations", {"milestone_id": t["milestones"][0]["id"], "completed_on": "2025-06-01",
                                      "outcome": "doorgaan"}),
            ("POST", "/end", {"ended_on": "2025-12-31", "handover_note": "verkeerd huishouden"})]
    for method, suffix, body in traj:
        assert_same_as_missing(
            api.request(method, f"/v1/households/{b}/trajectories/{t['id']}{suffix}", json=body),
            api.request(method, f"/v1/households/{b}/trajectories/999{suffix}", json=body), t["id"], 999)
    for method, suffix, body in [("GET", "", None), ("POST", "/rejection",
                                                     {"decided_on": "2025-06-01", "reason": "verkeerd huishouden"})]:
        assert_same_as_missing(api.request(method, f"/v1/households/{b}/expected-income/{income}{suffix}", json=body),
                               api.request(method, f"/v1/households/{b}/expected-income/999{suffix}", json=body),
                               income, 999)
    borrowed = api.post(f"/v1/households/{b}/expected-income", json={
        "source": "zorgtoeslag", "amount": "131.00", "depends_on_creditor_id": c})
    assert_problem(borrowed, 422, "depends_on_creditor_id")
    assert counts(database) == before
    assert services.creditors.get(c).address is None and services.trajectories.get(t["id"]).status == "aangemeld"


def test_a_begeleider_reads_the_parts_of_their_caseload_and_nothing_of_another(api, services, two):
    mine, other = two
    parts = {}
    for h in (mine, other):
        parts[h] = (ok(api.post(f"/v1/households/{h}/creditors", json=HUUR), 201)["id"],
                    ok(api.post(f"/v1/households/{h}/trajectories", json={"start_date": "2025-04-01"}), 201)["id"],
                    ok(api.post(f"/v1/households/{h}/expected-income", json={
                        "source": "bijstand", "amount": "1281.38", "entitlement_from": "2025-04-01"}), 201)["id"])
    c, t, i = parts[mine]
    for path in (f"/v1/households/{mine}/creditors", f"/v1/households/{mine}/creditors/{c}", f"/v1/creditors/{c}",
                 f"/v1/households/{mine}/trajectories", f"/v1/households/{mine}/trajectories/{t}",
                 f"/v1/trajectories/{t}", f"/v1/households/{mine}/expected-income",
                 f"/v1/households/{mine}/expected-income/{i}"):
        ok(api.get(path, role=Role.BEGELEIDER))
    c, t, i = parts[other]
    reads_before = services.access.audit(actor=BO, kind="read", limit=1000)
    for path, missing_path, entity_id in [
        (f"/v1/creditors/{c}", "/v1/creditors/999", c),
        (f"/v1/trajectories/{t}", "/v1/trajectories/999", t),
    ]:
        assert_same_as_missing(api.get(path, role=Role.BEGELEIDER), api.get(missing_path, role=Role.BEGELEIDER),
                               entity_id, 999)
    for suffix in (f"creditors/{c}", f"trajectories/{t}", f"expected-income/{i}"):  # the household is not theirs
        assert_same_as_missing(api.get(f"/v1/households/{other}/{suffix}", role=Role.BEGELEIDER),
                               api.get(f"/v1/households/9999/{suffix}", role=Role.BEGELEIDER), other, 9999)
    for suffix in ("creditors", "trajectories", "expected-income"):
        assert_same_as_missing(api.get(f"/v1/households/{other}/{suffix}", role=Role.BEGELEIDER),
                               api.get(f"/v1/households/999/{suffix}", role=Role.BEGELEIDER), other, 999)
    assert services.access.audit(actor=BO, kind="read", limit=1000) == reads_before
    trail = services.access.audit(actor=BEHEERDER, kind="write", limit=1000)
    assert {(r.entity, r.household_id) for r in trail} >= {("creditor", mine), ("trajectory", other),
                                                           ("expected_income", mine)}


@pytest.mark.parametrize("role", [Role.BEGELEIDER, Role.AUDITOR, Role.BATCH])
def test_only_a_budgetbeheerder_writes_trajectories_creditors_and_income(api, database, services, two, role):
    h, _ = two
    c = services.creditors.add(h, ZORG, BEHEERDER)
    t = services.trajectories.start(h, {}, BEHEERDER)
    i = services.income.add(h, {"source": "zorgtoeslag", "amount": "131.00", "entitlement_from": "2025-04-01"},
                            BEHEERDER)
    base = f"/v1/households/{h}"
    writes = [
        ("POST", f"{base}/trajectories", {}),
        ("POST", f"{base}/trajectories/{t.id}/activate", None),
        ("POST", f"{base}/trajectories/{t.id}/evaluations",
         {"milestone_id": t.milestones[0].id, "completed_on": "2025-05-20", "outcome": "doorgaan"}),
        ("POST", f"{base}/trajectories/{t.id}/training", {"completed_on": "2025-07-01"}),
        ("POST", f"{base}/trajectories/{t.id}/extend", {"months": 3, "reason": "nog niet zelfredzaam"}),
        ("POST", f"{base}/trajectories/{t.id}/afbouw", {"reason": "afbouw gestart"}),
        ("POST", f"{base}/trajectories/{t.id}/end", {"ended_on": "2025-12-31", "handover_note": "overgedragen"}),
        ("POST", f"{base}/creditors", HUUR),
        ("POST", f"{base}/creditors/{c.id}/schedules", {**ZORG["schedule"], "valid_from": "2027-01-01"}),
        ("PUT", f"{base}/creditors/{c.id}/schedules/{c.schedules[0].id}", ZORG["schedule"]),
        ("POST", f"{base}/creditors/{c.id}/payers",
         {"payer": "client_incasso", "valid_from": "2025-06-01", "reason": "eigen incasso"}),
        ("PUT", f"{base}/creditors/{c.id}/address", {"town": "Roermond"}),
        ("DELETE", f"{base}/creditors/{c.id}/address", None),
        ("POST", f"{base}/expected-income", {"source": "bijstand", "amount": "1281.38",
                                             "entitlement_from": "2025-03-15"}),
        ("POST", f"{base}/expected-income/{i.id}/rejection", {"decided_on": "2025-06-01", "reason": "beschikking €0"}),
    ]
    before = counts(database)
    for method, path, body in writes:
        assert_problem(api.request(method, path, role=role, json=body), 403)
    assert counts(database) == before
    assert services.access.audit(actor=ACTORS[role], kind="write", limit=1000)[0].status_code == 403
