"""The registry's storage in SQL: gemeenten, households, trajectories, creditors, expected income,
households' rule-profile assignments, and the recorded versions of budgetplans.

Plain SQLAlchemy Core on the unit of work's connection; rows become the service layer's frozen
dataclasses here, so nothing above this module sees a row or a session.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Connection, Text, cast, func, insert, select, type_coerce, update
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement

from budget_ledger.adapters.db.memo import Memo
from budget_ledger.adapters.db.models import UtcDateTime
from budget_ledger.adapters.db.registry_tables import (
    budgetplans,
    creditor_payers,
    creditor_schedules,
    creditors,
    eligibility_decisions,
    expected_income,
    gemeenten,
    household_begeleiders,
    household_leefgeld_accounts,
    household_members,
    household_profile_assignments,
    households,
    trajectories,
    trajectory_history,
    trajectory_milestones,
)
from budget_ledger.addresses import PostalAddress
from budget_ledger.budgetplans import StoredBudgetplan
from budget_ledger.creditors import (
    Creditor,
    CreditorCategory,
    Frequency,
    NewCreditor,
    Payer,
    PayerPeriod,
    Schedule,
    ScheduleInput,
)
from budget_ledger.eligibility import EligibilityDecision, OntzorgingForm, PermitType, ReasonCode
from budget_ledger.expected_income import Coverage, ExpectedIncome, IncomeFrequency, IncomeSource
from budget_ledger.gemeenten import Gemeente, GemeenteSettings, NewGemeente, PeriodAnchor
from budget_ledger.household_profiles import AssignProfile, ProfileAssignment
from budget_ledger.households import Household, LeefgeldAccount, Member, MemberRole, NewHousehold
from budget_ledger.identifiers import PaymentReference, PaymentReferenceKind
from budget_ledger.ledger.money import Money
from budget_ledger.payment_calendar import PaymentDayRule
from budget_ledger.trajectories import (
    EvaluationOutcome,
    HistoryLine,
    Milestone,
    MilestoneKind,
    PlannedMilestone,
    Trajectory,
    TrajectoryStatus,
)


def _gemeente(row: Any) -> Gemeente:
    return Gemeente(row.id, row.code, row.name, GemeenteSettings.model_validate(row.settings))


def _decision(row: Any) -> EligibilityDecision:
    return EligibilityDecision(
        id=row.id,
        household_id=row.household_id,
        eligible=row.eligible,
        reason_code=ReasonCode(row.reason_code),
        form=OntzorgingForm(row.form),
        override=row.override,
        override_reason=row.override_reason,
        policy_reference=row.policy_reference,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
    )


def _assignment(row: Any) -> ProfileAssignment:
    return ProfileAssignment(
        id=row.id,
        household_id=row.household_id,
        valid_from=row.valid_from,
        profile=row.profile,
        overrides=row.overrides,
        reason=row.reason,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


def _budgetplan(row: Any) -> StoredBudgetplan:
    return StoredBudgetplan(
        id=row.id,
        household_id=row.household_id,
        month=row.month,
        version=row.version,
        fingerprint=row.fingerprint,
        content=row.content,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


def _leefgeld_account(row: Any) -> LeefgeldAccount:
    return LeefgeldAccount(id=row.id, household_id=row.household_id, iban=row.iban, bic=row.bic,
                           account_holder_name=row.account_holder_name, recorded_at=row.recorded_at,
                           recorded_by=row.recorded_by)


def _address_columns(address: PostalAddress | None) -> dict[str, str | None]:
    return {"street_name": address.street_name if address else None,
            "building_number": address.building_number if address else None,
            "postcode": address.postcode if address else None,
            "town": address.town if address else None,
            "country": address.country if address else None}


def _address(row: Any) -> PostalAddress | None:
    if row.town is None:
        return None
    return PostalAddress(town=row.town, country=row.country, street_name=row.street_name,
                         building_number=row.building_number, postcode=row.postcode)


def _schedule(row: Any) -> Schedule:
    return Schedule(row.id, Money(row.amount_cents), Frequency(row.frequency), row.day, row.valid_from, row.valid_to)


def _by_household(items: Iterable[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for item in items:
        grouped[item.household_id].append(item)
    return grouped


# -- reading many rows at once ----------------------------------------------------------------------
# A bulk payment run reads tens of thousands of rows per chunk of households through the readers below,
# and their time went into the work per row in Python rather than into the database. So those readers
# select only the columns their dataclass needs, unpack rows as tuples (attribute access on a Row is
# slow), look enum members up in dicts, and within one call build equal immutable values once (`Memo`).

_E = TypeVar("_E", bound=Enum)


class _ByValue(dict[Any, _E]):
    """An enum's members by stored value: a dict lookup costs a fraction of the Enum constructor, which a
    payment run called about a million times. A value that is no member still goes to the constructor, so
    it fails with the error it always did."""

    def __init__(self, enum: type[_E]) -> None:
        super().__init__((member.value, member) for member in enum)
        self.enum = enum

    def __missing__(self, value: Any) -> _E:
        return self.enum(value)


_UTC_DATETIME = UtcDateTime()


def _raw_timestamp(column: Any) -> ColumnElement[Any]:
    """`column` (a UtcDateTime) read as its plain DateTime, without the TypeDecorator's two Python calls per
    value; `_timestamps` then makes each distinct value aware UTC with UtcDateTime's own code."""
    return type_coerce(column, _UTC_DATETIME.impl).label(column.name)


