"""Benchmark: latency and throughput of the read API under 50 concurrent clients on loopback (issue 7).

    python bench/api_load.py [--households 10000] [--concurrency 50] [--duration 30] [--workers 1,2] [--profile]
                             [--experiments all] [--keep] [--database FILE [--skip-load]] [--postgres URL]

What it sets up (untimed, each phase's time is printed), on a fresh SQLite database created by the Alembic
migrations, with the functions of bench/monthly_run.py (imported, not copied):

* households: monthly_run's six template households through the real services, their registry rows cloned
  for --households households (`clone_households`; household i copies template i % 6, so the begeleider
  mb.sara has the households of templates 0 and 3: a third of all).
* the book: month by month from 2025-04-01, the income that arrived by the first business day of the month
  (`post_arrivals`: `LedgerService.post_many`) and the real payment run of that day
  (`PaymentRunService.start`), until the book holds about --postings postings (default 100 per household:
  1,000,000 for 10,000 households; the months stop at the first run after which the postings reach 95% of
  it). The postings are counted (`SELECT count(*) FROM postings`) and printed.
* "today": the last run's day + 7 days, 12:00 Europe/Amsterdam. The server runs with its clock starting
  there (the views default to today: the leefgeld view's month, its forecast and the awaited income are
  the book's, not 2026's).
* warnings: `WarningsService.scan(today, household_ids=...)` for --scan-households households drawn at
  random (default 1,000; the scan costs tens of ms per household), so the warnings table is realistic for
  those households.
* tokens: `AccessService.issue` for a budgetbeheerder (beheerder.anna, may read every household) and for
  the begeleider mb.sara (sees only her caseload).

What it measures: the API as a real process on loopback: `python -m uvicorn --factory` serving
`create_app(...)` for the bench database (`app_factory` below: the app of `budget-ledger serve`, built by
the same `create_app` and services; uvloop and httptools when installed, access log off, no scheduler), one
run per --workers value (default 1 and 2). For each endpoint, after --warmup seconds unrecorded, the bench
process (--concurrency client coroutines on uvloop, each on its own keep-alive HTTP/1.1 connection, sending
its next request when its last one is answered; a lean client on asyncio streams, since it shares the CPUs
with the server) loads it for --duration seconds over random household ids:

* balances:            GET /v1/households/{id}/balances              budgetbeheerder token, any household
* leefgeld:            GET /v1/begeleider/households/{id}/leefgeld   budgetbeheerder token, any household
* leefgeld-begeleider: the same with mb.sara's token, over her caseload (the caseload check per request)
* warnings:            GET /v1/warnings?household_id={id}           budgetbeheerder token, scanned households

Per endpoint: requests, errors (non-2xx or no answer), requests/s (answered / wall time), latency p50, p90,
p99 and max in ms (from sending the request to the whole body received), the CPU time of the server
processes and of this (client) process per request, the audit rows written, the load average before and
after. Also printed: the machine (CPU count, load average), the database size, households, postings.

--experiments runs the same load (one worker) on servers patched in the server process as a suggested change
would be (EXPERIMENTS below: guards on the event loop, batched audit writes, SQLite synchronous=NORMAL, or
all together), to put a number on a suggestion; those rows are labelled and are not the product's figures.

--profile adds, after the timed runs and never mixed with them: (1) a server instrumented with timers
(`BENCH_API_INSTRUMENT=timings`, one worker): per request the time in the token check, each service call,
the audit write, the SQL statements (count and execute time), the wait for a worker thread, at concurrency
1 and at --concurrency; (2) per endpoint a fresh server under cProfile in every thread (each thread's CPU
time by default, --profile-clock wall for wall time; what start-up and 100 warm-up requests collected is
cleared), the top functions printed without the waiting ones (idle threads, the loop), and the .prof files
written to the work directory (kept with --keep).

Checks (the exit status is 1 when one fails; no duration is asserted, the figures are only printed): the
households in the database are --households; no payment run of the set-up failed a household; before the
load, spot checks through the API against the services (balances equal `LedgerService.balances`, the
leefgeld view is the household's, the warnings total equals `WarningsService.list`, a begeleider gets 404
outside her caseload); during the load every answer is 2xx (any 5xx, other non-2xx or failed request
fails); every answered request left one audit row (personal-data reads are audited).

PostgreSQL: with --postgres URL (or BUDGET_LEDGER_DATABASE_URL a postgresql URL) the same on a fresh database
bench_<random> on that server, dropped at the end (as monthly_run).

--database FILE reuses a SQLite database this script set up before with --keep (its FILE.api_load.json
sidecar says which households, today and which were scanned; the schema is upgraded first): no set-up,
only the load; --skip-load leaves out the load on the --workers servers (for --experiments and --profile).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextvars
import functools
import inspect
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
import monthly_run as mr  # noqa: E402 - the sibling benchmark: set-up, databases, machine information
import sqlalchemy  # noqa: E402
from sqlalchemy import text  # noqa: E402

from budget_ledger.adapters.db.bootstrap import services as make_services  # noqa: E402
from budget_ledger.adapters.db.engine import Database  # noqa: E402
from budget_ledger.adapters.db.migrate import upgrade  # noqa: E402
from budget_ledger.clock import AMSTERDAM, Clock  # noqa: E402

REPO = mr.REPO
ENV_DATABASE = "BENCH_API_DATABASE_URL"
ENV_NOW = "BENCH_API_NOW"
ENV_INSTRUMENT = "BENCH_API_INSTRUMENT"
ENV_OUT = "BENCH_API_OUT"
ENV_PROFILE_CLOCK = "BENCH_API_PROFILE_CLOCK"
ENV_EXPERIMENT = "BENCH_API_EXPERIMENT"
EXPERIMENTS = {
    "async-guards": "the `allow(...)` guards called on the event loop instead of in a worker thread (as an "
    "`async def` guard in adapters/http/auth.py would be)",
    "audit-batched": "AccessService.record queues the records; one writer thread inserts what is queued in one "
    "transaction (group commit: one fsync for many reads)",
    "sqlite-normal": "sqlite_synchronous=NORMAL (WAL: no fsync per commit; survives a process crash, not a power cut)",
}
BEHEERDER = mr.BEHEERDER  # beheerder.anna
BEGELEIDER = "mb.sara"  # templates 0 and 3 (monthly_run.TEMPLATES)
LAST_RUN = date(2025, 9, 1)
"""The last month a run may be added in (the template trajectories run six months from 2025-04-01)."""
TODAY_AFTER_RUN = timedelta(days=7)
POSTINGS_PER_HOUSEHOLD = 100
ENOUGH = 0.95
"""The months stop once the book holds this share of the postings asked for."""
TIMINGS_PATH = "/__bench/timings"
PROFILE_RESET_PATH = "/__bench/profile/reset"


# == the server side: run by uvicorn in its own process ===================================================


def advancing_clock(start: datetime) -> Clock:
    """A clock that starts at `start` and runs at the real pace."""
    origin = time.time()
    return lambda: start + timedelta(seconds=time.time() - origin)


def app_factory() -> Any:
    """The API as `budget-ledger serve` builds it (`create_app` with the services bundle of the database),
    for the database in BENCH_API_DATABASE_URL, its clock starting at BENCH_API_NOW; instrumented when
    BENCH_API_INSTRUMENT is `timings` or `cprofile`. Run as `uvicorn --factory api_load:app_factory`."""
    from budget_ledger.adapters.http.app import create_app

    experiments = {e for e in os.environ.get(ENV_EXPERIMENT, "").split(",") if e}
    overrides: dict[str, Any] = {"sqlite_synchronous": "NORMAL"} if "sqlite-normal" in experiments else {}
    settings = mr.settings_for(os.environ[ENV_DATABASE], scheduler_mode="off", **overrides)
    database = Database(settings)
    if "async-guards" in experiments:
        _guards_on_the_loop()
    if "audit-batched" in experiments:
        _batched_audit()
    clock = advancing_clock(datetime.fromisoformat(os.environ[ENV_NOW]))
    mode = os.environ.get(ENV_INSTRUMENT, "")
    if mode == "cprofile":
        _profile_every_thread(os.environ[ENV_OUT])
    if mode == "timings":
        _install_timers(database)
    app = create_app(settings, database=database, services=make_services(database, clock), clock=clock)
    if mode == "timings":
        return TimingApp(app)
    if mode == "cprofile":
        return ProfileApp(app)
    return app


# -- experiments: what a suggested change would bring (monkeypatches in the server process only) ---------------


def _guards_on_the_loop() -> None:
    """Litestar runs a sync guard in a worker thread (`ensure_async_callable`); the `allow` guards only compare
    a role, so call them on the loop, as `async def guard` would."""
    import litestar.handlers.base as handlers_base

    original = handlers_base.ensure_async_callable

    def ensure_async(fn: Any) -> Any:
        if getattr(fn, "__name__", "").startswith("allow_") and not inspect.iscoroutinefunction(fn):
            guard = fn

            async def on_the_loop(*args: Any, **kwargs: Any) -> Any:
                return guard(*args, **kwargs)

            return on_the_loop
        return original(fn)

    handlers_base.ensure_async_callable = ensure_async


def _batched_audit() -> None:
    """One writer thread inserts the queued audit records in one transaction per batch."""
    import queue

    from budget_ledger.access import AccessService

    original = AccessService.record
    pending: queue.SimpleQueue[tuple[Any, list[Any]]] = queue.SimpleQueue()

    def writer() -> None:
        while True:
            service, batch = pending.get()
            batch = list(batch)
            while len(batch) < 500:
                try:
                    batch += pending.get_nowait()[1]
                except queue.Empty:
                    break
            try:
                original(service, batch)
            except Exception as exc:  # noqa: BLE001 - a bench experiment: say so, keep writing
                print(f"audit batch of {len(batch)} lost: {exc}", file=sys.stderr, flush=True)

    threading.Thread(target=writer, name="audit-writer", daemon=True).start()

    def record(self: Any, records: Sequence[Any]) -> None:
        if records:
            pending.put((self, list(records)))

    AccessService.record = record  # type: ignore[method-assign]


# -- timings: what a request spends its time on -----------------------------------------------------------

_REQUEST: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "bench_request", default=None
)
_RECORDS: list[dict[str, Any]] = []


def _add(record: dict[str, Any], name: str, seconds: float) -> None:
    parts = record["parts"]
    count, total = parts.get(name, (0, 0.0))
    parts[name] = (count + 1, total + seconds)


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            record, start = _REQUEST.get(), time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                if record is not None:
                    _add(record, name, time.perf_counter() - start)

        return timed_async

    @functools.wraps(fn)
    def timed_sync(*args: Any, **kwargs: Any) -> Any:
        record, start = _REQUEST.get(), time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            if record is not None:
                _add(record, name, time.perf_counter() - start)

    return timed_sync


def _thread_hop(name: str, submit: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a run-in-a-thread function: the wait for a thread, the run, and the wait to resume on the loop."""

    async def hop(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        record = _REQUEST.get()
        if record is None:
            return await submit(fn, *args, **kwargs)
        label = f"{name} {getattr(fn, '__qualname__', getattr(fn, '__name__', '?'))}"
        marks: dict[str, float] = {}

        def run(*a: Any, **k: Any) -> Any:
            marks["start"] = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                marks["end"] = time.perf_counter()

        submitted = time.perf_counter()
        try:
            return await submit(run, *args, **kwargs)
        finally:
            back = time.perf_counter()
            if "start" in marks:
                _add(record, f"thread wait ({name})", marks["start"] - submitted)
                _add(record, f"loop resume ({name})", back - marks["end"])
                _add(record, label, marks["end"] - marks["start"])

    return hop


def _install_timers(database: Database) -> None:
    import anyio.to_thread
    import litestar.utils.sync as litestar_sync

    from budget_ledger.access import AccessService
    from budget_ledger.adapters.http.auth import BearerTokenMiddleware
    from budget_ledger.households import HouseholdService
    from budget_ledger.leefgeld_view import LeefgeldViewService
    from budget_ledger.posting import LedgerService
    from budget_ledger.warnings import WarningsService

    for cls, method, name in (
        (BearerTokenMiddleware, "authenticate_request", "auth: middleware (token cache, else lookup)"),
        (AccessService, "authenticate", "auth: token lookup in the database"),
        (AccessService, "record", "audit: write the audit rows"),
        (AccessService, "caseload", "access: caseload read"),
        (HouseholdService, "get", "households.get"),
        (LedgerService, "balances", "ledger.balances"),
        (LeefgeldViewService, "view", "leefgeld_view.view"),
        (WarningsService, "list", "warnings.list"),
    ):
        setattr(cls, method, _timed(name, getattr(cls, method)))
    litestar_sync.sync_to_thread = _thread_hop("litestar", litestar_sync.sync_to_thread)
    anyio.to_thread.run_sync = _thread_hop("anyio", anyio.to_thread.run_sync)

    @sqlalchemy.event.listens_for(database.engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        conn.info["bench_started"] = time.perf_counter()

    @sqlalchemy.event.listens_for(database.engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        record = _REQUEST.get()
        if record is not None:
            record["sql"] += 1
            record["sql_seconds"] += time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())


class TimingApp:
    """ASGI wrapper: times each /v1 request (until the last byte is sent, and until the app returns, the
    audit write included), with the parts the timers add; GET /__bench/timings answers and clears them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == TIMINGS_PATH:
            body = json.dumps(_RECORDS).encode()
            _RECORDS.clear()
            await _answer(send, body)
            return
        record: dict[str, Any] = {
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode(),
            "parts": {},
            "sql": 0,
            "sql_seconds": 0.0,
            "status": None,
        }
        start = time.perf_counter()

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                record["status"] = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                record["response"] = time.perf_counter() - start

        token = _REQUEST.set(record)
        try:
            await self.app(scope, receive, timed_send)
        finally:
            _REQUEST.reset(token)
            record["total"] = time.perf_counter() - start
            if scope["path"].startswith("/v1"):
                _RECORDS.append(record)


# -- cProfile of every thread of the server ---------------------------------------------------------------


async def _answer(send: Any, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ProfileApp:
    """ASGI wrapper: GET /__bench/profile/reset clears what the profilers collected so far (the start-up and
    the warm-up), so the profile is of the load only."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == PROFILE_RESET_PATH:
            for profiler in list(_PROFILERS):
                profiler.clear()  # the other threads are idle between the warm-up and the load
            await _answer(send, b"{}")
            return
        await self.app(scope, receive, send)


_PROFILERS: list[Any] = []


def _profile_every_thread(out: str) -> None:
    import cProfile
    import pstats

    lock = threading.Lock()

    clock = time.thread_time if os.environ.get(ENV_PROFILE_CLOCK, "cpu") == "cpu" else time.perf_counter

    def start_in_thread(frame: Any, event: str, arg: Any) -> None:
        profiler = cProfile.Profile(clock)
        with lock:
            _PROFILERS.append(profiler)
        profiler.enable()  # replaces this hook for the thread

    main = cProfile.Profile(clock)
    _PROFILERS.append(main)
    threading.setprofile(start_in_thread)
    main.enable()

    def dump() -> None:
        main.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        stats = None
        with lock:
            profilers = list(_PROFILERS)
        for profiler in profilers:
            try:
                stats = pstats.Stats(profiler) if stats is None else stats.add(profiler)
            except TypeError:  # a thread's profiler that recorded nothing
                continue
        if stats is not None:
            stats.dump_stats(out)

    atexit.register(dump)


# == the bench side ==========================================================================================


@dataclass
class Load:
    """One endpoint loaded for a while: what came back."""

    endpoint: str
    workers: int
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    audit_rows: int = 0
    audit_expected: int = 0
    load_before: float = 0.0
    load_after: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if not 200 <= s < 300) + sum(self.failures.values())

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000

    def summary(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "workers": self.workers,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "statuses": dict(self.statuses),
            "failures": dict(self.failures),
            "seconds": self.seconds,
            "requests_per_second": self.rate,
            "p50_ms": self.percentile(0.50),
            "p90_ms": self.percentile(0.90),
            "p99_ms": self.percentile(0.99),
            "max_ms": self.percentile(1.0),
            "server_cpu_ms_per_request": self.cpu_per_request(self.server_cpu),
            "client_cpu_ms_per_request": self.cpu_per_request(self.client_cpu),
            "audit_rows": self.audit_rows,
            "load_before": self.load_before,
            "load_after": self.load_after,
        }

    def cpu_per_request(self, seconds: float) -> float:
        return seconds / self.requests * 1000 if self.requests else float("nan")


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    token: str
    """beheerder or begeleider"""
    ids: str
    """all, caseload or scanned: the households drawn from"""


ENDPOINTS = (
    Endpoint("balances", "/v1/households/{h}/balances", "beheerder", "all"),
    Endpoint("leefgeld", "/v1/begeleider/households/{h}/leefgeld", "beheerder", "all"),
    Endpoint("leefgeld-begeleider", "/v1/begeleider/households/{h}/leefgeld", "begeleider", "caseload"),
    Endpoint("warnings", "/v1/warnings?household_id={h}", "beheerder", "scanned"),
)


@dataclass
class World:
    """The bench database, and what the load needs to know about it."""

    url: str
    """The database URL the server is given."""
    shown_url: str
    households: list[int]
    today: datetime
    scanned: list[int]
    caseload: list[int]
    tokens: dict[str, str]
    database: Database
    sqlite_file: Path | None
    facts: dict[str, Any] = field(default_factory=dict)

    def ids(self, which: str) -> list[int]:
        return {"all": self.households, "caseload": self.caseload, "scanned": self.scanned}[which]


@dataclass
class Outcome:
    problems: list[str] = field(default_factory=list)
    phases: list[tuple[str, float, str]] = field(default_factory=list)
    loads: list[Load] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    def phase(self, name: str, seconds: float, detail: str = "") -> None:
        self.phases.append((name, seconds, detail))
        print(f"  {name:<44} {seconds:9.3f} s  {detail}", flush=True)

    def check(self, label: str, problems: list[str]) -> None:
        for problem in problems:
            print(f"  CHECK FAILED [{label}]: {problem}", flush=True)
        if not problems:
            print(f"  checks passed [{label}]", flush=True)
        self.problems += [f"{label}: {p}" for p in problems]


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def count(database: Database, table: str) -> int:
    with database.connect(write=False) as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def database_size(world: World) -> str:
    if world.sqlite_file is not None:
        files = [world.sqlite_file, Path(f"{world.sqlite_file}-wal")]
        sizes = [p.stat().st_size for p in files if p.exists()]
        return f"{sum(sizes) / 1e6:,.0f} MB (file {sizes[0] / 1e6:,.0f} MB" + (
            f" + WAL {sizes[1] / 1e6:,.0f} MB)" if len(sizes) > 1 else ")"
        )
    with world.database.connect(write=False) as conn:
        return (
            f"{conn.execute(text('SELECT pg_database_size(current_database())')).scalar_one() / 1e6:,.0f} MB"
        )


# -- set-up ----------------------------------------------------------------------------------------------------


def build_world(
    outcome: Outcome,
    database: Database,
    url: str,
    shown_url: str,
    args: argparse.Namespace,
    sqlite_file: Path | None,
) -> World:
    """Households, their book month by month up to about --postings postings, the scan, the tokens."""
    setup = argparse.Namespace(households=args.households, run_date=LAST_RUN, chunk=args.chunk)
    bench = mr.Bench()
    prepared = mr.prepare(bench, "setup", database, setup)  # prints its own phases
    target = args.postings if args.postings is not None else POSTINGS_PER_HOUSEHOLD * args.households
    previous: date | None = None
    runs: list[str] = []
    postings = 0
    for day in mr.run_dates(LAST_RUN):
        mr.post_arrivals(bench, "setup", prepared, previous, day)
        mr.start_run(bench, "setup", database, prepared, day, f"payment run {day}")
        previous = day
        runs.append(day.isoformat())
        postings = count(database, "postings")
        print(
            f"  {'':<10} postings in the book after the run of {day}: {postings:,} "
            f"(asked for about {target:,})",
            flush=True,
        )
        if postings >= ENOUGH * target:
            break
    if postings < ENOUGH * target:
        outcome.notes.append(
            f"the book holds {postings:,} postings, fewer than the {target:,} asked for: "
            f"the runs stop at {LAST_RUN} (the trajectories end)"
        )
    outcome.problems += bench.problems
    today_day = previous + TODAY_AFTER_RUN if previous else mr.START
    mr.post_arrivals(bench, "setup", prepared, previous, today_day)  # income arriving after the last run
    today = datetime.combine(today_day, datetime.min.time().replace(hour=12), AMSTERDAM)
    services = make_services(database, lambda: today)

    rng = random.Random(args.seed)
    households = list(prepared.households)
    if args.scan_households >= len(households):
        scanned = sorted(households)
    else:
        scanned = sorted(rng.sample(households, args.scan_households))
    start = time.perf_counter()
    report = services.warnings.scan(today_day, household_ids=scanned)
    seconds = time.perf_counter() - start
    outcome.phase(
        f"warnings scan of {len(scanned):,} households",
        seconds,
        f"{report}; {seconds / max(1, len(scanned)) * 1000:,.1f} ms per household",
    )
    if report.failures:
        outcome.problems.append(
            f"the warnings scan failed {len(report.failures)} household(s), e.g. {report.failures[0]}"
        )
    facts = {"runs": runs, "postings_target": target}
    return World(url, shown_url, households, today, scanned, [], {}, database, sqlite_file, facts)


def issue_tokens(world: World) -> None:
    services = make_services(world.database, lambda: world.today)
    for name, actor, role in (
        ("beheerder", BEHEERDER, "budgetbeheerder"),
        ("begeleider", BEGELEIDER, "begeleider"),
    ):
        _, secret = services.access.issue(
            {"actor": actor, "role": role, "label": "bench/api_load.py"}, "bench"
        )
        world.tokens[name] = secret
    world.caseload = sorted(services.access.caseload(BEGELEIDER))


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".api_load.json")


