"""Authentication (bearer tokens) and authorisation (roles, guards) for the API.

Every route under /v1 needs `Authorization: Bearer <token>`; /health and the OpenAPI pages do not. A
missing, unknown, expired or revoked token is 401; a known token whose role may not use a route is 403.
Which role may use what is declared on each route with `allow(...)`; a begeleider's caseload is enforced by
the handlers through `AccessService.require_visible` (404 outside it, indistinguishable from "no such
household").
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from budget_ledger.access import Principal, Role
from budget_ledger.services import Services

PUBLIC = ["^/health$", "^/schema"]
_CACHE_SECONDS = 10.0
"""How long a checked token is trusted without asking the database again; a revoked token stops working
within this time."""


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    _cache: dict[str, tuple[float, Principal]] = {}

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthorizedException(detail="send Authorization: Bearer <token>",
                                         headers={"WWW-Authenticate": 'Bearer realm="budget_ledger"'})
        secret = secret.strip()
        cached = self._cache.get(secret)
        now = time.monotonic()
        if cached is not None and now - cached[0] < _CACHE_SECONDS:
            return AuthenticationResult(user=cached[1], auth=secret)
        services: Services = connection.app.state.services
        principal = await anyio.to_thread.run_sync(services.access.authenticate, secret)
        if principal is None:
            self._cache.pop(secret, None)
            raise NotAuthorizedException(detail="the token is unknown, expired or revoked",
                                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[secret] = (now, principal)
        return AuthenticationResult(user=principal, auth=secret)


def allow(*roles: Role) -> Callable[[ASGIConnection, BaseRouteHandler], None]:
    """A guard: only these roles may use the route."""
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        principal = connection.user
        if not isinstance(principal, Principal) or principal.role not in allowed:
            raise PermissionDeniedException(detail=
                f"the role {getattr(principal, 'role', '?')} may not do this; it is for: "
                + ", ".join(sorted(r.value for r in allowed)))

    guard.__name__ = "allow_" + "_".join(sorted(r.value for r in allowed))
    return guard


EVERYONE = allow(*Role)
READERS = allow(Role.BUDGETBEHEERDER, Role.AUDITOR, Role.BATCH)
"""Organisation-wide reads: not for a begeleider, who sees only their own caseload."""
BEHEER = allow(Role.BUDGETBEHEERDER)
BEHEER_OR_BATCH = allow(Role.BUDGETBEHEERDER, Role.BATCH)
AUDITORS = allow(Role.AUDITOR, Role.BUDGETBEHEERDER)
