"""Who am I, API tokens (budgetbeheerder), and the audit trail (auditor, budgetbeheerder)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from budget_ledger.access import ApiToken, AuditRecord, IssueToken, Principal
from budget_ledger.adapters.http.audit import audited_write, principal_of
from budget_ledger.adapters.http.auth import AUDITORS, BEHEER, EVERYONE
from budget_ledger.adapters.http.pagination import LIMIT, OFFSET, Page, page_of
from budget_ledger.services import Services


@dataclass(frozen=True)
class Me:
    actor: str
    role: str


@dataclass(frozen=True)
class TokenView:
    id: int
    actor: str
    role: str
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenView:
        return cls(token.id, token.actor, token.role.value, token.label, token.created_by, token.created_at,
                   token.expires_at, token.revoked_at)


@dataclass(frozen=True)
class IssuedToken:
    token: TokenView
    secret: str
    """Shown once: only its digest is stored."""


@dataclass(frozen=True)
class AuditEntry:
    id: int | None
    at: datetime
    request_id: str
    actor: str
    role: str
    kind: str
    action: str
    entity: str
    entity_id: str | None
    household_id: int | None
    status_code: int

    @classmethod
    def of(cls, r: AuditRecord) -> AuditEntry:
        return cls(r.id, r.at, r.request_id, r.actor, r.role, r.kind, r.action, r.entity, r.entity_id,
                   r.household_id, r.status_code)


class AccessController(Controller):
    path = "/"
    tags = ["access"]

    @get("/me", guards=[EVERYONE], summary="Who the token acts as")
    async def me(self, request: Request) -> Me:
        principal: Principal = principal_of(request)
        return Me(principal.actor, principal.role.value)

    @get("/tokens", guards=[BEHEER], sync_to_thread=True, summary="API tokens (never their secrets)")
    def tokens(self, services: NamedDependency[Services], limit: Annotated[int, LIMIT] = 50,
               offset: Annotated[int, OFFSET] = 0) -> Page[TokenView]:
        return page_of([TokenView.of(t) for t in services.access.tokens()], limit, offset)

    @post("/tokens", guards=[BEHEER], sync_to_thread=True, summary="Issue a token; its secret is shown once")
    def issue(self, request: Request, services: NamedDependency[Services], data: JSONBody[IssueToken]) -> IssuedToken:
        token, secret = services.access.issue(data, principal_of(request).actor)
        audited_write(request, "token", token.id)
        return IssuedToken(TokenView.of(token), secret)

    @delete("/tokens/{token_id:int}", guards=[BEHEER], sync_to_thread=True, status_code=200,
            summary="Revoke a token")
    def revoke(self, request: Request, services: NamedDependency[Services], token_id: FromPath[int]) -> TokenView:
        audited_write(request, "token", token_id)
        return TokenView.of(services.access.revoke(token_id, principal_of(request).actor))

    @get("/audit", guards=[AUDITORS], sync_to_thread=True, summary="The audit trail, newest first")
    def audit(self, services: NamedDependency[Services], actor: FromQuery[str | None] = None,
              household_id: Annotated[int | None, QueryParameter(ge=1)] = None,
              since: FromQuery[datetime | None] = None, until: FromQuery[datetime | None] = None,
              kind: FromQuery[Literal["read", "write"] | None] = None,
              limit: Annotated[int, LIMIT] = 50, offset: Annotated[int, OFFSET] = 0) -> Page[AuditEntry]:
        found = services.access.audit(actor=actor, household_id=household_id, since=since, until=until, kind=kind,
                                      limit=limit + 1, offset=offset)
        more = len(found) > limit
        items = [AuditEntry.of(r) for r in found[:limit]]
        return Page(items=items, total=offset + len(items) + (1 if more else 0), limit=limit, offset=offset)


ROUTES = [AccessController]
