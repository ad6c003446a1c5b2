"""The work queue, worked by a simulated budgetbeheerder (10:00 on each simulated day).

The statement import leaves a line it cannot match in the work queue (budget_ledger/bank_queue.py): by
design the inrichtingskrediet from the household's own gemeente (a loan, which a person must book as the
krediet, never as income), and a first toeslag that Dienst Toeslagen paid later than estimated, as one sum
for more months than the expected payment covers. `sim.beheerder` assigns each such line, whole, through
`BankQueueService.assign`, the operation behind `budget-ledger bank assign` and the API: to the household
the simulated world sent it for, as the income source it is, or as the inrichtingskrediet. What the world
knows of a line is found by the bank's reference (AcctSvcrRef), the way a budgetbeheerder reads the payer,
the description and the kenmerk on the line. The queue is worked oldest line first, so the same seed gives
the same assignments. A line the world did not send for a household (none does today) stays in the queue
and is counted, with the reason, in the summary.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from budget_ledger.adapters.simulation.bank import BankLine
from budget_ledger.adapters.simulation.intake import BEHEERDER
from budget_ledger.bank_queue import BankQueueService


@dataclass
class QueueLog:
    assigned: int = 0
    by_purpose: Counter = field(default_factory=Counter)
    """Lines assigned, by what the money was (income source or inrichtingskrediet)."""
    left: dict[int, str] = field(default_factory=dict)
    """Lines left in the queue (line id → why)."""


def work_queue(queue: BankQueueService, known: dict[str, BankLine], log: QueueLog) -> int:
    """Assign every line in the queue the simulated world can place; returns how many were assigned now."""
    done = 0
    for line in queue.unmatched():
        sent = known.get(line.bank_reference or "")
        if sent is None or line.amount != sent.amount:
            log.left[line.id] = ("niet door de gesimuleerde wereld verstuurd voor een huishouden"
                                 if sent is None else "bedrag wijkt af van wat de betaler stuurde")
            continue
        part: dict = {"household_id": sent.household_id, "amount": str(sent.amount)}
        if sent.inleg:
            part["purpose"] = "inleg-gemeente"
            note = f"Inleg van {sent.payer.name} (gift of voorschot), eerder als te ontvangen geboekt"
        elif sent.source is None:
            part["purpose"] = "inrichtingskrediet"
            note = f"Inrichtingskrediet van {sent.payer.name}, toegekend bij de huisvesting"
        else:
            part["source"] = sent.source
            note = (f"{sent.description}: {sent.source} van {sent.payer.name}"
                    + (", eerste betaling later dan geschat, met nabetaling" if sent.is_back_payment else ""))
        queue.assign(line.id, {"parts": [part], "note": note[:500]}, BEHEERDER)
        log.assigned += 1
        log.by_purpose[sent.purpose] += 1
        log.left.pop(line.id, None)
        done += 1
    return done