def save_sidecar(world: World) -> None:
    if world.sqlite_file is None:
        return
    sidecar(world.sqlite_file).write_text(
        json.dumps(
            {
                "households": world.households,
                "today": world.today.isoformat(),
                "scanned": world.scanned,
                "facts": world.facts,
            }
        )
    )


def reuse_world(path: Path) -> World:
    meta = json.loads(sidecar(path).read_text())
    url = f"sqlite:///{path}"
    database = Database(mr.settings_for(url))
    upgrade(database)  # a no-op when the schema is current
    return World(
        url,
        url,
        meta["households"],
        datetime.fromisoformat(meta["today"]),
        meta["scanned"],
        [],
        {},
        database,
        path,
        meta.get("facts", {}),
    )


def describe(outcome: Outcome, world: World, args: argparse.Namespace) -> None:
    database = world.database
    facts = {
        "households": count(database, "households"),
        "accounts": count(database, "accounts"),
        "journal_entries": count(database, "journal_entries"),
        "postings": count(database, "postings"),
        "warnings": count(database, "warnings"),
        "audit_log": count(database, "audit_log"),
    }
    with database.connect(write=False) as conn:
        facts["households_with_warnings"] = conn.execute(
            text("SELECT count(DISTINCT household_id) FROM warnings WHERE household_id IS NOT NULL")
        ).scalar_one()
    world.facts.update(facts)
    print(
        f"\nthe book: {facts['households']:,} households, {facts['accounts']:,} accounts, "
        f"{facts['journal_entries']:,} journal entries, {facts['postings']:,} postings "
        f"(runs: {', '.join(world.facts.get('runs', [])) or '?'}); {facts['warnings']:,} warnings on "
        f"{facts['households_with_warnings']:,} households ({len(world.scanned):,} scanned); "
        f"{facts['audit_log']:,} audit rows; database {database_size(world)}",
        flush=True,
    )
    print(
        f"today (the server's clock starts at): {world.today.isoformat()}; begeleider {BEGELEIDER}'s caseload: "
        f"{len(world.caseload):,} households",
        flush=True,
    )
    expected = args.households if args.database is None else len(world.households)
    if facts["households"] != expected:
        outcome.check(
            "households", [f"the database holds {facts['households']:,} households, not {expected:,}"]
        )
    if not world.caseload:
        outcome.check("caseload", [f"{BEGELEIDER} has no households"])


