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
EXPECTED_INCOME_CHECK = "expected-income-check"


@dataclass(frozen=True)
class JobContext:
    """What the jobs do, bound to one database by the process that runs the scheduler."""

    run_payments: Callable[[date], object]
    check_income: Callable[[date], list]
    is_business_day: Callable[[date], bool]
    today: Callable[[], date] = today_amsterdam


_context: JobContext | None = None


def configure(context: JobContext | None) -> None:
    global _context
    _context = context


def _require() -> JobContext:
    if _context is None:
        raise RuntimeError("the scheduler's jobs were started without configure(): no database to work on")
    return _context


def payment_run() -> None:
    """Book everything due today: fixed costs on their run day and leefgeld on its weekday or month day.

    One job carries both the monthly payments and the leefgeld transfers because the rules engine
    decides per household what falls due on a day; splitting them would only run the planner twice.
    """
    context = _require()
    today = context.today()
    if not context.is_business_day(today):
        log.info("payment run skipped: %s is not a business day", today)
        return
    report = context.run_payments(today)
    log.info("payment run %s: %s", today, report)


def expected_income_check() -> None:
    """Report expected income not received by the business day after it was due (S8)."""
    context = _require()
    late = context.check_income(context.today())
    for item in late:
        log.warning("huishouden %s: %s", getattr(item, "household_id", "?"), getattr(item, "message", item))
    log.info("expected income check: %d late", len(late))
