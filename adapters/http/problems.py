"""The one place that maps the ledger's refusals to HTTP: RFC 9457 problem details.

Every refusal becomes `application/problem+json` with a stable `type`, a `title`, the `detail` sentence
and, where known, the `field` that caused it. Handlers never build error responses themselves.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.spec import OpenAPI, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Schema
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from sqlalchemy.exc import DataError

from budget_ledger.errors import ConflictError, InvalidInputError, NotFoundError
from budget_ledger.ledger.errors import (
    AlreadyReversedError,
    DatabaseBusyError,
    DuplicateAccountError,
    EntryNotFoundError,
    IdempotencyConflictError,
    InsufficientFundsError,
    LedgerError,
    UnknownAccountError,
)
from budget_ledger.ledger.money import MoneyError

PROBLEM_BASE = "https://budget-ledger.invalid/problems/"

_STATUS: list[tuple[type[LedgerError], int, str]] = [
    (EntryNotFoundError, 404, "Entry not found"),
    (NotFoundError, 404, "Not found"),
    (ConflictError, 409, "Conflict with the current state"),
    (IdempotencyConflictError, 409, "Idempotency key already used for another request"),
    (AlreadyReversedError, 409, "Entry already reversed"),
    (DuplicateAccountError, 409, "Account exists with other settings"),
    (InsufficientFundsError, 409, "Insufficient funds"),
    (UnknownAccountError, 422, "Unknown account"),
]


def status_for(exc: LedgerError) -> tuple[int, str]:
    for kind, status, title in _STATUS:
        if isinstance(exc, kind):
            return status, title
    return 422, "Invalid request"


def ledger_problem(exc: LedgerError) -> ProblemDetailsException:
    status, title = status_for(exc)
    extra: dict[str, object] = {"code": exc.code}
    if exc.field:
        extra["field"] = exc.field
    if isinstance(exc, InvalidInputError):
        extra["errors"] = [{"field": p.field, "reason": p.reason} for p in exc.problems]
    if isinstance(exc, InsufficientFundsError):
        extra.update(account=exc.account_code, available=str(exc.available), requested=str(exc.requested))
    return ProblemDetailsException(
        status_code=status, title=title, detail=exc.message, type_=PROBLEM_BASE + exc.code, extra=extra
    )


def money_problem(exc: MoneyError) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=422, title="Invalid amount", detail=str(exc), type_=PROBLEM_BASE + "invalid-amount",
        extra={"code": "invalid-amount"},
    )


def busy_problem(exc: DatabaseBusyError) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=503, title="Database busy", detail=str(exc), type_=PROBLEM_BASE + "database-busy",
        headers={"Retry-After": "1"}, extra={"code": "database-busy"},
    )


_MISSING = re.compile(r"Missing required (?P<source>\w+) parameter '(?P<name>[^']+)'")


def validation_problem(exc: ValidationException) -> ProblemDetailsException:
    """Litestar's own validation of a request (body, path, query): every field with its reason."""
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            where = item.get("source") or "body"
            key = item.get("key") or ""
            errors.append({"field": f"{key}" if key else where, "reason": str(item.get("message", "")),
                           "source": where})
    if not errors:
        # Litestar names a missing parameter only in its sentence: "Missing required query parameter 'from'…"
        missing = _MISSING.search(str(exc.detail))
        if missing:
            errors.append({"field": missing["name"], "reason": "is required", "source": missing["source"]})
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or str(exc.detail)
    return ProblemDetailsException(
        status_code=400, title="Invalid request", detail=detail, type_=PROBLEM_BASE + "invalid-request",
        extra={"code": "invalid-request", "errors": errors, **({"field": errors[0]["field"]} if errors else {})},
    )


def http_problem(exc: HTTPException) -> ProblemDetailsException:
    """Litestar's own refusals (401, 403, 404 for a route, 405, 413…): the status phrase as title and the
    reason as detail, with the exception's headers (WWW-Authenticate, Allow)."""
    try:
        title = HTTPStatus(exc.status_code).phrase
    except ValueError:
        title = "Error"
    slug = title.lower().replace(" ", "-")
    extra = exc.extra if isinstance(exc.extra, dict) else {}
    return ProblemDetailsException(status_code=exc.status_code, title=title, detail=str(exc.detail or title),
                                   type_=PROBLEM_BASE + slug, headers=exc.headers, extra={"code": slug, **extra})


def out_of_range_problem(exc: Exception) -> ProblemDetailsException:
    """A number too large for the database (an id of 2**70 in a path): the request is wrong, not the server."""
    return ProblemDetailsException(
        status_code=400, title="Invalid request", detail="a number in the request is out of range",
        type_=PROBLEM_BASE + "out-of-range", extra={"code": "out-of-range"})


PROBLEM_MEDIA_TYPE = "application/problem+json"
_STANDARD_REFUSALS = {
    "400": "Invalid request: the field and reason are in `field` and `errors`",
    "401": "No token, or an unknown, expired or revoked one",
    "403": "The token's role may not do this",
    "404": "Not found (or outside a begeleider's caseload)",
    "409": "In conflict with the current state",
    "422": "Refused by a rule of the domain",
}


def problem_schema() -> Schema:
    text, integer = Schema(type=OpenAPIType.STRING), Schema(type=OpenAPIType.INTEGER)
    return Schema(
        type=OpenAPIType.OBJECT, required=["status", "title"], description="RFC 9457 problem details",
        properties={"type": text, "title": text, "status": integer, "detail": text, "instance": text, "code": text,
                    "field": text,
                    "errors": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.OBJECT, properties={
                        "field": text, "reason": text, "source": text}))})


def document_problems(openapi: OpenAPI) -> None:
    """Every refusal is problem details, so the document says so: each 4xx/5xx response of an operation is
    `application/problem+json` with the problem schema, and each /v1 operation lists the standard refusals."""
    schema = problem_schema()
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            if path.startswith("/v1"):
                for code, description in _STANDARD_REFUSALS.items():
                    responses.setdefault(code, OpenAPIResponse(description=description))
            for code, response in responses.items():
                if isinstance(response, OpenAPIResponse) and str(code)[0] in "45":
                    response.content = {PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=schema)}
            operation.responses = responses


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            enable_for_all_http_exceptions=True,
            exception_to_problem_detail_map={
                HTTPException: http_problem,
                OverflowError: out_of_range_problem,
                DataError: out_of_range_problem,
                ValidationException: validation_problem,
                LedgerError: ledger_problem,
                MoneyError: money_problem,
                DatabaseBusyError: busy_problem,
            },
        )
    )
