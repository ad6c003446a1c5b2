"""The simulated clock: the services stamp their records with the simulated day's time in Europe/Amsterdam.

The driver moves it forward through each day (registration, bank statement, the scheduler's jobs, approval,
casework); it never goes back, so every record is stamped in the order it happened.
"""

from __future__ import annotations

from datetime import date, datetime, time

from budget_ledger.clock import AMSTERDAM


class SimulatedClock:
    """A `budget_ledger.clock.Clock` (a callable returning an aware datetime) that the simulation sets."""

    def __init__(self, start: date) -> None:
        self._now = datetime.combine(start, time(0), tzinfo=AMSTERDAM)

    def __call__(self) -> datetime:
        return self._now

    def today(self) -> date:
        """The simulated date where the households live (what `JobContext.today` returns)."""
        return self._now.date()

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """Move on to `hour:minute` on `day` (Amsterdam time), or stay where the clock is if that has passed
        (a job configured to run later than the next event's usual time)."""
        moment = datetime.combine(day, time(hour, minute), tzinfo=AMSTERDAM)
        return self.set(max(moment, self._now))

    def set(self, moment: datetime) -> datetime:
        moment = moment.astimezone(AMSTERDAM)
        if moment < self._now:
            raise ValueError(f"the simulated clock cannot go back from {self._now} to {moment}")
        self._now = moment
        return moment
