"""Warnings (issue 7 item 5): the list a budgetbeheerder or begeleider works from, one warning with its
events, acknowledging and resolving, and the daily scan (budget_ledger/warnings.py).

Who may do what:
- list and read: budgetbeheerder, auditor and batch see every warning; a begeleider sees the warnings of
  the households in their caseload, whatever role a warning is for (they read the same household's
  leefgeld view with its open warnings), and no warning about the organisation as a whole (no household).
  A warning outside a begeleider's caseload answers 404, as one that does not exist.
- acknowledge and resolve (with a note): a budgetbeheerder any warning; a begeleider only the warnings that
  are for the begeleider role (the training, a creditor not handed over to the client's incasso) on their
  own households — those are their work (domain.md A3: training, incasso set-up at exit). Any other warning
  of their caseload is 403; batch and auditor 403.
- the scan: budgetbeheerder and batch (the scheduler's daily run, or by hand).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from pydantic import Field, field_validator

from budget_ledger.access import Principal, Role
from budget_ledger.adapters.http.audit import audited_read, audited_write, principal_of
from budget_ledger.adapters.http.auth import BEHEER_OR_BATCH, EVERYONE, allow
from budget_ledger.adapters.http.pagination import LIMIT, OFFSET, Page, page_of
from budget_ledger.adapters.http.types import MAX_ID
from budget_ledger.errors import InvalidInputError, NotFoundError
from budget_ledger.inputs import Command
from budget_ledger.services import Services
from budget_ledger.warnings import (
    AcknowledgeWarning,
    ResolveWarning,
    ScanReport,
    WarningEvent,
    WarningRecord,
    WarningRole,
    WarningStatus,
    WarningType,
    parse_within,
)

EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
"""The days a scan or a list may count from."""
"""The largest id the database can hold (BIGINT): a larger one is refused as input, never sent to SQL."""
WarningId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
WORKERS = allow(Role.BUDGETBEHEERDER, Role.BEGELEIDER)
"""Who acknowledges and resolves: a budgetbeheerder, and a begeleider for their own begeleider warnings."""


@dataclass(frozen=True)
class WarningItem:
    id: int
    type: str
    severity: str
    status: str
    household_id: int | None
    """None for a warning about the organisation as a whole (the bank side)."""
    gemeente: str | None
    subject: str
    due_on: date
    role: str
    """Whom it is for: budgetbeheerder or begeleider."""
    message: str
    details: dict[str, Any]
    raised_on: date
    updated_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    acknowledged_note: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    resolved_note: str | None

    @classmethod
    def of(cls, w: WarningRecord) -> WarningItem:
        return cls(w.id, w.type.value, w.severity.value, w.status.value, w.household_id, w.gemeente, w.subject,
                   w.due_on, w.role.value, w.message, dict(w.details), w.raised_on, w.updated_at,
                   w.acknowledged_by, w.acknowledged_at, w.acknowledged_note, w.resolved_by, w.resolved_at,
                   w.resolved_note)


@dataclass(frozen=True)
class WarningEventItem:
    at: datetime
    actor: str
    action: str
    """raised, acknowledged, resolved, reopened, escalated or deescalated."""
    note: str | None

    @classmethod
    def of(cls, e: WarningEvent) -> WarningEventItem:
        return cls(e.at, e.actor, e.action, e.note)


@dataclass(frozen=True)
class WarningWithEvents:
    warning: WarningItem
    events: list[WarningEventItem]


@dataclass(frozen=True)
class ScanFailure:
    household_id: int | None
    message: str


@dataclass(frozen=True)
class WarningScanReport:
    day: date
    households: int
    raised: int
    reopened: int
    changed: int
    resolved: int
    failures: list[ScanFailure]

    @classmethod
    def of(cls, r: ScanReport) -> WarningScanReport:
        return cls(r.day, r.households, r.raised, r.reopened, r.changed, r.resolved,
                   [ScanFailure(h, m) for h, m in r.failures])


class ScanWarnings(Command):
    """What to scan: by default every household and the organisation, as of today."""

    day: date | None = Field(default=None, description="the day to scan as of (default today), 2000–2100")
    gemeente: str | None = Field(default=None, min_length=1, description="only the households of this gemeente")
    household_ids: tuple[Annotated[int, Field(ge=1, le=MAX_ID)], ...] | None = Field(
        default=None, min_length=1, max_length=10_000, description="only these households")

    @field_validator("gemeente")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value

    @field_validator("day")
    @classmethod
    def _in_range(cls, value: date | None) -> date | None:
        if value is not None and not EARLIEST <= value <= LATEST:
            raise ValueError(f"must be a day from {EARLIEST} to {LATEST}")
        return value


def plain_text(value: str | None, field: str) -> str | None:
    """A query value as text the database can hold: a NUL character is refused as input (PostgreSQL would
    refuse it with a server error)."""
    if value is not None and "\x00" in value:
        raise InvalidInputError(field, "must not contain a NUL character")
    return value


def visible(services: Services, principal: Principal, warning: WarningRecord) -> WarningRecord:
    """The warning, if the principal may see it: a begeleider only those of their caseload."""
    if principal.role is Role.BEGELEIDER and (
            warning.household_id is None or warning.household_id not in services.access.caseload(principal.actor)):
        raise NotFoundError(f"there is no warning {warning.id}", field="warning_id")
    return warning


def workable(services: Services, principal: Principal, warning_id: int) -> WarningRecord:
    """The warning the principal may acknowledge or resolve: a begeleider only a begeleider warning of their
    own caseload (404 outside it, 403 for a warning that is the budgetbeheerder's)."""
    warning = visible(services, principal, services.warnings.get(warning_id))
    if principal.role is Role.BEGELEIDER and warning.role is not WarningRole.BEGELEIDER:
        raise PermissionDeniedException(
            f"warning {warning_id} is for the {warning.role.value}; a begeleider acknowledges and resolves only "
            "the warnings for the begeleider")
    return warning


class WarningsController(Controller):
    path = "/warnings"
    tags = ["warnings"]

    @get("/", guards=[EVERYONE], sync_to_thread=True, summary="Warnings to act on, by due date")
    def list_warnings(
        self, request: Request, services: NamedDependency[Services],
        within: Annotated[str | None, QueryParameter(
            description="an ISO-8601 duration (P6M, P8W): due by today + within; overdue ones included")] = None,
        gemeente: FromQuery[str | None] = None,
        begeleider: Annotated[str | None, QueryParameter(description="only this begeleider's caseload")] = None,
        type: Annotated[list[WarningType] | None, QueryParameter(description="one or more warning types")] = None,
        status: Annotated[list[WarningStatus] | None, QueryParameter(
            description="open, acknowledged, resolved (default: open and acknowledged)")] = None,
        household_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        as_of: Annotated[date | None, QueryParameter(description="the day `within` counts from (default today)")] = None,
        limit: Annotated[int, LIMIT] = 50, offset: Annotated[int, OFFSET] = 0,
    ) -> Page[WarningItem]:
        """A begeleider sees the warnings of their own households only (naming another begeleider is 403)."""
        principal = principal_of(request)
        gemeente, begeleider = plain_text(gemeente, "gemeente"), plain_text(begeleider, "begeleider")
        audited_read(request, "warnings", None, household_id=household_id)
        if principal.role is Role.BEGELEIDER:
            if begeleider is not None and begeleider.strip() not in ("", principal.actor):
                raise PermissionDeniedException("a begeleider sees only the warnings of their own caseload")
            begeleider = principal.actor
        if as_of is not None and not EARLIEST <= as_of <= LATEST:
            raise InvalidInputError("as_of", f"must be a day from {EARLIEST} to {LATEST}, not {as_of}")
        period = parse_within(within)  # refused naming `within` when it is not an ISO-8601 duration
        try:
            if period is not None:
                LATEST + period
        except (OverflowError, ValueError):  # P99999Y: beyond the last day a date can have
            raise InvalidInputError("within", f"{within!r} reaches beyond the calendar") from None
        found = services.warnings.list(within=within, gemeente=gemeente, begeleider=begeleider, type=type,
                                       status=status, household_id=household_id, as_of=as_of)
        return page_of([WarningItem.of(w) for w in found], limit, offset)

    @post("/scan", guards=[BEHEER_OR_BATCH], sync_to_thread=True, status_code=200,
          summary="Scan for warnings (the batch's daily scan)")
    def scan(self, request: Request, services: NamedDependency[Services],
             data: JSONBody[ScanWarnings | None] = None) -> WarningScanReport:
        """Idempotent per day: a condition found again is not stored twice; one that is gone is resolved."""
        command = data or ScanWarnings()
        audited_write(request, "warning-scan", command.day.isoformat() if command.day else None)
        report = services.warnings.scan(command.day, gemeente=command.gemeente,
                                        household_ids=list(command.household_ids) if command.household_ids else None)
        return WarningScanReport.of(report)

    @get("/{warning_id:int}", guards=[EVERYONE], sync_to_thread=True, summary="A warning with its events")
    def get_warning(self, request: Request, services: NamedDependency[Services],
                    warning_id: WarningId) -> WarningWithEvents:
        warning = services.warnings.get(warning_id)
        audited_read(request, "warning", warning_id, household_id=warning.household_id)
        visible(services, principal_of(request), warning)
        return WarningWithEvents(WarningItem.of(warning),
                                 [WarningEventItem.of(e) for e in services.warnings.events(warning_id)])

    @post("/{warning_id:int}/acknowledge", guards=[WORKERS], sync_to_thread=True, status_code=200,
          summary="Acknowledge a warning: seen, being worked on")
    def acknowledge(self, request: Request, services: NamedDependency[Services], warning_id: WarningId,
                    data: JSONBody[AcknowledgeWarning | None] = None) -> WarningItem:
        """An open warning becomes acknowledged, with an optional note; it stays so while its condition holds."""
        principal = principal_of(request)
        warning = workable(services, principal, warning_id)
        audited_write(request, "warning", warning_id, household_id=warning.household_id)
        return WarningItem.of(services.warnings.acknowledge(warning_id, data, principal.actor))

    @post("/{warning_id:int}/resolve", guards=[WORKERS], sync_to_thread=True, status_code=200,
          summary="Resolve a warning with a note saying how")
    def resolve(self, request: Request, services: NamedDependency[Services], warning_id: WarningId,
                data: JSONBody[ResolveWarning]) -> WarningItem:
        """Resolved by a person stays resolved, even if the scan still finds the condition."""
        principal = principal_of(request)
        warning = workable(services, principal, warning_id)
        audited_write(request, "warning", warning_id, household_id=warning.household_id)
        return WarningItem.of(services.warnings.resolve(warning_id, data, principal.actor))


ROUTES = [WarningsController]
