"""Payment runs: start one (a budgetbeheerder, or the nightly batch), read them with their report and
instructions, approve (four eyes: never by who started it), cancel, reject one instruction, and download
the approved payments as a pain.001 file for the bank.

Every step is `PaymentRunService` (budget_ledger/payment_runs.py), as in the CLI (`run`, `approve`,
`export-payments`). The download is exactly `budget-ledger export-payments`: the run's approved
instructions with an IBAN become a batch (adapters/bank/payment_file.batch_for), rendered and validated
against the version's XSD (adapters/bank/pain001.render_pain001), and only then marked exported
(`mark_exported`) under the file's message id; a file that does not validate is a problem and nothing is
marked. An exported run is not exported again (409): the file is handed out once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from pydantic import BaseModel, ConfigDict, Field

from budget_ledger.adapters.bank.pain001 import PAIN_VERSIONS, Pain001Error, render_pain001
from budget_ledger.adapters.bank.payment_file import batch_for
from budget_ledger.adapters.http.audit import audited_read, audited_write, principal_of
from budget_ledger.adapters.http.auth import BEHEER, BEHEER_OR_BATCH, READERS
from budget_ledger.adapters.http.controllers.ledger import Day
from budget_ledger.adapters.http.pagination import LIMIT, OFFSET, Page, page_of
from budget_ledger.adapters.http.problems import PROBLEM_BASE
from budget_ledger.adapters.http.types import MAX_ID, Amount, Id
from budget_ledger.addresses import PostalAddress
from budget_ledger.errors import ConflictError, NotFoundError
from budget_ledger.ledger.money import Money
from budget_ledger.payment_runs import (
    NOTES_SHOWN,
    InstructionStatus,
    NewInstruction,
    PaymentInstruction,
    PaymentRun,
    RunKind,
    RunStatus,
)
from budget_ledger.services import Services
from budget_ledger.settings import Settings

PainVersion = Literal["pain.001.001.03", "pain.001.001.09"]
assert set(PainVersion.__args__) == set(PAIN_VERSIONS)  # type: ignore[attr-defined]


# -- bodies ----------------------------------------------------------------------------------------------


class StartRun(BaseModel):
    """What a run books: everything due by `run_date` for the households in scope (a gemeente's, the ones
    listed, or all), or with `dry_run` only what it would do."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    run_date: Day = Field(description="book everything due by this day")
    dry_run: bool = Field(default=False, strict=True, description="report what the run would do; write nothing")
    gemeente: str | None = Field(default=None, min_length=1, max_length=100, description="only this gemeente (code)")
    households: list[Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]] | None = Field(
        default=None, min_length=1, max_length=100_000, description="only these households")
    kind: RunKind = Field(default=RunKind.ALL, description="everything due, only the fixed costs, or only the leefgeld")


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    reason: str = Field(min_length=3, max_length=500)
    on: Day | None = Field(default=None, description="booking date of the reversals (default: today)")


# -- responses -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressView:
    street_name: str | None
    building_number: str | None
    postcode: str | None
    town: str
    country: str

    @classmethod
    def of(cls, a: PostalAddress | None) -> AddressView | None:
        return None if a is None else cls(a.street_name, a.building_number, a.postcode, a.town, a.country)


@dataclass(frozen=True)
class PlannedPayment:
    """A payment a (dry) run makes: to whom, how much, when."""

    household_id: int
    obligation: str
    due_date: date
    execution_date: date
    rule: str
    category: str
    amount: Amount
    payee_kind: str
    creditor_id: int | None
    payee_name: str
    iban: str | None
    bic: str | None
    reference_kind: str
    reference: str
    end_to_end_id: str
    payee_address: AddressView | None

    @classmethod
    def of(cls, i: NewInstruction) -> PlannedPayment:
        return cls(i.household_id, i.obligation, i.due_date, i.execution_date, i.rule, i.category, str(i.amount),
                   i.payee_kind.value, i.creditor_id, i.payee_name, i.iban, i.bic, i.reference_kind, i.reference,
                   i.end_to_end_id, AddressView.of(i.payee_address))


