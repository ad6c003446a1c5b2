"""The bundle of services the API, the CLI and the scheduler call: one instance of each, built by the
composition root (budget_ledger.adapters.db.bootstrap) on one database."""

from __future__ import annotations

from dataclasses import dataclass

from budget_ledger.access import AccessService
from budget_ledger.bank_queue import BankQueueService
from budget_ledger.budgetplans import BudgetplanService
from budget_ledger.creditors import CreditorService
from budget_ledger.expected_income import IncomeService
from budget_ledger.forecasts import ForecastService
from budget_ledger.gemeenten import GemeenteService
from budget_ledger.household_profiles import HouseholdProfileService, ProfileCatalog
from budget_ledger.households import HouseholdService
from budget_ledger.leefgeld_view import LeefgeldViewService
from budget_ledger.monitoring import MonitoringService
from budget_ledger.payment_runs import PaymentRunService
from budget_ledger.planning import PlanningService
from budget_ledger.posting import LedgerService
from budget_ledger.statement_import import StatementImportService
from budget_ledger.trajectories import TrajectoryService
from budget_ledger.warnings import WarningsService


@dataclass(frozen=True)
class Services:
    ledger: LedgerService
    gemeenten: GemeenteService
    households: HouseholdService
    trajectories: TrajectoryService
    creditors: CreditorService
    income: IncomeService
    profiles: HouseholdProfileService
    profile_catalog: ProfileCatalog
    """The rule profiles loaded from config/profiles, by name."""
    planning: PlanningService
    budgetplans: BudgetplanService
    forecasts: ForecastService
    payment_runs: PaymentRunService
    warnings: WarningsService
    bank_import: StatementImportService
    """Bank statements in: import, match, book, reconcile (the CAMT.053 reader is adapters/bank/camt053.py)."""
    bank_queue: BankQueueService
    access: AccessService
    """API tokens, caseloads and the audit trail."""
    monitoring: MonitoringService
    """Monitoring per gemeente: the figures gemeenten report and the corrected six-month KPI (S19)."""
    leefgeld_view: LeefgeldViewService
    """The begeleider's read-only caseload and leefgeld view in plain words (issue 7 item 4)."""
