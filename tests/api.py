"""The API under test: a Litestar TestClient on the test database, with one token per role.

`ApiClient.as_(role)` sends that role's bearer token; `ApiClient.begeleider(name)` one of a named
begeleider (their caseload is the households assigned to that name)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient

from budget_ledger.access import Role
from budget_ledger.adapters.http.app import create_app

ISSUER = "beheerder.anna"
ACTORS = {Role.BUDGETBEHEERDER: "beheerder.anna", Role.BEGELEIDER: "begeleider.bo", Role.BATCH: "batch.nacht",
          Role.AUDITOR: "auditor.ida"}


class ApiClient:
    def __init__(self, client: TestClient, services: Any) -> None:
        self.client = client
        self.services = services
        self.tokens = {role: self.token(actor, role) for role, actor in ACTORS.items()}

    def token(self, actor: str, role: Role) -> str:
        _, secret = self.services.access.issue({"actor": actor, "role": role}, ISSUER)
        return secret

    def headers(self, role: Role | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    def request(self, method: str, path: str, role: Role | None = Role.BUDGETBEHEERDER, **kwargs: Any):
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, role: Role | None = Role.BUDGETBEHEERDER, **kwargs: Any):
        return self.request("GET", path, role, **kwargs)

    def post(self, path: str, role: Role | None = Role.BUDGETBEHEERDER, **kwargs: Any):
        return self.request("POST", path, role, **kwargs)


@contextmanager
def api_client(database, services) -> Iterator[ApiClient]:
    with TestClient(create_app(database.settings, database=database, services=services)) as client:
        yield ApiClient(client, services)
