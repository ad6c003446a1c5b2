"""Bank statement files in: read a CAMT.053 file and hand its statements to the import service.

The one way a file becomes booked lines, for the CLI (`budget-ledger import-camt`) and the API: the reader
(adapters/bank/camt053.py) refuses a malformed, hostile or foreign file before anything is written, and
the service (budget_ledger/statement_import.py) imports all statements of the file in one transaction.
"""

from __future__ import annotations

from budget_ledger.adapters.bank.camt053 import parse_camt053
from budget_ledger.statement_import import ImportReport, StatementImportService

MEGABYTE = 1_000_000


def import_camt053(service: StatementImportService, data: bytes, actor: str, *, max_megabytes: int) -> ImportReport:
    """Read one CAMT.053 file (refused above `max_megabytes`) and import it; a refusal changes nothing."""
    return service.import_file(parse_camt053(data, max_bytes=max_megabytes * MEGABYTE), actor)
