"""The book over the API: a budgetbeheerder's manual entries and reversals (idempotent), a household's
entries, balances and journal (a begeleider only within their caseload), and the organisation's balances,
trial balance and journal for readers. S1 (Yonas Tesfay in Roermond) with the krediet of 3,500.00 on his
reservering for the inrichting; a second household in Roermond that is not the begeleider's."""

from __future__ import annotations

import io
from datetime import date

import pytest
from api import ACTORS, api_client
from registry import BEHEERDER, count_rows
from test_payment_runs import add_s1

from budget_ledger.access import Role
from budget_ledger.adapters.export.ledger_journal import write_journal
from budget_ledger.chart import BANK, household_code

BEGELEIDER = ACTORS[Role.BEGELEIDER]


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


def gift(h: int, key: str = "gift-1", amount: str = "25.00", **more) -> dict:
    """Roermond's gift for the inrichting, booked by hand: Dr basis / Cr inkomen:gift."""
    return {"idempotency_key": key, "booking_date": "2025-03-20", "reason": "Gift gemeente voor de inrichting",
            "household_id": h, "postings": [{"account": household_code(h, "basis"), "amount": amount},
                                             {"account": household_code(h, "inkomen", "gift"), "amount": f"-{amount}"}],
            **more}


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def test_a_manual_entry_is_posted_once_and_a_replay_answers_the_same_entry(api, database, households):
    h, _ = households
    posted = api.post("/v1/ledger/entries", json=gift(h))
    assert posted.status_code == 201, posted.text
    entry = posted.json()
    assert entry["actor"] == BEHEERDER and entry["source"] == "manual" and entry["replayed"] is False
    assert entry["postings"] == [{"account": f"huishouden:{h}:basis", "amount": "25.00"},
                                 {"account": f"huishouden:{h}:inkomen:gift", "amount": "-25.00"}]
    before = count_rows(database, "journal_entries")

    again = api.post("/v1/ledger/entries", json=gift(h))
    assert again.status_code == 200 and again.json()["id"] == entry["id"] and again.json()["replayed"] is True
    conflict = problem_of(api.post("/v1/ledger/entries", json=gift(h, amount="30.00")), 409)
    assert conflict["code"] == "idempotency-conflict" and conflict["field"] == "idempotency_key"
    assert count_rows(database, "journal_entries") == before

    assert api.get(f"/v1/ledger/entries/{entry['id']}").json() == {**entry, "replayed": False}
    balances = {b["code"]: b for b in api.get(f"/v1/households/{h}/balances").json()["items"]}
    assert balances[f"huishouden:{h}:basis"]["normal_balance"] == "25.00"
    assert balances[f"huishouden:{h}:reservering:inrichting"]["balance"] == "3500.00"


def test_a_reversal_undoes_an_entry_once(api, database, households):
    h, _ = households
    entry = api.post("/v1/ledger/entries", json=gift(h)).json()
    reversal = api.post(f"/v1/ledger/entries/{entry['id']}/reversal",
                        json={"reason": "Dubbel geboekt", "booking_date": "2025-03-21"})
    assert reversal.status_code == 201, reversal.text
    undone = reversal.json()
    assert undone["reverses_entry_id"] == entry["id"] and undone["source"] == "reversal"
    assert {p["amount"] for p in undone["postings"]} == {"-25.00", "25.00"} and undone["household_id"] == h
    assert api.post(f"/v1/ledger/entries/{entry['id']}/reversal",
                    json={"reason": "Dubbel geboekt", "booking_date": "2025-03-21"}).json()["replayed"] is True
    before = count_rows(database, "journal_entries")
    twice = problem_of(api.post(f"/v1/ledger/entries/{entry['id']}/reversal",
                                json={"reason": "Nog eens", "booking_date": "2025-03-22",
                                      "idempotency_key": "another-key"}), 409)
    assert twice["code"] == "already-reversed"
    assert problem_of(api.post("/v1/ledger/entries/999999/reversal", json={"reason": "Bestaat niet"}), 404)[
        "code"] == "entry-not-found"
    assert count_rows(database, "journal_entries") == before
    basis = next(b for b in api.get(f"/v1/households/{h}/balances").json()["items"] if b["code"].endswith(":basis"))
    assert basis["balance"] == "0.00"