@dataclass(frozen=True)
class InstructionView:
    id: int
    run_id: int
    status: str
    household_id: int
    obligation: str
    due_date: date
    execution_date: date
    rule: str
    category: str
    amount: Amount
    payee_kind: str
    creditor_id: int | None
    payee_name: str
    iban: str | None
    bic: str | None
    reference_kind: str
    reference: str
    end_to_end_id: str
    payee_address: AddressView | None
    entry_id: int
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    exported_at: datetime | None
    executed_at: datetime | None
    rejected_by: str | None
    rejected_at: datetime | None
    rejection_reason: str | None
    reversal_entry_id: int | None

    @classmethod
    def of(cls, i: PaymentInstruction) -> InstructionView:
        return cls(i.id, i.run_id, i.status.value, i.household_id, i.obligation, i.due_date, i.execution_date, i.rule,
                   i.category, str(i.amount), i.payee_kind.value, i.creditor_id, i.payee_name, i.iban, i.bic,
                   i.reference_kind, i.reference, i.end_to_end_id, AddressView.of(i.payee_address), i.entry_id,
                   i.created_at, i.approved_by, i.approved_at, i.exported_at, i.executed_at, i.rejected_by,
                   i.rejected_at, i.rejection_reason, i.reversal_entry_id)


@dataclass(frozen=True)
class Skipped:
    household_id: int
    reason: str


@dataclass(frozen=True)
class Failed:
    household_id: int
    message: str


@dataclass(frozen=True)
class Note:
    """A shortfall or warning of the run about one household (kind, severity and day when the rules found it)."""

    household_id: int
    message: str
    kind: str | None
    severity: str | None
    on: date | None
    amount: Amount | None

    @classmethod
    def of_json(cls, data: dict[str, Any]) -> Note:
        amount, on = data.get("amount"), data.get("on")
        return cls(data["household_id"], data["message"], data.get("kind"), data.get("severity"),
                   date.fromisoformat(on) if on else None, str(Money.parse(amount)) if amount is not None else None)


@dataclass(frozen=True)
class RunReportView:
    run_id: int | None
    """None for a dry run: nothing was written."""
    run_date: date
    dry_run: bool
    households_processed: list[int]
    instructions_created: int
    total: Amount
    per_category: dict[str, Amount]
    skipped: list[Skipped]
    failed: list[Failed]
    shortfalls: list[Note]
    """The first 100 (`shortfalls_total` says how many there are; /payment-runs/{id}/notes pages them all)."""
    shortfalls_total: int
    warnings: list[Note]
    """The first 100, as the shortfalls."""
    warnings_total: int

    @classmethod
    def of_json(cls, data: dict[str, Any]) -> RunReportView:
        return cls(
            run_id=data.get("run_id"), run_date=date.fromisoformat(data["run_date"]), dry_run=bool(data["dry_run"]),
            households_processed=list(data["households_processed"]),
            instructions_created=int(data["instructions_created"]), total=str(Money.parse(data["total"])),
            per_category={k: str(Money.parse(v)) for k, v in data["per_category"].items()},
            skipped=[Skipped(s["household_id"], s["reason"]) for s in data["skipped"]],
            failed=[Failed(f["household_id"], f["message"]) for f in data["failed"]],
            shortfalls=[Note.of_json(n) for n in data["shortfalls"][:NOTES_SHOWN]],
            shortfalls_total=len(data["shortfalls"]),
            warnings=[Note.of_json(n) for n in data["warnings"][:NOTES_SHOWN]],
            warnings_total=len(data["warnings"]))


@dataclass(frozen=True)
class StartedRun:
    report: RunReportView
    payments: list[PlannedPayment]
    """For a dry run, the payments it would make; empty for a real run (read its instructions instead)."""


