"""The day-by-day driver: the simulated clock moves through each day, and on it happens, in this order
(Europe/Amsterdam):

04:00  intake: the households housed today are registered (members, creditors, expected income, profile
       override, trajectory started and activated), and the bank starts expecting their money;
05:00  the bank statement (bank.py): the bank executes the payment blocks due today that it received
       earlier, credits today's incoming payments (bijstand, wages, kinderbijslag, toeslagen with their
       back-payments, an inrichtingskrediet) and sends a camt.053 file for the derdengeldenrekening covering
       yesterday and today so far; it is imported through the real import (`StatementImportService`, via
       `adapters/bank/statement_files.import_camt053`, as `budget-ledger import-camt` and the API do), which
       matches income to the expectations, confirms our payments executed yesterday by their EndToEndId
       (onderweg → bank) and reconciles the balances. Incoming transfers are settled overnight and reported
       on the early statement, so the 06:00 payment run pays today's rent from today's bijstand (domain.md
       S1: bijstand and rent both on 01-04);
06:00… the scheduler's jobs at the times their real CronTriggers fire today: the payment run (06:00,
       business days) and the expected-income check (07:30), and any job added to `job_specs` later;
09:00  four eyes: sim.controleur approves today's payment runs and exports them to pain.001; the files go to
       the bank, which executes a block for today (or an earlier day) at once and a later one on its day;
       the gemeente transfers what today's runs had it put in by the rules (a gift, a toeslag voorschot,
       booked as still to be received), arriving the next business day with the household's kenmerk;
10:00  the work queue (bank_queue_work.py): sim.beheerder assigns the lines the import could not match
       (the inrichtingskrediet, a toeslag paid later than estimated with more months in it);
14:00  casework: evaluations, extensions, afbouw and the end of trajectories due today.
(A job configured to run after 09:00 still runs before the approval: the clock then waits for it.)
The morning after the last day the bank sends its last statement, of the last day, so the payments executed
on it are confirmed too; only payments whose execution date lies after the last day stay onderweg.

Determinism: the world is drawn from the seed before the first day, every record is stamped with the
simulated clock, and nothing depends on the real time or on hash order, so the same seed on a fresh
database gives the same book (compare `budget-ledger export --format ledger`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta

from budget_ledger.adapters.bank.statement_files import import_camt053
from budget_ledger.adapters.db.bootstrap import profile_catalog, services, transactions
from budget_ledger.adapters.db.engine import Database
from budget_ledger.adapters.scheduler import runner
from budget_ledger.adapters.simulation.bank import BANK_ACTOR, Bank
from budget_ledger.adapters.simulation.bank_queue_work import QueueLog, work_queue
from budget_ledger.adapters.simulation.casework import Casework
from budget_ledger.adapters.simulation.clock import SimulatedClock
from budget_ledger.adapters.simulation.households import HouseholdCase, generate
from budget_ledger.adapters.simulation.intake import Registered, register, register_gemeenten
from budget_ledger.adapters.simulation.payments import ExportedFile, approve_and_export
from budget_ledger.adapters.simulation.scheduled_jobs import JobResults, calls_on, configured, job_context
from budget_ledger.adapters.simulation.summary import Summary, month_line, summarise
from budget_ledger.chart import organisation_accounts
from budget_ledger.household_profiles import ProfileCatalog
from budget_ledger.receipts import ReceiptService
from budget_ledger.statement_import import ImportReport

INTAKE, BANK_STATEMENT, APPROVAL, WORK_QUEUE, CASEWORK = 4, 5, 9, 10, 14


class DatabaseNotEmptyError(Exception):
    """The simulation builds its own world and refuses to mix it with existing data."""


@dataclass(frozen=True)
class SimulationConfig:
    start: date
    months: int
    households: int
    seed: int
    out: Path | None = None

    def __post_init__(self) -> None:
        if self.months < 1:
            raise ValueError("simulate at least one month")
        if self.households < 1:
            raise ValueError("simulate at least one household")

    @property
    def end(self) -> date:
        """The last simulated day: `months` calendar months from the start."""
        return self.start + relativedelta(months=self.months) - timedelta(days=1)


def is_empty(database: Database, catalog: ProfileCatalog | None = None) -> bool:
    bundle = services(database, catalog=catalog)
    return not bundle.gemeenten.list() and not bundle.ledger.accounts() and not bundle.households.list(limit=1)


def simulate(database: Database, config: SimulationConfig, *, catalog: ProfileCatalog | None = None,
             progress: Callable[[str], None] | None = None) -> Summary:
    """Run the simulation on an empty, migrated database and return its summary."""
    catalog = catalog or profile_catalog(database)
    if not is_empty(database, catalog):
        raise DatabaseNotEmptyError("the database already holds gemeenten, households or accounts; "
                                    "simulate on a new, empty database")
    if config.out is not None:
        config.out.mkdir(parents=True, exist_ok=True)
    world = generate(config.seed, config.households, config.start, config.end, catalog)
    clock = SimulatedClock(config.start)
    bundle = services(database, clock=clock, catalog=catalog)
    bank = Bank(config.seed, config.end, database.settings.organisation_iban)
    receipts = ReceiptService(transactions(database))
    imports: list[ImportReport] = []
    queue = QueueLog()

    def import_statement(xml: bytes) -> None:
        if config.out is not None:  # the files as the bank sent them, beside the pain.001 files
            folder = config.out / "camt053"
            folder.mkdir(exist_ok=True)
            (folder / f"afschrift-{len(imports) + 1:04d}-{clock.today():%Y%m%d}.xml").write_bytes(xml)
        imports.append(import_camt053(bundle.bank_import, xml, BANK_ACTOR,
                                      max_megabytes=database.settings.statement_max_megabytes))
    casework = Casework(bundle)
    results = JobResults()
    specs = runner.job_specs(database.settings)
    intake: dict[date, list[HouseholdCase]] = defaultdict(list)
    for case in world.households:
        intake[case.housing_date].append(case)
    registered: dict[int, Registered] = {}
    files: list[ExportedFile] = []
    approved = 0

    bundle.ledger.open_accounts(organisation_accounts())
    register_gemeenten(bundle, world)
    seen = (0, 0, 0, 0)  # payment runs, bank lines, files and distinct shortfalls before this month
    with configured(job_context(database, clock, bundle, results)):
        day = config.start
        while day <= config.end:
            clock.at(day, INTAKE)
            for case in intake.get(day, []):
                done = register(bundle, case)
                registered[case.number] = done
                bank.open_account_for(done, day)
                casework.follow(done)

            clock.at(day, BANK_STATEMENT)
            bank.execute_due(day)
            bank.credit(day, stopped=casework.stopped)
            import_statement(bank.morning_statement(day))

            for call in calls_on(day, specs):
                clock.set(call.at)
                results.timed(call.job_id, call.run)

            clock.at(day, APPROVAL)
            runs, exported = approve_and_export(bundle.payment_runs, day, database.settings, clock, config.out)
            approved += len(runs)
            files += exported
            for file in exported:
                bank.receive(file.batch, day)

            # The gemeente transfers what today's runs put in by the rules (a gift, a toeslag voorschot).
            by_household = {r.household_id: r for r in registered.values()}
            bank.gemeente_transfers(day, receipts.still_to_receive(), by_household)

            clock.at(day, WORK_QUEUE)
            work_queue(bundle.bank_queue, bank.by_reference, queue)

            clock.at(day, CASEWORK)
            casework.run(day)

            following = day + timedelta(days=1)
            if progress is not None and (following.day == 1 or following > config.end):
                runs_now, lines_now = results.payment_runs[seen[0]:], len(bank.arrived) - seen[1]
                line, shortfalls = month_line(day, len(registered), lines_now, runs_now, len(files) - seen[2],
                                              seen[3], results.payment_runs)
                progress(line)
                seen = (len(results.payment_runs), len(bank.arrived), len(files), shortfalls)
            day = following
        clock.at(day, BANK_STATEMENT)  # the morning after: the last day's statement
        import_statement(bank.last_statement(config.end))
    pending = bank.overdue(config.end + timedelta(days=1))
    if pending:  # every day is visited, so only a bug in the bank's schedule leaves a line behind
        raise RuntimeError(f"{len(pending)} bank lines were never delivered, the first on {pending[0].day}")
    return summarise(world, bundle, results, bank, imports, queue, casework.log, files, approved,
                     {number: r.household_id for number, r in registered.items()})
