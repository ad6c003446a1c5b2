"""The `budget-ledger` command. Every command calls the same service functions as the API and scheduler.

Bad input gets a message naming the option and a non-zero exit, never a traceback: 2 for usage errors
(click's convention), 1 for a refusal by the ledger, 3 when the database stayed busy.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
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

    @cached_property
    def services(self):  # type: ignore[no-untyped-def]
        from budget_ledger.adapters.db.bootstrap import services

        self.require_current_schema()
        return services(self.database)

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


def writable_file(path: str) -> Path:
    """The target of a write-then-rename: refused when it exists and is not a regular file (a device such
    as /dev/null, a directory), because the rename would replace it."""
    target = Path(path)
    if target.exists() and not target.is_file():
        raise click.BadParameter(f"{path} exists and is not a regular file", param_hint="--output")
    return target


@contextmanager
def output_file(path: str) -> Iterator[Any]:
    """'-' is standard output; a file is written next to its final name and renamed when complete."""
    if path == "-":
        yield sys.stdout
        return
    target = writable_file(path)
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


MONTH = click.DateTime(formats=["%Y-%m"])


@cli.command()
@click.argument("household", type=click.IntRange(min=1))
@click.option("--from", "date_from", type=ISO_DATE, required=True, help="First day of the period.")
@click.option("--to", "date_to", type=ISO_DATE, required=True, help="Last day of the period.")
@click.option("--profile", help="Plan under this profile instead of the household's own (a what-if).")
@click.pass_obj
@refusals_as_messages
def plan(app: App, household: int, date_from: date, date_to: date, profile: str | None) -> None:
    """Show what the rules would book for a household in a period, and what they found. Writes nothing."""
    made = app.services.planning.plan(household, date_from, date_to, profile=profile,
                                      as_of=date_from - timedelta(days=1))
    click.echo(f"Plan huishouden {household}, profiel {made.profile}, {date_from} t/m {date_to}")
    for m in made.movements:
        click.echo(f"  {m.due_on}  {m.amount!s:>10}  {m.rule:<32} {m.reason}")
    for f in made.findings:
        click.echo(f"  ! {f.on}  {f.severity.value:<8} {f.kind.value}: {f.message}")
        for proposal in f.proposals:
            click.echo(f"      voorstel: {proposal}")
    if not made.movements and not made.findings:
        click.echo("  (niets te doen)")


@cli.command()
@click.argument("household", type=click.IntRange(min=1))
@click.option("--month", type=MONTH, required=True, help="The month, YYYY-MM.")
@click.option("--record", "record_as", metavar="USER", help="Record it as a new version (if it changed) as USER.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
@refusals_as_messages
def budgetplan(app: App, household: int, month: Any, record_as: str | None, fmt: str) -> None:
    """Print a household's budgetplan for a month: the document a client signs, or its JSON."""
    from budget_ledger.errors import NotFoundError

    day = month.date()
    service = app.services.budgetplans
    version = None
    if record_as:
        version = service.record(household, day, record_as).version
        click.echo(f"budgetplan {day:%Y-%m}: version {version}", err=True)
    if fmt == "json":
        click.echo(json.dumps(service.current(household, day).to_json(), indent=2, ensure_ascii=False))
        return
    try:
        click.echo(service.document(household, day, version))
    except NotFoundError:
        raise click.ClickException(f"no recorded budgetplan for {day:%Y-%m}: record one with --record USER, "
                                   "or show the current figures with --format json") from None


@cli.command()
@click.argument("household", type=click.IntRange(min=1))
@click.option("--months", type=click.IntRange(1, 24), default=6, show_default=True)
@click.option("--as-of", type=ISO_DATE, help="Forecast from this day (default: today).")
@click.option("--what-if-profile", help="Also forecast under this profile, side by side.")
@click.option("--what-if-regime", type=click.Choice(["volledig", "huur_zorg", "geen"]),
              help="Also forecast under this regime, side by side.")
