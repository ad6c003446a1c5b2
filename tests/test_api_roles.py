"""The role matrix (issue 7): every role against every endpoint, allowed or refused, asserted.

`MATRIX` is the decision, route by route: B budgetbeheerder, G begeleider, J batch (the automated runs),
A auditor. A role outside a route's letters gets 403 problem details and nothing is written; a role inside
them is let through (it may still get 404 for a household outside a begeleider's caseload, or 400 for the
empty body these requests send — never 403). A new route fails the first test until it is given its row.

What the letters say, in short: only budgetbeheerders write, except that the batch starts payment runs,
exports them, uploads statements and scans for warnings, and a begeleider acknowledges or resolves the
warnings meant for them; auditors read everything, including the audit trail; begeleiders read only their
own caseload (enforced per household, so they pass the guard of household routes) and never the
organisation-wide lists (ledger, runs, bank, monitoring).
"""

from __future__ import annotations

import re

import pytest
from api import ACTORS, api_client
from registry import count_rows
from test_payment_runs import add_s1

from budget_ledger.access import Role

LETTERS = {Role.BUDGETBEHEERDER: "B", Role.BEGELEIDER: "G", Role.BATCH: "J", Role.AUDITOR: "A"}

MATRIX = {
    ("GET", "/v1/audit"): "BA",
    ("GET", "/v1/bank/lines/{line_id:int}"): "BJA",
    ("POST", "/v1/bank/lines/{line_id:int}/assign"): "B",
    ("GET", "/v1/bank/queue"): "BJA",
    ("GET", "/v1/bank/statements"): "BJA",
    ("POST", "/v1/bank/statements"): "BJ",
    ("GET", "/v1/begeleider/households"): "BGA",
    ("GET", "/v1/begeleider/households/{household_id:int}/leefgeld"): "BGA",
    ("GET", "/v1/creditors/{creditor_id:int}"): "BGJA",
    ("GET", "/v1/gemeenten"): "BGJA",
    ("POST", "/v1/gemeenten"): "B",
    ("GET", "/v1/gemeenten/{code:str}"): "BGJA",
    ("PUT", "/v1/gemeenten/{code:str}/settings"): "B",
    ("GET", "/v1/households"): "BGJA",
    ("POST", "/v1/households"): "B",
    ("GET", "/v1/households/{household_id:int}"): "BGJA",
    ("GET", "/v1/households/{household_id:int}/balances"): "BGJA",
    ("DELETE", "/v1/households/{household_id:int}/begeleiders/{begeleider:str}"): "B",
    ("PUT", "/v1/households/{household_id:int}/begeleiders/{begeleider:str}"): "B",
    ("GET", "/v1/households/{household_id:int}/budgetplans/{month:str}"): "BGJA",
    ("POST", "/v1/households/{household_id:int}/budgetplans/{month:str}"): "B",
    ("GET", "/v1/households/{household_id:int}/budgetplans/{month:str}/document"): "BGJA",
    ("GET", "/v1/households/{household_id:int}/budgetplans/{month:str}/versions"): "BGJA",
    ("GET", "/v1/households/{household_id:int}/creditors"): "BGJA",
    ("POST", "/v1/households/{household_id:int}/creditors"): "B",
    ("GET", "/v1/households/{household_id:int}/creditors/{creditor_id:int}"): "BGJA",
    ("DELETE", "/v1/households/{household_id:int}/creditors/{creditor_id:int}/address"): "B",
    ("PUT", "/v1/households/{household_id:int}/creditors/{creditor_id:int}/address"): "B",
    ("POST", "/v1/households/{household_id:int}/creditors/{creditor_id:int}/payers"): "B",
    ("POST", "/v1/households/{household_id:int}/creditors/{creditor_id:int}/schedules"): "B",
    ("PUT", "/v1/households/{household_id:int}/creditors/{creditor_id:int}/schedules/{schedule_id:int}"): "B",
    ("GET", "/v1/households/{household_id:int}/eligibility"): "BGJA",
    ("POST", "/v1/households/{household_id:int}/eligibility/overrides"): "B",
    ("GET", "/v1/households/{household_id:int}/entries"): "BGJA",
    ("GET", "/v1/households/{household_id:int}/expected-income"): "BGJA",
    ("POST", "/v1/households/{household_id:int}/expected-income"): "B",
    ("GET", "/v1/households/{household_id:int}/expected-income/{income_id:int}"): "BGJA",
    ("POST", "/v1/households/{household_id:int}/expected-income/{income_id:int}/rejection"): "B",
    ("GET", "/v1/households/{household_id:int}/forecast"): "BGJA",
    ("GET", "/v1/households/{household_id:int}/journal"): "BGJA",
    ("GET", "/v1/households/{household_id:int}/leefgeld-accounts"): "BGJA",
    ("POST", "/v1/households/{household_id:int}/leefgeld-accounts"): "B",
    ("GET", "/v1/households/{household_id:int}/members"): "BGJA",
    ("POST", "/v1/households/{household_id:int}/members"): "B",
    ("GET", "/v1/households/{household_id:int}/plan"): "BGJA",
    ("GET", "/v1/households/{household_id:int}/profile"): "BGJA",
    ("GET", "/v1/households/{household_id:int}/profile-assignments"): "BGJA",
    ("POST", "/v1/households/{household_id:int}/profile-assignments"): "B",
    ("GET", "/v1/households/{household_id:int}/trajectories"): "BGJA",
    ("POST", "/v1/households/{household_id:int}/trajectories"): "B",
    ("GET", "/v1/households/{household_id:int}/trajectories/{trajectory_id:int}"): "BGJA",
    ("POST", "/v1/households/{household_id:int}/trajectories/{trajectory_id:int}/activate"): "B",
    ("POST", "/v1/households/{household_id:int}/trajectories/{trajectory_id:int}/afbouw"): "B",
    ("POST", "/v1/households/{household_id:int}/trajectories/{trajectory_id:int}/end"): "B",
    ("POST", "/v1/households/{household_id:int}/trajectories/{trajectory_id:int}/evaluations"): "B",
    ("POST", "/v1/households/{household_id:int}/trajectories/{trajectory_id:int}/extend"): "B",
    ("POST", "/v1/households/{household_id:int}/trajectories/{trajectory_id:int}/training"): "B",
    ("GET", "/v1/households/{household_id:int}/what-if"): "BGJA",
    ("GET", "/v1/ledger/balances"): "BJA",
    ("POST", "/v1/ledger/entries"): "B",
    ("GET", "/v1/ledger/entries/{entry_id:int}"): "BGJA",
    ("POST", "/v1/ledger/entries/{entry_id:int}/reversal"): "B",
    ("GET", "/v1/ledger/journal"): "BJA",
    ("GET", "/v1/ledger/trial-balance"): "BJA",
    ("GET", "/v1/me"): "BGJA",
    ("GET", "/v1/monitoring"): "BJA",
    ("GET", "/v1/payment-runs"): "BJA",
    ("POST", "/v1/payment-runs"): "BJ",
    ("GET", "/v1/payment-runs/{run_id:int}"): "BJA",
    ("POST", "/v1/payment-runs/{run_id:int}/approve"): "B",
    ("POST", "/v1/payment-runs/{run_id:int}/cancel"): "B",
    ("GET", "/v1/payment-runs/{run_id:int}/notes"): "BJA",
    ("GET", "/v1/payment-runs/{run_id:int}/instructions"): "BJA",
    ("POST", "/v1/payment-runs/{run_id:int}/instructions/{instruction_id:int}/reject"): "B",
    ("POST", "/v1/payment-runs/{run_id:int}/pain001"): "BJ",
    ("GET", "/v1/tokens"): "B",
    ("POST", "/v1/tokens"): "B",
    ("DELETE", "/v1/tokens/{token_id:int}"): "B",
    ("GET", "/v1/trajectories/{trajectory_id:int}"): "BGJA",
    ("GET", "/v1/warnings"): "BGJA",
    ("POST", "/v1/warnings/scan"): "BJ",
    ("GET", "/v1/warnings/{warning_id:int}"): "BGJA",
    ("POST", "/v1/warnings/{warning_id:int}/acknowledge"): "BG",
    ("POST", "/v1/warnings/{warning_id:int}/resolve"): "BG",
}

