"""Every route under /v1, and what the handlers may ask for (`services`, the service bundle)."""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import State
from litestar.di import Provide

from budget_ledger.adapters.http.controllers.access import AccessController
from budget_ledger.services import Services


def _services(state: State) -> Services:
    return state.services


def v1_router() -> Router:
    return Router(
        path="/v1",
        route_handlers=[AccessController],
        dependencies={"services": Provide(_services, sync_to_thread=False)},
    )