@click.pass_obj
@refusals_as_messages
def forecast(app: App, household: int, months: int, as_of: date | None, what_if_profile: str | None,
             what_if_regime: str | None) -> None:
    """Project the basisrekening month by month and name the first payment that would fail."""
    service = app.services.forecasts
    if what_if_profile or what_if_regime:
        result = service.what_if(household, profile=what_if_profile, regime=what_if_regime, months=months, as_of=as_of)
    else:
        result = service.forecast(household, months=months, as_of=as_of)
    click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))


class RunProgress:
    """Progress on standard error: click's bar on a terminal, opened when the run knows how many households
    it has; elsewhere (a log, cron) a line at every tenth. A household that fails is named at once."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._bar: Any = None
        self._terminal = sys.stderr.isatty()

    def __enter__(self) -> RunProgress:
        return self

    def __call__(self, done: int, total: int, household: int, line: str) -> None:
        if self._terminal:
            if self._bar is None:
                self._bar = click.progressbar(length=total, label=self._label, file=sys.stderr, show_pos=True,
                                              show_eta=True, update_min_steps=max(1, total // 200))
                self._bar.__enter__()
            self._bar.update(1)
        elif done == total or done % max(1, total // 10) == 0:
            click.echo(f"{self._label}: {done}/{total} huishoudens", err=True)
        if line.startswith("mislukt"):
            click.echo(f"\nhuishouden {household}: {line}", err=True)

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


@cli.command("run")
@click.option("--date", "run_date", type=ISO_DATE, required=True, help="Book everything due by this day.")
@click.option("--gemeente", help="Only this gemeente's households (its code).")
@click.option("--household", "households", type=click.IntRange(min=1), multiple=True, help="Only these households.")
@click.option("--dry-run", is_flag=True, help="Show what the run would do; write nothing.")
@click.option("--as", "actor", metavar="USER", required=True, help="Who starts the run (recorded; may not approve it).")
@click.option("--kind", type=click.Choice(["alles", "vaste-lasten", "leefgeld"]), default="alles", show_default=True,
              help="Book everything due, or only the fixed costs, or only the leefgeld (as the scheduler's two jobs do).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
@refusals_as_messages
def payment_run(app: App, run_date: date, gemeente: str | None, households: tuple[int, ...], dry_run: bool,
                actor: str, kind: str, fmt: str) -> None:
    """Start a payment run: book what is due and record the payment instructions, one household at a time."""

    with RunProgress("Proefrun" if dry_run else "Betaalrun") as progress:
        report = app.services.payment_runs.start(run_date, gemeente=gemeente, households=list(households) or None,
                                                 actor=actor, dry_run=dry_run, progress=progress, kind=kind)
    data = report.to_json()
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from budget_ledger.payment_runs import NOTES_SHOWN  # here: the CLI's start-up imports no service module

    title = "Proefrun (niets vastgelegd)" if dry_run else f"Betaalrun {report.run_id}"
    click.echo(f"{title} op {run_date}: {len(report.processed)} huishouden(s), "
               f"{report.instructions_created} betaalopdracht(en), totaal {report.total}")
    for category, amount in data["per_category"].items():
        click.echo(f"  {category:<28} {amount:>12}")
    for s in report.skipped:
        click.echo(f"  overgeslagen huishouden {s.household_id}: {s.reason}")
    for f in report.failed:
        click.echo(f"  MISLUKT huishouden {f.household_id}: {f.message}")
    for label, notes in (("tekorten", data["shortfalls"]), ("waarschuwingen", data["warnings"])):
        for w in notes[:NOTES_SHOWN]:
            click.echo(f"  ! huishouden {w['household_id']}: {w['message']}")
        if len(notes) > NOTES_SHOWN:
            more = f"budget-ledger run-notes {report.run_id}" if report.run_id else "--format json"
            click.echo(f"  … {len(notes)} {label} in totaal, {NOTES_SHOWN} getoond; alle: {more}")
    if not dry_run:
        click.echo(f"Goedkeuren door een tweede persoon: budget-ledger approve {report.run_id} --as USER")
    if report.failed:
        sys.exit(1)


@cli.command("run-notes")
@click.argument("run_id", type=click.IntRange(min=1))
@click.option("--kind", help="Only findings of this kind (tekort, crediteur-hoort-bij-klant, ...).")
@click.option("--household", "household_id", type=click.IntRange(min=1), help="Only this household's.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
@refusals_as_messages
def run_notes(app: App, run_id: int, kind: str | None, household_id: int | None, fmt: str) -> None:
    """Every shortfall, then every warning, of a payment run's report."""
    notes = app.services.payment_runs.notes(run_id, kind=kind, household_id=household_id)
    if fmt == "json":
        click.echo(json.dumps(notes, indent=2, ensure_ascii=False))
        return
    for w in notes:
        click.echo(f"huishouden {w['household_id']} {w.get('on') or '':<10} {w.get('kind') or 'betaalrun':<28} "
                   f"{w['message']}")
    click.echo(f"{len(notes)} melding(en)")