# -- the server process ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree(root: int) -> list[int]:
    """`root` and its descendants (Linux /proc)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        children[int(fields[1])].append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes (Linux /proc; a process that is gone counts 0)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


class Server:
    """`python -m uvicorn --factory api_load:app_factory` in its own process group, on a free port."""

    def __init__(
        self,
        world: World,
        workers: int,
        workdir: Path,
        *,
        instrument: str = "",
        out: Path | None = None,
        label: str = "",
        profile_clock: str = "cpu",
        experiment: str = "",
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(BENCH_DIR),
            "--factory",
            "api_load:app_factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        self.env = os.environ | {
            ENV_DATABASE: world.url,
            ENV_NOW: world.today.isoformat(),
            ENV_INSTRUMENT: instrument,
            ENV_OUT: str(out or ""),
            ENV_PROFILE_CLOCK: profile_clock,
            ENV_EXPERIMENT: experiment,
            "BUDGET_LEDGER_SCHEDULER_MODE": "off",
        }
        self.log = workdir / f"server-{label or workers}-{self.port}.log"
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None
        self.pids: list[int] = []

    def shown(self, world: World) -> str:
        return (
            f"{ENV_DATABASE}={world.shown_url} {ENV_NOW}={world.today.isoformat()} "
            + (f"{ENV_INSTRUMENT}={self.env[ENV_INSTRUMENT]} " if self.env[ENV_INSTRUMENT] else "")
            + (
                f"{ENV_PROFILE_CLOCK}={self.env[ENV_PROFILE_CLOCK]} "
                if self.env[ENV_INSTRUMENT] == "cprofile"
                else ""
            )
            + (f"{ENV_EXPERIMENT}={self.env[ENV_EXPERIMENT]} " if self.env[ENV_EXPERIMENT] else "")
            + " ".join(self.command)
        )

    def start(self) -> float:
        started = time.perf_counter()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        import httpx

        deadline = time.monotonic() + 300
        answer = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.tail()}")
            try:
                health = httpx.get(self.base + "/health", timeout=5)
                if health.status_code == 200:
                    break
                answer = f"{health.status_code} {health.text[:300]}"
            except httpx.HTTPError as exc:
                answer = f"{type(exc).__name__}: {exc}"
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError(
                f"the server did not answer /health with 200 in 300 s (last: {answer}):\n{self.tail()}"
            )
        time.sleep(1.0 if self.workers > 1 else 0.0)  # let every worker finish starting
        self.pids = process_tree(self.process.pid)
        return time.perf_counter() - started

    def cpu(self) -> float:
        return cpu_seconds(self.pids)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown (atexit hooks run)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # the process group this bench started
                self.process.wait()


# -- the load -----------------------------------------------------------------------------------------------------


class Connection:
    """A lean HTTP/1.1 keep-alive client connection (asyncio streams): the load generator shares the machine's
    CPUs with the server, so it should cost as little as it can (httpx costs several times more per request)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, request: bytes) -> int:
        """Send one GET, read the whole answer; its status."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        headers = head.lower()
        length = re.search(rb"\r\ncontent-length:\s*(\d+)", headers)
        if length is not None:
            await self.reader.readexactly(int(length.group(1)))
        elif b"\r\ntransfer-encoding: chunked" in headers:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            await self.reader.read()
            self.close()
        if self.writer is not None and b"\r\nconnection: close" in headers:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def drive(
    base: str,
    paths: Callable[[random.Random], str],
    token: str,
    concurrency: int,
    *,
    seconds: float | None = None,
    requests: int | None = None,
    seed: int = 0,
    load: Load | None = None,
) -> Load:
    """`concurrency` clients, each on its own keep-alive connection sending its next request when the last
    is answered, for `seconds` or until `requests` were sent; the latencies and statuses into `load`."""
    load = load or Load("", 0, concurrency)
    host, port = base.removeprefix("http://").split(":")
    template = (
        f"GET {{path}} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: application/json\r\n\r\n"
    )
    deadline = time.perf_counter() + seconds if seconds is not None else math.inf
    sent = 0

    async def client_loop(number: int) -> None:
        nonlocal sent
        rng = random.Random(seed * 1000 + number)
        connection = Connection(host, int(port))
        try:
            while time.perf_counter() < deadline and (requests is None or sent < requests):
                sent += 1
                request = template.format(path=paths(rng)).encode()
                start = time.perf_counter()
                try:
                    status = await asyncio.wait_for(connection.get(request), timeout=120)
                except (
                    TimeoutError,
                    OSError,
                    asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError,
                    ValueError,
                ) as exc:
                    load.failures[type(exc).__name__] += 1
                    connection.close()
                    continue
                load.latencies.append(time.perf_counter() - start)
                load.statuses[status] += 1
        finally:
            connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(client_loop(i) for i in range(concurrency)))
    load.seconds = time.perf_counter() - start
    return load


def run_async(coroutine: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coroutine)
    except ImportError:
        return asyncio.run(coroutine)


def path_maker(endpoint: Endpoint, world: World) -> Callable[[random.Random], str]:
    ids = world.ids(endpoint.ids)
    return lambda rng: endpoint.path.format(h=rng.choice(ids))


def settled_audit(world: World, timeout: float = 30.0) -> int:
    """The audit rows once no more are coming (the audit write follows the response)."""
    deadline = time.monotonic() + timeout
    last = count(world.database, "audit_log")
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = count(world.database, "audit_log")
        if now == last:
            return now
        last = now
    return last


def wait_for_audit(world: World, expected: int, timeout: float = 30.0) -> int:
    """The audit rows, once `expected` are there (the audit write follows the response) or after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = count(world.database, "audit_log")
        if found >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def load_endpoint(
    outcome: Outcome,
    world: World,
    server: Server,
    endpoint: Endpoint,
    args: argparse.Namespace,
    seed: int,
    label: str = "",
) -> Load:
    paths = path_maker(endpoint, world)
    token = world.tokens[endpoint.token]
    load = Load(endpoint.name + (f" [{label}]" if label else ""), server.workers, args.concurrency)
    audit_before = settled_audit(world)
    warm = run_async(drive(server.base, paths, token, args.concurrency, seconds=args.warmup, seed=seed + 1))
    load.load_before = load_average()
    cpu_before, client_before = server.cpu(), time.process_time()
    run_async(drive(server.base, paths, token, args.concurrency, seconds=args.duration, seed=seed, load=load))
    load.client_cpu = time.process_time() - client_before
    load.server_cpu = server.cpu() - cpu_before
    load.load_after = load_average()
    answered = warm.requests + load.requests
    load.audit_expected = answered
    wait_for_audit(world, audit_before + answered)
    load.audit_rows = settled_audit(world) - audit_before
    print_load(load)
    problems = []
    for status, n in sorted((warm.statuses + load.statuses).items()):
        if not 200 <= status < 300:
            problems.append(f"{n} answer(s) with status {status}")
    for kind, n in (warm.failures + load.failures).items():
        problems.append(f"{n} request(s) failed: {kind}")
    if load.audit_rows != answered:
        problems.append(f"{answered:,} personal-data reads answered, {load.audit_rows:,} audit rows written")
    if problems:
        outcome.check(f"{load.endpoint}, {server.workers} worker(s)", problems)
    return load


