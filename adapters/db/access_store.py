"""API tokens, caseloads and the audit trail in SQL; rows become budget_ledger.access's records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from budget_ledger.access import ApiToken, AuditRecord, Role
from budget_ledger.adapters.db.access_tables import api_tokens, audit_log
from budget_ledger.adapters.db.registry_tables import household_begeleiders


def _token(row: Any) -> ApiToken:
    return ApiToken(id=row.id, actor=row.actor, role=Role(row.role), label=row.label, created_by=row.created_by,
                    created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at,
                    revoked_by=row.revoked_by)


class SqlAccessStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert_token(self, **values: Any) -> int:
        return int(self.conn.execute(insert(api_tokens).returning(api_tokens.c.id), values).scalar_one())

    def token(self, token_id: int) -> ApiToken | None:
        row = self.conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).one_or_none()
        return _token(row) if row else None

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self.conn.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash)).one_or_none()
        return _token(row) if row else None

    def tokens(self) -> list[ApiToken]:
        return [_token(row) for row in self.conn.execute(select(api_tokens).order_by(api_tokens.c.id))]

    def revoke_token(self, token_id: int, actor: str, now: datetime) -> None:
        self.conn.execute(update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                          .values(revoked_at=now, revoked_by=actor))

    def caseload(self, begeleider: str) -> set[int]:
        return set(self.conn.scalars(select(household_begeleiders.c.household_id)
                                     .where(household_begeleiders.c.begeleider == begeleider)))

    def in_caseload(self, begeleider: str, household_id: int) -> bool:
        return self.conn.execute(select(household_begeleiders.c.household_id).where(
            household_begeleiders.c.begeleider == begeleider,
            household_begeleiders.c.household_id == household_id).limit(1)).first() is not None

    def insert_audit(self, records: Sequence[AuditRecord]) -> None:
        self.conn.execute(insert(audit_log), [
            dict(at=r.at, request_id=r.request_id, actor=r.actor, role=r.role, kind=r.kind, action=r.action[:300],
                 entity=r.entity[:100], entity_id=r.entity_id, household_id=r.household_id,
                 status_code=r.status_code, detail=r.detail) for r in records])

    def audit(self, *, actor: str | None, household_id: int | None, since: datetime | None, until: datetime | None,
              kind: str | None, limit: int, offset: int) -> list[AuditRecord]:
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
        if actor is not None:
            query = query.where(audit_log.c.actor == actor)
        if household_id is not None:
            query = query.where(audit_log.c.household_id == household_id)
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        if until is not None:
            query = query.where(audit_log.c.at < until)
        if kind is not None:
            query = query.where(audit_log.c.kind == kind)
        return [AuditRecord(at=r.at, request_id=r.request_id, actor=r.actor, role=r.role, kind=r.kind,
                            action=r.action, entity=r.entity, entity_id=r.entity_id, household_id=r.household_id,
                            status_code=r.status_code, detail=r.detail, id=r.id) for r in self.conn.execute(query)]
