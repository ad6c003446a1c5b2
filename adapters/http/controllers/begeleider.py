"""The begeleider's read-only screens (issue 7 item 4): their caseload, and per household a leefgeld view in
plain words (budget_ledger/leefgeld_view.py).

Who may read what:
- a begeleider: their own caseload only (the households assigned to the token's actor); any other household
  answers 404, the same as one that does not exist (`AccessService.require_visible`); asking for another
  begeleider's caseload is 403;
- a budgetbeheerder or an auditor: any household, and any begeleider's caseload (`?begeleider=NAME`, which
  they must name: they have no caseload of their own);
- batch: nothing here (403).
Every read is personal data and is audited (`audited_read`), a refused one included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromQuery

from budget_ledger.access import Role
from budget_ledger.adapters.http.audit import audited_read, principal_of
from budget_ledger.adapters.http.auth import allow
from budget_ledger.adapters.http.pagination import LIMIT, OFFSET, Page, page_of
from budget_ledger.adapters.http.types import Amount, Id
from budget_ledger.errors import InvalidInputError
from budget_ledger.leefgeld_view import (
    AwaitedIncome,
    CaseloadHousehold,
    LeefgeldPaid,
    LeefgeldView,
    MonthLine,
    NextLeefgeld,
    OpenWarning,
    TrajectoryDates,
)
from budget_ledger.services import Services

CASELOAD_READERS = allow(Role.BEGELEIDER, Role.BUDGETBEHEERDER, Role.AUDITOR)
"""A begeleider for their own caseload; a budgetbeheerder and an auditor for any household."""
HouseholdId = Id
"""A household id the database can hold (BIGINT): a larger one is refused as input, never sent to SQL.
Amounts in these views are `Amount`s, decimal strings (adapters/http/types.py)."""


# -- the views, as the API shows them (amounts as decimal strings) --------------------------------------


@dataclass(frozen=True)
class BegeleiderEvaluation:
    kind: str
    """tussenevaluatie, eindevaluatie or evaluatie van de verlenging"""
    due_from: date
    due_on: date


@dataclass(frozen=True)
class BegeleiderTrajectory:
    id: int
    status: str
    start_date: date
    minimum_last_day: date
    """the last day of the minimum period of six months"""
    last_day: date
    """the last day as it stands (later after an extension)"""
    ended_on: date | None
    next_evaluation: BegeleiderEvaluation | None

    @classmethod
    def of(cls, t: TrajectoryDates | None) -> BegeleiderTrajectory | None:
        if t is None:
            return None
        e = t.next_evaluation
        return cls(t.id, t.status, t.start_date, t.minimum_last_day, t.last_day, t.ended_on,
                   BegeleiderEvaluation(e.kind, e.due_from, e.due_on) if e else None)


@dataclass(frozen=True)
class BegeleiderHousehold:
    household_id: int
    aanvrager: str
    gemeente: str
    gemeente_name: str
    trajectory: BegeleiderTrajectory | None
    open_warnings: int
    """open and acknowledged warnings of the household"""

    @classmethod
    def of(cls, h: CaseloadHousehold) -> BegeleiderHousehold:
        return cls(h.household_id, h.aanvrager, h.gemeente, h.gemeente_name, BegeleiderTrajectory.of(h.trajectory),
                   h.open_warnings)


@dataclass(frozen=True)
class BegeleiderLeefgeldPaid:
    on: date
    amount: Amount
    reason: str

    @classmethod
    def of(cls, p: LeefgeldPaid | None) -> BegeleiderLeefgeldPaid | None:
        return None if p is None else cls(p.on, str(p.amount), p.reason)


@dataclass(frozen=True)
class BegeleiderNextLeefgeld:
    on: date
    amount: Amount
    """what the plan pays that day"""
    planned: Amount
    """what the rules set; more than amount when the basisrekening would fall short"""
    overdue: bool
    """due before as_of and not yet booked: the next payment run pays it"""

    @classmethod
    def of(cls, n: NextLeefgeld | None) -> BegeleiderNextLeefgeld | None:
        return None if n is None else cls(n.on, str(n.amount), str(n.planned), n.overdue)


@dataclass(frozen=True)
class BegeleiderMonthLine:
    on: date
    kind: str
    """huur, zorgverzekering, energie, leefgeld …; for money in the income source"""
    amount: Amount
    counterparty: str | None
    reason: str
    entry_id: int

    @classmethod
    def of(cls, line: MonthLine) -> BegeleiderMonthLine:
        return cls(line.on, line.kind, str(line.amount), line.counterparty, line.reason, line.entry_id)


@dataclass(frozen=True)
class BegeleiderAwaitedIncome:
    source: str
    due_on: date
    expected: Amount
    missing: Amount
    late: bool
    business_days_late: int

    @classmethod
    def of(cls, a: AwaitedIncome) -> BegeleiderAwaitedIncome:
        return cls(a.source, a.due_on, str(a.expected), str(a.missing), a.late, a.business_days_late)


@dataclass(frozen=True)
class BegeleiderWarning:
    id: int
    type: str
    severity: str
    status: str
    role: str
    due_on: date
    message: str

    @classmethod
    def of(cls, w: OpenWarning) -> BegeleiderWarning:
        return cls(w.id, w.type, w.severity, w.status, w.role, w.due_on, w.message)


@dataclass(frozen=True)
class BegeleiderLeefgeld:
    household_id: int
    aanvrager: str
    gemeente: str
    as_of: date
    month: date
    """the first day of the month of paid_this_month and received_this_month"""
    leefgeldrekening: Amount
    basisrekening: Amount
    krediet_unspent: Amount
    """what is left of the inrichtingskrediet"""
    leefgeld_account_ending: str | None
    """the last four characters of the client's own account for leefgeld; null when none is recorded"""
    last_leefgeld: BegeleiderLeefgeldPaid | None
    next_leefgeld: BegeleiderNextLeefgeld | None
    paid_this_month: list[BegeleiderMonthLine]
    paid_this_month_total: Amount
    received_this_month: list[BegeleiderMonthLine]
    awaited_income: list[BegeleiderAwaitedIncome]
    """expected income that has not arrived: per source its first payment not received"""
    open_warnings: list[BegeleiderWarning]
    trajectory: BegeleiderTrajectory | None
    forecast_problem: str | None
    """why the rules engine could not plan the household (then there is no next leefgeld)"""
    sentences: list[str]
    """the view in plain Dutch, to read with the client"""

    @classmethod
    def of(cls, v: LeefgeldView) -> BegeleiderLeefgeld:
        return cls(
            v.household_id, v.aanvrager, v.gemeente, v.as_of, v.month, str(v.leefgeldrekening), str(v.basisrekening),
            str(v.krediet_unspent), v.leefgeld_account_ending, BegeleiderLeefgeldPaid.of(v.last_leefgeld),
            BegeleiderNextLeefgeld.of(v.next_leefgeld), [BegeleiderMonthLine.of(x) for x in v.paid_this_month],
            str(v.paid_this_month_total), [BegeleiderMonthLine.of(x) for x in v.received_this_month],
            [BegeleiderAwaitedIncome.of(x) for x in v.awaited_income], [BegeleiderWarning.of(w) for w in v.open_warnings],
            BegeleiderTrajectory.of(v.trajectory), v.forecast_problem, list(v.sentences))


