"""CLI commands for bank statements in: import CAMT.053 files, and the work queue of unmatched lines.

Registered on the `budget-ledger` group by adapters/cli/main.py; they call the same services as the API.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from budget_ledger.ledger.errors import DatabaseBusyError, LedgerError
from budget_ledger.receipts import KREDIET

INLEG = "inleg-gemeente"
_PART = re.compile(r"^(?P<target>household|instruction)=(?P<id>\d+):(?P<amount>\d+(?:\.\d{1,2})?)(?::(?P<source>[a-z-]+))?$")


def register(cli: click.Group, refusals_as_messages: Any) -> None:
    @cli.command("import-camt")
    @click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--as", "actor", required=True, help="Who imports (recorded on the import and its entries).")
    @click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
    @click.pass_obj
    def import_camt(app: Any, files: tuple[Path, ...], actor: str, fmt: str) -> None:
        """Import CAMT.053 bank statements (camt.053.001.02 to .08): each line once, matched, booked, reconciled.

        Each file is one transaction: a refused file (malformed, hostile, another message type, an account
        that is not ours) changes nothing, and the next file is still read. Exit 1 if any file was refused."""
        from budget_ledger.adapters.bank.statement_files import import_camt053

        service, limit = app.services.bank_import, app.settings.statement_max_megabytes
        refused, reports = 0, []
        for path in files:
            try:
                report = import_camt053(service, path.read_bytes(), actor, max_megabytes=limit)
            except LedgerError as exc:
                refused += 1
                where = f" ({exc.field})" if exc.field else ""
                click.echo(f"{path}: geweigerd{where}: {exc.message}", err=True)
                continue
            except DatabaseBusyError as exc:
                click.echo(f"{path}: niet ingelezen: {exc}", err=True)
                sys.exit(3)
            reports.append({"file": str(path), **report.to_json()})
            if fmt == "text":
                click.echo(f"{path}: {report}")
        if fmt == "json":
            click.echo(json.dumps(reports, indent=2, ensure_ascii=False))
        if refused:
            sys.exit(1)

    @cli.group("bank")
    def bank() -> None:
        """The work queue of bank lines nobody could match."""

    @bank.command("queue")
    @click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
    @click.pass_obj
    @refusals_as_messages
    def queue(app: Any, fmt: str) -> None:
        """The unmatched bank lines, oldest first, with why nothing matched."""
        lines = app.services.bank_queue.unmatched()
        if fmt == "json":
            click.echo(json.dumps([line.to_json() for line in lines], indent=2, ensure_ascii=False))
            return
        for line in lines:
            click.echo(f"{line.id:>6} {line.booking_date} {line.amount.format_nl():>12} "
                       f"{line.counterparty_name or line.counterparty_iban or '?'}: {line.remittance or '-'}")
            click.echo(f"       {line.match_reason}")
        if not lines:
            click.echo("de werkvoorraad is leeg")

    @bank.command("assign")
    @click.argument("line_id", type=click.IntRange(min=1))
    @click.option("--part", "parts", multiple=True, required=True, metavar="household=ID:AMOUNT[:SOURCE]",
                  help="A part of the line: household=12:200.00:gift (money in for a household, source default "
                  "overig; 'inrichtingskrediet' for the krediet the gemeente pays out, 'inleg-gemeente' for its transfer of "
                  "a gift or voorschot it put in) or instruction=34:82.26 (one of our payments). Repeat to split; the "
                  "parts add up to the line.")
    @click.option("--note", required=True, help="Why the money goes where it goes (recorded).")
    @click.option("--as", "actor", required=True, help="Who assigns it (recorded).")
    @click.pass_obj
    @refusals_as_messages
    def assign(app: Any, line_id: int, parts: tuple[str, ...], note: str, actor: str) -> None:
        """Assign an unmatched bank line, whole, to households or payments."""
        parsed = []
        for number, text in enumerate(parts):
            found = _PART.match(text.strip())
            if not found:
                raise click.BadParameter(f"{text!r}: write household=ID:AMOUNT[:SOURCE] or instruction=ID:AMOUNT",
                                         param_hint=f"--part ({number + 1})")
            part: dict[str, Any] = {f"{found['target']}_id": int(found["id"]), "amount": found["amount"]}
            if found["source"] in (KREDIET, INLEG):  # the krediet (a loan) or the gemeente's inleg: not income
                part["purpose"] = found["source"]
            elif found["source"]:
                part["source"] = found["source"]
            parsed.append(part)
        line = app.services.bank_queue.assign(line_id, {"parts": parsed, "note": note}, actor)
        click.echo(f"bankregel {line.id} toegewezen door {line.assigned_by}")
