"""The Litestar application factory. Handlers call service functions; they never touch the database.

`create_app(settings)` builds the whole API: /health, the OpenAPI 3.1 document at /schema with its
interactive pages (/schema/swagger, /schema/scalar), and the routes under /v1 (adapters/http/routes.py),
behind bearer-token authentication (adapters/http/auth.py) and the audit trail (adapters/http/audit.py).
Every refusal is RFC 9457 problem details (adapters/http/problems.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from budget_ledger.adapters.db.engine import Database
from budget_ledger.adapters.db.migrate import current_revision, head_revision
from budget_ledger.adapters.http.audit import AuditMiddleware, AuditWriter
from budget_ledger.adapters.http.auth import PUBLIC, BearerTokenMiddleware
from budget_ledger.adapters.http.problems import document_problems, problem_details_plugin
from budget_ledger.clock import Clock, system_clock
from budget_ledger.services import Services
from budget_ledger.settings import Settings

MAX_BODY_BYTES = 1_000_000
"""A JSON body larger than this is refused (413); a statement upload has its own, larger limit."""


@dataclass(frozen=True)
class Health:
    status: str
    database: str
    schema_revision: str | None
    schema_expected: str | None


@get("/health", sync_to_thread=True, tags=["monitoring"], summary="Liveness and schema check")
def health(state: State) -> Health:
    """`ok` when the database answers and its schema is at the revision this build expects."""
    database: Database = state.database
    try:
        revision = current_revision(database)
    except Exception as exc:  # any failure to reach the database is "unavailable", not a 500
        raise ProblemDetailsException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE, title="Database unavailable", detail=str(exc).splitlines()[0]
        ) from exc
    expected = head_revision()
    if revision != expected:
        raise ProblemDetailsException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            title="Schema out of date",
            detail=f"database schema is at {revision or 'none'}, this build expects {expected}: run `budget-ledger db upgrade`",
        )
    return Health(status="ok", database=database.engine.dialect.name, schema_revision=revision, schema_expected=expected)


def create_app(settings: Settings, *, database: Database | None = None, services: Services | None = None,
               clock: Clock = system_clock) -> Litestar:
    from budget_ledger.adapters.db.bootstrap import services as build_services
    from budget_ledger.adapters.http.routes import v1_router

    database = database or Database(settings)
    services = services or build_services(database, clock)
    app = Litestar(
        route_handlers=[health, v1_router()],
        state=State({"database": database, "settings": settings, "services": services, "clock": clock,
                     "audit_writer": AuditWriter(services.access.record)}),
        middleware=[AuditMiddleware, DefineMiddleware(BearerTokenMiddleware, exclude=PUBLIC)],
        plugins=[problem_details_plugin()],
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="budget_ledger",
            version="1.0.0",
            description=(
                "Ledger for budgetbeheer and financieel ontzorgen. Amounts are decimal strings in euro, dates "
                "ISO-8601. Every route under /v1 needs `Authorization: Bearer <token>`; refusals are RFC 9457 "
                "problem details."),
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
            components=Components(security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="an API token (bl_…)")}),
            security=[{"bearer": []}],
        ),
        on_shutdown=[lambda: database.dispose()],
    )
    document_problems(app.openapi_schema)
    return app