@cli.command()
@click.argument("run_id", type=click.IntRange(min=1))
@click.option("--as", "actor", metavar="USER", required=True, help="Who approves (not the one who started it).")
@click.pass_obj
@refusals_as_messages
def approve(app: App, run_id: int, actor: str) -> None:
    """Approve a planned payment run and its instructions (four eyes)."""
    run = app.services.payment_runs.approve(run_id, actor)
    count = len(app.services.payment_runs.instructions(run_id, "approved"))
    click.echo(f"betaalrun {run.id} goedgekeurd door {run.approved_by}: {count} betaalopdracht(en)")


@cli.command("export-payments")
@click.argument("run_id", type=click.IntRange(min=1))
@click.option("--format", "fmt", type=click.Choice(["pain.001.001.03", "pain.001.001.09"]),
              help="pain.001 version (default: the bank profile's, settings.payment_file_version).")
@click.option("-o", "--output", required=True, help="File to write.")
@click.option("--as", "actor", required=True, help="Who exports (recorded on the run).")
@click.pass_obj
@refusals_as_messages
def export_payments(app: App, run_id: int, fmt: str | None, output: str, actor: str) -> None:
    """Write an approved run's payments as a pain.001 file, validated against its XSD, and mark them exported."""
    from datetime import UTC, datetime

    from budget_ledger.adapters.bank.pain001 import Pain001Error, render_pain001
    from budget_ledger.adapters.bank.payment_file import batch_for

    service = app.services.payment_runs
    approved = [i for i in service.instructions(run_id, "approved") if i.iban]
    if not approved:
        raise click.ClickException(f"payment run {run_id} has no approved payments with an IBAN to export")
    batch = batch_for(run_id, approved, organisation=app.settings.organisation_name,
                      debtor_iban=app.settings.organisation_iban, created_at=datetime.now(UTC))
    try:
        xml = render_pain001(batch, fmt or app.settings.payment_file_version)
    except Pain001Error as exc:
        raise click.ClickException(f"no file written: {exc}") from None
    target = writable_file(output)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(xml)
    try:
        service.mark_exported(run_id, batch.message_id, actor, [i.id for i in approved])
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    total = sum((i.amount for i in approved), start=approved[0].amount * 0)
    click.echo(f"wrote {len(approved)} payments, {total} EUR, message {batch.message_id} to {output}", err=True)


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
    from budget_ledger.demo import DEMO_AS_OF, demo_household, issue_demo_tokens

    upgrade(app.database)
    bundle = services(app.database)
    tokens: dict[str, str] = {}
    if demo:
        click.echo(f"demo data: {load_demo(app.database, bundle)}")
        tokens = issue_demo_tokens(bundle)
    host = host or app.settings.host
    port = port or app.settings.port
    base = f"http://{host}:{port}"
    click.echo(f"budget_ledger on {base}  (database: {app.settings.database_url})")
    click.echo(f"  health:         {base}/health")
    click.echo(f"  API docs:       {base}/schema/swagger  (OpenAPI 3.1: {base}/schema/openapi.json)")
    if tokens:
        click.echo("  demo tokens (send as `Authorization: Bearer <token>`; new ones at every start):")
        for role, secret in tokens.items():
            click.echo(f"    {role:<16}{secret}")
        click.echo(f"  try:            curl -H 'Authorization: Bearer {tokens['begeleider']}' "
                   f"{base}/v1/begeleider/households")
        s1 = demo_household(bundle)
        if s1 is not None:  # the demo book is 2025's: its leefgeld view as it stood then
            click.echo(f"  and:            curl -H 'Authorization: Bearer {tokens['begeleider']}' "
                       f"'{base}/v1/begeleider/households/{s1}/leefgeld?as_of={DEMO_AS_OF}'")
    else:
        click.echo("  credentials:    issue a token with `budget-ledger token issue --actor NAME --role ROLE --as YOU`")
    scheduler = None
    if app.settings.scheduler_mode == "embedded":
        from budget_ledger.adapters.scheduler.runner import build_scheduler, context_for, start

        scheduler = build_scheduler(app.settings)
        start(scheduler, app.settings, context_for(app.database))
        for job in scheduler.get_jobs():
            click.echo(f"  scheduler:      {job.id} next at {job.next_run_time:%Y-%m-%d %H:%M %Z}")
    else:
        click.echo(f"  scheduler:      {app.settings.scheduler_mode} (not in this process)")
    try:
        uvicorn.run(create_app(app.settings, database=app.database, services=bundle), host=host, port=port,
                    log_level="info")
    finally:
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)


