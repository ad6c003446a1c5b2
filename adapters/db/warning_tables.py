"""Tables of the warnings service (created by migration 0008; see it for the guarantees).

A warning is stored once per business key: (household, type, subject, due date), written out in `key`,
which is unique, so a daily scan that finds the same condition again finds the row it stored before. Its
events (raised, acknowledged, resolved, reopened, escalated) are append-only.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
)

import budget_ledger.adapters.db.registry_tables  # noqa: F401 - households, referred to below
from budget_ledger.adapters.db.models import Base, BigId, UtcDateTime

metadata = Base.metadata

WARNING_STATUSES = ("open", "acknowledged", "resolved")
SEVERITIES = ("info", "warning", "critical")
ROLES = ("budgetbeheerder", "begeleider")
EVENT_ACTIONS = ("raised", "acknowledged", "resolved", "reopened", "escalated", "deescalated")
KEY_CONSTRAINT = "uq_warnings_key"

warnings = Table(
    "warnings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False),
    Column("type", String(60), nullable=False, index=True),
    # NULL for a warning about the organisation as a whole (a reconciliation difference, issue 6).
    Column("household_id", BigId, ForeignKey("households.id"), nullable=True, index=True),
    Column("subject", String(200), nullable=False),
    Column("due_on", Date, nullable=False, index=True),
    Column("severity", String(16), nullable=False),
    Column("role", String(20), nullable=False),
    Column("message", Text, nullable=False),
    Column("details", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("raised_on", Date, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("acknowledged_by", String(200), nullable=True),
    Column("acknowledged_at", UtcDateTime(), nullable=True),
    Column("acknowledged_note", Text, nullable=True),
    Column("resolved_by", String(200), nullable=True),
    Column("resolved_at", UtcDateTime(), nullable=True),
    Column("resolved_note", Text, nullable=True),
    UniqueConstraint("key", name=KEY_CONSTRAINT),
    CheckConstraint(f"status IN {WARNING_STATUSES!r}", name="warning_status"),
    CheckConstraint(f"severity IN {SEVERITIES!r}", name="warning_severity"),
    CheckConstraint(f"role IN {ROLES!r}", name="warning_role"),
    CheckConstraint("status <> 'acknowledged' OR (acknowledged_by IS NOT NULL AND acknowledged_at IS NOT NULL)",
                    name="acknowledged_by_someone"),
    CheckConstraint("status <> 'resolved' OR (resolved_by IS NOT NULL AND resolved_at IS NOT NULL "
                    "AND resolved_note IS NOT NULL)", name="resolved_with_note"),
)

warning_events = Table(
    "warning_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("warning_id", BigId, ForeignKey("warnings.id"), nullable=False, index=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(16), nullable=False),
    Column("note", Text, nullable=True),
    CheckConstraint(f"action IN {EVENT_ACTIONS!r}", name="event_action"),
)
