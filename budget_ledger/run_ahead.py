"""Planning a payment run's next chunks in other processes while the run writes the current one.

Reading a household and planning it is most of a run's work, and it is Python: one process uses one core.
With planning processes (adapters/db/planning_workers.py), the run hands each chunk of households out ahead
of time; a process plans it in its own read-only transaction and makes its entries and instructions
ready (`PaymentRunService.prepare_chunk`), and the run only writes them.

Why what was planned elsewhere is still right when it is written. Chunks hold different households, and a
household's plan reads only its own rows, so the run's own writes never change another chunk's plan. Only
a commit by someone else can (a statement import, a receipt, a profile change, another run). The writer
asks its database connection for a change marker (`UnitOfWork.change_marker`: on SQLite the connection's
serial and `PRAGMA data_version`, which changes exactly when another connection commits) at the start of
its transaction, after it holds the write lock, and hands chunks out only then, so a planning process
reads after that moment. When the chunk's turn comes, the writer's marker taken under the write lock must
be the one the chunk was handed out with: then nothing but the run itself committed in between, and the
prepared chunk is written as it is. Otherwise (or when the planning process failed, or the database gives
no marker, as PostgreSQL does) the writer plans the chunk itself, after locking its households, exactly as
without planning processes. A household a planning process could not prepare is planned again by the
writer, so its error is reported as it would be otherwise.

Nothing about what the run books depends on whether a chunk was planned ahead; the exactly-once keys and
the no-overdraft checks of the ledger hold either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from datetime import date
from typing import TYPE_CHECKING, Protocol

from budget_ledger.ports import UnitOfWork
from budget_ledger.transactions import Transactions

if TYPE_CHECKING:
    from budget_ledger.payment_runs import PreparedHousehold

log = logging.getLogger(__name__)

PreparedChunk = tuple[list["PreparedHousehold"], list[int]]
"""The households a planning process made ready, and those it could not (the writer plans them itself)."""

WAIT_SECONDS = 600.0
"""How long the writer waits for a chunk planned ahead before it plans the chunk itself."""


class ChunkPlanners(Protocol):
    """Processes that prepare chunks of a payment run (adapters/db/planning_workers.py)."""

    workers: int
    transactions: Transactions
    """The run's writer's transactions, all on one connection held for the run: no one else's commit can
    land on it, so its change marker changes exactly when someone else commits."""

    def submit(self, run_id: int, run_date: date, chunk: Sequence[int], actor: str, kind: str
               ) -> Future[PreparedChunk]: ...

    def stop(self) -> None:
        """Plan no more (the writer plans the rest); `transactions` stays usable until `close`."""

    def close(self) -> None:
        """Stop, and let go of the writer's connection."""


class Ahead:
    """One run's chunks, handed out to planning processes a few at a time, each with the writer's change
    marker at the moment it was handed out."""

    def __init__(self, planners: ChunkPlanners, chunks: Sequence[Sequence[int]],
                 submit: Callable[[Sequence[int]], Future[PreparedChunk]]) -> None:
        self._planners = planners
        self._chunks = [tuple(chunk) for chunk in chunks]
        self._submit = submit
        self._handed: dict[int, tuple[Future[PreparedChunk], Hashable]] = {}
        self._next = 1  # the first chunk is planned by the writer while the processes start
        self._current = 0
        self._on = True
        self.planned_ahead = 0
        """Chunks written as they were planned ahead (for the run's log and the benchmark)."""

    @property
    def transactions(self) -> Transactions:
        return self._planners.transactions

    def wait(self, index: int) -> None:
        """Before chunk `index`'s transaction: wait (without holding the write lock) until it is planned."""
        self._current = index
        for earlier in [i for i in self._handed if i < index]:
            del self._handed[earlier]
        handed = self._handed.get(index)
        if handed is not None:
            try:
                handed[0].result(timeout=WAIT_SECONDS)
            except Exception as exc:  # noqa: BLE001 - the writer plans the chunk itself; see take()
                log.warning("chunk %d of the payment run was not planned ahead (%s); planned by the writer",
                            index, exc)

    def take(self, uow: UnitOfWork, chunk: Sequence[int]) -> dict[int, PreparedHousehold]:
        """In chunk's transaction, holding the write lock: hand out the next chunks, and return what was planned
        ahead for this one if nothing but this run was committed since it was handed out (else nothing)."""
        marker = uow.change_marker() if self._on else None
        if marker is None:
            self._stop()
            return {}
        for index in range(self._next, min(self._current + 1 + self._planners.workers, len(self._chunks))):
            try:
                self._handed[index] = (self._submit(self._chunks[index]), marker)
            except Exception as exc:  # noqa: BLE001 - a pool that cannot take work: the writer plans the rest
                log.warning("planning processes stopped (%s); the payment run plans the rest itself", exc)
                self._stop()
                return {}
            self._next = index + 1
        handed = self._handed.get(self._current)
        if handed is None or handed[1] != marker or tuple(chunk) != self._chunks[self._current]:
            return {}
        future = handed[0]
        if not future.done() or future.cancelled() or future.exception() is not None:
            return {}
        prepared, _ = future.result()
        mine = set(chunk)
        if any(p.household_id not in mine for p in prepared):
            return {}
        self.planned_ahead += 1
        return {p.household_id: p for p in prepared}

    def _stop(self) -> None:
        if self._on:
            self._on = False
            for future, _ in self._handed.values():
                future.cancel()
            self._handed.clear()
            self._planners.stop()

    def close(self) -> None:
        """At the end of the run (however it ends)."""
        self._stop()
        self._planners.close()
