"""Processes that plan a payment run's chunks ahead of its writer (budget_ledger.run_ahead says why that is safe).

Each process opens its own engine on the same database (SQLite in WAL mode: readers never wait for the
writer) and plans with the very profile catalog and payment calendar of the service that started it, which
are pickled to it. Started with "spawn", so a process shares no database connection, lock or thread with
the service; each watches its parent and ends itself when the parent is gone (a payment run killed with
`kill -9` leaves no process behind).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from datetime import date

from budget_ledger.adapters.db.engine import Database
from budget_ledger.adapters.db.unit_of_work import held_connection_units
from budget_ledger.household_profiles import ProfileCatalog
from budget_ledger.payment_calendar import PaymentCalendar
from budget_ledger.payment_runs import PaymentRunService
from budget_ledger.planning import PlanningService
from budget_ledger.run_ahead import PreparedChunk
from budget_ledger.settings import Settings
from budget_ledger.transactions import Transactions


class ProcessChunkPlanners:
    """`ChunkPlanners` as a pool of processes, one payment run long, and the run's writer's transactions on a
    connection held for the run."""

    def __init__(self, database: Database, catalog: ProfileCatalog, calendar: PaymentCalendar, workers: int) -> None:
        if workers < 1:
            raise ValueError("at least one planning process")
        self.workers = workers
        self._held = ExitStack()
        conn = self._held.enter_context(database.held_writer())
        self.transactions = Transactions(held_connection_units(conn),
                                         retry_attempts=database.settings.transient_retry_attempts)
        try:
            self._pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                initargs=(database.settings, catalog, calendar, os.getpid()))
        except BaseException:
            self._held.close()
            raise

    def submit(self, run_id: int, run_date: date, chunk: Sequence[int], actor: str, kind: str) -> Future[PreparedChunk]:
        return self._pool.submit(_prepare, run_id, run_date, tuple(chunk), actor, kind)

    def stop(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self.stop()
        self._held.close()


_service: PaymentRunService | None = None
_NICENESS = 10
"""Planning processes yield the CPU to the run's writer, which every chunk waits for."""


def _start(settings: Settings, catalog: ProfileCatalog, calendar: PaymentCalendar, parent: int) -> None:
    global _service
    os.nice(_NICENESS)
    threading.Thread(target=_end_with_parent, args=(parent,), name="watch-parent", daemon=True).start()
    from budget_ledger.adapters.db.bootstrap import transactions  # the pool's module is imported by bootstrap

    tx = transactions(Database(settings))
    _service = PaymentRunService(tx, PlanningService(tx, catalog, calendar=calendar))
    # What start-up made (modules, the profile catalog, the service) lives as long as the process: out of the
    # collector's full walks, which would otherwise go over all of it again between chunks.
    gc.freeze()


def _prepare(run_id: int, run_date: date, chunk: tuple[int, ...], actor: str, kind: str) -> PreparedChunk:
    assert _service is not None, "a planning process plans after it started"
    return _service.prepare_chunk(run_id, run_date, chunk, actor, kind)


def _end_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