HEADER = (
    f"{'endpoint':<34} {'workers':>7} {'clients':>7} {'requests':>8} {'errors':>6} {'req/s':>8} "
    f"{'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'srv cpu':>8} {'cli cpu':>8} "
    f"{'audit':>7} {'load avg':>11}"
)


def load_line(load: Load) -> str:
    return (
        f"{load.endpoint:<34} {load.workers:>7} {load.concurrency:>7} {load.requests:>8,} {load.errors:>6,} "
        f"{load.rate:>8,.1f} {load.percentile(0.5):>8.1f} {load.percentile(0.9):>8.1f} "
        f"{load.percentile(0.99):>8.1f} {load.percentile(1.0):>8.1f} "
        f"{load.cpu_per_request(load.server_cpu):>8.2f} {load.cpu_per_request(load.client_cpu):>8.2f} "
        f"{load.audit_rows:>7,} {load.load_before:>5.2f}>{load.load_after:<5.2f}"
    )


def print_load(load: Load) -> None:
    print("  " + load_line(load), flush=True)


# -- spot checks through the API ---------------------------------------------------------------------------------


def spot_checks(outcome: Outcome, world: World, base: str, rng: random.Random) -> None:
    """A few households through the API against the services in this process."""
    import httpx

    from budget_ledger.leefgeld_view import LeefgeldViewService

    services = make_services(world.database, lambda: world.today)
    from budget_ledger.adapters.db.bootstrap import transactions

    views = LeefgeldViewService(transactions(world.database), services.planning, lambda: world.today)
    problems: list[str] = []
    beheerder = {"Authorization": f"Bearer {world.tokens['beheerder']}"}
    begeleider = {"Authorization": f"Bearer {world.tokens['begeleider']}"}
    forecast_problems: Counter[str] = Counter()
    with httpx.Client(base_url=base, timeout=60) as client:
        for h in rng.sample(world.households, min(10, len(world.households))):
            got = client.get(f"/v1/households/{h}/balances?limit=500", headers=beheerder)
            want = {a.code: str(b) for a, b in services.ledger.balances(household_id=h)}
            if got.status_code != 200:
                problems.append(f"balances of {h}: status {got.status_code}")
            elif {i["code"]: i["balance"] for i in got.json()["items"]} != want:
                problems.append(f"balances of {h} differ from LedgerService.balances")
            got = client.get(f"/v1/begeleider/households/{h}/leefgeld", headers=beheerder)
            view = views.view(h)
            if got.status_code != 200:
                problems.append(f"leefgeld of {h}: status {got.status_code}")
            else:
                body = got.json()
                if (body["household_id"], body["leefgeldrekening"], body["basisrekening"]) != (
                    h,
                    str(view.leefgeldrekening),
                    str(view.basisrekening),
                ):
                    problems.append(f"leefgeld view of {h} differs from LeefgeldViewService.view")
                if body["forecast_problem"]:
                    forecast_problems[body["forecast_problem"][:80]] += 1
        for h in rng.sample(world.scanned, min(10, len(world.scanned))):
            got = client.get(f"/v1/warnings?household_id={h}", headers=beheerder)
            want_count = len(services.warnings.list(household_id=h))
            if got.status_code != 200 or got.json()["total"] != want_count:
                problems.append(
                    f"warnings of {h}: status {got.status_code}, total "
                    f"{got.json().get('total') if got.status_code == 200 else '-'} (services: {want_count})"
                )
        inside = rng.choice(world.caseload)
        outside = next((h for h in world.households if h not in set(world.caseload)), None)
        if client.get(f"/v1/begeleider/households/{inside}/leefgeld", headers=begeleider).status_code != 200:
            problems.append(f"{BEGELEIDER} cannot read household {inside} of her caseload")
        if outside is not None:
            status = client.get(
                f"/v1/begeleider/households/{outside}/leefgeld", headers=begeleider
            ).status_code
            if status != 404:
                problems.append(
                    f"{BEGELEIDER} got {status} for household {outside} outside her caseload, not 404"
                )
    if forecast_problems:
        outcome.notes.append(
            f"leefgeld views with a forecast problem in the spot checks: {dict(forecast_problems)}"
        )
    outcome.check("spot checks through the API", problems)


