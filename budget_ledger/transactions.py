"""Running service work in one database transaction, retried when the database says "try again".

Every service (ledger, households, payment runs…) runs its writes through `Transactions.run`, so a
command is always one transaction over one unit of work, whatever repositories it touches, and a
deadlock, serialization failure or busy database is retried a bounded number of times with back-off.
It is never reported as a refusal of the request; after the last attempt it is `DatabaseBusyError`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from budget_ledger.ledger.errors import DatabaseBusyError, TransientDatabaseError
from budget_ledger.ports import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")


class Transactions:
    def __init__(
        self, units: UnitOfWorkFactory, *, retry_attempts: int = 8, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._units = units
        self._attempts = retry_attempts
        self._sleep = sleep

    def run(self, work: Callable[[UnitOfWork], T], *, write: bool = True) -> T:
        """Run `work` in a unit of work: committed if it returns, rolled back if it raises."""
        for attempt in range(1, self._attempts + 1):
            try:
                with self._units(write=write) as uow:
                    return work(uow)
            except TransientDatabaseError:
                if attempt == self._attempts:
                    break
                # Exponential back-off with jitter so racing writers do not collide again in step.
                self._sleep(min(0.5, 0.004 * 2**attempt) * (0.5 + random.random()))
        raise DatabaseBusyError(
            f"the database stayed busy through {self._attempts} attempts; nothing was written, try again"
        )

    def open(self, *, write: bool = False):  # type: ignore[no-untyped-def]
        """A unit of work held open by the caller (streaming exports); not retried."""
        return self._units(write=write)
