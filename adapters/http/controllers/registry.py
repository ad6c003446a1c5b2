"""Gemeenten, the tenants: how each anchors and times its ontzorging, when bijstand is paid, which rule
profile applies. Everyone may read them (no personal data); only a budgetbeheerder creates or changes one.

The household routes are in households.py and households_*.py; what they share is in registry_support.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from budget_ledger.adapters.http.audit import principal_of
from budget_ledger.adapters.http.auth import BEHEER, EVERYONE
from budget_ledger.adapters.http.controllers.registry_support import writing
from budget_ledger.adapters.http.pagination import LIMIT, OFFSET, Page, page_of
from budget_ledger.gemeenten import Gemeente, GemeenteSettings, NewGemeente
from budget_ledger.services import Services

CODE = PathParameter(min_length=1, max_length=60, description="the gemeente's code, e.g. roermond")


@dataclass(frozen=True)
class GemeenteView:
    id: int
    code: str
    name: str
    settings: GemeenteSettings

    @classmethod
    def of(cls, g: Gemeente) -> GemeenteView:
        return cls(g.id, g.code, g.name, g.settings)


class GemeenteController(Controller):
    path = "/gemeenten"
    tags = ["gemeenten"]

    @get("/", guards=[EVERYONE], sync_to_thread=True, summary="The gemeenten and their settings")
    def gemeenten(self, services: NamedDependency[Services], limit: Annotated[int, LIMIT] = 50,
                  offset: Annotated[int, OFFSET] = 0) -> Page[GemeenteView]:
        return page_of([GemeenteView.of(g) for g in services.gemeenten.list()], limit, offset)

    @post("/", guards=[BEHEER], sync_to_thread=True, summary="Add a gemeente")
    def create(self, request: Request, services: NamedDependency[Services],
               data: JSONBody[NewGemeente]) -> GemeenteView:
        with writing(request, "gemeente", data.code):
            created = services.gemeenten.create(data, principal_of(request).actor)
        return GemeenteView.of(created)

    @get("/{code:str}", guards=[EVERYONE], sync_to_thread=True, summary="One gemeente")
    def gemeente(self, services: NamedDependency[Services], code: Annotated[str, CODE]) -> GemeenteView:
        return GemeenteView.of(services.gemeenten.get(code))

    @put("/{code:str}/settings", guards=[BEHEER], sync_to_thread=True,
         summary="Change a gemeente's settings (all of them: what is left out takes its default)")
    def update_settings(self, request: Request, services: NamedDependency[Services], code: Annotated[str, CODE],
                        data: JSONBody[GemeenteSettings]) -> GemeenteView:
        with writing(request, "gemeente", code):
            changed = services.gemeenten.update_settings(code, data, principal_of(request).actor)
        return GemeenteView.of(changed)


ROUTES = [GemeenteController]
