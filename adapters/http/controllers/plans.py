"""A household's plans: the budgetplan for a month (as it stands now, its recorded versions, and the
document the client signs), the forecast of its basisrekening, a what-if under another profile or
regime, and what the rules would book in a period (`plan`). Nothing here writes, except recording a
budgetplan version (a budgetbeheerder).

Reads are for everyone who may see the household: a begeleider reads the plans of their own caseload
(404 outside it), and every read is in the audit trail. The services are those of the CLI's `budgetplan`,
`forecast` and `plan` commands, with the same parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from budget_ledger.adapters.http.audit import audited_read, audited_write, principal_of
from budget_ledger.adapters.http.auth import BEHEER, EVERYONE
from budget_ledger.adapters.http.controllers.ledger import checked_day
from budget_ledger.adapters.http.pagination import LIMIT, OFFSET, Page, page_of
from budget_ledger.adapters.http.types import Amount, Id, amount
from budget_ledger.budgetplans import StoredBudgetplan
from budget_ledger.errors import InvalidInputError
from budget_ledger.rules.budgetplan import BudgetPlan, CostLine
from budget_ledger.rules.forecast import MAX_MONTHS, Failure, Forecast, ForecastMonth, WhatIf
from budget_ledger.rules.plan import Finding, Movement, Plan
from budget_ledger.rules.profiles import Regime
from budget_ledger.services import Services

MAX_PLAN_DAYS = 366
"""The longest period `plan` previews in one request."""

MONTH = QueryParameter(ge=1, le=MAX_MONTHS, description=f"how many months, counting this one (1 to {MAX_MONTHS})")
Month = Annotated[str, PathParameter(pattern=r"^\d{4}-\d{2}(-\d{2})?$", description="the month, YYYY-MM")]
AS_OF = QueryParameter(name="as_of", description="from this day, with the book as it stood then (default: today)")


# -- responses -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingView:
    kind: str
    severity: str
    on: date
    rule: str
    message: str
    amount: Amount | None
    creditor_id: int | None
    category: str | None
    proposals: list[str]

    @classmethod
    def of(cls, f: Finding) -> FindingView:
        return cls(f.kind.value, f.severity.value, f.on, f.rule, f.message, amount(f.amount), f.creditor_id,
                   f.category.value if f.category else None, list(f.proposals))


@dataclass(frozen=True)
class MovementPosting:
    account: str
    """Relative to the household, e.g. basis, leefgeld, vaste-lasten:huur."""
    amount: Amount
    """Debit positive."""


@dataclass(frozen=True)
class MovementView:
    key: str
    obligation: str
    due_on: date
    booking_date: date
    amount: Amount
    flow: str
    rule: str
    reason: str
    period: date | None
    creditor_id: int | None
    category: str | None
    postings: list[MovementPosting]

    @classmethod
    def of(cls, m: Movement) -> MovementView:
        return cls(m.key, m.obligation, m.due_on, m.booking_date, str(m.amount), m.flow.value, m.rule, m.reason, m.period,
                   m.creditor_id, m.category.value if m.category else None,
                   [MovementPosting(account, str(money)) for account, money in m.postings])


@dataclass(frozen=True)
class PlanView:
    household_id: int
    profile: str
    start: date
    end: date
    total: Amount
    movements: list[MovementView]
    findings: list[FindingView]

    @classmethod
    def of(cls, p: Plan) -> PlanView:
        return cls(p.household_id, p.profile, p.start, p.end, str(p.total()), [MovementView.of(m) for m in p.movements],
                   [FindingView.of(f) for f in p.findings])


@dataclass(frozen=True)
class ForecastMonthView:
    month: date
    first_day: date
    opening: Amount
    income: Amount
    money_in: dict[str, Amount]
    money_out: dict[str, Amount]
    closing: Amount
    lowest: Amount
    lowest_on: date
    closing_krediet: Amount

    @classmethod
    def of(cls, m: ForecastMonth) -> ForecastMonthView:
        return cls(m.month, m.first_day, str(m.opening), str(m.income),
                   {k: str(v) for k, v in sorted(m.money_in.items())}, {k: str(v) for k, v in sorted(m.money_out.items())},
                   str(m.closing), str(m.lowest), m.lowest_on, str(m.closing_krediet))


@dataclass(frozen=True)
class FailureView:
    on: date
    what: str
    amount: Amount | None
    rule: str
    category: str | None
    creditor_id: int | None

    @classmethod
    def of(cls, f: Failure | None) -> FailureView | None:
        return None if f is None else cls(f.on, f.what, amount(f.amount), f.rule, f.category, f.creditor_id)


@dataclass(frozen=True)
class ForecastView:
    household_id: int
    profile: str
    start: date
    end: date
    lowest: Amount
    first_failure: FailureView | None
    """The first payment that could not be made, if any."""
    months: list[ForecastMonthView]
    findings: list[FindingView]

    @classmethod
    def of(cls, f: Forecast) -> ForecastView:
        return cls(f.household_id, f.profile, f.start, f.end, str(f.lowest), FailureView.of(f.first_failure),
                   [ForecastMonthView.of(m) for m in f.months], [FindingView.of(x) for x in f.findings])


@dataclass(frozen=True)
class WhatIfMonthView:
    month: date
    closing_current: Amount
    closing_other: Amount
    closing_difference: Amount
    leefgeld_current: Amount
    leefgeld_other: Amount
    leefgeld_difference: Amount


@dataclass(frozen=True)
class WhatIfView:
    current: ForecastView
    other: ForecastView
    months: list[WhatIfMonthView]

    @classmethod
    def of(cls, w: WhatIf) -> WhatIfView:
        return cls(ForecastView.of(w.current), ForecastView.of(w.other), [
            WhatIfMonthView(m.month, str(m.closing_current), str(m.closing_other), str(m.closing_difference),
                            str(m.leefgeld_current), str(m.leefgeld_other), str(m.leefgeld_difference))
            for m in w.months])


@dataclass(frozen=True)
class IncomeLineView:
    source: str
    amount: Amount


@dataclass(frozen=True)
class CostLineView:
    category: str
    amount: Amount
    creditors: list[str]

    @classmethod
    def of(cls, line: CostLine) -> CostLineView:
        return cls(line.category.value, str(line.amount), list(line.creditors))


@dataclass(frozen=True)
class ReserveringLineView:
    name: str
    amount: Amount


@dataclass(frozen=True)
class LeefgeldView:
    frequency: str
    mode: str
    weekday: int | None
    per_payment: Amount
    payments: int
    payment_days: list[date]
    in_month: Amount
    monthly_equivalent: Amount
    floor: Amount


@dataclass(frozen=True)
class Totals:
    income: Amount
    withheld: Amount
    client_paid: Amount
    reserveringen: Amount
    buffer: Amount
    """What stays on the basisrekening; negative: the budget does not fit."""
    free_to_spend: Amount
    """The monthly leefgeld after the costs the client pays from it himself."""


@dataclass(frozen=True)
class BudgetplanView:
    household_id: int
    month: date
    profile: str
    profile_version: date
    regime: str
    members: int
    income: list[IncomeLineView]
    withheld: list[CostLineView]
    client_paid: list[CostLineView]
    reserveringen: list[ReserveringLineView]
    aflossing: Amount
    leefgeld: LeefgeldView
    totals: Totals
    findings: list[FindingView]
    fingerprint: str

    @classmethod
    def of(cls, p: BudgetPlan) -> BudgetplanView:
        lg = p.leefgeld
        return cls(
            p.household_id, p.month, p.profile, p.profile_version, p.regime.value, p.members,
            [IncomeLineView(i.source, str(i.amount)) for i in p.income], [CostLineView.of(c) for c in p.withheld],
            [CostLineView.of(c) for c in p.client_paid],
            [ReserveringLineView(r.name, str(r.amount)) for r in p.reserveringen], str(p.aflossing),
            LeefgeldView(lg.frequency.value, lg.mode.value, lg.weekday, str(lg.per_payment), lg.payments,
                         list(lg.payment_days), str(lg.in_month), str(lg.monthly_equivalent), str(lg.floor)),
            Totals(str(p.total_income), str(p.total_withheld), str(p.total_client_paid), str(p.total_reserveringen),
                   str(p.buffer), str(p.free_to_spend)),
            [FindingView.of(f) for f in p.findings], p.fingerprint())


@dataclass(frozen=True)
class RecordedBudgetplan:
    id: int
    household_id: int
    month: date
    version: int
    fingerprint: str
    recorded_by: str
    recorded_at: datetime
    plan: BudgetplanView

    @classmethod
    def of(cls, s: StoredBudgetplan) -> RecordedBudgetplan:
        return cls(s.id, s.household_id, s.month, s.version, s.fingerprint, s.recorded_by, s.recorded_at,
                   BudgetplanView.of(s.plan))


# -- the routes ------------------------------------------------------------------------------------------


def visible(request: Request, services: Services, household_id: int, entity: str, entity_id: object = None) -> None:
    """404 for a begeleider outside their caseload; the read is audited."""
    services.access.require_visible(principal_of(request), household_id)
    audited_read(request, entity, entity_id, household_id)


class PlansController(Controller):
    path = "/households/{household_id:int}"
    tags = ["plans"]

    @get("/budgetplans/{month:str}", guards=[EVERYONE], sync_to_thread=True,
         summary="The budgetplan for a month (YYYY-MM) as the registry and rules make it now; nothing stored")
    def budgetplan(self, request: Request, services: NamedDependency[Services], household_id: Id,
                   month: Month, as_of: Annotated[date | None, AS_OF] = None) -> BudgetplanView:
        visible(request, services, household_id, "budgetplan", month)
        return BudgetplanView.of(services.budgetplans.current(household_id, month, as_of=checked_day(as_of, "as_of")))

    @post("/budgetplans/{month:str}", guards=[BEHEER], sync_to_thread=True,
          summary="Record the month's budgetplan as a new version (201), or answer the latest if unchanged (200)")
    def record_budgetplan(self, request: Request, services: NamedDependency[Services], household_id: Id,
                          month: Month) -> Response[RecordedBudgetplan]:
        audited_write(request, "budgetplan", month, household_id)
        known = len(services.budgetplans.versions(household_id, month))
        stored = services.budgetplans.record(household_id, month, principal_of(request).actor)
        return Response(RecordedBudgetplan.of(stored),
                        status_code=HTTP_201_CREATED if stored.version > known else HTTP_200_OK)

    @get("/budgetplans/{month:str}/versions", guards=[EVERYONE], sync_to_thread=True,
         summary="The recorded versions of the month's budgetplan, oldest first")
    def budgetplan_versions(self, request: Request, services: NamedDependency[Services],
                            household_id: Id, month: Month, limit: Annotated[int, LIMIT] = 50,
                            offset: Annotated[int, OFFSET] = 0) -> Page[RecordedBudgetplan]:
        visible(request, services, household_id, "budgetplan", month)
        versions = services.budgetplans.versions(household_id, month)
        return page_of([RecordedBudgetplan.of(v) for v in versions], limit, offset)

    @get("/budgetplans/{month:str}/document", guards=[EVERYONE], sync_to_thread=True,
         media_type="text/plain; charset=utf-8",
         summary="A recorded budgetplan (the latest, or `version`) as the text the client signs")
    def budgetplan_document(self, request: Request, services: NamedDependency[Services],
                            household_id: Id, month: Month,
                            version: Annotated[int | None, QueryParameter(ge=1, le=10_000)] = None) -> str:
        visible(request, services, household_id, "budgetplan", month)
        return services.budgetplans.document(household_id, month, version)

    @get("/forecast", guards=[EVERYONE], sync_to_thread=True,
         summary="The basisrekening month by month, and the first payment that would fail")
    def forecast(self, request: Request, services: NamedDependency[Services], household_id: Id,
                 months: Annotated[int, MONTH] = 6, as_of: Annotated[date | None, AS_OF] = None) -> ForecastView:
        visible(request, services, household_id, "forecast")
        return ForecastView.of(services.forecasts.forecast(household_id, months=months,
                                                           as_of=checked_day(as_of, "as_of")))

    @get("/what-if", guards=[EVERYONE], sync_to_thread=True,
         summary="The forecast under the household's rules beside one under another profile and/or regime")
    def what_if(self, request: Request, services: NamedDependency[Services], household_id: Id,
                profile: Annotated[str | None, QueryParameter(min_length=1, max_length=100,
                                                              description="another rule profile")] = None,
                regime: Annotated[Regime | None, QueryParameter(description="another regime")] = None,
                months: Annotated[int, MONTH] = 6, as_of: Annotated[date | None, AS_OF] = None) -> WhatIfView:
        visible(request, services, household_id, "forecast")
        return WhatIfView.of(services.forecasts.what_if(
            household_id, profile=profile, regime=regime.value if regime else None, months=months,
            as_of=checked_day(as_of, "as_of")))

    @get("/plan", guards=[EVERYONE], sync_to_thread=True,
         summary="What the rules would book in a period, and what they found; writes nothing")
    def plan(self, request: Request, services: NamedDependency[Services], household_id: Id,
             date_from: Annotated[date, QueryParameter(name="from", description="first day of the period")],
             date_to: Annotated[date, QueryParameter(name="to", description="last day of the period")],
             profile: Annotated[str | None, QueryParameter(
                 min_length=1, max_length=100, description="plan under this profile instead (a what-if)")] = None
             ) -> PlanView:
        visible(request, services, household_id, "plan")
        checked_day(date_from, "from")
        checked_day(date_to, "to")
        if date_to < date_from:
            raise InvalidInputError("to", f"the period ends on {date_to}, before it starts on {date_from}")
        if (date_to - date_from).days >= MAX_PLAN_DAYS:
            raise InvalidInputError("to", f"a period of at most {MAX_PLAN_DAYS} days")
        return PlanView.of(services.planning.plan(household_id, date_from, date_to, profile=profile,
                                                  as_of=date_from - timedelta(days=1)))  # as the CLI: its eve


ROUTES = [PlansController]