DEMO_REGION = {"start": date(2025, 3, 1), "months": 3, "households": 6, "seed": 2026}
"""The simulated region the demo starts with: a few households in several gemeenten, three months of history."""


def load_demo(database: Any, bundle: Any) -> str:
    """Into an empty database: a small simulated region (history from the simulator, through the real jobs),
    then the scenario households of budget_ledger/demo.py beside it."""
    from budget_ledger.adapters.simulation import SimulationConfig, simulate
    from budget_ledger.adapters.simulation.driver import is_empty
    from budget_ledger.demo import load_demo_book

    if not is_empty(database):
        return "the database already holds data; demo data not loaded"
    click.echo("demo data: simulating a small region (three months of history, under a minute)…", err=True)
    households = simulate(database, SimulationConfig(**DEMO_REGION)).to_json()["households"]
    region = f"{households['total']} simulated households in {len(households['by_gemeente'])} gemeenten"
    return f"{region}; {load_demo_book(bundle, beside_simulation=True)}"


@cli.group()
def scheduler() -> None:
    """The scheduled jobs (payment run, expected-income check)."""


@scheduler.command("run")
@click.pass_obj
def scheduler_run(app: App) -> None:
    """Run the scheduler in this process until stopped (scheduler_mode must be 'process')."""
    import signal
    import threading

    from budget_ledger.adapters.scheduler.runner import build_scheduler, context_for, start

    if app.settings.scheduler_mode != "process":
        raise click.ClickException(
            f"scheduler_mode is '{app.settings.scheduler_mode}': set BUDGET_LEDGER_SCHEDULER_MODE=process so that "
            "only this process runs the jobs (the job store must not be shared by two schedulers)"
        )
    app.require_current_schema()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    running = build_scheduler(app.settings)
    start(running, app.settings, context_for(app.database))
    for job in running.get_jobs():
        click.echo(f"{job.id}: next at {job.next_run_time:%Y-%m-%d %H:%M %Z}")
    stop.wait()
    running.shutdown(wait=True)


