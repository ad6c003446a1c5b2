"""The Litestar app: health, the OpenAPI document, and problem details for errors."""

from __future__ import annotations

from litestar.testing import TestClient

from budget_ledger.adapters.db.engine import Database
from budget_ledger.adapters.db.migrate import head_revision
from budget_ledger.adapters.http.app import create_app
from budget_ledger.adapters.http.problems import ledger_problem
from budget_ledger.ledger import InsufficientFundsError, UnbalancedEntryError


def test_health_reports_the_database_and_its_schema(database):
    with TestClient(create_app(database.settings, database=database)) as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["schema_revision"] == response.json()["schema_expected"] == head_revision()


def test_health_on_an_unmigrated_database_is_503_problem_details(tmp_path, database):
    settings = database.settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.sqlite3'}"})
    with TestClient(create_app(settings, database=Database(settings))) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "budget-ledger db upgrade" in response.json()["detail"]


def test_the_openapi_document_is_served(database):
    with TestClient(create_app(database.settings, database=database)) as client:
        spec = client.get("/schema/openapi.json").json()
        assert client.get("/schema").status_code == 200
    assert spec["openapi"].startswith("3.1")
    assert "/health" in spec["paths"]


def test_ledger_refusals_become_problem_details_naming_the_field():
    problem = ledger_problem(InsufficientFundsError("huishouden:1:basis", 70000, 72500, field="postings"))
    assert problem.status_code == 409
    assert problem.extra == {"code": "insufficient-funds", "field": "postings", "account": "huishouden:1:basis",
                             "available": "700.00", "requested": "725.00"}
    unbalanced = ledger_problem(UnbalancedEntryError("postings add up to 0.01", field="postings"))
    assert unbalanced.status_code == 422 and unbalanced.extra["field"] == "postings"
