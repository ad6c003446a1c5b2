"""The Litestar application factory. Handlers call service functions; they never touch the database.

For now the app serves `/health` and the OpenAPI page; the API for budgetbeheerders, begeleiders and
batch runs is built on this factory by the API issue.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from budget_ledger.adapters.db.engine import Database
from budget_ledger.adapters.db.migrate import current_revision, head_revision
from budget_ledger.adapters.http.problems import problem_details_plugin
from budget_ledger.settings import Settings


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


def create_app(settings: Settings, *, database: Database | None = None) -> Litestar:
    database = database or Database(settings)
    return Litestar(
        route_handlers=[health],
        state=State({"database": database, "settings": settings}),
        plugins=[problem_details_plugin()],
        openapi_config=OpenAPIConfig(
            title="budget_ledger",
            version="0.1.0",
            description="Ledger for budgetbeheer and financieel ontzorgen. Amounts are decimal strings in euro.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
        on_shutdown=[lambda: database.dispose()],
    )
