"""Bank statements in: upload a CAMT.053 file (a budgetbeheerder, or the batch that fetches them), the
work queue of lines nobody could match, one line, and a budgetbeheerder's assignment of a line.

The upload is the file's raw XML as the request body (`Content-Type: application/xml`), read with its own
size limit (`settings.statement_max_megabytes`, not the API's 1 MB for JSON) and handed to
`adapters/bank/statement_files.import_camt053`, the one way a file reaches the import, as for
`budget-ledger import-camt`. The reader refuses a malformed, hostile (DOCTYPE, entities) or foreign file
before anything is written, and the import books the whole file in one transaction; each line is booked
once however often its statement is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

import anyio
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.params import JSONBody, QueryParameter
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
)

from budget_ledger.adapters.bank.statement_files import MEGABYTE, import_camt053
from budget_ledger.adapters.http.audit import audited_read, audited_write, principal_of
from budget_ledger.adapters.http.auth import BEHEER, BEHEER_OR_BATCH, READERS
from budget_ledger.adapters.http.pagination import LIMIT, OFFSET, Page, page_of
from budget_ledger.adapters.http.problems import PROBLEM_BASE
from budget_ledger.adapters.http.types import Amount, Id, amount
from budget_ledger.bank_lines import BankLine, LineAssignment, StatementImport
from budget_ledger.bank_queue import AssignLine
from budget_ledger.services import Services
from budget_ledger.settings import Settings
from budget_ledger.statement_import import ImportReport, StatementReport

XML_TYPES = ("application/xml", "text/xml")
UPLOAD_CEILING = 2000 * MEGABYTE
"""Litestar's own limit on the upload route: the largest `statement_max_megabytes` settings allow. The
configured limit is enforced while reading (adapters/http/controllers/bank.read_limited)."""


@dataclass
class XmlUploadOperation(Operation):
    """The OpenAPI operation of the upload: a raw XML body (the handler reads the stream itself)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True, description="the CAMT.053 file (camt.053.001.02 to .08) as it came from the bank",
            content={t: OpenAPIMediaType(schema=Schema(type="string", format="binary")) for t in XML_TYPES})


# -- responses -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementImportView:
    import_id: int
    statement_id: str
    account_iban: str
    lines_total: int
    lines_new: int
    lines_known: int
    """Lines stored already (by an earlier upload of this or an overlapping statement): nothing booked."""
    not_booked: int
    """Pending or informational entries: not money that moved yet."""
    matched_by_kind: dict[str, int]
    unmatched: int
    amount_in: Amount
    amount_out: Amount
    payments_executed: int
    payments_returned: int
    opening_balance: Amount | None
    ledger_opening_balance: Amount | None
    closing_balance: Amount | None
    ledger_closing_balance: Amount | None
    reconciled: bool
    warnings_raised: int

    @classmethod
    def of(cls, s: StatementReport) -> StatementImportView:
        return cls(s.import_id, s.statement_id, s.account_iban, s.lines_total, s.lines_new, s.lines_known,
                   s.not_booked, dict(sorted(s.by_kind.items())), s.unmatched, str(s.amount_in), str(s.amount_out),
                   s.executed, s.returned, amount(s.opening), amount(s.ledger_opening), amount(s.closing),
                   amount(s.ledger_closing), s.reconciled, s.warnings_raised)


@dataclass(frozen=True)
class ImportedStatementView:
    """A statement as it was imported: who, when, what it held, and whether it reconciled."""

    import_id: int
    statement_id: str
    message_id: str
    version: str
    account_iban: str
    from_date: date | None
    to_date: date | None
    lines_total: int
    lines_new: int
    lines_known: int
    opening_balance: Amount | None
    ledger_opening_balance: Amount | None
    closing_balance: Amount | None
    ledger_closing_balance: Amount | None
    reconciled: bool
    imported_by: str
    imported_at: datetime

    @classmethod
    def of(cls, i: StatementImport) -> ImportedStatementView:
        return cls(i.id, i.statement_id, i.message_id, i.version, i.account_iban, i.from_date, i.to_date,
                   i.lines_total, i.lines_new, i.lines_known, amount(i.opening), amount(i.ledger_opening),
                   amount(i.closing), amount(i.ledger_closing),
                   not i.opening_difference and not i.closing_difference, i.imported_by, i.imported_at)


@dataclass(frozen=True)
class FileImportView:
    file_sha256: str
    message_id: str
    version: str
    lines_new: int
    lines_known: int
    statements: list[StatementImportView]

    @classmethod
    def of(cls, r: ImportReport) -> FileImportView:
        return cls(r.file_sha256, r.message_id, r.version, r.lines_new, r.lines_known,
                   [StatementImportView.of(s) for s in r.statements])


@dataclass(frozen=True)
class AssignmentView:
    id: int
    household_id: int | None
    instruction_id: int | None
    income_source: str | None
    amount: Amount
    entry_id: int
    note: str
    assigned_by: str
    assigned_at: datetime

    @classmethod
    def of(cls, a: LineAssignment) -> AssignmentView:
        return cls(a.id, a.household_id, a.instruction_id, a.income_source, str(a.amount), a.entry_id, a.note,
                   a.assigned_by, a.assigned_at)


