"""The real APScheduler 3 with its SQLAlchemy job store in our database: fixed jobs, Europe/Amsterdam,
and a payment run missed while the service was down caught up exactly once when it starts again."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from budget_ledger.adapters.scheduler import jobs
from budget_ledger.adapters.scheduler.runner import TABLE, build_scheduler, ensure_jobs, start
from budget_ledger.clock import AMSTERDAM


class Recorder:
    def __init__(self) -> None:
        self.runs: list[date] = []
        self.ran = threading.Event()

    def context(self) -> jobs.JobContext:
        def run(day: date) -> str:
            self.runs.append(day)
            self.ran.set()
            return "ok"

        return jobs.JobContext(run_payments=run, check_income=lambda day: [], is_business_day=lambda day: True,
                               today=lambda: date(2025, 5, 2))


@pytest.fixture
def recorder():
    yield Recorder()
    jobs.configure(None)


def _stop(scheduler) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=True)


def test_the_jobs_have_fixed_ids_and_run_on_amsterdam_time(database, recorder):
    scheduler = build_scheduler(database.settings)
    try:
        start(scheduler, database.settings, recorder.context())
        job = scheduler.get_job(jobs.PAYMENT_RUN)
        assert {j.id for j in scheduler.get_jobs()} == {jobs.PAYMENT_RUN, jobs.LEEFGELD_RUN, jobs.EXPECTED_INCOME_CHECK,
                                                        jobs.WARNINGS_SCAN}
        assert job.next_run_time.tzinfo is not None
        local = job.next_run_time.astimezone(AMSTERDAM)
        assert (local.hour, local.minute) == (6, 0) and local.weekday() < 5
    finally:
        _stop(scheduler)


def _leave_a_missed_run(settings, hours_ago: int) -> None:
    """The service ran once, then was down: the stored payment run is `hours_ago` overdue."""
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)
    ensure_jobs(scheduler, settings)
    scheduler.shutdown(wait=True)
    store = SQLAlchemyJobStore(url=settings.database_url, tablename=TABLE)  # as the stopped service left it
    job = store.lookup_job(jobs.PAYMENT_RUN)
    job.next_run_time = datetime.now(AMSTERDAM) - timedelta(hours=hours_ago)
    store.update_job(job)
    store.shutdown()


def test_a_payment_run_missed_while_the_service_was_down_runs_once_at_start(database, recorder):
    _leave_a_missed_run(database.settings, hours_ago=26)
    scheduler = build_scheduler(database.settings)
    try:
        start(scheduler, database.settings, recorder.context())
        assert recorder.ran.wait(10), "the missed payment run did not run"
        time.sleep(0.5)
        assert recorder.runs == [date(2025, 5, 2)]  # once, however many days were missed (coalesce)
        assert scheduler.get_job(jobs.PAYMENT_RUN).next_run_time > datetime.now(AMSTERDAM)
    finally:
        _stop(scheduler)


def test_restarting_keeps_a_stored_job_and_a_changed_run_time_replaces_it(database):
    settings = database.settings
    first = build_scheduler(settings)
    first.start(paused=True)
    ensure_jobs(first, settings)
    stored = first.get_job(jobs.PAYMENT_RUN).next_run_time
    first.shutdown(wait=True)

    again = build_scheduler(settings)
    again.start(paused=True)
    ensure_jobs(again, settings)
    assert again.get_job(jobs.PAYMENT_RUN).next_run_time == stored  # re-adding would have dropped a missed run
    later = settings.model_copy(update={"payment_run_time": "07:15"})
    ensure_jobs(again, later)
    local = again.get_job(jobs.PAYMENT_RUN).trigger
    assert "hour='7'" in str(local) and "minute='15'" in str(local)
    again.shutdown(wait=True)


def test_a_job_without_a_configured_database_refuses_to_run():
    jobs.configure(None)
    with pytest.raises(RuntimeError, match="configure"):
        jobs.payment_run()


def test_the_payment_run_job_skips_a_day_that_is_not_a_business_day(recorder):
    context = recorder.context()
    jobs.configure(jobs.JobContext(context.run_payments, context.check_income, is_business_day=lambda d: False))
    jobs.payment_run()
    assert recorder.runs == []


def test_the_warnings_scan_runs_daily_at_seven_under_its_fixed_id_and_stores_warnings(database, services, recorder):
    from dataclasses import replace

    from registry import BEHEERDER, count_rows, gemeente, single

    from budget_ledger.adapters.scheduler.runner import context_for

    scheduler = build_scheduler(database.settings)
    try:
        start(scheduler, database.settings, recorder.context())
        job = scheduler.get_job(jobs.WARNINGS_SCAN)
        assert job.func_ref == "budget_ledger.adapters.scheduler.jobs:warnings_scan"
        assert str(job.trigger) == "cron[hour='7', minute='0']"  # every day, weekends too
        local = job.next_run_time.astimezone(AMSTERDAM)
        assert (local.hour, local.minute) == (7, 0)
    finally:
        _stop(scheduler)

    gemeente(services)
    household = single(services, bijstand_start=date(2025, 3, 1), housing_date=date(2025, 3, 1)).household
    trajectory = services.trajectories.start(household.id, {}, BEHEERDER)
    services.trajectories.activate(trajectory.id, BEHEERDER)
    jobs.configure(replace(context_for(database), today=lambda: date(2025, 7, 7)))  # 8 weeks before the end
    jobs.warnings_scan()
    [end] = services.warnings.list(type="ontzorging-einde")
    assert (end.household_id, end.due_on, end.raised_on) == (household.id, date(2025, 8, 31), date(2025, 7, 7))
    stored = count_rows(database, "warnings")
    jobs.warnings_scan()  # a second run the same day (a caught-up misfire) stores nothing twice
    assert count_rows(database, "warnings") == stored


def test_the_warnings_scan_refuses_to_run_without_a_warnings_service(recorder):
    jobs.configure(recorder.context())
    with pytest.raises(RuntimeError, match="warnings service"):
        jobs.warnings_scan()
