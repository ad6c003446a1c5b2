"""Monitoring per gemeente and period (S19), as JSON or CSV: for budgetbeheerders, auditors and the batch
that sends the figures on; not for begeleiders (it covers every household)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from budget_ledger.adapters.export.monitoring_csv import to_csv
from budget_ledger.adapters.http.auth import READERS
from budget_ledger.errors import InvalidInputError
from budget_ledger.services import Services
from budget_ledger.settings import Settings


class MonitoringController(Controller):
    path = "/monitoring"
    tags = ["monitoring"]

    @get("/", guards=[READERS], sync_to_thread=True,
         summary="Trajecten per gemeente, the reported figure and the corrected six-month KPI against the target")
    def report(self, services: NamedDependency[Services], settings: NamedDependency[Settings],
               period_from: Annotated[date, QueryParameter(name="from", description="first day (included)")],
               period_to: Annotated[date, QueryParameter(name="to", description="last day (included)")],
               gemeente: FromQuery[str | None] = None,
               target: Annotated[int | None, QueryParameter(ge=0, le=100)] = None,
               format: FromQuery[Literal["json", "csv"]] = "json",  # noqa: A002 - the query's name
               ) -> Response[Any]:
        if period_to < period_from:
            raise InvalidInputError("to", "lies before from")
        report = services.monitoring.report(
            period_from, period_to, gemeente=gemeente,
            target_percent=settings.monitoring_target_percent if target is None else target)
        if format == "csv":
            return Response(to_csv(report), media_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": f'attachment; filename="monitoring-{period_from}-{period_to}.csv"'})
        return Response(report.to_json(), media_type="application/json")


ROUTES = [MonitoringController]