@scheduler.command("jobs")
@click.pass_obj
def scheduler_jobs(app: App) -> None:
    """List the stored jobs and their next run (reads the job store; starts nothing)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from budget_ledger.adapters.scheduler.runner import TABLE

    app.require_current_schema()
    store = SQLAlchemyJobStore(url=app.settings.database_url, tablename=TABLE)
    store.start(None, "default")  # type: ignore[arg-type]
    stored = store.get_all_jobs()
    for job in stored:
        click.echo(f"{job.id}: next at {job.next_run_time:%Y-%m-%d %H:%M %Z}  ({job.name})")
    if not stored:
        click.echo("no jobs stored yet: they are added when a scheduler starts")
    store.shutdown()


WARNING_STATUSES = ("open", "acknowledged", "resolved")


def _echo_warning(warning: Any) -> None:
    where = f"huishouden {warning.household_id} ({warning.gemeente})" if warning.household_id else "organisatie"
    click.echo(f"#{warning.id:<5} {warning.due_on}  {warning.severity.value:<8} {warning.type.value:<28} {where}  "
               f"[{warning.role.value}, {warning.status.value}]")
    click.echo(f"       {warning.message}")
    for proposal in warning.details.get("proposals") or ():
        click.echo(f"       voorstel: {proposal}")


@cli.group("warnings", invoke_without_command=True)
@click.option("--within", metavar="DURATION", help="Only what falls due within this ISO-8601 duration from today "
              "(or --as-of), e.g. P6M or P8W; overdue warnings included.")
@click.option("--gemeente", help="Only this gemeente's households (its code).")
@click.option("--begeleider", help="Only the households of this begeleider.")
@click.option("--household", type=click.IntRange(min=1), help="Only this household.")
@click.option("--type", "types", multiple=True, metavar="TYPE", help="Only this type (repeatable), e.g. ontzorging-einde.")
@click.option("--status", type=click.Choice([*WARNING_STATUSES, "all"]),
              help="Only this status (default: open and acknowledged).")
@click.option("--as-of", type=ISO_DATE, help="Count --within from this day (default: today).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
@refusals_as_messages
def warnings_command(ctx: click.Context, within: str | None, gemeente: str | None, begeleider: str | None,
                     household: int | None, types: tuple[str, ...], status: str | None, as_of: date | None,
                     fmt: str) -> None:
    """The warnings to act on, by due date. Subcommands: scan, show, acknowledge, resolve."""
    if ctx.invoked_subcommand is not None:
        return
    app: App = ctx.obj
    found = app.services.warnings.list(
        within=within, gemeente=gemeente, begeleider=begeleider, household_id=household, type=list(types) or None,
        status=WARNING_STATUSES if status == "all" else status, as_of=as_of)
    if fmt == "json":
        click.echo(json.dumps([w.to_json() for w in found], indent=2, ensure_ascii=False))
        return
    for warning in found:
        _echo_warning(warning)
    if not found:
        click.echo("geen waarschuwingen")


@warnings_command.command("scan")
@click.option("--date", "day", type=ISO_DATE, help="Scan as of this day (default: today, Europe/Amsterdam).")
@click.option("--gemeente", help="Only this gemeente's households (its code).")
@click.option("--household", "households", type=click.IntRange(min=1), multiple=True, help="Only these households.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
@refusals_as_messages
def warnings_scan(app: App, day: date | None, gemeente: str | None, households: tuple[int, ...], fmt: str) -> None:
    """Find and store the warnings that hold on a day; gone ones are resolved. Running it twice adds nothing."""
    report = app.services.warnings.scan(day, gemeente=gemeente, household_ids=list(households) or None)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(f"Waarschuwingsscan {report.day}: {report}")
        for household, message in report.failures:
            click.echo(f"  MISLUKT huishouden {household}: {message}")
    if report.failures:
        sys.exit(1)


@warnings_command.command("show")
@click.argument("warning_id", type=click.IntRange(min=1))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
@refusals_as_messages
def warnings_show(app: App, warning_id: int, fmt: str) -> None:
    """One warning with its history: raised, acknowledged, resolved, reopened."""
    warning = app.services.warnings.get(warning_id)
    events = app.services.warnings.events(warning_id)
    if fmt == "json":
        data = warning.to_json()
        data["events"] = [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "note": e.note}
                          for e in events]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    _echo_warning(warning)
    for e in events:
        click.echo(f"       {e.at:%Y-%m-%d %H:%M} {e.action:<12} {e.actor}" + (f": {e.note}" if e.note else ""))


@warnings_command.command("acknowledge")
@click.argument("warning_id", type=click.IntRange(min=1))
@click.option("--as", "actor", metavar="USER", required=True, help="Who acknowledges it (recorded).")
@click.option("--note", help="What is being done about it.")
@click.pass_obj
@refusals_as_messages
def warnings_acknowledge(app: App, warning_id: int, actor: str, note: str | None) -> None:
    """Mark a warning as seen and being worked on; it stays so while its condition holds."""
    warning = app.services.warnings.acknowledge(warning_id, {"note": note} if note is not None else None, actor)
    click.echo(f"waarschuwing {warning.id} bevestigd door {warning.acknowledged_by}")


@warnings_command.command("resolve")
@click.argument("warning_id", type=click.IntRange(min=1))
@click.option("--as", "actor", metavar="USER", required=True, help="Who resolves it (recorded).")
@click.option("--note", required=True, help="How it was resolved.")
@click.pass_obj
@refusals_as_messages
def warnings_resolve(app: App, warning_id: int, actor: str, note: str) -> None:
    """Close a warning with a note; it stays resolved even if a scan still finds its condition."""
    warning = app.services.warnings.resolve(warning_id, {"note": note}, actor)
    click.echo(f"waarschuwing {warning.id} opgelost door {warning.resolved_by}")


@cli.command("simulate")
@click.option("--start", type=ISO_DATE, required=True, help="First simulated day.")
@click.option("--months", type=click.IntRange(1, 36), default=7, show_default=True, help="Calendar months to simulate.")
@click.option("--households", type=click.IntRange(1, 100_000), default=50, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed gives the same book.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder for the pain.001 files and the bank's camt.053 statements.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="The summary's format.")
@click.pass_obj
@refusals_as_messages
def simulate_command(app: App, start: date, months: int, households: int, seed: int, out: Path | None,
                     fmt: str) -> None:
    """Simulate households over months on an empty database, day by day, through the real services and the
    scheduler's jobs: the demo of the whole system and its load generator. A new database file is migrated
    first; a database that holds data is refused."""
    from budget_ledger.adapters.db.migrate import current_revision, upgrade
    from budget_ledger.adapters.simulation import DatabaseNotEmptyError, SimulationConfig, simulate

    if current_revision(app.database) is None:
        upgrade(app.database)
    app.require_current_schema()
    try:
        summary = simulate(app.database, SimulationConfig(start, months, households, seed, out),
                           progress=lambda line: click.echo(line, err=True))
    except DatabaseNotEmptyError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    if fmt == "json":
        click.echo(json.dumps(summary.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(summary.to_text())
    book = summary.to_json()["book"]
    if not book["trial_balance_balanced"] or book["stored_balance_mismatches"]:
        sys.exit(1)


from budget_ledger.adapters.cli import access as _access_commands  # noqa: E402 - registers on the group above
from budget_ledger.adapters.cli import bank as _bank_commands  # noqa: E402
from budget_ledger.adapters.cli import monitoring as _monitoring_commands  # noqa: E402

_access_commands.register(cli, refusals_as_messages)
_bank_commands.register(cli, refusals_as_messages)
_monitoring_commands.register(cli, refusals_as_messages)


def main() -> None:  # pragma: no cover - console entry point
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