# -- profiling ------------------------------------------------------------------------------------------------------


def timing_pass(outcome: Outcome, world: World, args: argparse.Namespace, workdir: Path) -> None:
    """A timed server (one worker): where a request's time goes, at concurrency 1 and at --concurrency."""
    import httpx

    server = Server(world, 1, workdir, instrument="timings", label="timings")
    print(f"\n$ {server.shown(world)}", flush=True)
    outcome.commands.append(server.shown(world))
    server.start()
    try:
        for endpoint in selected_endpoints(args):
            paths = path_maker(endpoint, world)
            token = world.tokens[endpoint.token]
            for concurrency, requests in (
                (1, args.profile_requests // 10),
                (args.concurrency, args.profile_requests),
            ):
                run_async(drive(server.base, paths, token, concurrency, requests=min(requests, 100), seed=3))
                httpx.get(server.base + TIMINGS_PATH, timeout=60)  # clear the warm-up's
                load = run_async(drive(server.base, paths, token, concurrency, requests=requests, seed=4))
                time.sleep(1.0)  # the last audit writes
                records = httpx.get(server.base + TIMINGS_PATH, timeout=60).json()
                print_timings(endpoint, concurrency, load, records)
    finally:
        server.stop()


def print_timings(endpoint: Endpoint, concurrency: int, load: Load, records: list[dict[str, Any]]) -> None:
    n = len(records)
    if not n:
        print(f"\n  {endpoint.name} at {concurrency} client(s): no records")
        return
    totals: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    for r in records:
        for name, (c, s) in r["parts"].items():
            totals[name] += s
            calls[name] += c
    response = sorted(r.get("response", r["total"]) for r in records)
    total = sorted(r["total"] for r in records)
    sql = sum(r["sql"] for r in records) / n
    sql_ms = sum(r["sql_seconds"] for r in records) / n * 1000
    print(
        f"\n  {endpoint.name} at {concurrency} client(s): {n:,} requests, client p50 {load.percentile(0.5):.1f} ms, "
        f"{load.rate:,.1f} req/s; in the server per request (mean): until the last byte {sum(response) / n * 1000:.2f} ms "
        f"(p50 {response[n // 2] * 1000:.2f}), until the app returns (audit write included) "
        f"{sum(total) / n * 1000:.2f} ms; {sql:.1f} SQL statements, {sql_ms:.2f} ms executing them"
    )
    print(
        f"    {'part (nested parts are inside their callers)':<62} {'calls/req':>9} {'ms/req':>8} {'ms/call':>8}"
    )
    for name in sorted(totals, key=lambda k: -totals[k]):
        print(
            f"    {name[:62]:<62} {calls[name] / n:>9.2f} {totals[name] / n * 1000:>8.2f} "
            f"{totals[name] / calls[name] * 1000:>8.2f}"
        )


def cprofile_pass(outcome: Outcome, world: World, args: argparse.Namespace, workdir: Path) -> None:
    """Per endpoint, a fresh server under cProfile (every thread), loaded with --profile-requests requests after
    100 of warm-up (the start-up and the warm-up are cleared from the profile)."""
    import pstats

    import httpx

    for endpoint in selected_endpoints(args):
        out = workdir / f"profile-{endpoint.name}.prof"
        server = Server(
            world,
            1,
            workdir,
            instrument="cprofile",
            out=out,
            label=f"cprofile-{endpoint.name}",
            profile_clock=args.profile_clock,
        )
        if endpoint is selected_endpoints(args)[0]:
            print(f"\n$ {server.shown(world)}", flush=True)
            outcome.commands.append(server.shown(world))
        server.start()
        try:
            paths, token = path_maker(endpoint, world), world.tokens[endpoint.token]
            run_async(drive(server.base, paths, token, args.concurrency, requests=100, seed=6))  # warm-up
            time.sleep(1.0)
            httpx.get(server.base + PROFILE_RESET_PATH, timeout=60).raise_for_status()
            load = run_async(
                drive(server.base, paths, token, args.concurrency, requests=args.profile_requests, seed=5)
            )
            time.sleep(1.0)
        finally:
            server.stop()
        if not out.exists():
            print(f"\n  {endpoint.name}: no profile written ({server.tail(10)})")
            continue
        clock = "CPU time of each thread" if args.profile_clock == "cpu" else "wall time"
        print(
            f"\n  cProfile of the server, {endpoint.name}: {load.requests:,} requests at {args.concurrency} clients "
            f"({load.rate:,.1f} req/s under the profiler); every thread, {clock}; waiting functions left out; {out}"
        )
        for sort, limit in (("tottime", args.profile_top), ("cumulative", args.profile_top)):
            stream = _StatsText()
            stats = pstats.Stats(str(out), stream=stream)  # type: ignore[arg-type]
            for key in [k for k in stats.stats if _WAITING.search(f"{k[0]}:{k[2]}")]:  # type: ignore[attr-defined]
                del stats.stats[key]  # type: ignore[attr-defined]
            stats.sort_stats(sort).print_stats(limit)
            print(f"  -- by {sort}, per {load.requests:,} requests:")
            print(stream.table())


_WAITING = re.compile(
    r"acquire' of '_thread|'get' of '_queue|'run_forever'|threading\.py:(wait|_wait_for_tstate_lock|join)$|"
    r"queue\.py:get$|concurrent/futures/thread\.py:_worker$|base_events\.py:(run_forever|_run_once)$|"
    r"'select' of|'poll' of|uvicorn/server\.py|uvicorn/main\.py|asyncio/runners\.py"
)
"""Functions that wait (idle threads, the event loop itself): left out of the printed profiles."""


class _StatsText:
    """pstats output with the header trimmed and paths shortened."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, s: str) -> None:
        self.parts.append(s)

    def table(self) -> str:
        site = re.compile(r"\S*/site-packages/")
        lines = "".join(self.parts).splitlines()
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        shown = []
        for line in lines[start:]:
            if not line.strip():
                continue
            line = site.sub("", line).replace(str(REPO) + "/", "")
            line = re.sub(r"\S*/lib/python3\.\d+/", "", line)
            shown.append("    " + line[:170])
        return "\n".join(shown)


def selected_endpoints(args: argparse.Namespace) -> list[Endpoint]:
    return [e for e in ENDPOINTS if e.name in args.endpoints]


# -- one database ------------------------------------------------------------------------------------------------


def run_loads(outcome: Outcome, world: World, args: argparse.Namespace, workdir: Path) -> None:
    issue_tokens(world)
    describe(outcome, world, args)
    if world.sqlite_file is not None:  # a clean file for the server: the WAL folded in
        world.database.dispose()
        with sqlite3.connect(world.sqlite_file) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rng = random.Random(args.seed)
    for number, workers in enumerate([] if args.skip_load else args.workers):
        server = Server(world, workers, workdir)
        print(f"\n$ {server.shown(world)}", flush=True)
        outcome.commands.append(server.shown(world))
        seconds = server.start()
        print(
            f"  server up in {seconds:.1f} s: pids {server.pids} (uvicorn{' + workers' if workers > 1 else ''}); "
            f"load average {load_average():.2f}",
            flush=True,
        )
        try:
            if number == 0:
                spot_checks(outcome, world, server.base, rng)
            print("  " + HEADER, flush=True)
            for index, endpoint in enumerate(selected_endpoints(args)):
                outcome.loads.append(
                    load_endpoint(outcome, world, server, endpoint, args, seed=args.seed + index)
                )
        finally:
            server.stop()
        print(f"  server stopped; database now {database_size(world)}", flush=True)
    for experiment in args.experiments:
        names = sorted(EXPERIMENTS) if experiment == "all" else [experiment]
        server = Server(world, 1, workdir, experiment=",".join(names), label=f"experiment-{experiment}")
        print(f"\nexperiment {experiment}: " + "; ".join(EXPERIMENTS[n] for n in names), flush=True)
        print(f"$ {server.shown(world)}", flush=True)
        outcome.commands.append(server.shown(world))
        server.start()
        try:
            print("  " + HEADER, flush=True)
            for index, endpoint in enumerate(selected_endpoints(args)):
                outcome.loads.append(
                    load_endpoint(
                        outcome, world, server, endpoint, args, seed=args.seed + index, label=experiment
                    )
                )
        finally:
            server.stop()
    if args.profile:
        print("\nwhere a request's time goes (instrumented servers; not the figures above)", flush=True)
        timing_pass(outcome, world, args, workdir)
        cprofile_pass(outcome, world, args, workdir)


def run_sqlite(outcome: Outcome, args: argparse.Namespace, workdir: Path) -> None:
    if args.database is not None:
        path = args.database.resolve()
        print(f"\nSQLite: reusing {path} ({mr.filesystem_of(path.parent)})", flush=True)
        world = reuse_world(path)
    else:
        path = workdir / "api.sqlite3"
        url = f"sqlite:///{path}"
        database = Database(mr.settings_for(url))
        print(
            f"\nSQLite ({path}, {mr.filesystem_of(workdir)}; synchronous={database.settings.sqlite_synchronous}):",
            flush=True,
        )
        started = time.perf_counter()
        world = build_world(outcome, database, url, url, args, path)
        outcome.phase("set-up in all", time.perf_counter() - started)
        save_sidecar(world)
    outcome.machine["sqlite_synchronous"] = world.database.settings.sqlite_synchronous
    try:
        run_loads(outcome, world, args, workdir)
    finally:
        world.database.dispose()


def run_postgres(outcome: Outcome, args: argparse.Namespace, admin_url: str, workdir: Path) -> None:
    pg = mr.PostgresDatabase(admin_url)
    assert pg.database is not None
    url = pg.database.engine.url.render_as_string(hide_password=False)
    shown = pg.database.engine.url.render_as_string(hide_password=True)
    print(
        f"\nPostgreSQL {pg.server_version} ({shown}; fsync={pg.fsync}, synchronous_commit={pg.synchronous_commit}):",
        flush=True,
    )
    outcome.machine["postgresql"] = {
        "server_version": pg.server_version,
        "fsync": pg.fsync,
        "synchronous_commit": pg.synchronous_commit,
    }
    try:
        started = time.perf_counter()
        world = build_world(outcome, pg.database, url, shown, args, None)
        outcome.phase("set-up in all (PostgreSQL)", time.perf_counter() - started)
        run_loads(outcome, world, args, workdir)
    finally:
        pg.drop()


# -- report --------------------------------------------------------------------------------------------------------


def print_report(outcome: Outcome, args: argparse.Namespace) -> None:
    rule = "=" * len(HEADER)
    print(f"\n{rule}\nResults\n{rule}")
    m = outcome.machine
    print(
        f"machine: {m['cores']} CPUs ({m['cpu']}), Python {m['python']}, SQLAlchemy {m['sqlalchemy']}, "
        f"SQLite {m['sqlite']}, uvicorn {m['uvicorn']} ({m['loop']}, {m['http']}), {m['platform']}"
    )
    print(f"load average (1/5/15 min) at the start: {m['load_start']}, at the end: {m.get('load_end', '-')}")
    if "postgresql" in m:
        pg = m["postgresql"]
        print(
            f"PostgreSQL {pg['server_version']} (fsync={pg['fsync']}, synchronous_commit={pg['synchronous_commit']}); "
            "its backends' CPU is not in srv cpu (only the uvicorn processes are counted)"
        )
    print(
        f"clients: {args.concurrency} concurrent (one process, uvloop, a keep-alive connection each), "
        f"{args.duration:g} s per endpoint after {args.warmup:g} s warm-up; sqlite synchronous="
        f"{m.get('sqlite_synchronous', '-')}"
    )
    for note in outcome.notes:
        print(f"note: {note}")
    print(
        "latency: request sent to whole body received; srv cpu / cli cpu: CPU ms per request of the server "
        "processes / this client process;\naudit: audit rows written (one per personal-data read); "
        "load avg: 1-minute load average before>after"
    )
    print(HEADER)
    print("-" * len(HEADER))
    for load in outcome.loads:
        print(load_line(load))
    print("-" * len(HEADER))
    print("set-up phases:")
    for name, seconds, detail in outcome.phases:
        print(f"  {name:<44} {seconds:9.3f} s  {detail}")
    print("server command lines:")
    for command in outcome.commands:
        print(f"  {command}")
    print("-" * len(HEADER))
    if outcome.problems:
        print(f"CHECKS FAILED ({len(outcome.problems)}):")
        for problem in outcome.problems:
            print(f"  - {problem}")
    else:
        print("All checks passed.")


def machine() -> dict[str, Any]:
    import uvicorn

    cpu = "?"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    loop = "uvloop" if _importable("uvloop") else "asyncio"
    http = "httptools" if _importable("httptools") else "h11"
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version,
        "uvicorn": uvicorn.__version__,
        "loop": loop,
        "http": http,
        "platform": platform.platform(terse=True),
        "load_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _importable(name: str) -> bool:
    try:
        __import__(name)
        return True
    except ImportError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=10_000, help="households in all (default 10000)")
    parser.add_argument(
        "--postings",
        type=int,
        default=None,
        help=f"about this many postings in the book (default {POSTINGS_PER_HOUSEHOLD} per household)",
    )
    parser.add_argument(
        "--chunk", type=int, default=500, help="households per transaction in the runs (default 500)"
    )
    parser.add_argument(
        "--scan-households",
        type=int,
        default=1_000,
        help="households the warnings scan covers, drawn at random (default 1000)",
    )
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument(
        "--duration", type=float, default=30.0, help="seconds of load per endpoint (default 30)"
    )
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="unrecorded seconds before each (default 3)"
    )
    parser.add_argument(
        "--workers", default="1,2", help="uvicorn worker counts to run, comma-separated (default 1,2)"
    )
    parser.add_argument(
        "--endpoints",
        default=",".join(e.name for e in ENDPOINTS),
        help="which endpoints, comma-separated (default all)",
    )
    parser.add_argument(
        "--experiments",
        default="",
        help="also run the load (1 worker) on servers patched as a suggested change would be, "
        f"comma-separated: {', '.join(EXPERIMENTS)} or all (together); default none",
    )
    parser.add_argument("--profile", action="store_true", help="also the timed and the cProfile'd servers")
    parser.add_argument(
        "--skip-load",
        action="store_true",
        help="no load on the --workers servers and no spot checks: only --experiments and --profile",
    )
    parser.add_argument(
        "--profile-requests",
        type=int,
        default=500,
        help="requests per endpoint under the profilers (default 500; a tenth at 1 client)",
    )
    parser.add_argument(
        "--profile-top", type=int, default=25, help="functions shown per profile list (default 25)"
    )
    parser.add_argument(
        "--profile-clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="cProfile's clock: each thread's CPU time (default) or wall time (waits included)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workdir", type=Path, default=None, help="directory for the temp dir (default: system temp)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory (database, logs, profiles)"
    )
    parser.add_argument(
        "--database",
        type=Path,
        default=None,
        help="reuse a SQLite database set up by an earlier --keep run (no set-up)",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=None,
        help=f"a PostgreSQL server to repeat it on (default: {mr.PG_URL_ENV} if postgresql)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL even when a URL is set")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite (PostgreSQL only)")
    parser.add_argument("--json", metavar="FILE", default=None, help="also write the figures as JSON to FILE")
    args = parser.parse_args(argv)
    try:
        args.workers = [int(w) for w in args.workers.split(",") if w.strip()]
    except ValueError:
        parser.error("--workers must be whole numbers, e.g. 1,2")
    args.endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    args.experiments = [e.strip() for e in args.experiments.split(",") if e.strip()]
    if set(args.experiments) - {*EXPERIMENTS, "all"}:
        parser.error(f"unknown experiments {sorted(set(args.experiments) - {*EXPERIMENTS, 'all'})}")
    unknown = set(args.endpoints) - {e.name for e in ENDPOINTS}
    if unknown:
        parser.error(f"unknown endpoints {sorted(unknown)}; choose from {[e.name for e in ENDPOINTS]}")
    if args.households < 6 and args.database is None:
        parser.error("--households must be at least 6 (the templates; the begeleider's caseload needs them)")
    if args.concurrency < 1 or not args.workers or min(args.workers) < 1:
        parser.error("--concurrency and --workers must be at least 1")
    if args.database is not None and not sidecar(args.database).is_file():
        parser.error(
            f"--database {args.database}: no {sidecar(args.database).name} beside it (set up with --keep)"
        )

    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="budget-ledger-api-", dir=args.workdir))
    outcome = Outcome(machine=machine())
    print(
        f"budget_ledger API load bench: Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{outcome.machine['load_start']}; households="
        f"{args.households if args.database is None else 'those of --database'} clients={args.concurrency} "
        f"duration={args.duration:g} s per endpoint, workers={args.workers}, endpoints={args.endpoints}",
        flush=True,
    )
    print(f"$ {' '.join([sys.executable, *sys.argv])}", flush=True)
    try:
        if not args.no_sqlite:
            run_sqlite(outcome, args, workdir)
        admin_url = mr.postgres_admin_url(args.postgres)
        if admin_url and not args.no_postgres and args.database is None:
            run_postgres(outcome, args, admin_url, workdir)
        else:
            print(
                "\nPostgreSQL skipped"
                + (
                    ""
                    if admin_url
                    else f" (set {mr.PG_URL_ENV} or --postgres to a postgresql URL to include it)"
                ),
                flush=True,
            )
    finally:
        outcome.machine["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print_report(outcome, args)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": outcome.machine,
                    "args": {k: v if not isinstance(v, Path) else str(v) for k, v in vars(args).items()},
                    "loads": [load.summary() for load in outcome.loads],
                    "phases": outcome.phases,
                    "problems": outcome.problems,
                    "notes": outcome.notes,
                    "commands": outcome.commands,
                },
                indent=2,
                default=str,
            )
        )
    return 1 if outcome.problems else 0


if __name__ == "__main__":
    sys.exit(main())
