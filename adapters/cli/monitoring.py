"""CLI command for the monitoring report of financieel ontzorgen (domain.md A11, S19).

    budget-ledger monitoring --from 2022-07-01 --to 2023-06-30 [--gemeente hoorn] [--target 75]
                             [--format text|json|csv]

Registered on the `budget-ledger` group by adapters/cli/main.py. The CSV is written by
adapters/export/monitoring_csv.py (the service layer imports no file format, design.md §2); its columns are
documented in budget_ledger/monitoring.py.
"""

from __future__ import annotations

import json
from typing import Any

import click

from budget_ledger.adapters.export.monitoring_csv import to_csv

_DAY = click.DateTime(formats=["%Y-%m-%d"])


def register(cli: click.Group, refusals_as_messages: Any) -> None:
    @cli.command("monitoring")
    @click.option("--from", "date_from", type=_DAY, required=True, help="First day of the period (YYYY-MM-DD).")
    @click.option("--to", "date_to", type=_DAY, required=True, help="Last day of the period, included.")
    @click.option("--gemeente", help="Only this gemeente (its code); default every gemeente and the total.")
    @click.option("--target", type=click.IntRange(0, 100),
                  help="Percent that manages its own finances after six months (default: the setting "
                  "monitoring_target_percent, 75 as in Westfriesland).")
    @click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
    @click.pass_obj
    @refusals_as_messages
    def monitoring(app: Any, date_from: Any, date_to: Any, gemeente: str | None, target: int | None, fmt: str) -> None:
        """Trajecten started, active, ended and extended per gemeente, opt-outs, the figure as gemeenten
        report it (not extended of all started) and the corrected KPI: self-reliant of the trajecten whose
        six-month mark fell in the period, checked against the target."""
        if date_to < date_from:
            raise click.BadParameter("--to is before --from", param_hint="--to")
        target = app.settings.monitoring_target_percent if target is None else target
        report = app.services.monitoring.report(date_from.date(), date_to.date(), gemeente=gemeente,
                                                target_percent=target)
        if fmt == "json":
            click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        elif fmt == "csv":
            click.echo(to_csv(report), nl=False)
        else:
            click.echo(report.to_text())
