"""Tables of API access (created by migration 0012; see it for the guarantees): bearer tokens, stored only
as their SHA-256 digest, and the audit trail of writes and of reads of personal data."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Integer, String, Table, Text, UniqueConstraint

import budget_ledger.adapters.db.registry_tables  # noqa: F401 - households, referred to by audit rows
from budget_ledger.adapters.db.models import Base, BigId, UtcDateTime

metadata = Base.metadata

ROLES = ("budgetbeheerder", "begeleider", "batch", "auditor")

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # Who the token acts as: recorded as the actor of every write it makes (a begeleider's name is also
    # the name their caseload is assigned under).
    Column("actor", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("label", String(200), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("revoked_by", String(200), nullable=True),
    UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    CheckConstraint(f"role IN {ROLES!r}", name="token_role"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False, index=True),
    Column("request_id", String(64), nullable=False),
    Column("actor", String(200), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    # "read" or "write", and what was done in words of the API: "POST /v1/households".
    Column("kind", String(8), nullable=False),
    Column("action", String(300), nullable=False),
    Column("entity", String(100), nullable=False),
    Column("entity_id", String(100), nullable=True),
    Column("household_id", BigId, nullable=True, index=True),
    Column("status_code", Integer, nullable=False),
    Column("detail", Text, nullable=True),
    CheckConstraint("kind IN ('read', 'write')", name="audit_kind"),
)
