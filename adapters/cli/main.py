"""The `budget-ledger` command. Every command calls the same service functions as the API and scheduler.

Bad input gets a message naming the option and a non-zero exit, never a traceback: 2 for usage errors
(click's convention), 1 for a refusal by the ledger, 3 when the database stayed busy.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import cached_property, wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from budget_ledger.ledger.errors import DatabaseBusyError, LedgerError
from budget_ledger.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


class IsoDate(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date in the form YYYY-MM-DD", param, ctx)


ISO_DATE = IsoDate()


class App:
    """What the commands share: settings, and the database and services built from them on first use."""

    def __init__(self, config_dir: Path | None, database_url: str | None) -> None:
        overrides = {"database_url": database_url} if database_url else {}
        try:
            self.settings: Settings = load_settings(config_dir, **overrides)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise click.UsageError(f"invalid settings: {problems}") from exc

    @cached_property
    def database(self):  # type: ignore[no-untyped-def]
        from budget_ledger.adapters.db.engine import Database

        return Database(self.settings)

    @cached_property
    def ledger(self):  # type: ignore[no-untyped-def]
        from budget_ledger.adapters.db.bootstrap import ledger_service

        self.require_current_schema()
        return ledger_service(self.database)

    def require_current_schema(self) -> None:
        from budget_ledger.adapters.db.migrate import current_revision, head_revision

        current, head = current_revision(self.database), head_revision()
        if current != head:
            raise click.ClickException(
                f"the database is at schema revision {current or 'none'}, not {head}: run `budget-ledger db upgrade`"
            )


def refusals_as_messages(command: F) -> F:
    """Turn the ledger's refusals into a one-line message and an exit code instead of a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except LedgerError as exc:
            where = f" ({exc.field})" if exc.field else ""
            click.echo(f"Error{where}: {exc.message}", err=True)
            sys.exit(1)
        except DatabaseBusyError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(3)

    return wrapper  # type: ignore[return-value]


@contextmanager
def output_file(path: str) -> Iterator[Any]:
    """'-' is standard output; a file is written next to its final name and renamed when complete."""
    if path == "-":
        yield sys.stdout
        return
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            yield handle
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder with settings.toml.")
@click.option("--database-url", envvar=None, help="Overrides BUDGET_LEDGER_DATABASE_URL and the config files.")
@click.pass_context
def cli(ctx: click.Context, config_dir: Path | None, database_url: str | None) -> None:
    """budget_ledger: the ledger for budgetbeheer and financieel ontzorgen."""
    ctx.obj = App(config_dir, database_url)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(app: App, revision: str) -> None:
    """Create or update the schema through the Alembic migrations."""
    from budget_ledger.adapters.db.migrate import current_revision, upgrade

    upgrade(app.database, revision)
    click.echo(f"database at revision {current_revision(app.database)}")


@db.command("current")
@click.pass_obj
def db_current(app: App) -> None:
    """Print the schema revision of the database."""
    from budget_ledger.adapters.db.migrate import current_revision

    click.echo(current_revision(app.database) or "empty (run `budget-ledger db upgrade`)")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["ledger"]), default="ledger", show_default=True)
@click.option("--household", type=click.IntRange(min=1), help="Only entries touching this household's accounts.")
@click.option("--from", "date_from", type=ISO_DATE, help="First booking date (opening balances are carried in).")
@click.option("--to", "date_to", type=ISO_DATE, help="Last booking date.")
@click.option("-o", "--output", default="-", show_default=True, help="File to write, '-' for standard output.")
@click.pass_obj
@refusals_as_messages
def export(app: App, fmt: str, household: int | None, date_from: date | None, date_to: date | None, output: str) -> None:
    """Write the book as a ledger/hledger journal, for auditors."""
    from budget_ledger.adapters.export.ledger_journal import write_journal

    if date_from and date_to and date_from > date_to:
        raise click.BadParameter("--from is after --to", param_hint="--from")
    with app.ledger.extract(household_id=household, date_from=date_from, date_to=date_to) as extract:
        if household is not None and not extract.scope:
            raise click.BadParameter(f"household {household} has no accounts", param_hint="--household")
        with output_file(output) as out:
            count = write_journal(extract, out, organisation=app.settings.organisation_name)
    if output != "-":
        click.echo(f"wrote {count} transactions to {output}", err=True)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("--household", type=click.IntRange(min=1), help="Only this household's accounts.")
@click.option("--as-of", type=ISO_DATE, help="Balances at the end of this booking date (default: now).")
@click.pass_obj
@refusals_as_messages
def balances(app: App, fmt: str, household: int | None, as_of: date | None) -> None:
    """Print `account,balance` for every account, named as in the export (debit positive)."""
    from budget_ledger.adapters.export.ledger_journal import write_balances_csv

    write_balances_csv(app.ledger.balances(as_of=as_of, household_id=household), sys.stdout)


@cli.command()
@click.pass_obj
@refusals_as_messages
def check(app: App) -> None:
    """Check that the book balances and that every stored balance equals the sum of its postings."""
    trial = app.ledger.trial_balance()
    mismatches = app.ledger.balance_mismatches()
    for m in mismatches:
        click.echo(f"MISMATCH {m.account_code}: stored {m.stored_cents} cents, postings sum to {m.computed_cents}", err=True)
    if not trial.is_balanced:
        click.echo(f"UNBALANCED: the trial balance totals {trial.total}", err=True)
    if mismatches or not trial.is_balanced:
        sys.exit(1)
    click.echo(f"ok: {len(trial.balances)} accounts, debits {trial.debits} = credits {trial.credits}")


@cli.command()
@click.option("--host", help="Interface to listen on (default from settings).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default from settings).")
@click.option("--demo/--no-demo", default=True, show_default=True, help="Load demo data into an empty database.")
@click.pass_obj
def serve(app: App, host: str | None, port: int | None, demo: bool) -> None:
    """Migrate the database, load demo data if it is empty, and serve the HTTP API."""
    import uvicorn

    from budget_ledger.adapters.db.bootstrap import services
    from budget_ledger.adapters.db.migrate import upgrade
    from budget_ledger.adapters.http.app import create_app
    from budget_ledger.demo import load_demo_book

    upgrade(app.database)
    if demo:
        loaded = load_demo_book(services(app.database))
        click.echo(f"demo data: {loaded}")
    host = host or app.settings.host
    port = port or app.settings.port
    base = f"http://{host}:{port}"
    click.echo(f"budget_ledger on {base}  (database: {app.settings.database_url})")
    click.echo(f"  health:         {base}/health")
    click.echo(f"  API docs:       {base}/schema  (OpenAPI 3.1: {base}/schema/openapi.json)")
    click.echo("  credentials:    none yet; authentication and roles arrive with the API issue")
    click.echo("  scheduler:      not yet part of this build (arrives with the payment-run issue)")
    uvicorn.run(create_app(app.settings, database=app.database), host=host, port=port, log_level="info")


def main() -> None:  # pragma: no cover - console entry point
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