@dataclass(frozen=True)
class BankLineView:
    id: int
    import_id: int
    account_iban: str
    booking_date: date
    value_date: date | None
    amount: Amount
    """Signed as the organisation sees it: money in is positive."""
    bank_reference: str | None
    end_to_end_id: str | None
    counterparty_name: str | None
    counterparty_iban: str | None
    remittance: str
    structured_reference: str | None
    return_reason: str | None
    bank_transaction_code: str | None
    status: str
    match_kind: str | None
    match_reason: str
    """Why the line matched what it matched, or why nothing matched, in words."""
    household_id: int | None
    instruction_id: int | None
    expected_income_id: int | None
    entry_id: int | None
    assigned_by: str | None
    assigned_at: datetime | None
    details: dict[str, Any]
    assignments: list[AssignmentView] = field(default_factory=list)
    """Where an assigned line's money went (only in the answer about one line)."""

    @classmethod
    def of(cls, line: BankLine, assignments: list[LineAssignment] | None = None) -> BankLineView:
        return cls(line.id, line.import_id, line.account_iban, line.booking_date, line.value_date, str(line.amount),
                   line.bank_reference, line.end_to_end_id, line.counterparty_name, line.counterparty_iban,
                   line.remittance, line.structured_reference, line.return_reason, line.bank_transaction_code,
                   line.status.value, line.match_kind.value if line.match_kind else None, line.match_reason,
                   line.household_id, line.instruction_id, line.expected_income_id, line.entry_id, line.assigned_by,
                   line.assigned_at, line.to_json()["details"], [AssignmentView.of(a) for a in assignments or ()])


# -- reading the upload ----------------------------------------------------------------------------------


def too_large(limit: int) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=HTTP_413_REQUEST_ENTITY_TOO_LARGE, title="Statement file too large",
        detail=f"a statement file may be at most {limit // MEGABYTE} MB (settings.statement_max_megabytes); "
        "nothing was imported", type_=PROBLEM_BASE + "statement-too-large",
        extra={"code": "statement-too-large", "field": "body"})


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is larger than `limit`: announced or streamed."""
    announced = request.headers.get("content-length")
    if announced is not None and announced.isdigit() and int(announced) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
    except RequestEntityTooLarge:
        raise too_large(limit) from None
    return b"".join(chunks)


# -- the routes ------------------------------------------------------------------------------------------


class BankController(Controller):
    path = "/bank"
    tags = ["bank"]

    @post("/statements", guards=[BEHEER_OR_BATCH], request_max_body_size=UPLOAD_CEILING,
          operation_class=XmlUploadOperation,
          summary="Import a CAMT.053 statement file (the raw XML as the body); each line is booked once")
    async def upload(self, request: Request, services: NamedDependency[Services],
                     settings: NamedDependency[Settings]) -> FileImportView:
        media_type = request.content_type[0].lower()
        if media_type not in XML_TYPES:
            raise ProblemDetailsException(
                status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE, title="Not an XML upload",
                detail=f"send the CAMT.053 file itself with Content-Type: application/xml, not {media_type or 'nothing'}",
                type_=PROBLEM_BASE + "unsupported-media-type",
                extra={"code": "unsupported-media-type", "field": "content-type"})
        data = await read_limited(request, settings.statement_max_megabytes * MEGABYTE)
        actor = principal_of(request).actor
        audited_write(request, "bank-statement")
        report = await anyio.to_thread.run_sync(
            lambda: import_camt053(services.bank_import, data, actor, max_megabytes=settings.statement_max_megabytes))
        return FileImportView.of(report)

    @get("/statements", guards=[READERS], sync_to_thread=True,
         summary="The statements imported so far, newest first, each with its reconciliation against the ledger")
    def statements(self, services: NamedDependency[Services], limit: Annotated[int, LIMIT] = 50,
                   offset: Annotated[int, OFFSET] = 0) -> Page[ImportedStatementView]:
        found = list(reversed(services.bank_import.imports()))
        return page_of([ImportedStatementView.of(i) for i in found], limit, offset)

    @get("/queue", guards=[READERS], sync_to_thread=True,
         summary="The work queue: bank lines nobody could match, oldest first, with why")
    def queue(self, request: Request, services: NamedDependency[Services],
              booked_before: Annotated[date | None, QueryParameter(
                  description="only lines booked before this day")] = None,
              limit: Annotated[int, LIMIT] = 50, offset: Annotated[int, OFFSET] = 0) -> Page[BankLineView]:
        lines = services.bank_queue.unmatched(booked_before=booked_before)
        audited_read(request, "bank-queue")
        return page_of([BankLineView.of(line) for line in lines], limit, offset)

    @get("/lines/{line_id:int}", guards=[READERS], sync_to_thread=True,
         summary="One bank line, with where its money went if it was assigned")
    def line(self, request: Request, services: NamedDependency[Services], line_id: Id) -> BankLineView:
        line = services.bank_queue.line(line_id)
        audited_read(request, "bank-line", line_id, line.household_id)
        return BankLineView.of(line, services.bank_queue.assignments(line_id))

    @post("/lines/{line_id:int}/assign", guards=[BEHEER], sync_to_thread=True, status_code=HTTP_200_OK,
          summary="Assign an unmatched line, whole, to households (money in) or our payments")
    def assign(self, request: Request, services: NamedDependency[Services], line_id: Id,
               data: JSONBody[AssignLine]) -> BankLineView:
        for household_id in sorted({p.household_id for p in data.parts if p.household_id is not None}) or [None]:
            audited_write(request, "bank-line", line_id, household_id)
        line = services.bank_queue.assign(line_id, data, principal_of(request).actor)
        return BankLineView.of(line, services.bank_queue.assignments(line_id))


ROUTES = [BankController]