# -- the routes ----------------------------------------------------------------------------------------


def caseload_of(request: Request, begeleider: str | None) -> str:
    """Whose caseload a request is about, its read audited: a begeleider's own (asking for another's is 403,
    audited too); the one a budgetbeheerder or auditor names."""
    principal = principal_of(request)
    name = begeleider.strip() if isinstance(begeleider, str) else None
    if name and "\x00" in name:  # PostgreSQL would refuse it with a server error
        raise InvalidInputError("begeleider", "must not contain a NUL character")
    if principal.role is Role.BEGELEIDER:
        if name and name != principal.actor:
            audited_read(request, "caseload", name)
            raise PermissionDeniedException("a begeleider sees only their own caseload; leave out begeleider")
        name = principal.actor
    elif not name:
        raise InvalidInputError("begeleider", "name the begeleider whose caseload you want to see")
    audited_read(request, "caseload", name)
    return name


class BegeleiderController(Controller):
    path = "/begeleider"
    tags = ["begeleider"]

    @get("/households", guards=[CASELOAD_READERS], sync_to_thread=True,
         summary="My households: the caseload, with trajectory dates and open warnings")
    def households(self, request: Request, services: NamedDependency[Services],
                   begeleider: FromQuery[str | None] = None, limit: Annotated[int, LIMIT] = 50,
                   offset: Annotated[int, OFFSET] = 0) -> Page[BegeleiderHousehold]:
        """A begeleider gets their own caseload; a budgetbeheerder or auditor names the begeleider
        (`?begeleider=NAME`)."""
        name = caseload_of(request, begeleider)
        found = services.leefgeld_view.caseload(name)
        return page_of([BegeleiderHousehold.of(h) for h in found], limit, offset)

    @get("/households/{household_id:int}/leefgeld", guards=[CASELOAD_READERS], sync_to_thread=True,
         summary="The leefgeld view of a household, in plain words")
    def leefgeld(self, request: Request, services: NamedDependency[Services],
                 household_id: HouseholdId, as_of: FromQuery[date | None] = None) -> BegeleiderLeefgeld:
        """The leefgeldrekening, the next leefgeld, what the basisrekening paid this month and why, income that
        has not arrived, open warnings and the trajectory's dates, with Dutch sentences to read with the
        client. `as_of` (default today) shows the book as it stood at the end of that day."""
        audited_read(request, "leefgeld", household_id, household_id=household_id)
        services.access.require_visible(principal_of(request), household_id)
        return BegeleiderLeefgeld.of(services.leefgeld_view.view(household_id, as_of))


ROUTES = [BegeleiderController]
