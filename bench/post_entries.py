"""Benchmark: posting entries through the ledger service against a raw sqlite3 floor.

    python bench/post_entries.py [--entries 100000] [--single 5000] [--batch 10000]

What it measures, each on a fresh database created by the Alembic migrations (same schema, same triggers):

* bulk path (SQLite): `LedgerService.post_many` over `--entries` balanced two-posting entries, in calls of
  `--batch` entries and in one call with all of them. Building the `EntryRequest`s is timed separately.
* floor (SQLite): the same rows written with the plain `sqlite3` module in the same shape as the bulk path:
  drafts by executemany INSERT (same columns and values, request hashes included), postings by
  executemany INSERT, the seal as `UPDATE ... SET status='posted' WHERE id IN (...)` in chunks of 500, then
  the balance UPDATEs, one transaction per batch, same PRAGMAs as the service's engine. Rows are prepared
  before the clock starts, so the floor is database work only. The ratio printed is bulk time / floor
  time for the same batching (the goal in the issue: at most 2.5x).
* single-entry path (SQLite): `LedgerService.post` in a loop, one transaction per entry, `--single`
  entries, with `sqlite_synchronous` FULL (the default) and NORMAL (goal: at least 1,000 entries/s).
* PostgreSQL, when BUDGET_LEDGER_DATABASE_URL is a postgresql URL: the bulk and single-entry paths on fresh
  databases `bench_<random>_<label>` created on that server (the user must be allowed to CREATE DATABASE),
  migrated, and dropped at the end.

Every database is checked afterwards (trial balance balanced, no balance mismatches, the number of posted
entries and postings, the stored balance of every account against a balance computed from the requests,
and the floor's rows equal to the bulk path's rows). The exit status is non-zero when a check fails. No
timing is asserted: the figures are only printed.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO / "config"

try:
    import sqlalchemy
    from sqlalchemy import create_engine, func, select, text
    from sqlalchemy.engine import make_url

    from budget_ledger.adapters.db.bootstrap import ledger_service
    from budget_ledger.adapters.db.engine import Database
    from budget_ledger.adapters.db.migrate import upgrade
    from budget_ledger.adapters.db.models import journal_entries, postings
    from budget_ledger.ledger import AccountSpec, AccountType, EntryRequest, Money, Posting
    from budget_ledger.ledger.entries import EntrySource
    from budget_ledger.settings import load_settings
except ImportError as exc:  # pragma: no cover - only on a venv without the project installed
    sys.exit(
        f"cannot import budget_ledger ({exc}); run this with the project's venv after `pip install -e .`:\n"
        "    .venv/bin/python bench/post_entries.py"
    )

PG_URL_ENV = "BUDGET_LEDGER_DATABASE_URL"
SEAL_CHUNK = 500  # the chunk size of the bulk path's seal UPDATE (adapters/db/ledger_store.py, _CHUNK)

ORG_BANK = "org:bank:derdengelden"
ORG_CLIENT_MONEY = "org:clientgelden"
MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip
YEAR_START = date(2025, 1, 1)


# -- the book -----------------------------------------------------------------------------------


def household_codes(household_id: int) -> tuple[str, str, str]:
    prefix = f"huishouden:{household_id}"
    return f"{prefix}:basis", f"{prefix}:inkomen:bijstand", f"{prefix}:vaste-last:huur"


def chart(households: int) -> list[AccountSpec]:
    """The organisation's bank and client-money accounts, and per household basis, income and expense."""
    specs = [
        AccountSpec(ORG_BANK, "Derdengeldenrekening", AccountType.ASSET),
        AccountSpec(ORG_CLIENT_MONEY, "Gelden van cliënten", AccountType.LIABILITY),
    ]
    for h in range(1, households + 1):
        basis, bijstand, huur = household_codes(h)
        specs += [
            AccountSpec(basis, "Basisrekening", AccountType.ASSET, h, no_overdraft=True),
            AccountSpec(bijstand, "Bijstand", AccountType.INCOME, h),
            AccountSpec(huur, "Huur", AccountType.EXPENSE, h),
        ]
    return specs


