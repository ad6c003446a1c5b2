"""Tables of the registry a budgetbeheerder works in: gemeenten, households, trajectories, creditors,
expected income (created by migration 0002), household profile assignments (0003), the recorded versions
of budgetplans (0004), and households' leefgeld accounts and creditors' postal addresses (0009). Amounts are
BIGINT cents, dates are DATE.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from budget_ledger.adapters.db.models import Base, BigId, UtcDateTime

metadata = Base.metadata

gemeenten = Table(
    "gemeenten",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(60), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

households = Table(
    "households",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("gemeente_id", BigId, ForeignKey("gemeenten.id"), nullable=False, index=True),
    Column("permit_type", String(40), nullable=False),
    Column("bsn", String(9), nullable=True),
    Column("preferred_language", String(20), nullable=False),
    Column("housing_date", Date, nullable=True),
    Column("bijstand_start", Date, nullable=True),
    Column("has_bijstand", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
    CheckConstraint("bsn IS NULL OR length(bsn) = 9", name="bsn_length"),
)

household_members = Table(
    "household_members",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("role", String(20), nullable=False),
    # NULL: there from the registration; else the day the member joined (a nareiziger, migration 0013).
    Column("joined_on", Date, nullable=True),
    CheckConstraint("role IN ('aanvrager', 'partner', 'kind')", name="member_role"),
    # Exactly one aanvrager per household: at most one here, at least one checked by the service.
    Index(
        "uq_household_members_one_aanvrager",
        "household_id",
        unique=True,
        sqlite_where=text("role = 'aanvrager'"),
        postgresql_where=text("role = 'aanvrager'"),
    ),
)

household_begeleiders = Table(
    "household_begeleiders",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False, index=True),
    Column("begeleider", String(200), nullable=False, index=True),
    Column("assigned_at", UtcDateTime(), nullable=False),
    Column("assigned_by", String(200), nullable=False),
    UniqueConstraint("household_id", "begeleider", name="uq_household_begeleiders_household_id_begeleider"),
)

eligibility_decisions = Table(
    "eligibility_decisions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False, index=True),
    Column("eligible", Boolean, nullable=False),
    Column("reason_code", String(40), nullable=False),
    Column("form", String(20), nullable=False),
    Column("override", Boolean, nullable=False),
    Column("override_reason", Text, nullable=True),
    Column("policy_reference", String(200), nullable=True),
    Column("decided_at", UtcDateTime(), nullable=False),
    Column("decided_by", String(200), nullable=False),
)

trajectories = Table(
    "trajectories",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False, index=True),
    Column("anchor", String(20), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("minimum_last_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("ended_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    CheckConstraint("last_day >= minimum_last_day OR ended_on IS NOT NULL", name="last_day_after_minimum"),
    CheckConstraint("minimum_last_day >= start_date", name="minimum_after_start"),
)

trajectory_milestones = Table(
    "trajectory_milestones",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("trajectory_id", BigId, ForeignKey("trajectories.id"), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("due_from", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("completed_on", Date, nullable=True),
    Column("outcome", String(40), nullable=True),
    Column("note", Text, nullable=True),
    Column("recorded_by", String(200), nullable=True),
)

trajectory_history = Table(
    "trajectory_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("trajectory_id", BigId, ForeignKey("trajectories.id"), nullable=False, index=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("from_status", String(20), nullable=True),
    Column("to_status", String(20), nullable=True),
    Column("details", JSON, nullable=True),
)

creditors = Table(
    "creditors",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False, index=True),
    Column("organisation", String(200), nullable=False),
    Column("account_holder_name", String(200), nullable=False),
    Column("iban", String(34), nullable=False),
    Column("bic", String(11), nullable=True),
    Column("category", String(40), nullable=False),
    Column("reference_kind", String(20), nullable=False),
    Column("reference_value", String(140), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False),
    # The structured postal address for the bank file (0009): all NULL when none is known, else at least
    # town and country. Lengths are those of the ISO 20022 elements (StrtNm, BldgNb, PstCd, TwnNm, Ctry).
    Column("street_name", String(70), nullable=True),
    Column("building_number", String(16), nullable=True),
    Column("postcode", String(16), nullable=True),
    Column("town", String(35), nullable=True),
    Column("country", String(2), nullable=True),
    Column("address_recorded_at", UtcDateTime(), nullable=True),
    Column("address_recorded_by", String(200), nullable=True),
)

creditor_schedules = Table(
    "creditor_schedules",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("creditor_id", BigId, ForeignKey("creditors.id"), nullable=False, index=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("frequency", String(20), nullable=False),
    Column("day", Integer, nullable=True),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    CheckConstraint("amount_cents > 0", name="positive_amount"),
    CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
)

creditor_payers = Table(
    "creditor_payers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("creditor_id", BigId, ForeignKey("creditors.id"), nullable=False, index=True),
    Column("payer", String(20), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("reason", Text, nullable=True),
    CheckConstraint("payer IN ('ledger', 'client_incasso')", name="payer_kind"),
    UniqueConstraint("creditor_id", "valid_from", name="uq_creditor_payers_creditor_id_valid_from"),
)

expected_income = Table(
    "expected_income",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False, index=True),
    Column("source", String(40), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("frequency", String(20), nullable=False),
    Column("coverage", String(20), nullable=False),
    Column("payment_day", String(40), nullable=True),
    Column("entitlement_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    Column("conditions_met_on", Date, nullable=True),
    Column("first_expected_on", Date, nullable=False),
    Column("first_expected_latest", Date, nullable=False),
    Column("depends_on_creditor_id", BigId, ForeignKey("creditors.id"), nullable=True),
    Column("payer_ibans", JSON, nullable=False),
    Column("references", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("rejected_on", Date, nullable=True),
    Column("rejection_reason", Text, nullable=True),
    CheckConstraint("amount_cents > 0", name="positive_amount"),
    CheckConstraint("first_expected_latest >= first_expected_on", name="latest_after_first"),
    CheckConstraint("valid_to IS NULL OR valid_to >= entitlement_from", name="valid_range"),
)

household_profile_assignments = Table(
    "household_profile_assignments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False, index=True),
    Column("valid_from", Date, nullable=False),
    # NULL: the household follows its gemeente's own profile.
    Column("profile", String(60), nullable=True),
    # A partial profile version; {} for none. Append-only: the database refuses UPDATE and DELETE.
    Column("overrides", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)

budgetplans = Table(
    "budgetplans",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False),
    # The first day of the month the plan is for.
    Column("month", Date, nullable=False),
    Column("version", Integer, nullable=False),
    # sha256 (hex) of the canonical JSON of the plan's terms; a new version only when it differs.
    Column("fingerprint", String(64), nullable=False),
    # The plan as plain JSON (amounts as decimal strings). Append-only: the database refuses UPDATE and DELETE.
    Column("content", JSON, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    UniqueConstraint("household_id", "month", "version", name="uq_budgetplans_household_id_month_version"),
    CheckConstraint("version >= 1", name="version_positive"),
)

household_leefgeld_accounts = Table(
    "household_leefgeld_accounts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False, index=True),
    Column("iban", String(34), nullable=False),
    Column("bic", String(11), nullable=True),
    Column("account_holder_name", String(200), nullable=False),
    # Append-only (0009): the database refuses UPDATE and DELETE; the latest row of a household holds.
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)
