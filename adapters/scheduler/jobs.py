"""The scheduled jobs: module-level functions with fixed ids, as APScheduler's job store needs them.

The job store keeps only a reference to the function and its (empty) arguments, never settings or a
database password; the process that runs the scheduler tells this module which services to use
(`configure`). Every job is idempotent by business key: the payment run books nothing twice, however
often it runs, so a caught-up run after downtime or a second start is harmless (design.md §6).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from budget_ledger.clock import today_amsterdam

log = logging.getLogger("budget_ledger.scheduler")

PAYMENT_RUN = "payment-run"
LEEFGELD_RUN = "leefgeld-run"
EXPECTED_INCOME_CHECK = "expected-income-check"
WARNINGS_SCAN = "warnings-scan"


@dataclass(frozen=True)
class JobContext:
    """What the jobs do, bound to one database by the process that runs the scheduler."""

    run_payments: Callable[[date], object]
    check_income: Callable[[date], list]
    is_business_day: Callable[[date], bool]
    today: Callable[[], date] = today_amsterdam
    run_leefgeld: Callable[[date], object] | None = None
    """Book the leefgeld due today (PaymentRunService.start with kind leefgeld); None refuses the job."""
    scan_warnings: Callable[[date], object] | None = None
    """The daily warnings scan (WarningsService.scan); None in a context made without one, which refuses the job."""


_context: JobContext | None = None


def configure(context: JobContext | None) -> None:
    global _context
    _context = context


def _require() -> JobContext:
    if _context is None:
        raise RuntimeError("the scheduler's jobs were started without configure(): no database to work on")
    return _context


def payment_run() -> None:
    """Book the fixed costs due today (bills on their due day, moved to a business day; reserveringen,
    aflossing, advances): the monthly payment run falls on the day the bills are due, and a bill due on
    another day is paid on that day. Leefgeld has its own job, after this one."""
    context = _require()
    today = context.today()
    if not context.is_business_day(today):
        log.info("payment run skipped: %s is not a business day", today)
        return
    report = context.run_payments(today)
    log.info("payment run %s: %s", today, report)


def leefgeld_run() -> None:
    """Book the leefgeld due today (weekly on its weekday, monthly on its day, moved to a business day).

    Separate from the payment run so each has its own time and is caught up on its own; it runs after
    the fixed costs, and the rules engine plans the leefgeld from what is left after them either way.
    """
    context = _require()
    today = context.today()
    if not context.is_business_day(today):
        log.info("leefgeld run skipped: %s is not a business day", today)
        return
    if context.run_leefgeld is None:
        raise RuntimeError("the leefgeld job was configured without run_leefgeld")
    report = context.run_leefgeld(today)
    log.info("leefgeld run %s: %s", today, report)


def expected_income_check() -> None:
    """Report expected income not received by the business day after it was due (S8)."""
    context = _require()
    late = context.check_income(context.today())
    for item in late:
        log.warning("huishouden %s: %s", getattr(item, "household_id", "?"), getattr(item, "message", item))
    log.info("expected income check: %d late", len(late))


def warnings_scan() -> None:
    """Store today's warnings: new conditions raised, gone ones resolved (idempotent by business key, so a
    caught-up or second scan on a day raises nothing twice)."""
    context = _require()
    if context.scan_warnings is None:
        raise RuntimeError("the warnings scan was started without a warnings service in its JobContext")
    today = context.today()
    report = context.scan_warnings(today)
    log.info("warnings scan %s: %s", today, report)