WRITTEN = ("households", "journal_entries", "payment_runs", "bank_lines", "api_tokens", "trajectories", "creditors",
           "expected_income", "gemeenten", "warnings")


@pytest.fixture
def api(database, services):
    h = add_s1(services)
    services.households.assign_begeleider(h, ACTORS[Role.BEGELEIDER], "beheerder.anna")
    with api_client(database, services) as client:
        client.household = h
        yield client


def operations(app) -> set[tuple[str, str]]:
    return {(method, route.path) for route in app.routes for method in getattr(route, "methods", ())
            if method not in ("OPTIONS", "HEAD") and route.path.startswith("/v1")}


def test_every_route_has_its_row_in_the_matrix(api):
    assert operations(api.client.app) == set(MATRIX)


def url_of(path: str, household: int) -> str:
    url = path.replace("{household_id:int}", str(household)).replace("{code:str}", "roermond")
    url = url.replace("{month:str}", "2025-04")
    return re.sub(r"\{[a-z_]+:str\}", "x", re.sub(r"\{[a-z_]+:int\}", "1", url))


@pytest.mark.parametrize("role", list(Role))
def test_each_role_is_let_through_or_refused_exactly_as_the_matrix_says(api, database, role):
    refused = {key for key, letters in MATRIX.items() if LETTERS[role] not in letters}
    before = {table: count_rows(database, table) for table in WRITTEN}
    wrong = []
    # The refused ones first: together they must have written nothing at all.
    for method, path in sorted(refused):
        response = api.request(method, url_of(path, api.household), role, json=None if method == "GET" else {})
        if response.status_code != 403 or not response.headers["content-type"].startswith("application/problem+json"):
            wrong.append(f"{method} {path}: {response.status_code} for {role.value}, expected 403")
    assert {table: count_rows(database, table) for table in WRITTEN} == before
    for method, path in sorted(set(MATRIX) - refused):
        response = api.request(method, url_of(path, api.household), role, json=None if method == "GET" else {})
        if response.status_code == 403:
            wrong.append(f"{method} {path}: 403 for {role.value}, expected to be let through")
    assert wrong == []