@dataclass(frozen=True)
class RunView:
    id: int
    run_date: date
    status: str
    kind: str
    gemeente: str | None
    households: list[int] | None
    started_by: str
    started_at: datetime
    four_eyes: bool
    finished_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    exported_by: str | None
    exported_at: datetime | None
    message_id: str | None
    cancelled_by: str | None
    cancelled_at: datetime | None

    @classmethod
    def of(cls, r: PaymentRun) -> RunView:
        scope = r.scope or {}
        return cls(r.id, r.run_date, r.status.value, scope.get("kind") or RunKind.ALL.value, scope.get("gemeente"),
                   scope.get("households"), r.started_by, r.started_at, r.four_eyes, r.finished_at, r.approved_by,
                   r.approved_at, r.exported_by, r.exported_at, r.message_id, r.cancelled_by, r.cancelled_at)


@dataclass(frozen=True)
class RunDetail:
    run: RunView
    report: RunReportView | None
    """None while the run is still going on (or when its process died: its instructions still stand)."""

    @classmethod
    def of(cls, r: PaymentRun) -> RunDetail:
        return cls(RunView.of(r), RunReportView.of_json(r.report) if r.report else None)


# -- the routes ------------------------------------------------------------------------------------------


class PaymentRunController(Controller):
    path = "/payment-runs"
    tags = ["payment runs"]

    @post("/", guards=[BEHEER_OR_BATCH], sync_to_thread=True,
          summary="Start a payment run (201), or a dry run that writes nothing (200)")
    def start(self, request: Request, services: NamedDependency[Services], data: JSONBody[StartRun]
              ) -> Response[StartedRun]:
        report = services.payment_runs.start(data.run_date, gemeente=data.gemeente, households=data.households,
                                             actor=principal_of(request).actor, dry_run=data.dry_run, kind=data.kind)
        audited_write(request, "payment-run", report.run_id)
        started = StartedRun(RunReportView.of_json(report.to_json()),
                             [PlannedPayment.of(i) for i in report.instructions] if data.dry_run else [])
        return Response(started, status_code=HTTP_200_OK if data.dry_run else HTTP_201_CREATED)

    @get("/", guards=[READERS], sync_to_thread=True, summary="Payment runs, newest first")
    def runs(self, services: NamedDependency[Services],
             run_date: Annotated[date | None, QueryParameter(description="only runs of this day")] = None,
             status: Annotated[RunStatus | None, QueryParameter(description="only runs in this status")] = None,
             limit: Annotated[int, LIMIT] = 50, offset: Annotated[int, OFFSET] = 0) -> Page[RunView]:
        found = [r for r in services.payment_runs.runs(run_date=run_date) if status is None or r.status is status]
        found.sort(key=lambda r: r.id, reverse=True)
        return page_of([RunView.of(r) for r in found], limit, offset)

    @get("/{run_id:int}", guards=[READERS], sync_to_thread=True, summary="A payment run and its report")
    def run(self, services: NamedDependency[Services], run_id: Id) -> RunDetail:
        return RunDetail.of(services.payment_runs.get(run_id))

    @get("/{run_id:int}/notes", guards=[READERS], sync_to_thread=True,
         summary="A run's shortfalls, then its warnings, paged")
    def notes(self, services: NamedDependency[Services], run_id: Id,
              kind: Annotated[str | None, QueryParameter(
                  min_length=1, max_length=60, description="only findings of this kind (tekort, "
                  "crediteur-hoort-bij-klant, leefgeld-onder-minimum, ...)")] = None,
              household_id: Annotated[int | None, QueryParameter(
                  ge=1, le=MAX_ID, description="only this household's")] = None,
              limit: Annotated[int, LIMIT] = 50, offset: Annotated[int, OFFSET] = 0) -> Page[Note]:
        found = services.payment_runs.notes(run_id, kind=kind, household_id=household_id)
        return Page(items=[Note.of_json(n) for n in found[offset:offset + limit]], total=len(found), limit=limit,
                    offset=offset)

    @get("/{run_id:int}/instructions", guards=[READERS], sync_to_thread=True,
         summary="A run's payment instructions")
    def instructions(self, request: Request, services: NamedDependency[Services], run_id: Id,
                     status: Annotated[InstructionStatus | None, QueryParameter(
                         description="only instructions in this status")] = None,
                     limit: Annotated[int, LIMIT] = 50, offset: Annotated[int, OFFSET] = 0) -> Page[InstructionView]:
        found = services.payment_runs.instructions(run_id, status)
        audited_read(request, "payment-instructions", run_id)
        return page_of([InstructionView.of(i) for i in found], limit, offset)

    @post("/{run_id:int}/approve", guards=[BEHEER], sync_to_thread=True, status_code=HTTP_200_OK,
          summary="Approve a planned run and its instructions (four eyes: not by who started it)")
    def approve(self, request: Request, services: NamedDependency[Services], run_id: Id) -> RunDetail:
        audited_write(request, "payment-run", run_id)
        return RunDetail.of(services.payment_runs.approve(run_id, principal_of(request).actor))

    @post("/{run_id:int}/cancel", guards=[BEHEER], sync_to_thread=True, status_code=HTTP_200_OK,
          summary="Cancel a run that is not exported: every open instruction rejected, its entry reversed")
    def cancel(self, request: Request, services: NamedDependency[Services], run_id: Id,
               data: JSONBody[Reason]) -> RunDetail:
        audited_write(request, "payment-run", run_id)
        return RunDetail.of(services.payment_runs.cancel(run_id, principal_of(request).actor, data.reason, on=data.on))

    @post("/{run_id:int}/instructions/{instruction_id:int}/reject", guards=[BEHEER], sync_to_thread=True,
          status_code=HTTP_200_OK,
          summary="Reject one instruction: its entry reversed, its obligation free for the next run")
    def reject(self, request: Request, services: NamedDependency[Services], run_id: Id,
               instruction_id: Id, data: JSONBody[Reason]) -> InstructionView:
        ours = next((i for i in services.payment_runs.instructions(run_id) if i.id == instruction_id), None)
        if ours is None:
            raise NotFoundError(f"payment run {run_id} has no instruction {instruction_id}", field="instruction_id")
        audited_write(request, "payment-instruction", instruction_id, ours.household_id)
        rejected = services.payment_runs.reject_instruction(instruction_id, principal_of(request).actor, data.reason,
                                                            on=data.on)
        return InstructionView.of(rejected)

    @post("/{run_id:int}/pain001", guards=[BEHEER_OR_BATCH], sync_to_thread=True, media_type="application/xml",
          status_code=200,
          summary="Export the approved payments as a pain.001 file, validated against its XSD, and mark them "
                  "exported (a POST: it changes the run, and a second export is refused)")
    def pain001(self, request: Request, services: NamedDependency[Services], settings: NamedDependency[Settings],
                run_id: Id,
                version: Annotated[PainVersion | None, QueryParameter(
                    description="pain.001 version (default: the bank profile's, settings.payment_file_version)")
                ] = None) -> Response[bytes]:
        service = services.payment_runs
        audited_write(request, "payment-run", run_id)
        run = service.get(run_id)
        if run.status is not RunStatus.APPROVED:
            raise ConflictError(f"payment run {run_id} is {run.status.value}; only an approved run is exported",
                                field="status")
        approved = [i for i in service.instructions(run_id, InstructionStatus.APPROVED) if i.iban]
        if not approved:
            raise ConflictError(f"payment run {run_id} has no approved payments with an IBAN to export",
                                field="run_id")
        batch = batch_for(run_id, approved, organisation=settings.organisation_name,
                          debtor_iban=settings.organisation_iban, created_at=datetime.now(UTC))
        try:
            xml = render_pain001(batch, version or settings.payment_file_version)
        except Pain001Error as exc:
            raise ProblemDetailsException(
                status_code=422, title="No valid payment file", detail=f"no file written: {exc}",
                type_=PROBLEM_BASE + "invalid-payment-file",
                extra={"code": "invalid-payment-file", "field": "run_id", "problems": list(exc.problems)},
            ) from None
        service.mark_exported(run_id, batch.message_id, principal_of(request).actor, [i.id for i in approved])
        return Response(xml, media_type="application/xml", headers={
            "Content-Disposition": f'attachment; filename="{batch.message_id}.xml"',
            "X-Message-Id": batch.message_id})


ROUTES = [PaymentRunController]
