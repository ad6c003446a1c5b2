"""The simulation: many households over months, driven through the real services and the scheduler's
real jobs on a simulated clock. It is the demo of the whole system and its load generator.

    households.py      the world drawn from a seed (pure): gemeenten, households, their creditors and income
    bank_details.py    valid Dutch IBANs, betalingskenmerken, RF references and BSNs from the seed
    intake.py          entering a household through the services, as a budgetbeheerder does
    bank.py            the bank: what arrives on which day (toeslagen late, with their back-payment), the
                       payments it executes from our pain.001 files, and the daily camt.053 statement
    bank_queue_work.py the simulated budgetbeheerder working the import's work queue
    scheduled_jobs.py  the scheduler's jobs, fired by their own CronTriggers on the simulated days
    payments.py        four-eyes approval and the pain.001 export of each payment run
    casework.py        evaluations, extensions, afbouw and the end of trajectories
    clock.py           the simulated clock (Europe/Amsterdam)
    driver.py          the day loop and the order of events within a day
    summary.py         the summary, read from the book

`budget-ledger simulate` (adapters/cli/main.py) runs it. budget_ledger/ never imports this package.
"""

from budget_ledger.adapters.simulation.driver import DatabaseNotEmptyError, SimulationConfig, simulate
from budget_ledger.adapters.simulation.summary import Summary

__all__ = ["DatabaseNotEmptyError", "SimulationConfig", "Summary", "simulate"]