BAD_ENTRIES = [
    ({"postings": [{"account": "huishouden:1:basis", "amount": 25.0},
                   {"account": "huishouden:1:inkomen:gift", "amount": -25.0}]}, "postings.0.amount"),
    ({"bedrag": "25.00"}, "bedrag"),
    ({"household_id": "een"}, "household_id"),
    ({"booking_date": "20-03-2025"}, "booking_date"),
    ({"booking_date": "0001-01-01"}, "booking_date"),
    ({"idempotency_key": ""}, "idempotency_key"),
    ({"postings": [{"account": "Huishouden 1", "amount": "1.00"}, {"account": "org:x", "amount": "-1.00"}]},
     "postings.0.account"),
    ({"postings": [{"account": "org:bank:derdengelden", "amount": "0.00"},
                   {"account": "org:clientgelden", "amount": "0.00"}]}, "postings.0.amount"),
]


def test_bad_input_is_a_400_problem_naming_the_field_and_posts_nothing(api, database, households):
    h, _ = households
    before = count_rows(database, "journal_entries")
    for change, field in BAD_ENTRIES:
        problem = problem_of(api.post("/v1/ledger/entries", json={**gift(h), **change}), 400)
        assert problem["field"] == field and problem["errors"], (change, problem)
    assert count_rows(database, "journal_entries") == before
    body = gift(h)
    body["postings"][0]["amount"] = 25.0
    problem = problem_of(api.post("/v1/ledger/entries", json=body), 400)
    assert problem["field"] == "postings.0.amount" and "decimal string" in problem["detail"]


def test_another_households_accounts_or_an_unbalanced_entry_are_refused(api, database, households):
    h, other = households
    before = count_rows(database, "journal_entries")
    foreign = gift(h)
    foreign["postings"][1]["account"] = household_code(other, "inkomen", "gift")
    problem = problem_of(api.post("/v1/ledger/entries", json=foreign), 400)
    assert problem["field"] == "postings" and "another household" in problem["detail"]
    unnamed = gift(h)
    del unnamed["household_id"]
    assert problem_of(api.post("/v1/ledger/entries", json=unnamed), 400)["field"] == "postings"
    unbalanced = gift(h)
    unbalanced["postings"][1]["amount"] = "-24.99"
    assert problem_of(api.post("/v1/ledger/entries", json=unbalanced), 422)["code"] == "unbalanced-entry"
    unknown = gift(h)
    unknown["postings"][1]["account"] = household_code(h, "inkomen", "loterij")
    assert problem_of(api.post("/v1/ledger/entries", json=unknown), 422)["code"] == "unknown-account"
    overdrawn = gift(h, key="overdrawn")
    overdrawn["postings"] = [{"account": household_code(h, "basis"), "amount": "-10.00"},
                             {"account": household_code(h, "inkomen", "gift"), "amount": "10.00"}]
    assert problem_of(api.post("/v1/ledger/entries", json=overdrawn), 409)["code"] == "insufficient-funds"
    assert count_rows(database, "journal_entries") == before


def test_only_a_budgetbeheerder_posts_or_reverses(api, database, households):
    h, _ = households
    entry = api.post("/v1/ledger/entries", json=gift(h)).json()
    before = count_rows(database, "journal_entries")
    for role in (Role.BEGELEIDER, Role.BATCH, Role.AUDITOR):
        problem_of(api.post("/v1/ledger/entries", role=role, json=gift(h, key="other")), 403)
        problem_of(api.post(f"/v1/ledger/entries/{entry['id']}/reversal", role=role, json={"reason": "Mag niet"}),
                   403)
    assert count_rows(database, "journal_entries") == before


def test_a_begeleider_reads_the_book_of_their_caseload_only(api, services, households):
    mine, other = households
    own = api.post("/v1/ledger/entries", json=gift(mine)).json()
    foreign = api.post("/v1/ledger/entries", json=gift(other, key="gift-other")).json()

    as_bo = Role.BEGELEIDER
    entries = api.get(f"/v1/households/{mine}/entries", role=as_bo)
    assert entries.status_code == 200 and own["id"] in [e["id"] for e in entries.json()["items"]]
    assert api.get(f"/v1/households/{mine}/balances", role=as_bo).status_code == 200
    assert api.get(f"/v1/ledger/entries/{own['id']}", role=as_bo).status_code == 200
    journal = api.get(f"/v1/households/{mine}/journal", role=as_bo)
    assert journal.status_code == 200 and "Gift gemeente" in journal.text

    for path in (f"/v1/households/{other}/entries", f"/v1/households/{other}/balances",
                 f"/v1/households/{other}/journal", f"/v1/ledger/entries/{foreign['id']}"):
        refused = problem_of(api.get(path, role=as_bo), 404)
        assert str(other) in refused["detail"] or str(foreign["id"]) in refused["detail"]
    # Outside the caseload is the same answer as a household that does not exist.
    assert api.get("/v1/households/999999/entries", role=as_bo).json()["detail"] == \
        api.get("/v1/households/999999/entries").json()["detail"]
    for path in ("/v1/ledger/journal", "/v1/ledger/balances", "/v1/ledger/trial-balance"):
        problem_of(api.get(path, role=as_bo), 403)

    trail = api.get(f"/v1/audit?household_id={mine}&kind=read", role=Role.AUDITOR).json()["items"]
    assert {(r["actor"], r["entity"]) for r in trail} >= {(BEGELEIDER, "entries"), (BEGELEIDER, "journal")}


