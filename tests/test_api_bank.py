"""Bank statements over the API: the CAMT.053 file the bank sends after S1's first run (one batch entry of
438.71 for huur and zorg) uploaded as raw XML and imported once however often it is posted; hostile,
foreign, oversized and non-XML uploads refused with a problem and nothing written; the work queue, one
line, and a budgetbeheerder assigning a church's gift of 75.00 to S1."""

from __future__ import annotations

from datetime import date

import pytest
from api import ACTORS, ApiClient, api_client
from litestar.testing import TestClient
from registry import count_rows
from test_import_camt_cli import XXE
from test_statement_import import entry, march_18, s1_exported, statement, tx

from budget_ledger.access import Role
from budget_ledger.adapters.bank.camt053_writer import write_camt053
from budget_ledger.adapters.http.app import create_app
from budget_ledger.chart import UNMATCHED, household_code

XML = {"Content-Type": "application/xml"}
TABLES = ("journal_entries", "bank_lines", "bank_statement_imports", "bank_line_assignments")


@pytest.fixture
def api(database, services):
    with api_client(database, services) as client:
        yield client


@pytest.fixture
def exported_run(services):
    return s1_exported(services)


def counts(database) -> dict[str, int]:
    return {table: count_rows(database, table) for table in TABLES}


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def upload(api, data: bytes, role: Role = Role.BATCH, headers: dict | None = None):
    return api.post("/v1/bank/statements", role=role, content=data, headers=headers or XML)


def church_gift() -> bytes:
    return write_camt053(statement(entry(0, date(2025, 3, 20), tx(
        "75.00", counterparty_iban="NL02ABNA0123456789", counterparty_name="Kerk De Ark",
        remittance_text="Voor de familie"), ref="G1"), sid="STMT-GIFT"))


def test_a_statement_posted_twice_is_imported_once(api, database, services, exported_run):
    h, run_id, exported = exported_run
    camt = write_camt053(march_18(exported, opening="3500.00", closing="3061.29"), style="ing")
    first = upload(api, camt)
    assert first.status_code == 201, first.text
    report = first.json()
    assert (report["lines_new"], report["lines_known"], report["version"]) == (2, 0, "camt.053.001.02")
    [stmt] = report["statements"]
    assert stmt["matched_by_kind"] == {"eigen-betaling": 2} and stmt["payments_executed"] == 2
    assert stmt["reconciled"] is True and stmt["closing_balance"] == stmt["ledger_closing_balance"] == "3061.29"
    after_first = counts(database)

    again = upload(api, camt, role=Role.BUDGETBEHEERDER, headers={"Content-Type": "text/xml; charset=utf-8"})
    assert again.status_code == 201
    assert (again.json()["lines_new"], again.json()["lines_known"]) == (0, 2)
    assert count_rows(database, "bank_lines") == after_first["bank_lines"] == 2
    assert count_rows(database, "journal_entries") == after_first["journal_entries"]
    assert {i.status.value for i in services.payment_runs.instructions(run_id) if i.iban} == {"executed"}
    trail = api.get("/v1/audit?kind=write", role=Role.AUDITOR).json()["items"]
    assert [r["actor"] for r in trail if r["entity"] == "bank-statement"] == [ACTORS[Role.BUDGETBEHEERDER],
                                                                             ACTORS[Role.BATCH]]


def test_hostile_foreign_and_other_files_are_refused_and_nothing_is_written(api, database, exported_run):
    h, _, exported = exported_run
    before = counts(database)
    hostile = problem_of(upload(api, XXE), 422)
    assert hostile["field"] == "file" and "DOCTYPE" in hostile["detail"]
    foreign = problem_of(upload(api, write_camt053(march_18(exported, iban="NL91ABNA0417164300"))), 422)
    assert foreign["field"] == "account" and "NL91ABNA0417164300" in foreign["detail"]
    pain = b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>'
    assert "pain.001" in problem_of(upload(api, pain), 422)["detail"]
    assert problem_of(upload(api, b""), 422)["field"] == "file"
    assert problem_of(upload(api, b"%PDF-1.7 afschrift"), 422)["field"] == "file"
    json_upload = problem_of(upload(api, b'{"statement": 1}', headers={"Content-Type": "application/json"}), 415)
    assert json_upload["field"] == "content-type"
    assert counts(database) == before


def test_an_upload_above_the_statement_limit_is_refused_unread(database, services, exported_run):
    settings = database.settings.model_copy(update={"statement_max_megabytes": 2})
    with TestClient(create_app(settings, database=database, services=services)) as client:
        api = ApiClient(client, services)
        h, _, exported = exported_run
        camt = write_camt053(march_18(exported))
        padded = camt.replace(b"</Document>", b"<!-- " + b"x" * 2_000_001 + b" --></Document>")
        before = counts(database)
        announced = problem_of(upload(api, padded), 413)
        assert announced["code"] == "statement-too-large" and "2 MB" in announced["detail"]
        chunks = [padded[i:i + 65_536] for i in range(0, len(padded), 65_536)]
        streamed = problem_of(upload(api, iter(chunks)), 413)  # chunked: no Content-Length to go by
        assert streamed["code"] == "statement-too-large"
        assert counts(database) == before
        # A statement within its own limit may be larger than the 1 MB a JSON body may be.
        fits = camt.replace(b"</Document>", b"<!-- " + b"x" * 1_500_000 + b" --></Document>")
        assert upload(api, fits).status_code == 201


