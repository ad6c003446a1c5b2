"""Who may use the API: bearer tokens, roles, and the audit trail of writes and of reads of personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api import ACTORS, ISSUER, api_client

from budget_ledger.access import Role, digest


@pytest.fixture
def api(database, services):
    with api_client(database, services) as client:
        yield client


def test_without_a_token_every_v1_route_is_401_problem_details_but_health_and_the_schema_are_open(api):
    refused = api.get("/v1/me", role=None)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert api.get("/v1/me", role=None, headers={"Authorization": "Bearer bl_not-a-token"}).status_code == 401
    assert api.get("/health", role=None).status_code == 200
    assert api.get("/schema/openapi.json", role=None).status_code == 200


@pytest.mark.parametrize("role", list(Role))
def test_each_token_says_who_it_acts_as(api, role):
    response = api.get("/v1/me", role=role)
    assert response.status_code == 200 and response.json() == {"actor": ACTORS[role], "role": role.value}


def test_a_token_is_stored_only_as_its_digest_and_shown_once(api, database):
    from sqlalchemy import text

    issued = api.post("/v1/tokens", json={"actor": "begeleider.cas", "role": "begeleider", "label": "laptop"})
    assert issued.status_code == 201
    secret = issued.json()["secret"]
    with database.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM api_tokens WHERE actor = 'begeleider.cas'")).scalar_one()
    assert stored == digest(secret) and secret not in str(api.get("/v1/tokens").json())
    assert api.client.get("/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()["actor"] == "begeleider.cas"


def test_a_revoked_or_expired_token_no_longer_works(api, services):
    token, secret = services.access.issue({"actor": "x", "role": "batch"}, ISSUER)
    assert api.post(f"/v1/tokens/{token.id}", role=Role.BUDGETBEHEERDER).status_code in (404, 405)
    assert api.request("DELETE", f"/v1/tokens/{token.id}").status_code == 200
    assert services.access.authenticate(secret) is None
    _, old = services.access.issue({"actor": "y", "role": "batch",
                                    "expires_at": datetime.now(UTC) - timedelta(minutes=1)}, ISSUER)
    assert api.client.get("/v1/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401


@pytest.mark.parametrize("role, allowed", [(Role.BUDGETBEHEERDER, True), (Role.BEGELEIDER, False),
                                           (Role.BATCH, False), (Role.AUDITOR, False)])
def test_only_a_budgetbeheerder_issues_tokens(api, role, allowed):
    response = api.post("/v1/tokens", role=role, json={"actor": "z", "role": "auditor"})
    assert response.status_code == (201 if allowed else 403)
    if not allowed:
        assert response.headers["content-type"].startswith("application/problem+json")


def test_every_write_is_in_the_audit_trail_with_its_request_id_and_an_auditor_can_read_it(api):
    api.post("/v1/tokens", json={"actor": "a", "role": "auditor"}, headers={"X-Request-ID": "req-42"})
    api.post("/v1/tokens", role=Role.BEGELEIDER, json={"actor": "b", "role": "auditor"})  # refused, still audited
    trail = api.get("/v1/audit?kind=write", role=Role.AUDITOR)
    assert trail.status_code == 200
    items = trail.json()["items"]
    refused, issued = items[0], items[1]
    assert issued["request_id"] == "req-42" and issued["actor"] == ACTORS[Role.BUDGETBEHEERDER]
    assert issued["action"] == "POST /v1/tokens" and issued["status_code"] == 201 and issued["entity"] == "token"
    assert refused["actor"] == ACTORS[Role.BEGELEIDER] and refused["status_code"] == 403
    assert api.get("/v1/audit", role=Role.BEGELEIDER).status_code == 403


def test_bad_input_is_a_400_problem_naming_the_field_and_writes_nothing(api, services):
    before = len(services.access.tokens())
    for body in ({"actor": "a", "role": "koning"}, {"actor": "a", "role": "auditor", "extra": 1}, {"role": "auditor"}):
        response = api.post("/v1/tokens", json=body)
        assert response.status_code == 400, body
        problem = response.json()
        assert problem["errors"] and problem["field"] and response.headers["content-type"].startswith(
            "application/problem+json")
    assert len(services.access.tokens()) == before
