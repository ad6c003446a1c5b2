"""Every route under /v1, and what the handlers may ask for (`services`, the service bundle).

Each module in adapters/http/controllers/ lists its controllers (or handlers) in `ROUTES`; they are
collected here in module-name order, so adding an area of the API is adding a module.

Conventions every controller follows (see controllers/access.py):
- handlers that call services are `sync_to_thread=True`; they get the bundle as
  `services: NamedDependency[Services]`, path and query values as `FromPath[...]`/`FromQuery[...]`;
- a request body is the service layer's own pydantic command (`JSONBody[NewHousehold]`), never a second
  validation; a response is a frozen dataclass of plain fields, amounts as `Amount` decimal strings and
  path ids as `Id` (types.py);
- every list is a `Page` (pagination.py);
- guards (auth.py) say which roles may use a route; a route about one household first calls
  `services.access.require_visible(principal, household_id)`, so a begeleider gets 404 outside their
  caseload; a read of personal data calls `audited_read`, a write names its entity with `audited_write`.
"""

from __future__ import annotations

import importlib
import pkgutil

from litestar import Router
from litestar.datastructures import State
from litestar.di import Provide

import budget_ledger.adapters.http.controllers as controllers
from budget_ledger.services import Services
from budget_ledger.settings import Settings


def _services(state: State) -> Services:
    return state.services


def _settings(state: State) -> Settings:
    return state.settings


def route_handlers() -> list[object]:
    handlers: list[object] = []
    for module in sorted(m.name for m in pkgutil.iter_modules(controllers.__path__)):
        handlers += getattr(importlib.import_module(f"{controllers.__name__}.{module}"), "ROUTES", [])
    return handlers


def v1_router() -> Router:
    return Router(path="/v1", route_handlers=route_handlers(),
                  dependencies={"services": Provide(_services, sync_to_thread=False),
                                "settings": Provide(_settings, sync_to_thread=False)})
