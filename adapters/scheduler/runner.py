"""APScheduler 3.x set up the one way the service uses it: fixed job ids, Europe/Amsterdam, a
SQLAlchemy job store in the service's own database, and a documented misfire policy.

Misfire policy: `coalesce=True` and `misfire_grace_time` = settings.misfire_grace_hours. A run missed
while the service was down (several missed days included) is run exactly once when the scheduler starts
again, provided it is not older than the grace time; the payment run itself catches up every obligation
since the trajectory started, so nothing depends on which missed run executes.

Existing jobs are kept as stored when their trigger is unchanged: re-adding them with
`replace_existing=True` would compute a fresh next run time and silently drop the missed run.

Only one process may run the scheduler against a database (its job store is not shared safely):
`scheduler_mode` says which one — embedded in `serve`, a separate `budget-ledger scheduler run`, or off.
"""

from __future__ import annotations

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from budget_ledger.adapters.db.bootstrap import services, transactions
from budget_ledger.adapters.db.engine import Database
from budget_ledger.adapters.scheduler import jobs
from budget_ledger.clock import AMSTERDAM, Clock, system_clock
from budget_ledger.income_watch import IncomeWatchService
from budget_ledger.payment_calendar import DEFAULT_CALENDAR
from budget_ledger.payment_runs import RunKind
from budget_ledger.services import Services
from budget_ledger.settings import Settings

SCHEDULER_ACTOR = "scheduler"

TABLE = "apscheduler_jobs"


def job_specs(settings: Settings) -> list[tuple[str, object, CronTrigger, str]]:
    hour, minute = settings.payment_run_time.split(":")
    leefgeld_hour, leefgeld_minute = settings.leefgeld_run_time.split(":")
    return [
        (jobs.PAYMENT_RUN, jobs.payment_run,
         CronTrigger(day_of_week="mon-fri", hour=int(hour), minute=int(minute), timezone=AMSTERDAM),
         "Betaalrun: vaste lasten die vandaag vervallen"),
        (jobs.LEEFGELD_RUN, jobs.leefgeld_run,
         CronTrigger(day_of_week="mon-fri", hour=int(leefgeld_hour), minute=int(leefgeld_minute), timezone=AMSTERDAM),
         "Leefgeld: overboekingen die vandaag vervallen (wekelijks of maandelijks)"),
        (jobs.EXPECTED_INCOME_CHECK, jobs.expected_income_check,
         CronTrigger(hour=7, minute=30, timezone=AMSTERDAM),
         "Controle verwacht inkomen (toeslag niet ontvangen)"),
        (jobs.WARNINGS_SCAN, jobs.warnings_scan,
         CronTrigger(hour=7, minute=0, timezone=AMSTERDAM),
         "Dagelijkse waarschuwingsscan (einde ontzorging, evaluaties, overdracht, prognose, inkomen)"),
    ]


def build_scheduler(settings: Settings) -> BackgroundScheduler:
    """A background scheduler; `budget-ledger scheduler run` keeps its main thread waiting instead of
    using BlockingScheduler, which cannot be started paused (and pausing is what keeps missed runs)."""
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=settings.database_url, tablename=TABLE)},
        timezone=AMSTERDAM,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": settings.misfire_grace_hours * 3600},
    )


def ensure_jobs(scheduler: BackgroundScheduler, settings: Settings) -> None:
    """Add the fixed jobs; keep a stored job whose function and trigger are unchanged (and its next run)."""
    for job_id, func, trigger, name in job_specs(settings):
        existing = scheduler.get_job(job_id)
        if existing is not None and existing.func_ref == f"{func.__module__}:{func.__name__}" \
                and str(existing.trigger) == str(trigger):
            continue
        scheduler.add_job(func, trigger, id=job_id, name=name, replace_existing=True)


def context_for(database: Database, *, clock: Clock = system_clock, bundle: Services | None = None) -> jobs.JobContext:
    """The jobs bound to `database`, through the same services as the API and the CLI. `clock` (and the
    services of `bundle`, made on that clock) let the simulation run the jobs on its simulated days."""
    bundle = bundle or services(database, clock=clock)
    watch = IncomeWatchService(transactions(database), DEFAULT_CALENDAR)
    return jobs.JobContext(
        today=lambda: clock().astimezone(AMSTERDAM).date(),
        run_payments=lambda day: bundle.payment_runs.start(day, actor=SCHEDULER_ACTOR, kind=RunKind.FIXED_COSTS),
        run_leefgeld=lambda day: bundle.payment_runs.start(day, actor=SCHEDULER_ACTOR, kind=RunKind.LEEFGELD),
        check_income=watch.late,
        is_business_day=DEFAULT_CALENDAR.is_business_day,
        scan_warnings=lambda day: bundle.warnings.scan(day),
    )


def start(scheduler: BackgroundScheduler, settings: Settings, context: jobs.JobContext) -> None:
    """Start paused, make sure the jobs exist, then resume: missed runs fire once, now."""
    jobs.configure(context)
    scheduler.start(paused=True)
    ensure_jobs(scheduler, settings)
    scheduler.resume()
