"""What the registry controllers (households.py, households_*.py, registry.py) share: who may see which
household, one answer for "not there" and "not yours", and naming what a write was about.

No routes here (no `ROUTES`).

- `visible` is the first call of every route about one household: a begeleider asking for a household
  outside their caseload gets the 404 of a household that does not exist.
- `owned` loads a part of a household (a trajectory, a creditor…) named by its own id and makes sure it
  belongs to the household of the path; `visible_part` does the same for a part reached by its own id
  alone. Either way "does not exist", "belongs to another household" and "is outside your caseload" are one
  and the same problem, so an id never tells whether it exists.
- `writing` names the entity of a write for its audit record, also when the write is refused.
- ids in paths and amounts in views are adapters/http/types.py's `Id` and `Amount`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from litestar import Request

from budget_ledger.access import Principal, Role
from budget_ledger.adapters.http.audit import audited_write, principal_of
from budget_ledger.errors import NotFoundError
from budget_ledger.services import Services


class _OfHousehold(Protocol):
    @property
    def household_id(self) -> int: ...


P = TypeVar("P", bound=_OfHousehold)




def reveals_bsn(principal: Principal) -> bool:
    """Only a budgetbeheerder sees a BSN whole; everyone else sees it masked."""
    return principal.role is Role.BUDGETBEHEERDER


def visible(request: Request, services: Services, household_id: int) -> Principal:
    """The caller, once it is clear they may see `household_id` (404 for a begeleider outside their caseload)."""
    principal = principal_of(request)
    services.access.require_visible(principal, household_id)
    return principal


def missing(entity: str, entity_id: int, field: str) -> NotFoundError:
    """The one answer for a part of a household that is not there for the caller."""
    return NotFoundError(f"there is no {entity} {entity_id}", field=field)


def owned(request: Request, services: Services, household_id: int, load: Callable[[int], P], entity_id: int,
          entity: str, field: str) -> P:
    """The part `entity_id` of household `household_id`, loaded with `load`; 404 (the same problem) when it
    does not exist, belongs to another household, or the household is outside the caller's caseload."""
    visible(request, services, household_id)
    try:
        part = load(entity_id)
    except NotFoundError:
        raise missing(entity, entity_id, field) from None
    if part.household_id != household_id:
        raise missing(entity, entity_id, field)
    return part


def visible_part(request: Request, services: Services, load: Callable[[int], P], entity_id: int, entity: str,
                 field: str) -> P:
    """A part of a household reached by its own id alone; 404 (the same problem) when it does not exist or
    its household is outside the caller's caseload."""
    try:
        part = load(entity_id)
        services.access.require_visible(principal_of(request), part.household_id)
    except NotFoundError:
        raise missing(entity, entity_id, field) from None
    return part


@dataclass
class WriteNote:
    """What a write was about; the handler fills in the id of what it created."""

    entity: str
    entity_id: object = None
    household_id: int | None = None


@contextmanager
def writing(request: Request, entity: str, entity_id: object = None,
            household_id: int | None = None) -> Iterator[WriteNote]:
    """Name the entity of this write for its audit record, whether it succeeds or is refused."""
    note = WriteNote(entity, entity_id, household_id)
    try:
        yield note
    finally:
        audited_write(request, note.entity, note.entity_id, note.household_id)


def plain(value: Any) -> Any:
    """Stored JSON (overrides, history details) as plain dicts and lists for a response."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
