"""The scheduler's real jobs on simulated days.

Nothing is re-implemented: for each day the simulation asks every job of `runner.job_specs` (whatever jobs
exist: others are added there over time) its real APScheduler CronTrigger for the times it fires that day
in Europe/Amsterdam, and calls the job's own function at each, with the runner's own `JobContext` whose
`today` is the simulated date. The payment runs skip weekends and holidays themselves, as in production.

The context is made by `runner.context_for`, so every field a job needs is filled the way the scheduler
fills it, with services on the simulated clock. Each of its callables is wrapped to keep what it returned
(payment run reports, late income) for the summary.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from budget_ledger.adapters.db.engine import Database
from budget_ledger.adapters.scheduler import jobs, runner
from budget_ledger.adapters.simulation.clock import SimulatedClock
from budget_ledger.clock import AMSTERDAM
from budget_ledger.income_watch import LateIncome
from budget_ledger.payment_runs import RunReport
from budget_ledger.services import Services

NOT_JOBS = ("today", "is_business_day")
"""JobContext fields that are not work a job does (and are not recorded)."""


@dataclass
class JobResults:
    """What the jobs' work returned, in the order it ran, and how long each job took (the load it puts on)."""

    returned: list[tuple[str, date, Any]] = field(default_factory=list)
    """(JobContext field, day, what it returned)."""
    calls: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)

    @property
    def payment_runs(self) -> list[RunReport]:
        """Every payment run's report (fixed costs and leefgeld alike)."""
        return [value for _, _, value in self.returned if isinstance(value, RunReport)]

    @property
    def late_income(self) -> list[tuple[date, LateIncome]]:
        return [(day, item) for name, day, value in self.returned if name == "check_income" for item in value]

    def timed(self, job_id: str, run: Callable[[], None]) -> None:
        began = time.perf_counter()
        try:
            run()
        finally:
            self.calls[job_id] += 1
            self.seconds[job_id] += time.perf_counter() - began


@dataclass(frozen=True)
class ScheduledCall:
    at: datetime
    job_id: str
    run: Callable[[], None]


def runner_context(database: Database, clock: SimulatedClock, services: Services) -> jobs.JobContext:
    """`runner.context_for` on the simulated clock, with the simulation's services: every field of the
    context, including ones added later, is bound exactly as the runner binds it."""
    return runner.context_for(database, clock=clock, bundle=services)


def job_context(database: Database, clock: SimulatedClock, services: Services, results: JobResults) -> jobs.JobContext:
    """The runner's job context on the simulated day, recording what each piece of work returns."""
    context = runner_context(database, clock, services)

    def recording(name: str, work: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            value = work(*args, **kwargs)
            results.returned.append((name, clock.today(), value))
            return value

        return run

    wrapped = {f.name: recording(f.name, getattr(context, f.name)) for f in fields(context)
               if f.name not in NOT_JOBS and callable(getattr(context, f.name))}
    return replace(context, today=clock.today, **wrapped)


def calls_on(day: date, specs: list) -> list[ScheduledCall]:
    """Every firing of every job on `day`, in time order (the order of `job_specs` on a tie)."""
    start = datetime.combine(day, clock_time(0), tzinfo=AMSTERDAM)
    end = datetime.combine(day + timedelta(days=1), clock_time(0), tzinfo=AMSTERDAM)
    found: list[tuple[datetime, int, ScheduledCall]] = []
    for order, (job_id, function, trigger, _name) in enumerate(specs):
        previous, now = None, start
        while True:
            fires = trigger.get_next_fire_time(previous, now)
            if fires is None or fires >= end:
                break
            found.append((fires, order, ScheduledCall(fires, job_id, function)))
            previous, now = fires, fires + timedelta(microseconds=1)
    return [call for _, _, call in sorted(found, key=lambda item: (item[0], item[1]))]


@contextmanager
def configured(context: jobs.JobContext) -> Iterator[None]:
    """The jobs bound to `context` for the simulation, and unbound after it; their log lines are kept quiet
    (the summary reports what they found), instead of going to standard error one by one."""
    log = logging.getLogger(jobs.log.name)
    quiet = logging.NullHandler()
    log.addHandler(quiet)
    jobs.configure(context)
    try:
        yield
    finally:
        jobs.configure(None)
        log.removeHandler(quiet)