def build_requests(count: int, households: int, seed: int) -> list[EntryRequest]:
    """`count` balanced two-posting entries, spread over the households and over one year.

    Entry i belongs to household i % households in round i // households. Even rounds bring income
    (bijstand, 1,100.00 to 1,400.00) onto the household's basisrekening; odd rounds pay rent (500.00 to
    1,099.99) from it, or, for one entry in ten, book a receipt on the organisation's accounts instead.
    A household's basisrekening (no overdraft) therefore never goes below zero, whatever the batching.
    """
    rng = random.Random(seed)
    rounds = max(1, -(-count // households))
    requests: list[EntryRequest] = []
    for i in range(count):
        h = i % households + 1
        rnd = i // households
        offset = min(364, rnd * 365 // rounds + rng.randrange(3))
        booking = YEAR_START + timedelta(days=offset)
        month = MONTHS[booking.month - 1]
        basis, bijstand, huur = household_codes(h)
        if rnd % 2 == 0:
            amount = Money(rng.randrange(110_000, 140_001))
            lines, reason, rule, household = (
                ((basis, amount), (bijstand, -amount)),
                f"Bijstand {month}",
                "inkomen:bijstand",
                h,
            )
        elif i % 10 == 9:
            amount = Money(rng.randrange(1_000, 500_001))
            lines, reason, rule, household = (
                ((ORG_BANK, amount), (ORG_CLIENT_MONEY, -amount)),
                f"Ontvangst derdengelden {month}",
                "bank:ontvangst",
                None,
            )
        else:
            amount = Money(rng.randrange(50_000, 110_000))
            lines, reason, rule, household = (
                ((huur, amount), (basis, -amount)),
                f"Huur {month}",
                "vaste-last:huur",
                h,
            )
        requests.append(
            EntryRequest(
                idempotency_key=f"bench:{booking.year}:{i:07d}",
                booking_date=booking,
                postings=tuple(Posting(code, money) for code, money in lines),
                reason=reason,
                actor="bench:batch-run",
                source=EntrySource.BATCH_RUN,
                rule=rule,
                household_id=household,
            )
        )
    return requests


def expected_balances(requests: Sequence[EntryRequest]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for r in requests:
        for p in r.postings:
            totals[p.account] += p.amount.cents
    return {code: cents for code, cents in totals.items() if cents}


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- results ------------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    path: str
    synchronous: str
    batch: str
    entries: int
    seconds: float
    floor_key: str | None = None  # the floor row to compare with
    ratio: float | None = None

    @property
    def rate(self) -> float:
        return self.entries / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, result: Result) -> Result:
        self.results.append(result)
        line = (
            f"  {result.backend:<10} {result.path:<22} sync={result.synchronous:<6} batch={result.batch:<7} "
            f"{result.entries:>8,} entries in {result.seconds:8.3f} s = {result.rate:>9,.0f} entries/s"
        )
        print(line, flush=True)
        return result

    def check(self, label: str, problems: list[str]) -> None:
        if problems:
            for problem in problems:
                print(f"  CHECK FAILED [{label}]: {problem}", flush=True)
            self.problems += [f"{label}: {p}" for p in problems]
        else:
            print(f"  checks passed [{label}]", flush=True)


@dataclass
class Workload:
    """The chart and the requests, built once and posted to every database."""

    specs: list[AccountSpec]
    requests: list[EntryRequest]
    balances: dict[str, int]
    single_requests: list[EntryRequest]
    single_balances: dict[str, int]
    build_seconds: float

    @classmethod
    def build(cls, args: argparse.Namespace) -> Workload:
        start = time.perf_counter()
        requests = build_requests(args.entries, args.households, args.seed)
        build_seconds = time.perf_counter() - start
        single_requests = build_requests(args.single, args.households, args.seed)
        return cls(
            chart(args.households),
            requests,
            expected_balances(requests),
            single_requests,
            expected_balances(single_requests),
            build_seconds,
        )


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


# -- databases ----------------------------------------------------------------------------------


def settings_for(database_url: str, **overrides):  # type: ignore[no-untyped-def]
    return load_settings(config_dir=CONFIG_DIR, database_url=database_url, **overrides)


def sqlite_database(workdir: Path, label: str, synchronous: str, specs: Sequence[AccountSpec]) -> Database:
    """A fresh SQLite file, migrated, with the chart of accounts opened through the service."""
    path = workdir / f"{label}.sqlite3"
    database = Database(settings_for(f"sqlite:///{path}", sqlite_synchronous=synchronous))
    upgrade(database)
    ledger_service(database).open_accounts(specs)
    return database


def sqlite_path(database: Database) -> str:
    return database.engine.url.database or ""


def postgres_admin_url() -> str | None:
    url = os.environ.get(PG_URL_ENV, "")
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+"):
        return url
    return None


class PostgresDatabases:
    """Fresh databases bench_<random>_<label> on the server of BUDGET_LEDGER_DATABASE_URL, dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.prefix = f"bench_{uuid.uuid4().hex[:10]}"
        self.made: list[tuple[str, Database]] = []
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")

    def make(self, label: str, specs: Sequence[AccountSpec]) -> Database:
        name = f"{self.prefix}_{label}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)
        database = Database(settings_for(url))
        self.made.append((name, database))
        upgrade(database)
        ledger_service(database).open_accounts(specs)
        return database

    def drop_all(self) -> None:
        for name, database in self.made:
            database.dispose()
            try:
                with self.admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception as exc:  # noqa: BLE001 - report and go on dropping the others
                print(f"  could not drop database {name}: {exc}", file=sys.stderr)
        self.made.clear()
        self.admin.dispose()


def filesystem_of(path: Path) -> str:
    """The filesystem type holding `path` (Linux), since fsync on tmpfs costs nothing."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown"
    resolved = str(path.resolve())
    best = ("", "unknown")
    for parts in mounts:
        if len(parts) >= 3 and (resolved == parts[1] or resolved.startswith(parts[1].rstrip("/") + "/")):
            if len(parts[1]) >= len(best[0]):
                best = (parts[1], parts[2])
    return best[1]


# -- correctness --------------------------------------------------------------------------------


def verify(database: Database, *, posted: int, balances: dict[str, int]) -> list[str]:
    """Trial balance, balance mismatches, counts and every stored balance, through the service."""
    problems: list[str] = []
    ledger = ledger_service(database)
    trial = ledger.trial_balance()
    if not trial.is_balanced:
        problems.append(f"trial balance is off by {trial.total}")
    mismatches = ledger.balance_mismatches()
    if mismatches:
        problems.append(
            f"{len(mismatches)} stored balance(s) differ from their postings, e.g. {mismatches[0]}"
        )
    with database.connect(write=False) as conn:
        by_status = dict(
            conn.execute(
                select(journal_entries.c.status, func.count()).group_by(journal_entries.c.status)
            ).all()
        )
        posting_count = conn.execute(select(func.count()).select_from(postings)).scalar_one()
    if by_status.get("posted", 0) != posted:
        problems.append(f"{by_status.get('posted', 0)} posted entries, expected {posted}")
    if by_status.get("draft", 0):
        problems.append(f"{by_status['draft']} entries left as draft")
    if posting_count != 2 * posted:
        problems.append(f"{posting_count} postings, expected {2 * posted}")
    stored = {a.code: a.balance.cents for a in ledger.accounts() if a.balance.cents}
    if stored != balances:
        wrong = sorted(set(stored) ^ set(balances) | {c for c in stored if stored[c] != balances.get(c)})
        problems.append(f"{len(wrong)} account balance(s) differ from the requests, e.g. {wrong[:3]}")
    return problems


ENTRY_COLUMNS = (
    "idempotency_key", "request_hash", "status", "booking_date", "value_date", "source", "rule", "actor",
    "reason", "household_id", "reverses_entry_id", "details",
)  # fmt: skip


def same_rows(path_a: str, path_b: str) -> list[str]:
    """The floor must have written exactly what the service wrote (created_at: same type and shape)."""
    queries = {
        "journal_entries": f"SELECT id, {', '.join(ENTRY_COLUMNS)}, typeof(created_at), length(created_at) "
        "FROM journal_entries ORDER BY id",
        "postings": "SELECT id, entry_id, account_id, amount_cents FROM postings ORDER BY id",
        "accounts": "SELECT id, code, balance_cents FROM accounts ORDER BY id",
    }
    problems = []
    a, b = sqlite3.connect(path_a), sqlite3.connect(path_b)
    try:
        for table, query in queries.items():
            rows_a, rows_b = a.execute(query).fetchall(), b.execute(query).fetchall()
            if rows_a != rows_b:
                first = next(
                    (i for i, (x, y) in enumerate(zip(rows_a, rows_b, strict=False)) if x != y),
                    min(len(rows_a), len(rows_b)),
                )
                problems.append(
                    f"{table} differs from the bulk path's ({len(rows_a)} vs {len(rows_b)} rows; first difference "
                    f"at row {first}: {rows_a[first] if first < len(rows_a) else None} vs "
                    f"{rows_b[first] if first < len(rows_b) else None})"
                )
    finally:
        a.close()
        b.close()
    return problems


# -- the timed paths ----------------------------------------------------------------------------


def post_bulk(database: Database, requests: Sequence[EntryRequest], batch: int) -> float:
    ledger = ledger_service(database)

    def work() -> None:
        for chunk in chunks(requests, batch):
            result = ledger.post_many(chunk)
            if len(result.posted) != len(chunk):
                raise RuntimeError(f"post_many posted {len(result.posted)} of {len(chunk)} entries")

    return timed(work)


def post_single(database: Database, requests: Sequence[EntryRequest]) -> float:
    ledger = ledger_service(database)

    def work() -> None:
        for request in requests:
            if ledger.post(request).replayed:
                raise RuntimeError(f"entry {request.idempotency_key} was a replay")

    return timed(work)


def _sqlite_datetime(moment: datetime) -> str:
    """How SQLAlchemy's DateTime stores a value on SQLite (no time zone, microseconds)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _details_json(request: EntryRequest) -> str | None:
    """What the service's JSON column `details` holds: the metadata as JSON, or SQL NULL without any."""
    return json.dumps(dict(request.metadata)) if request.metadata else None


def floor_insert(database: Database, requests: Sequence[EntryRequest], batch: int) -> float:
    """The same writes as the bulk path with plain sqlite3 executemany; the rows are built untimed.

    Entry ids are those SQLite gives an INTEGER PRIMARY KEY in an empty table under an exclusive write
    lock (max(id) + 1, ...); the transaction checks that, so the postings can be prepared in advance.
    """
    settings = database.settings
    path = sqlite_path(database)
    database.dispose()  # the service's pooled connection is not needed while the floor writes
    created_at = _sqlite_datetime(datetime.now(UTC))
    with sqlite3.connect(path) as probe:
        account_ids = dict(probe.execute("SELECT code, id FROM accounts"))
        first_id = probe.execute("SELECT COALESCE(MAX(id), 0) FROM journal_entries").fetchone()[0] + 1
    probe.close()

    transactions = []
    next_id = first_id
    for chunk in chunks(requests, batch):
        entry_rows, posting_rows = [], []
        deltas: dict[int, int] = defaultdict(int)
        ids = list(range(next_id, next_id + len(chunk)))
        for entry_id, r in zip(ids, chunk, strict=True):
            entry_rows.append(
                (
                    r.idempotency_key,
                    r.request_hash(),
                    "draft",
                    r.booking_date.isoformat(),
                    r.effective_value_date.isoformat(),
                    r.source.value,
                    r.rule,
                    r.actor,
                    r.reason,
                    r.household_id,
                    r.reverses_entry_id,
                    _details_json(r),
                    created_at,
                )
            )
            for p in r.postings:
                account_id = account_ids[p.account]
                posting_rows.append((entry_id, account_id, p.amount.cents))
                deltas[account_id] += p.amount.cents
        seals = [
            (
                f"UPDATE journal_entries SET status = 'posted' WHERE id IN ({', '.join('?' * len(part))})",
                list(part),
            )
            for part in chunks(ids, SEAL_CHUNK)
        ]
        balance_rows = [(delta, account_id) for account_id, delta in sorted(deltas.items()) if delta]
        transactions.append((ids[0], ids[-1], entry_rows, posting_rows, seals, balance_rows))
        next_id += len(chunk)

    insert_entry = (
        f"INSERT INTO journal_entries ({', '.join(ENTRY_COLUMNS)}, created_at) "
        f"VALUES ({', '.join('?' * (len(ENTRY_COLUMNS) + 1))})"
    )
    insert_posting = "INSERT INTO postings (entry_id, account_id, amount_cents) VALUES (?, ?, ?)"
    add_balance = "UPDATE accounts SET balance_cents = balance_cents + ? WHERE id = ?"

    conn = sqlite3.connect(path, timeout=settings.sqlite_busy_timeout_seconds, isolation_level=None)
    try:
        # The PRAGMAs of the service's engine (adapters/db/engine.py).
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        conn.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_seconds * 1000)}")

        def work() -> None:
            for first, last, entry_rows, posting_rows, seals, balance_rows in transactions:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM journal_entries").fetchone()[0]
                    if before != first - 1:
                        raise RuntimeError(
                            f"floor: expected the next entry id {first}, the table ends at {before}"
                        )
                    conn.executemany(insert_entry, entry_rows)
                    after = conn.execute("SELECT MAX(id) FROM journal_entries").fetchone()[0]
                    if after != last:
                        raise RuntimeError(f"floor: entries got ids up to {after}, expected {last}")
                    conn.executemany(insert_posting, posting_rows)
                    for sql, ids in seals:
                        conn.execute(sql, ids)
                    conn.executemany(add_balance, balance_rows)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise

        return timed(work)
    finally:
        conn.close()


# -- the runs -----------------------------------------------------------------------------------


def run_sqlite(run: Run, args: argparse.Namespace, work: Workload, workdir: Path) -> None:
    default_sync = settings_for(f"sqlite:///{workdir / 'unused.sqlite3'}").sqlite_synchronous
    specs, requests, balances = work.specs, work.requests, work.balances
    n = len(requests)
    print(
        f"\nSQLite files in {workdir} ({filesystem_of(workdir)}); synchronous={default_sync} (the settings' "
        "default) for the bulk path and the floor",
        flush=True,
    )

    batchings = [(args.batch, f"{args.batch}")]
    if not args.no_one_call and args.batch < n:
        batchings.append((n, "all"))

    print("\nSQLite, bulk path (LedgerService.post_many) and raw sqlite3 floor:", flush=True)
    for batch, batch_label in batchings:
        bulk_db = sqlite_database(workdir, f"bulk-{batch_label}", default_sync, specs)
        seconds = post_bulk(bulk_db, requests, batch)
        bulk = run.add(
            Result("sqlite", "bulk post_many", default_sync, batch_label, n, seconds, f"floor:{batch_label}")
        )
        run.check(f"sqlite bulk batch={batch_label}", verify(bulk_db, posted=n, balances=balances))
        bulk_db.dispose()

        floor_db = sqlite_database(workdir, f"floor-{batch_label}", default_sync, specs)
        seconds = floor_insert(floor_db, requests, batch)
        floor = run.add(Result("sqlite", "floor sqlite3", default_sync, batch_label, n, seconds))
        floor.floor_key = f"floor:{batch_label}"
        problems = verify(floor_db, posted=n, balances=balances)
        problems += same_rows(sqlite_path(bulk_db), sqlite_path(floor_db))
        run.check(f"sqlite floor batch={batch_label}", problems)
        floor_db.dispose()
        bulk.ratio = bulk.seconds / floor.seconds
        print(
            f"  -> bulk/floor time ratio (batch={batch_label}): {bulk.ratio:.2f}x (goal: at most 2.5x)",
            flush=True,
        )

    single_requests, single_balances = work.single_requests, work.single_balances
    print("\nSQLite, single-entry path (LedgerService.post, one transaction per entry):", flush=True)
    for sync in ("FULL", "NORMAL"):
        db = sqlite_database(workdir, f"single-{sync.lower()}", sync, specs)
        seconds = post_single(db, single_requests)
        run.add(Result("sqlite", "single post", sync, "1", len(single_requests), seconds))
        run.check(
            f"sqlite single sync={sync}", verify(db, posted=len(single_requests), balances=single_balances)
        )
        db.dispose()


def run_postgres(run: Run, args: argparse.Namespace, work: Workload, admin_url: str) -> None:
    specs, requests, balances = work.specs, work.requests, work.balances
    single_requests, single_balances = work.single_requests, work.single_balances
    n = len(requests)
    shown = make_url(admin_url).render_as_string(hide_password=True)
    pg = PostgresDatabases(admin_url)
    print(f"\nPostgreSQL ({shown}; databases {pg.prefix}_*), bulk and single-entry paths:", flush=True)
    try:
        batchings = [(args.batch, f"{args.batch}")]
        if not args.no_one_call and args.batch < n:
            batchings.append((n, "all"))
        for batch, batch_label in batchings:
            db = pg.make(f"bulk_{batch_label}", specs)
            seconds = post_bulk(db, requests, batch)
            run.add(Result("postgresql", "bulk post_many", "-", batch_label, n, seconds))
            run.check(f"postgresql bulk batch={batch_label}", verify(db, posted=n, balances=balances))
        db = pg.make("single", specs)
        seconds = post_single(db, single_requests)
        run.add(Result("postgresql", "single post", "-", "1", len(single_requests), seconds))
        run.check("postgresql single", verify(db, posted=len(single_requests), balances=single_balances))
    finally:
        pg.drop_all()


def print_table(run: Run) -> None:
    floors = {r.floor_key: r for r in run.results if r.path.startswith("floor") and r.floor_key}
    header = f"{'backend':<10} {'path':<22} {'synchronous':<11} {'batch':>7} {'entries':>9} {'seconds':>9} {'entries/s':>10}  {'vs floor':<s}"
    print("\n" + "=" * len(header))
    print("Results")
    print("=" * len(header))
    for note in run.notes:
        print(note)
    print(header)
    print("-" * len(header))
    for r in run.results:
        versus = ""
        if r.ratio is not None and r.floor_key in floors:
            goal = "meets" if r.ratio <= 2.5 else "misses"
            versus = f"{r.ratio:.2f}x floor time ({goal} the 2.5x goal)"
        elif r.path == "single post" and r.backend == "sqlite":
            versus = "meets" if r.rate >= 1000 else "misses"
            versus += " the 1,000 entries/s goal"
        print(
            f"{r.backend:<10} {r.path:<22} {r.synchronous:<11} {r.batch:>7} {r.entries:>9,} {r.seconds:>9.3f} "
            f"{r.rate:>10,.0f}  {versus}"
        )
    print("-" * len(header))
    if run.problems:
        print(f"CORRECTNESS CHECKS FAILED ({len(run.problems)}):")
        for problem in run.problems:
            print(f"  - {problem}")
    else:
        print("All correctness checks passed.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--entries",
        type=int,
        default=100_000,
        help="entries for the bulk path and the floor (default 100000)",
    )
    parser.add_argument(
        "--single", type=int, default=5_000, help="entries for the single-entry path (default 5000)"
    )
    parser.add_argument(
        "--batch", type=int, default=10_000, help="entries per post_many call (default 10000)"
    )
    parser.add_argument(
        "--households", type=int, default=1_000, help="households in the chart of accounts (default 1000)"
    )
    parser.add_argument("--seed", type=int, default=20250401, help="seed for amounts and dates")
    parser.add_argument(
        "--no-one-call", action="store_true", help="skip the run with all entries in one post_many call"
    )
    parser.add_argument(
        "--no-postgres", action="store_true", help=f"skip PostgreSQL even when {PG_URL_ENV} is set"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="directory for the temp dir of SQLite files (default: the system temp dir)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite files instead of removing them")
    args = parser.parse_args(argv)
    for name in ("entries", "single", "batch", "households"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")

    imported_from = Path(inspect.getfile(load_settings)).resolve().parent
    if not imported_from.is_relative_to(REPO):
        print(f"warning: budget_ledger is imported from {imported_from}, not from {REPO}", file=sys.stderr)
    print(
        f"budget_ledger bench: Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs; entries={args.entries:,} batch={args.batch:,} "
        f"single={args.single:,} households={args.households:,}",
        flush=True,
    )

    run = Run()
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="budget-ledger-bench-", dir=args.workdir))
    try:
        work = Workload.build(args)
        n = len(work.requests)
        print(
            f"\nBuilt {n:,} EntryRequests in {work.build_seconds:.3f} s ({n / work.build_seconds:,.0f} requests/s) "
            f"for a chart of {len(work.specs):,} accounts",
            flush=True,
        )
        run.notes.append(
            f"building {n:,} EntryRequests (not in any figure below): {work.build_seconds:.3f} s"
        )
        run_sqlite(run, args, work, workdir)
        admin_url = postgres_admin_url()
        if admin_url and not args.no_postgres:
            run_postgres(run, args, work, admin_url)
        elif os.environ.get(PG_URL_ENV):
            print(f"\n{PG_URL_ENV} is not a postgresql URL: PostgreSQL skipped", flush=True)
        else:
            print(f"\nPostgreSQL skipped (set {PG_URL_ENV} to a postgresql URL to include it)", flush=True)
    finally:
        if args.keep:
            print(f"SQLite files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(run)
    return 1 if run.problems else 0


if __name__ == "__main__":
    sys.exit(main())