def test_only_a_budgetbeheerder_or_the_batch_uploads(api, database, exported_run):
    h, _, exported = exported_run
    before = counts(database)
    for role in (Role.BEGELEIDER, Role.AUDITOR):
        problem_of(upload(api, write_camt053(march_18(exported)), role=role), 403)
    assert counts(database) == before


def test_the_work_queue_and_a_line_assigned_whole_to_a_household(api, database, services, exported_run):
    h, _, _ = exported_run
    assert upload(api, church_gift()).json()["statements"][0]["unmatched"] == 1
    queue = api.get("/v1/bank/queue", role=Role.AUDITOR).json()
    [line] = queue["items"]
    assert queue["total"] == 1 and line["status"] == "unmatched" and line["amount"] == "75.00"
    assert line["counterparty_name"] == "Kerk De Ark" and line["match_reason"]
    assert api.get("/v1/bank/queue?booked_before=2025-03-20").json()["total"] == 0
    assert api.get(f"/v1/bank/lines/{line['id']}", role=Role.BATCH).json()["assignments"] == []
    gifts_before = services.ledger.balance(household_code(h, "inkomen", "gift"))

    done = api.post(f"/v1/bank/lines/{line['id']}/assign", json={
        "parts": [{"household_id": h, "amount": "75.00", "source": "gift"}], "note": "gift van de kerk"})
    assert done.status_code == 200, done.text
    assigned = done.json()
    assert assigned["status"] == "assigned" and assigned["assigned_by"] == ACTORS[Role.BUDGETBEHEERDER]
    assert assigned["household_id"] == h
    assert [(a["household_id"], a["amount"], a["income_source"]) for a in assigned["assignments"]] == [
        (h, "75.00", "gift")]
    assert api.get("/v1/bank/queue").json()["total"] == 0
    assert services.ledger.balance(household_code(h, "inkomen", "gift")).cents == gifts_before.cents - 7500
    assert services.ledger.balance(UNMATCHED).cents == 0
    assert api.get(f"/v1/bank/lines/{line['id']}").json()["assignments"][0]["note"] == "gift van de kerk"
    again = problem_of(api.post(f"/v1/bank/lines/{line['id']}/assign", json={
        "parts": [{"household_id": h, "amount": "75.00"}], "note": "nog een keer"}), 409)
    assert again["field"] == "line_id"
    trail = api.get(f"/v1/audit?household_id={h}&kind=write", role=Role.AUDITOR).json()["items"]
    assert any(r["entity"] == "bank-line" and r["entity_id"] == str(line["id"]) for r in trail)


WRONG_PARTS = [
    ([{"household_id": 1, "amount": 75.0}], 400, "parts.0.amount"),
    ([{"household_id": 1, "amount": "75.00", "bron": "gift"}], 400, "parts.0.bron"),
    ([{"household_id": "een", "amount": "75.00"}], 400, "parts.0.household_id"),
    ([{"household_id": 1, "amount": "75.00", "source": "loterij"}], 400, "parts.0.source"),
    ([{"amount": "75.00"}], 400, "parts.0"),
    ([], 400, "parts"),
    ([{"household_id": 1, "amount": "70.00"}], 422, "parts"),
    ([{"household_id": 999999, "amount": "75.00"}], 404, "parts[0].household_id"),
    ([{"instruction_id": 999999, "amount": "75.00"}], 404, "parts[0].instruction_id"),
]


def test_a_wrong_assignment_is_a_problem_naming_the_field_and_books_nothing(api, database, exported_run):
    h, _, _ = exported_run
    upload(api, church_gift())
    [line] = api.get("/v1/bank/queue").json()["items"]
    before = counts(database)
    for parts, status, field in WRONG_PARTS:
        parts = [{**p, "household_id": h} if p.get("household_id") == 1 else p for p in parts]
        problem = problem_of(api.post(f"/v1/bank/lines/{line['id']}/assign",
                                      json={"parts": parts, "note": "gift kerk"}), status)
        assert problem["field"] == field, (parts, problem)
    problem = problem_of(api.post(f"/v1/bank/lines/{line['id']}/assign", json={"parts": [
        {"household_id": h, "amount": "75.00"}]}), 400)
    assert problem["field"] == "note"
    assert counts(database) == before
    assert api.get(f"/v1/bank/lines/{line['id']}").json()["status"] == "unmatched"


def test_only_a_budgetbeheerder_assigns_and_a_begeleider_reads_no_bank_lines(api, database, exported_run):
    h, _, _ = exported_run
    upload(api, church_gift())
    [line] = api.get("/v1/bank/queue").json()["items"]
    before = counts(database)
    for role in (Role.BATCH, Role.AUDITOR, Role.BEGELEIDER):
        problem_of(api.post(f"/v1/bank/lines/{line['id']}/assign", role=role, json={
            "parts": [{"household_id": h, "amount": "75.00"}], "note": "gift kerk"}), 403)
    problem_of(api.get("/v1/bank/queue", role=Role.BEGELEIDER), 403)
    problem_of(api.get(f"/v1/bank/lines/{line['id']}", role=Role.BEGELEIDER), 403)
    assert problem_of(api.get("/v1/bank/lines/999999"), 404)["field"] == "line_id"
    assert counts(database) == before
