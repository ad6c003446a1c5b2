"""Warnings and their events in SQL (SQLAlchemy Core on the unit of work's connection); rows become
budget_ledger.warnings' frozen dataclasses here."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from budget_ledger.adapters.db.registry_tables import gemeenten, household_begeleiders, households
from budget_ledger.adapters.db.warning_tables import warning_events, warnings
from budget_ledger.rules.plan import Severity
from budget_ledger.warnings import (
    NewWarning,
    WarningEvent,
    WarningRecord,
    WarningRole,
    WarningStatus,
    WarningType,
)

_OPTIONAL = ("acknowledged_by", "acknowledged_at", "acknowledged_note", "resolved_by", "resolved_at", "resolved_note")
_BY_KEYS_BATCH = 500


def _warning(row: Any) -> WarningRecord:
    return WarningRecord(
        id=row.id, key=row.key, type=WarningType(row.type), household_id=row.household_id,
        gemeente=row.gemeente_code, subject=row.subject, due_on=row.due_on, severity=Severity(row.severity),
        role=WarningRole(row.role), message=row.message, details=row.details or {},
        status=WarningStatus(row.status), raised_on=row.raised_on, created_at=row.created_at,
        updated_at=row.updated_at, **{name: getattr(row, name) for name in _OPTIONAL},
    )


def _select():  # type: ignore[no-untyped-def]
    """Warnings with their household's gemeente code (none for the organisation's own)."""
    return (select(warnings, gemeenten.c.code.label("gemeente_code"))
            .select_from(warnings.outerjoin(households, households.c.id == warnings.c.household_id)
                         .outerjoin(gemeenten, gemeenten.c.id == households.c.gemeente_id)))


class SqlWarningStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        # One statement, compiled once and cached: the parameters differ, the SQL does not.
        self._insert_new = (dialect.insert(warnings).on_conflict_do_nothing(index_elements=[warnings.c.key])
                            .returning(warnings.c.id))

    def by_keys(self, keys: Collection[str]) -> dict[str, WarningRecord]:
        keys = list(keys)
        found: dict[str, WarningRecord] = {}
        for start in range(0, len(keys), _BY_KEYS_BATCH):
            for row in self.conn.execute(_select().where(warnings.c.key.in_(keys[start:start + _BY_KEYS_BATCH]))):
                found[row.key] = _warning(row)
        return found

    def unresolved(self, *, household_ids: Collection[int], organisation: bool,
                   types: Collection[str]) -> list[WarningRecord]:
        """Open and acknowledged warnings of `types` for these households (and the organisation's own)."""
        ids = sorted(household_ids)
        found: list[WarningRecord] = []
        batches = [ids[i:i + _BY_KEYS_BATCH] for i in range(0, len(ids), _BY_KEYS_BATCH)]
        conditions = [warnings.c.household_id.in_(batch) for batch in batches]
        if organisation:
            conditions.append(warnings.c.household_id.is_(None))
        for condition in conditions:
            query = _select().where(condition, warnings.c.type.in_(list(types)),
                                    warnings.c.status != WarningStatus.RESOLVED.value).order_by(warnings.c.id)
            found += [_warning(row) for row in self.conn.execute(query)]
        return found

    def insert(self, new: NewWarning, raised_on: date, now: datetime) -> int | None:
        """Store a new warning; None when its key is stored already (a concurrent scan was first)."""
        row = dict(
            key=new.key, type=new.type.value, household_id=new.household_id, subject=new.subject, due_on=new.due_on,
            severity=new.severity.value, role=new.role.value, message=new.message, details=dict(new.details),
            status=WarningStatus.OPEN.value, raised_on=raised_on, created_at=now, updated_at=now,
        )
        return self.conn.execute(self._insert_new, row).scalar_one_or_none()

    def update(self, warning_id: int, expected: Collection[str], **values: Any) -> int:
        """Change a warning only while it has one of the `expected` statuses; how many rows changed (0 or 1)."""
        result = self.conn.execute(update(warnings)
                                   .where(warnings.c.id == warning_id, warnings.c.status.in_(list(expected)))
                                   .values(**values))
        return result.rowcount

    def add_event(self, warning_id: int, action: str, actor: str, at: datetime, note: str | None = None) -> None:
        self.conn.execute(insert(warning_events), dict(warning_id=warning_id, action=action, actor=actor, at=at,
                                                       note=note))

    def warning(self, warning_id: int, *, lock: bool = False) -> WarningRecord | None:
        query = _select().where(warnings.c.id == warning_id)
        if lock:
            query = query.with_for_update(of=warnings)
        row = self.conn.execute(query).one_or_none()
        return _warning(row) if row else None

    def warnings(self, *, statuses: Collection[str] | None = None, types: Collection[str] | None = None,
                 due_until: date | None = None, gemeente_id: int | None = None, begeleider: str | None = None,
                 household_id: int | None = None, limit: int | None = None, offset: int = 0) -> list[WarningRecord]:
        query = _select().order_by(warnings.c.due_on, warnings.c.household_id, warnings.c.type, warnings.c.id)
        if statuses is not None:
            query = query.where(warnings.c.status.in_(list(statuses)))
        if types is not None:
            query = query.where(warnings.c.type.in_(list(types)))
        if due_until is not None:
            query = query.where(warnings.c.due_on <= due_until)
        if gemeente_id is not None:
            query = query.where(households.c.gemeente_id == gemeente_id)
        if household_id is not None:
            query = query.where(warnings.c.household_id == household_id)
        if begeleider is not None:
            caseload = select(household_begeleiders.c.household_id).where(
                household_begeleiders.c.begeleider == begeleider)
            query = query.where(warnings.c.household_id.in_(caseload))
        if limit is not None:
            query = query.limit(limit).offset(offset)
        elif offset:
            query = query.offset(offset)
        return [_warning(row) for row in self.conn.execute(query)]

    def events(self, warning_id: int) -> list[WarningEvent]:
        query = select(warning_events).where(warning_events.c.warning_id == warning_id).order_by(warning_events.c.id)
        return [WarningEvent(row.id, row.warning_id, row.at, row.actor, row.action, row.note)
                for row in self.conn.execute(query)]