def _timestamps(dialect: Dialect) -> Memo[Any, datetime | None]:
    """Aware UTC datetimes by the value the driver returned for a `_raw_timestamp` column, each distinct
    value converted once per read by UtcDateTime's own code (rows written together share their moment)."""
    return Memo(lambda raw: _UTC_DATETIME.process_result_value(raw, dialect))


def _json_text(column: Any) -> ColumnElement[Any]:
    """A JSON column as its stored text, so that equal lists are decoded once per call (`_text_tuples`)."""
    return cast(column, Text).label(column.name)


def _text_tuples() -> Memo[str | None, tuple[Any, ...]]:
    """Stored JSON lists as tuples, as `tuple(column or ())` made them from the decoded JSON column."""
    return Memo(lambda text: tuple(json.loads(text) or ()) if text is not None else ())


def _address_of(columns: tuple[Any, ...]) -> PostalAddress | None:
    """`_address` for the (town, country, street_name, building_number, postcode) columns."""
    town, country, street_name, building_number, postcode = columns
    if town is None:
        return None
    return PostalAddress(town=town, country=country, street_name=street_name, building_number=building_number,
                         postcode=postcode)


def _reference(kind: str, value: str) -> PaymentReference:
    """`PaymentReference.from_storage` without its Enum constructor; an unknown kind is refused by it."""
    known = _REFERENCE_KINDS.get(kind)
    return PaymentReference(known, value) if known is not None else PaymentReference.from_storage(kind, value)


def _payment_day(text: str | None) -> PaymentDayRule | None:
    return PaymentDayRule.parse(text) if text else None


_ANCHORS = _ByValue(PeriodAnchor)
_CATEGORIES = _ByValue(CreditorCategory)
_COVERAGES = _ByValue(Coverage)
_FORMS = _ByValue(OntzorgingForm)
_FREQUENCIES = _ByValue(Frequency)
_INCOME_FREQUENCIES = _ByValue(IncomeFrequency)
_INCOME_SOURCES = _ByValue(IncomeSource)
_MILESTONE_KINDS = _ByValue(MilestoneKind)
_OUTCOMES = _ByValue(EvaluationOutcome)
_PAYERS = _ByValue(Payer)
_PERMIT_TYPES = _ByValue(PermitType)
_REASON_CODES = _ByValue(ReasonCode)
_REFERENCE_KINDS = {kind.value: kind for kind in PaymentReferenceKind}
_ROLES = _ByValue(MemberRole)
_STATUSES = _ByValue(TrajectoryStatus)


class SqlRegistryStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- gemeenten ----------------------------------------------------------------------------

    def insert_gemeente(self, new: NewGemeente, now: datetime) -> Gemeente:
        settings = new.settings.model_dump(mode="json")
        new_id = self.conn.execute(
            insert(gemeenten).returning(gemeenten.c.id),
            {"code": new.code, "name": new.name, "settings": settings, "created_at": now, "updated_at": now},
        ).scalar_one()
        return Gemeente(new_id, new.code, new.name, new.settings)

    def update_gemeente_settings(self, gemeente_id: int, settings: GemeenteSettings, now: datetime) -> None:
        self.conn.execute(
            update(gemeenten).where(gemeenten.c.id == gemeente_id).values(
                settings=settings.model_dump(mode="json"), updated_at=now
            )
        )

    def gemeente_by_code(self, code: str) -> Gemeente | None:
        row = self.conn.execute(select(gemeenten).where(gemeenten.c.code == code)).one_or_none()
        return _gemeente(row) if row else None

    def gemeente(self, gemeente_id: int) -> Gemeente | None:
        row = self.conn.execute(select(gemeenten).where(gemeenten.c.id == gemeente_id)).one_or_none()
        return _gemeente(row) if row else None

    def gemeenten(self) -> list[Gemeente]:
        return [_gemeente(row) for row in self.conn.execute(select(gemeenten).order_by(gemeenten.c.code))]

    # -- households ---------------------------------------------------------------------------

    def insert_household(self, gemeente_id: int, new: NewHousehold, actor: str, now: datetime) -> int:
        household_id = self.conn.execute(
            insert(households).returning(households.c.id),
            {
                "gemeente_id": gemeente_id,
                "permit_type": new.permit_type.value,
                "bsn": new.bsn,
                "preferred_language": new.preferred_language,
                "housing_date": new.housing_date,
                "bijstand_start": new.bijstand_start,
                "has_bijstand": new.has_bijstand,
                "created_at": now,
                "created_by": actor,
            },
        ).scalar_one()
        self.conn.execute(
            insert(household_members),
            [
                {"household_id": household_id, "name": m.name, "date_of_birth": m.date_of_birth, "role": m.role.value}
                for m in new.members
            ],
        )
        self.add_begeleiders(household_id, new.begeleiders, actor, now)
        return household_id

    def insert_member(self, household_id: int, member: Any, joined_on: date) -> int:
        """A member joining an existing household (a nareiziger): with the day they joined."""
        return int(self.conn.execute(insert(household_members).returning(household_members.c.id), {
            "household_id": household_id, "name": member.name, "date_of_birth": member.date_of_birth,
            "role": member.role.value, "joined_on": joined_on}).scalar_one())

    def add_begeleiders(self, household_id: int, names: Iterable[str], actor: str, now: datetime) -> None:
        rows = [
            {"household_id": household_id, "begeleider": name, "assigned_at": now, "assigned_by": actor}
            for name in names
        ]
        if rows:
            self.conn.execute(insert(household_begeleiders), rows)

    def remove_begeleider(self, household_id: int, name: str) -> bool:
        result = self.conn.execute(
            household_begeleiders.delete().where(
                household_begeleiders.c.household_id == household_id, household_begeleiders.c.begeleider == name
            )
        )
        return result.rowcount > 0

    def insert_decision(
        self,
        household_id: int,
        *,
        eligible: bool,
        reason_code: ReasonCode,
        form: OntzorgingForm,
        override: bool,
        override_reason: str | None,
        policy_reference: str | None,
        actor: str,
        now: datetime,
    ) -> EligibilityDecision:
        values = {
            "household_id": household_id,
            "eligible": eligible,
            "reason_code": reason_code.value,
            "form": form.value,
            "override": override,
            "override_reason": override_reason,
            "policy_reference": policy_reference,
            "decided_at": now,
            "decided_by": actor,
        }
        new_id = self.conn.execute(insert(eligibility_decisions).returning(eligibility_decisions.c.id), values).scalar_one()
        return EligibilityDecision(
            new_id, household_id, eligible, reason_code, form, override, override_reason, policy_reference, now, actor
        )

    def decisions(self, household_id: int) -> list[EligibilityDecision]:
        query = (
            select(eligibility_decisions)
            .where(eligibility_decisions.c.household_id == household_id)
            .order_by(eligibility_decisions.c.id)
        )
        return [_decision(row) for row in self.conn.execute(query)]

    def household(self, household_id: int) -> Household | None:
        found = self.households(ids=[household_id])
        return found[0] if found else None

    def lock_household(self, household_id: int) -> None:
        """Hold the household's row until the transaction ends (PostgreSQL: FOR NO KEY UPDATE, which still
        lets other transactions insert rows referring to it; SQLite: BEGIN IMMEDIATE holds the database)."""
        self.conn.execute(select(households.c.id).where(households.c.id == household_id)
                          .with_for_update(key_share=True))

    def lock_households(self, household_ids: Collection[int]) -> None:
        """`lock_household` for many, in id order so two runners over overlapping sets never deadlock."""
        ids = sorted(set(household_ids))
        for start in range(0, len(ids), 500):
            self.conn.execute(select(households.c.id).where(households.c.id.in_(ids[start:start + 500]))
                              .order_by(households.c.id).with_for_update(key_share=True)).all()

    def household_ids(self, *, gemeente_id: int | None = None) -> list[int]:
        """Every household's id (of one gemeente), in id order: a payment run's scope without loading them."""
        query = select(households.c.id).order_by(households.c.id)
        if gemeente_id is not None:
            query = query.where(households.c.gemeente_id == gemeente_id)
        return list(self.conn.scalars(query))

    def households(
        self,
        *,
        ids: Sequence[int] | None = None,
        gemeente_id: int | None = None,
        begeleider: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Household]:
        """The households in id order, with their members, begeleiders, latest eligibility decision and latest
        leefgeld account (see "reading many rows at once": the payment run reads them by chunks)."""
        h = households.c
        query = (
            select(h.id, h.gemeente_id, gemeenten.c.code, h.permit_type, h.has_bijstand, h.bijstand_start,
                   h.housing_date, h.preferred_language, _raw_timestamp(h.created_at), h.created_by, h.bsn)
            .join(gemeenten, gemeenten.c.id == households.c.gemeente_id)
            .order_by(households.c.id)
        )
        if ids is not None:
            query = query.where(households.c.id.in_(list(ids)))
        if gemeente_id is not None:
            query = query.where(households.c.gemeente_id == gemeente_id)
        if begeleider is not None:
            assigned = select(household_begeleiders.c.household_id).where(household_begeleiders.c.begeleider == begeleider)
            query = query.where(households.c.id.in_(assigned))
        if limit is not None:
            query = query.limit(limit).offset(offset)
        rows = self.conn.execute(query).all()
        if not rows:
            return []
        found_ids = [row[0] for row in rows]
        timestamps = _timestamps(self.conn.dialect)
        m = household_members.c
        members: dict[int, list[Member]] = defaultdict(list)
        for household_id, member_id, name, date_of_birth, role, joined_on in self.conn.execute(
            select(m.household_id, m.id, m.name, m.date_of_birth, m.role, m.joined_on)
            .where(m.household_id.in_(found_ids)).order_by(m.id)
        ).all():
            members[household_id].append(Member(member_id, name, date_of_birth, _ROLES[role], joined_on))
        begeleiders: dict[int, list[str]] = defaultdict(list)
        for household_id, name in self.conn.execute(
            select(household_begeleiders.c.household_id, household_begeleiders.c.begeleider)
            .where(household_begeleiders.c.household_id.in_(found_ids))
            .order_by(household_begeleiders.c.begeleider)
        ).all():
            begeleiders[household_id].append(name)
        e = eligibility_decisions.c
        latest = select(func.max(e.id)).where(e.household_id.in_(found_ids)).group_by(e.household_id)
        decisions = {
            household_id: EligibilityDecision(
                decision_id, household_id, eligible, _REASON_CODES[reason_code], _FORMS[form], override,
                override_reason, policy_reference, timestamps[decided_at], decided_by)
            for (decision_id, household_id, eligible, reason_code, form, override, override_reason, policy_reference,
                 decided_at, decided_by) in self.conn.execute(
                select(e.id, e.household_id, e.eligible, e.reason_code, e.form, e.override, e.override_reason,
                       e.policy_reference, _raw_timestamp(e.decided_at), e.decided_by).where(e.id.in_(latest))
            ).all()
        }
        a = household_leefgeld_accounts.c
        latest_account = select(func.max(a.id)).where(a.household_id.in_(found_ids)).group_by(a.household_id)
        leefgeld_accounts = {
            household_id: LeefgeldAccount(account_id, household_id, iban, bic, holder, timestamps[recorded_at],
                                          recorded_by)
            for account_id, household_id, iban, bic, holder, recorded_at, recorded_by in self.conn.execute(
                select(a.id, a.household_id, a.iban, a.bic, a.account_holder_name, _raw_timestamp(a.recorded_at),
                       a.recorded_by).where(a.id.in_(latest_account))
            ).all()
        }
        return [
            Household(
                id=household_id,
                gemeente_id=gemeente_id,
                gemeente_code=gemeente_code,
                permit_type=_PERMIT_TYPES[permit_type],
                has_bijstand=has_bijstand,
                bijstand_start=bijstand_start,
                housing_date=housing_date,
                preferred_language=preferred_language,
                members=tuple(members.get(household_id, ())),
                begeleiders=tuple(begeleiders.get(household_id, ())),
                eligibility=decisions[household_id],
                created_at=timestamps[created_at],
                created_by=created_by,
                bsn=bsn,
                leefgeld_account=leefgeld_accounts.get(household_id),
            )
            for (household_id, gemeente_id, gemeente_code, permit_type, has_bijstand, bijstand_start, housing_date,
                 preferred_language, created_at, created_by, bsn) in rows
        ]

    # -- leefgeld accounts --------------------------------------------------------------------

    def add_leefgeld_account(self, household_id: int, iban: str, bic: str | None, account_holder_name: str,
                             actor: str, now: datetime) -> LeefgeldAccount:
        """Append one; the table is append-only, so this is the only write it ever gets."""
        row = self.conn.execute(
            insert(household_leefgeld_accounts).returning(*household_leefgeld_accounts.c),
            {"household_id": household_id, "iban": iban, "bic": bic, "account_holder_name": account_holder_name,
             "recorded_by": actor, "recorded_at": now},
        ).one()
        return _leefgeld_account(row)

    def leefgeld_accounts(self, household_id: int) -> list[LeefgeldAccount]:
        """Every leefgeld account recorded for the household, oldest first."""
        query = (select(household_leefgeld_accounts)
                 .where(household_leefgeld_accounts.c.household_id == household_id)
                 .order_by(household_leefgeld_accounts.c.id))
        return [_leefgeld_account(row) for row in self.conn.execute(query)]

    # -- rule-profile assignments --------------------------------------------------------------

    def add_profile_assignment(
        self, household_id: int, command: AssignProfile, actor: str, now: datetime
    ) -> ProfileAssignment:
        """Append one assignment; the table is append-only, so this is the only write it ever gets."""
        row = self.conn.execute(
            insert(household_profile_assignments).returning(*household_profile_assignments.c),
            {
                "household_id": household_id,
                "valid_from": command.valid_from,
                "profile": command.profile,
                "overrides": command.overrides,
                "reason": command.reason,
                "recorded_by": actor,
                "recorded_at": now,
            },
        ).one()
        return _assignment(row)

    def profile_assignments_of(self, household_ids: Collection[int]) -> dict[int, list[ProfileAssignment]]:
        """`profile_assignments` for many households at once (the bulk payment run)."""
        found: dict[int, list[ProfileAssignment]] = defaultdict(list)
        query = (select(household_profile_assignments)
                 .where(household_profile_assignments.c.household_id.in_(sorted(set(household_ids))))
                 .order_by(household_profile_assignments.c.id))
        for row in self.conn.execute(query):
            found[row.household_id].append(_assignment(row))
        return found

    def profile_assignments(self, household_id: int) -> list[ProfileAssignment]:
        """Every assignment of the household, oldest recorded first."""
        query = (
            select(household_profile_assignments)
            .where(household_profile_assignments.c.household_id == household_id)
            .order_by(household_profile_assignments.c.id)
        )
        return [_assignment(row) for row in self.conn.execute(query)]

    # -- budgetplans ---------------------------------------------------------------------------

    def budgetplan_versions(self, household_id: int, month: date, *, lock: bool = False) -> list[StoredBudgetplan]:
        """Every recorded version of the household's plan for `month`, oldest first. With `lock`, the
        household's row is locked first (PostgreSQL; SQLite's writer already holds the database), so two
        recorders take turns and cannot both add the same next version."""
        if lock:
            self.conn.execute(select(households.c.id).where(households.c.id == household_id).with_for_update())
        query = (
            select(budgetplans)
            .where(budgetplans.c.household_id == household_id, budgetplans.c.month == month)
            .order_by(budgetplans.c.version)
        )
        return [_budgetplan(row) for row in self.conn.execute(query)]

    def add_budgetplan(self, household_id: int, month: date, version: int, fingerprint: str,
                       content: dict[str, Any], actor: str, now: datetime) -> StoredBudgetplan:
        """Append one version; the table is append-only, so this is the only write it ever gets."""
        row = self.conn.execute(
            insert(budgetplans).returning(*budgetplans.c),
            {
                "household_id": household_id,
                "month": month,
                "version": version,
                "fingerprint": fingerprint,
                "content": content,
                "recorded_by": actor,
                "recorded_at": now,
            },
        ).one()
        return _budgetplan(row)

    # -- trajectories -------------------------------------------------------------------------

    def insert_trajectory(
        self, household_id: int, anchor: PeriodAnchor, start: date, minimum_last_day: date, now: datetime
    ) -> int:
        return self.conn.execute(
            insert(trajectories).returning(trajectories.c.id),
            {
                "household_id": household_id,
                "anchor": anchor.value,
                "start_date": start,
                "minimum_last_day": minimum_last_day,
                "last_day": minimum_last_day,
                "status": TrajectoryStatus.AANGEMELD.value,
                "ended_on": None,
                "version": 1,
                "created_at": now,
            },
        ).scalar_one()

    def insert_milestones(self, trajectory_id: int, planned: Sequence[PlannedMilestone]) -> None:
        if planned:
            self.conn.execute(
                insert(trajectory_milestones),
                [{"trajectory_id": trajectory_id, "kind": p.kind.value, "due_from": p.due_from, "due_on": p.due_on}
                 for p in planned],
            )

    def update_trajectory(self, trajectory_id: int, expected_version: int, **values: Any) -> bool:
        """Optimistic update: False when someone else changed the trajectory since it was read."""
        result = self.conn.execute(
            update(trajectories)
            .where(trajectories.c.id == trajectory_id, trajectories.c.version == expected_version)
            .values(version=expected_version + 1, **values)
        )
        return result.rowcount == 1

    def complete_milestone(
        self, milestone_id: int, completed_on: date, outcome: EvaluationOutcome, note: str | None, actor: str
    ) -> bool:
        result = self.conn.execute(
            update(trajectory_milestones)
            .where(trajectory_milestones.c.id == milestone_id, trajectory_milestones.c.completed_on.is_(None))
            .values(completed_on=completed_on, outcome=outcome.value, note=note, recorded_by=actor)
        )
        return result.rowcount == 1

    def append_history(
        self,
        trajectory_id: int,
        *,
        actor: str,
        action: str,
        from_status: TrajectoryStatus | None,
        to_status: TrajectoryStatus | None,
        details: dict[str, Any],
        now: datetime,
    ) -> None:
        self.conn.execute(
            insert(trajectory_history),
            {
                "trajectory_id": trajectory_id,
                "at": now,
                "actor": actor,
                "action": action,
                "from_status": from_status.value if from_status else None,
                "to_status": to_status.value if to_status else None,
                "details": details,
            },
        )

    def trajectory(self, trajectory_id: int) -> Trajectory | None:
        found = self._trajectories(trajectories.c.id == trajectory_id)
        return found[0] if found else None

    def trajectories_of(self, household_id: int) -> list[Trajectory]:
        return self._trajectories(trajectories.c.household_id == household_id)

    def trajectories_of_households(self, household_ids: Collection[int]) -> dict[int, list[Trajectory]]:
        return _by_household(self._trajectories(trajectories.c.household_id.in_(sorted(set(household_ids)))))

    def running_trajectory_starts(self, household_ids: Collection[int], statuses: Collection[str]) -> dict[int, date]:
        """Per household, the latest start_date among its trajectories in `statuses`: the start of the one
        `planning.current_trajectory` picks, read as one date per household (a payment run's scope). A
        household without such a trajectory is left out."""
        t = trajectories.c
        query = (select(t.household_id, func.max(t.start_date))
                 .where(t.household_id.in_(sorted(set(household_ids))), t.status.in_(list(statuses)))
                 .group_by(t.household_id))
        return {household_id: start for household_id, start in self.conn.execute(query).all()}

    def _trajectories(self, condition: Any) -> list[Trajectory]:
        """The trajectories with their milestones and history (see "reading many rows at once")."""
        t = trajectories.c
        rows = self.conn.execute(
            select(t.id, t.household_id, t.anchor, t.start_date, t.minimum_last_day, t.last_day, t.status, t.ended_on,
                   t.version).where(condition).order_by(t.id)
        ).all()
        if not rows:
            return []
        ids = [row[0] for row in rows]
        m = trajectory_milestones.c
        milestones: dict[int, list[Milestone]] = defaultdict(list)
        for trajectory_id, milestone_id, kind, due_from, due_on, completed_on, outcome, note, recorded_by in (
            self.conn.execute(
                select(m.trajectory_id, m.id, m.kind, m.due_from, m.due_on, m.completed_on, m.outcome, m.note,
                       m.recorded_by).where(m.trajectory_id.in_(ids)).order_by(m.due_on, m.id)
            ).all()
        ):
            milestones[trajectory_id].append(
                Milestone(milestone_id, _MILESTONE_KINDS[kind], due_from, due_on, completed_on,
                          _OUTCOMES[outcome] if outcome else None, note, recorded_by)
            )
        timestamps = _timestamps(self.conn.dialect)
        h = trajectory_history.c
        history: dict[int, list[HistoryLine]] = defaultdict(list)
        for trajectory_id, at, actor, action, from_status, to_status, details in self.conn.execute(
            select(h.trajectory_id, _raw_timestamp(h.at), h.actor, h.action, h.from_status, h.to_status, h.details)
            .where(h.trajectory_id.in_(ids)).order_by(h.id)
        ).all():
            history[trajectory_id].append(
                HistoryLine(timestamps[at], actor, action,
                            _STATUSES[from_status] if from_status else None,
                            _STATUSES[to_status] if to_status else None,
                            details or {})
            )
        return [
            Trajectory(
                id=trajectory_id,
                household_id=household_id,
                anchor=_ANCHORS[anchor],
                start_date=start_date,
                minimum_last_day=minimum_last_day,
                last_day=last_day,
                status=_STATUSES[status],
                ended_on=ended_on,
                version=version,
                milestones=tuple(milestones.get(trajectory_id, ())),
                history=tuple(history.get(trajectory_id, ())),
            )
            for (trajectory_id, household_id, anchor, start_date, minimum_last_day, last_day, status, ended_on,
                 version) in rows
        ]

    # -- creditors ----------------------------------------------------------------------------

    def insert_creditor(self, household_id: int, new: NewCreditor, bic: str | None, actor: str, now: datetime) -> int:
        return self.conn.execute(
            insert(creditors).returning(creditors.c.id),
            {
                "household_id": household_id,
                "organisation": new.organisation,
                "account_holder_name": new.account_holder_name,
                "iban": new.iban,
                "bic": bic,
                "category": new.category.value,
                "reference_kind": new.reference_kind.value,
                "reference_value": new.reference,
                "created_at": now,
                "created_by": actor,
                **_address_columns(new.address.to_address() if new.address else None),
                "address_recorded_at": now if new.address else None,
                "address_recorded_by": actor if new.address else None,
            },
        ).scalar_one()

    def update_creditor_address(self, creditor_id: int, address: PostalAddress | None, actor: str,
                                now: datetime) -> None:
        self.conn.execute(
            update(creditors).where(creditors.c.id == creditor_id).values(
                **_address_columns(address), address_recorded_at=now, address_recorded_by=actor)
        )

    def insert_schedule(self, creditor_id: int, schedule: ScheduleInput, now: datetime) -> int:
        return self.conn.execute(
            insert(creditor_schedules).returning(creditor_schedules.c.id),
            {
                "creditor_id": creditor_id,
                "amount_cents": schedule.amount.cents,
                "frequency": schedule.frequency.value,
                "day": schedule.day,
                "valid_from": schedule.valid_from,
                "valid_to": schedule.valid_to,
                "created_at": now,
            },
        ).scalar_one()

    def update_schedule(self, schedule_id: int, schedule: ScheduleInput) -> None:
        self.conn.execute(
            update(creditor_schedules).where(creditor_schedules.c.id == schedule_id).values(
                amount_cents=schedule.amount.cents,
                frequency=schedule.frequency.value,
                day=schedule.day,
                valid_from=schedule.valid_from,
                valid_to=schedule.valid_to,
            )
        )

    def insert_payer(
        self, creditor_id: int, payer: Payer, valid_from: date, reason: str | None, actor: str, now: datetime
    ) -> None:
        self.conn.execute(
            insert(creditor_payers),
            {"creditor_id": creditor_id, "payer": payer.value, "valid_from": valid_from, "recorded_at": now,
             "recorded_by": actor, "reason": reason},
        )

    def creditor(self, creditor_id: int) -> Creditor | None:
        found = self._creditors(creditors.c.id == creditor_id)
        return found[0] if found else None

    def creditors_of(self, household_id: int) -> list[Creditor]:
        return self._creditors(creditors.c.household_id == household_id)

    def creditors_of_households(self, household_ids: Collection[int]) -> dict[int, list[Creditor]]:
        return _by_household(self._creditors(creditors.c.household_id.in_(sorted(set(household_ids)))))

    def _creditors(self, condition: Any) -> list[Creditor]:
        """The creditors with their schedules and payers (see "reading many rows at once")."""
        c = creditors.c
        rows = self.conn.execute(
            select(c.id, c.household_id, c.organisation, c.account_holder_name, c.iban, c.bic, c.category,
                   c.reference_kind, c.reference_value, c.town, c.country, c.street_name, c.building_number,
                   c.postcode, _raw_timestamp(c.address_recorded_at), c.address_recorded_by)
            .where(condition).order_by(c.id)
        ).all()
        if not rows:
            return []
        ids = [row[0] for row in rows]
        amounts = Memo(Money)
        s = creditor_schedules.c
        schedules: dict[int, list[Schedule]] = defaultdict(list)
        for creditor_id, schedule_id, cents, frequency, day, valid_from, valid_to in self.conn.execute(
            select(s.creditor_id, s.id, s.amount_cents, s.frequency, s.day, s.valid_from, s.valid_to)
            .where(s.creditor_id.in_(ids)).order_by(s.valid_from)
        ).all():
            schedules[creditor_id].append(
                Schedule(schedule_id, amounts[cents], _FREQUENCIES[frequency], day, valid_from, valid_to))
        timestamps = _timestamps(self.conn.dialect)
        p = creditor_payers.c
        payers: dict[int, list[PayerPeriod]] = defaultdict(list)
        for creditor_id, payer, valid_from, recorded_at, recorded_by, reason in self.conn.execute(
            select(p.creditor_id, p.payer, p.valid_from, _raw_timestamp(p.recorded_at), p.recorded_by, p.reason)
            .where(p.creditor_id.in_(ids)).order_by(p.valid_from)
        ).all():
            payers[creditor_id].append(PayerPeriod(_PAYERS[payer], valid_from, timestamps[recorded_at], recorded_by,
                                                   reason))
        addresses = Memo(_address_of)
        return [
            Creditor(
                id=creditor_id,
                household_id=household_id,
                organisation=organisation,
                account_holder_name=account_holder_name,
                iban=iban,
                bic=bic,
                category=_CATEGORIES[category],
                reference=_reference(reference_kind, reference_value),
                schedules=tuple(schedules.get(creditor_id, ())),
                payers=tuple(payers.get(creditor_id, ())),
                address=addresses[town, country, street_name, building_number, postcode],
                address_recorded_at=timestamps[address_recorded_at],
                address_recorded_by=address_recorded_by,
            )
            for (creditor_id, household_id, organisation, account_holder_name, iban, bic, category, reference_kind,
                 reference_value, town, country, street_name, building_number, postcode, address_recorded_at,
                 address_recorded_by) in rows
        ]

    # -- expected income ----------------------------------------------------------------------

    def insert_expected_income(self, household_id: int, values: dict[str, Any], now: datetime) -> int:
        return self.conn.execute(
            insert(expected_income).returning(expected_income.c.id),
            {"household_id": household_id, "created_at": now, "updated_at": now, **values},
        ).scalar_one()

    def update_expected_income(self, income_id: int, values: dict[str, Any], now: datetime) -> None:
        self.conn.execute(
            update(expected_income).where(expected_income.c.id == income_id).values(updated_at=now, **values)
        )

    def expected_income_of(self, household_id: int) -> list[ExpectedIncome]:
        return self._incomes(expected_income.c.household_id == household_id)

    def expected_income_of_households(self, household_ids: Collection[int]) -> dict[int, list[ExpectedIncome]]:
        return _by_household(self._incomes(expected_income.c.household_id.in_(sorted(set(household_ids)))))

    def expected_income(self, income_id: int) -> ExpectedIncome | None:
        found = self._incomes(expected_income.c.id == income_id)
        return found[0] if found else None

    def dependents_of_creditor(self, creditor_id: int) -> list[ExpectedIncome]:
        return self._incomes(expected_income.c.depends_on_creditor_id == creditor_id)

    def _incomes(self, condition: Any) -> list[ExpectedIncome]:
        """The expected incomes (see "reading many rows at once")."""
        i = expected_income.c
        query = select(
            i.id, i.household_id, i.source, i.amount_cents, i.frequency, i.coverage, i.payment_day, i.entitlement_from,
            i.valid_to, i.conditions_met_on, i.first_expected_on, i.first_expected_latest, i.depends_on_creditor_id,
            _json_text(i.payer_ibans), _json_text(i.references), _raw_timestamp(i.updated_at), i.rejected_on,
            i.rejection_reason,
        ).where(condition).order_by(i.id)
        amounts = Memo(Money)
        payment_days = Memo(_payment_day)
        text_tuples = _text_tuples()
        timestamps = _timestamps(self.conn.dialect)
        return [
            ExpectedIncome(
                id=income_id,
                household_id=household_id,
                source=_INCOME_SOURCES[source],
                amount=amounts[cents],
                frequency=_INCOME_FREQUENCIES[frequency],
                coverage=_COVERAGES[coverage],
                payment_day=payment_days[payment_day],
                entitlement_from=entitlement_from,
                valid_to=valid_to,
                conditions_met_on=conditions_met_on,
                first_expected_on=first_expected_on,
                first_expected_latest=first_expected_latest,
                depends_on_creditor_id=depends_on_creditor_id,
                payer_ibans=text_tuples[payer_ibans],
                references=text_tuples[references],
                updated_at=timestamps[updated_at],
                rejected_on=rejected_on,
                rejection_reason=rejection_reason,
            )
            for (income_id, household_id, source, cents, frequency, coverage, payment_day, entitlement_from, valid_to,
                 conditions_met_on, first_expected_on, first_expected_latest, depends_on_creditor_id, payer_ibans,
                 references, updated_at, rejected_on, rejection_reason) in self.conn.execute(query).all()
        ]
