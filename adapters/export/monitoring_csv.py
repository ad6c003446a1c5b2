"""The monitoring report as CSV (for the CLI and the API): a header row, one row per gemeente by code, and
the total row last; comma-separated, decimals with a point, so the figures read back as numbers anywhere.
The columns are documented in budget_ledger/monitoring.py."""

from __future__ import annotations

import csv
import io

from budget_ledger.monitoring import MonitoringReport


def to_csv(report: MonitoringReport) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(report.csv_rows())
    return out.getvalue()
