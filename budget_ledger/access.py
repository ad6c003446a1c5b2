"""Who may use the API, as what, and what they did: bearer tokens with a role, the begeleider's caseload,
and the audit trail.

Roles (issue 7):
- budgetbeheerder: everything, reading and writing;
- begeleider: reads, and only the households assigned to them (`household_begeleiders`); any other
  household does not exist for them (404, the same answer as for an id that exists nowhere). The one
  thing they change is the state of a warning meant for them (the training, the hand-over of creditors
  to the client's incasso) on their own households: acknowledge or resolve it with a note; money, never;
- batch: the automated runs (payment runs, statement imports, the warnings scan);
- auditor: reads everything, writes nothing, and may query the audit trail.

A token is a random secret (`bl_` + 43 URL-safe characters, 256 bits) shown once when issued; the
database keeps only its SHA-256 digest, so a stolen database holds no usable token (a fast digest is enough
for a random secret of this length; it is not a password). Tokens can expire and be revoked.

Every write, and every read of personal data, is recorded in the audit trail by the HTTP layer
(`AuditService.record`), append-only in the database.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from budget_ledger.clock import Clock, system_clock
from budget_ledger.errors import ConflictError, NotFoundError
from budget_ledger.inputs import Command, validated
from budget_ledger.ports import UnitOfWork
from budget_ledger.transactions import Transactions

TOKEN_PREFIX = "bl_"


class Role(StrEnum):
    BUDGETBEHEERDER = "budgetbeheerder"
    BEGELEIDER = "begeleider"
    BATCH = "batch"
    AUDITOR = "auditor"


WRITERS = frozenset({Role.BUDGETBEHEERDER, Role.BATCH})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a request, as its token says."""

    actor: str
    role: Role
    token_id: int | None = None

    @property
    def may_write(self) -> bool:
        return self.role in WRITERS


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    actor: str
    role: Role
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None


class IssueToken(Command):
    actor: str = Field(min_length=1, max_length=200, description="who the token acts as (a begeleider's name)")
    role: Role
    label: str = Field(default="", max_length=200, description="what the token is for")
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    at: datetime
    request_id: str
    actor: str
    role: str
    kind: str
    """read or write"""
    action: str
    entity: str
    entity_id: str | None
    household_id: int | None
    status_code: int
    detail: str | None = None
    id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "request_id": self.request_id, "actor": self.actor,
                "role": self.role, "kind": self.kind, "action": self.action, "entity": self.entity,
                "entity_id": self.entity_id, "household_id": self.household_id, "status_code": self.status_code,
                "detail": self.detail}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AccessService:
    def __init__(self, transactions: Transactions, clock: Clock = system_clock) -> None:
        self._tx = transactions
        self._clock = clock

    def issue(self, data: IssueToken | Mapping[str, Any], actor: str) -> tuple[ApiToken, str]:
        """A new token and its secret; the secret is not stored and cannot be shown again."""
        command = validated(IssueToken, data)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)

        def work(uow: UnitOfWork) -> ApiToken:
            token_id = uow.access.insert_token(actor=command.actor, role=command.role.value, token_hash=digest(secret),
                                               label=command.label, created_by=actor, created_at=self._clock(),
                                               expires_at=command.expires_at)
            return uow.access.token(token_id)

        return self._tx.run(work), secret

    def authenticate(self, secret: str) -> Principal | None:
        """The principal a presented secret stands for; None when it is unknown, expired or revoked."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        token = self._tx.run(lambda uow: uow.access.token_by_hash(digest(secret)), write=False)
        if token is None or token.revoked_at is not None:
            return None
        if token.expires_at is not None and token.expires_at <= self._clock():
            return None
        return Principal(token.actor, token.role, token.id)

    def revoke(self, token_id: int, actor: str) -> ApiToken:
        def work(uow: UnitOfWork) -> ApiToken:
            token = uow.access.token(token_id)
            if token is None:
                raise NotFoundError(f"there is no token {token_id}", field="token_id")
            if token.revoked_at is not None:
                raise ConflictError(f"token {token_id} was revoked already", field="token_id")
            uow.access.revoke_token(token_id, actor, self._clock())
            return uow.access.token(token_id)

        return self._tx.run(work)

    def tokens(self) -> list[ApiToken]:
        return self._tx.run(lambda uow: uow.access.tokens(), write=False)

    # -- caseloads -------------------------------------------------------------------------------------

    def caseload(self, begeleider: str) -> frozenset[int]:
        return frozenset(self._tx.run(lambda uow: uow.access.caseload(begeleider), write=False))

    def require_visible(self, principal: Principal, household_id: int) -> None:
        """A begeleider asking for a household outside their caseload gets the answer for a household that
        does not exist: nothing about it leaks, not even that it exists."""
        if principal.role is Role.BEGELEIDER and not self._tx.run(
                lambda uow: uow.access.in_caseload(principal.actor, household_id), write=False):
            raise NotFoundError(f"there is no household {household_id}", field="household_id")

    # -- the audit trail ---------------------------------------------------------------------------------

    def record(self, records: Sequence[AuditRecord]) -> None:
        if records:
            self._tx.run(lambda uow: uow.access.insert_audit(records))

    def audit(self, *, actor: str | None = None, household_id: int | None = None, since: datetime | None = None,
              until: datetime | None = None, kind: str | None = None, limit: int = 100, offset: int = 0
              ) -> list[AuditRecord]:
        return self._tx.run(lambda uow: uow.access.audit(actor=actor, household_id=household_id, since=since,
                                                         until=until, kind=kind, limit=limit, offset=offset),
                            write=False)