def test_the_organisations_entries_are_not_a_begeleiders(api, services, households):
    mine, _ = households
    krediet = next(e for e in api.get(f"/v1/households/{mine}/entries").json()["items"])
    assert api.get(f"/v1/ledger/entries/{krediet['id']}", role=Role.BEGELEIDER).status_code == 200
    opening = api.post("/v1/ledger/entries", json={
        "idempotency_key": "org-correction", "booking_date": "2025-03-20", "reason": "Bankkosten teruggeboekt",
        "postings": [{"account": BANK, "amount": "1.00"}, {"account": "org:bank:ongematcht", "amount": "-1.00"}]})
    assert opening.status_code == 201, opening.text
    problem_of(api.get(f"/v1/ledger/entries/{opening.json()['id']}", role=Role.BEGELEIDER), 404)
    assert api.get(f"/v1/ledger/entries/{opening.json()['id']}", role=Role.AUDITOR).status_code == 200


def test_entries_are_paginated_and_filtered_by_booking_date(api, households):
    h, _ = households
    for day in (20, 21, 22):
        api.post("/v1/ledger/entries", json={**gift(h, key=f"gift-{day}"), "booking_date": f"2025-03-{day}"})
    page = api.get(f"/v1/households/{h}/entries?limit=2&offset=1").json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (4, 2, 1, 2)
    late = api.get(f"/v1/households/{h}/entries?from=2025-03-21&to=2025-03-22").json()
    assert [e["booking_date"] for e in late["items"]] == ["2025-03-21", "2025-03-22"]
    assert problem_of(api.get(f"/v1/households/{h}/entries?limit=0"), 400)["field"] == "limit"
    assert problem_of(api.get(f"/v1/households/{h}/entries?from=2025-04-01&to=2025-03-01"), 422)["field"] == "from"


def test_the_journal_is_the_one_the_cli_exports_as_plain_text(api, services, households):
    h, _ = households
    api.post("/v1/ledger/entries", json=gift(h))
    response = api.get("/v1/ledger/journal?from=2025-03-16", role=Role.AUDITOR)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert 'filename="budget_ledger-boek-2025-03-16.journal"' in response.headers["content-disposition"]
    expected = io.StringIO()
    with services.ledger.extract(date_from=date(2025, 3, 16)) as extract:
        write_journal(extract, expected, organisation=api.client.app.state.settings.organisation_name)
    # The first line names the moment it was generated; the rest is the same book, to the byte.
    assert response.text.split("\n", 1)[1] == expected.getvalue().split("\n", 1)[1]
    assert "* Beginsaldi" in response.text and "Gift gemeente voor de inrichting" in response.text
    household = api.get(f"/v1/households/{h}/journal?to=2025-03-19")
    assert "Inrichtingskrediet" in household.text and "Gift gemeente" not in household.text
    assert problem_of(api.get("/v1/households/999999/journal"), 404)["field"] == "household_id"
    problem_of(api.get("/v1/ledger/journal?from=gisteren", role=Role.AUDITOR), 400)


def test_readers_see_the_organisations_balances_and_a_balanced_trial_balance(api, households):
    h, _ = households
    api.post("/v1/ledger/entries", json=gift(h))
    for role in (Role.BUDGETBEHEERDER, Role.AUDITOR, Role.BATCH):
        organisation = api.get("/v1/ledger/balances", role=role)
        assert organisation.status_code == 200
        codes = {b["code"]: b["balance"] for b in organisation.json()["items"]}
        assert codes[BANK] == "7000.00" and all(not c.startswith("huishouden:") for c in codes)
    everything = api.get("/v1/ledger/balances?scope=all&limit=500").json()
    assert any(b["code"] == household_code(h, "basis") for b in everything["items"])
    assert everything["total"] > len(codes)
    trial = api.get("/v1/ledger/trial-balance?verify=true", role=Role.AUDITOR).json()
    assert trial["balanced"] is True and trial["total"] == "0.00" and trial["mismatches"] == []
    assert trial["debits"] == trial["credits"]
    earlier = api.get("/v1/ledger/trial-balance?as_of=2025-03-14", role=Role.AUDITOR).json()
    assert earlier["debits"] == "0.00" and earlier["mismatches"] is None
    problem_of(api.get("/v1/ledger/balances?scope=alles"), 400)
