"""Composition root for the database side: every service, wired to one Database."""

from __future__ import annotations

from collections.abc import Callable

from budget_ledger.access import AccessService
from budget_ledger.adapters.db.engine import Database
from budget_ledger.adapters.db.planning_workers import ProcessChunkPlanners
from budget_ledger.adapters.db.unit_of_work import unit_of_work_factory
from budget_ledger.adapters.profiles import load_profiles
from budget_ledger.bank_queue import BankQueueService
from budget_ledger.bank_warnings import BankWarnings
from budget_ledger.budgetplans import BudgetplanService
from budget_ledger.clock import Clock, system_clock
from budget_ledger.creditors import CreditorService
from budget_ledger.expected_income import IncomeService
from budget_ledger.forecasts import ForecastService
from budget_ledger.gemeenten import GemeenteService
from budget_ledger.household_profiles import HouseholdProfileService, ProfileCatalog
from budget_ledger.households import HouseholdService
from budget_ledger.income_watch import IncomeWatchService
from budget_ledger.inleg_warnings import InlegWarnings
from budget_ledger.leefgeld_view import LeefgeldViewService
from budget_ledger.monitoring import MonitoringService
from budget_ledger.payment_runs import PaymentRunService
from budget_ledger.planning import PlanningService
from budget_ledger.posting import LedgerService
from budget_ledger.services import Services
from budget_ledger.statement_import import MatchingRules, StatementImportService
from budget_ledger.trajectories import TrajectoryService
from budget_ledger.transactions import Transactions
from budget_ledger.warnings import WarningsService, default_sources


def transactions(database: Database) -> Transactions:
    return Transactions(unit_of_work_factory(database), retry_attempts=database.settings.transient_retry_attempts)


def ledger_service(database: Database) -> LedgerService:
    return LedgerService(transactions(database))


def profile_catalog(database: Database) -> ProfileCatalog:
    """The rule profiles in <config_dir>/profiles. A file that does not validate stops the start (ProfileError)."""
    return ProfileCatalog(load_profiles(database.settings.config_dir / "profiles"))


def chunk_planners(database: Database, catalog: ProfileCatalog, planning: PlanningService, workers: int | None = None
                   ) -> Callable[[], ProcessChunkPlanners] | None:
    """What starts a payment run's planning processes (budget_ledger.run_ahead): on SQLite, `workers` of them
    (default: the setting `planning_workers`). PostgreSQL gives the writer no change marker, so there a run
    plans alone."""
    settings = database.settings
    count = settings.planning_workers if workers is None else workers
    if not database.is_sqlite or count < 1:
        return None
    return lambda: ProcessChunkPlanners(database, catalog, planning.calendar, count)


def services(database: Database, clock: Clock = system_clock, catalog: ProfileCatalog | None = None) -> Services:
    """Every service on `database`; `catalog` defaults to the profiles under the settings' config_dir."""
    tx = transactions(database)
    if catalog is None:
        catalog = profile_catalog(database)
    planning = PlanningService(tx, catalog, clock)
    forecasts = ForecastService(tx, planning, clock)
    settings = database.settings
    warning_sources = [*default_sources(tx, catalog, forecasts, IncomeWatchService(tx, planning.calendar)),
                       InlegWarnings(tx), BankWarnings(tx, settings.organisation_iban, settings.unmatched_warning_days)]
    matching = MatchingRules(settings.organisation_iban, settings.income_match_tolerance_percent,
                             settings.income_match_window_days)
    return Services(
        ledger=LedgerService(tx),
        gemeenten=GemeenteService(tx, clock),
        households=HouseholdService(tx, clock),
        trajectories=TrajectoryService(tx, clock),
        creditors=CreditorService(tx, clock),
        income=IncomeService(tx, clock),
        profiles=HouseholdProfileService(tx, catalog, clock),
        profile_catalog=catalog,
        planning=planning,
        budgetplans=BudgetplanService(tx, planning, clock),
        forecasts=forecasts,
        payment_runs=PaymentRunService(tx, planning, clock, four_eyes=settings.four_eyes,
                                       planners=chunk_planners(database, catalog, planning)),
        warnings=WarningsService(tx, warning_sources, clock),
        bank_import=StatementImportService(tx, matching, clock, planning.calendar),
        bank_queue=BankQueueService(tx, clock),
        access=AccessService(tx, clock),
        monitoring=MonitoringService(tx, clock),
        leefgeld_view=LeefgeldViewService(tx, planning, clock),
    )
