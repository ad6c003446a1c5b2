"""Four eyes and the bank file: a second simulated user approves each payment run and exports it.

The scheduler's payment run is started by `scheduler`; `sim.controleur` approves it (a run may not be
approved by whoever started it) and exports its approved instructions with an IBAN to pain.001, the way
`budget-ledger export-payments` does. Every file is validated against its XSD by `render_pain001` before
it exists; it is written to the output folder when one is given, and the run is marked exported either
way, so the book and the registry do not depend on --out. Leefgeld without a client IBAN stays approved
and out of the file (payment_runs.py). The payments then wait in org:bank:onderweg until the bank's
statement reports them executed (bank.py: the file goes to the simulated bank, which executes each block on
its requested execution date, and the CAMT.053 import matches each payment back by its EndToEndId).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from budget_ledger.adapters.bank.pain001 import PaymentBatch, render_pain001
from budget_ledger.adapters.bank.payment_file import batch_for
from budget_ledger.payment_runs import PaymentRunService, RunStatus
from budget_ledger.settings import Settings

CONTROLEUR = "sim.controleur"


@dataclass(frozen=True)
class ExportedFile:
    run_id: int
    run_date: date
    message_id: str
    payments: int
    total_cents: int
    path: Path | None
    batch: PaymentBatch
    """What the file says, for the simulated bank (the same records the XML was rendered from)."""


def approve_and_export(service: PaymentRunService, run_date: date, settings: Settings, now: Callable[[], datetime],
                       out: Path | None) -> tuple[list[int], list[ExportedFile]]:
    """Approve the day's planned runs and export each one's payments; returns (approved run ids, files)."""
    approved, files = [], []
    for run in service.runs(run_date=run_date):
        if run.status is not RunStatus.PLANNED:
            continue
        service.approve(run.id, CONTROLEUR)
        approved.append(run.id)
        payable = [i for i in service.instructions(run.id, "approved") if i.iban]
        if not payable:
            continue
        batch = batch_for(run.id, payable, organisation=settings.organisation_name,
                          debtor_iban=settings.organisation_iban, created_at=now())
        xml = render_pain001(batch, settings.payment_file_version)  # validated against the XSD
        path = None
        if out is not None:
            path = out / f"betaalrun-{run.id:05d}-{run_date:%Y%m%d}.xml"
            path.write_bytes(xml)
        service.mark_exported(run.id, batch.message_id, CONTROLEUR, [i.id for i in payable])
        files.append(ExportedFile(run.id, run_date, batch.message_id, len(payable),
                                  sum(i.amount.cents for i in payable), path, batch))
    return approved, files
