"""A payment run that plans its next chunks in planning processes while it writes (budget_ledger.run_ahead)
books exactly what a run planned in one process books; a chunk is written as planned ahead only when nobody
else committed since it was read, and planned again by the writer otherwise."""

from __future__ import annotations

import logging
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import Future

import pytest
from registry import BEHEERDER
from scenario_households import add_creditor
from sqlalchemy import text
from test_payment_runs import NAMES, RUN_DAY, SCHEDULE, _receive, add_s1, assert_paid_exactly_once, paid

from budget_ledger.adapters.db.bootstrap import services as build
from budget_ledger.adapters.db.planning_workers import ProcessChunkPlanners
from budget_ledger.adapters.db.unit_of_work import held_connection_units
from budget_ledger.payment_runs import PaymentRunService
from budget_ledger.transactions import Transactions

FAMILY = (*NAMES, "Selam Tesfay", "Hagos Berhe", "Miriam Berhe", "Dawit Haile")
AHEAD = re.compile(r"payment run \d+: (\d+) of (\d+) chunks planned ahead")


def planned_ahead(caplog) -> list[tuple[int, int]]:
    return [(int(m[1]), int(m[2])) for r in caplog.records if (m := AHEAD.fullmatch(r.getMessage()))]


def book(database) -> list[tuple]:
    """Every journal entry with its postings, by idempotency key (ids differ between two databases)."""
    with database.engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(text(
            "SELECT e.idempotency_key, e.booking_date, e.status, a.code, p.amount_cents FROM journal_entries e "
            "JOIN postings p ON p.entry_id = e.id JOIN accounts a ON a.id = p.account_id")))


def test_a_run_planned_ahead_by_planning_processes_books_what_a_run_in_one_process_books(
        services, database, database_maker, profile_catalog, caplog):
    """Seven S1 households over S1's first months, in chunks of two: on SQLite every chunk but the first is
    planned by one of two planning processes; PostgreSQL gives no change marker, so its writer plans them
    all. Either way the instructions, the entries and the balances are those of a run without them."""
    caplog.set_level(logging.INFO, logger="budget_ledger.payment_runs")
    reference_db = database_maker.make()
    reference = build(reference_db, catalog=profile_catalog)
    households = [add_s1(services, name) for name in FAMILY]
    assert [add_s1(reference, name) for name in FAMILY] == households
    ahead = PaymentRunService(
        services.payment_runs._tx, services.planning, chunk_size=2, plan_ahead_from=1,
        planners=lambda: ProcessChunkPlanners(database, profile_catalog, services.planning.calendar, 2))
    alone = PaymentRunService(reference.payment_runs._tx, reference.planning, chunk_size=2)
    for day, arrivals in SCHEDULE[:4]:
        _receive(services, households, arrivals, day)
        _receive(reference, households, arrivals, day)
        report = ahead.start(day, actor="batch")
        expected = alone.start(day, actor="batch")
        assert report.failed == () and report.processed == expected.processed
        assert [(i.household_id, i.obligation, i.amount, i.iban) for i in report.instructions] == [
            (i.household_id, i.obligation, i.amount, i.iban) for i in expected.instructions]
        assert report.findings == expected.findings and report.warnings == expected.warnings
        assert paid(database) == paid(reference_db), f"after the run of {day}"
        assert book(database) == book(reference_db), f"after the run of {day}"
        assert_paid_exactly_once(database, services)
    chunks = (len(FAMILY) + 1) // 2
    if database.is_sqlite:
        assert planned_ahead(caplog) == [(chunks - 1, chunks)] * 4
    else:
        assert planned_ahead(caplog) == [(0, chunks)] * 4


class _PlannedAtOnce(Future):
    """A chunk planned at once in this process; the first time the writer waits for it, `meanwhile` runs
    (another user's commit between the chunk's read and its write)."""

    def __init__(self, prepared, meanwhile) -> None:
        super().__init__()
        self.set_result(prepared)
        self._meanwhile = meanwhile

    def result(self, timeout=None):
        meanwhile, self._meanwhile = self._meanwhile, None
        if meanwhile is not None:
            meanwhile()
        return super().result(timeout)


class InThisProcess:
    """ChunkPlanners that plan in this process, through a second set of services (their own connections)."""

    workers = 1

    def __init__(self, database, planner: PaymentRunService, meanwhile) -> None:
        self._held = database.held_writer()
        self.transactions = Transactions(held_connection_units(self._held.__enter__()))
        self._planner = planner
        self._meanwhile = meanwhile
        self.closed = False

    def submit(self, run_id, run_date, chunk, actor, kind) -> Future:
        return _PlannedAtOnce(self._planner.prepare_chunk(run_id, run_date, chunk, actor, kind),
                              self._meanwhile.pop(tuple(chunk), None))

    def stop(self) -> None:
        pass

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._held.__exit__(None, None, None)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_chunk_is_planned_again_by_the_writer_when_someone_else_committed_after_it_was_read(
        services, database, profile_catalog, caplog):
    """Three S1 households, one per chunk. The second's chunk is read by the planning process; before the
    writer gets to it, a budgetbeheerder records a second zorgverzekering for that household. The writer sees
    another connection's commit and plans the chunk itself, so the new bill is paid; the third chunk,
    read after that commit, is written as planned ahead."""
    caplog.set_level(logging.INFO, logger="budget_ledger.payment_runs")
    first, second, third = (add_s1(services, name) for name in NAMES)
    other = build(database, catalog=profile_catalog)  # another user's services on the same database

    def second_policy() -> None:
        add_creditor(other, second, "Zorgverzekeraar Tandarts", "NL02ABNA0123456789", "zorgverzekering", "150.00",
                     RUN_DAY.replace(day=15))

    planners = InThisProcess(database, other.payment_runs, {(second,): second_policy})
    run = PaymentRunService(services.payment_runs._tx, services.planning, chunk_size=1, plan_ahead_from=1,
                            planners=lambda: planners)
    report = run.start(RUN_DAY, actor="batch")
    assert report.failed == () and planners.closed
    per_household = {h: sorted((i.category, str(i.amount)) for i in report.instructions if i.household_id == h)
                     for h in (first, second, third)}
    assert per_household[first] == per_household[third] == [
        ("huur", "356.45"), ("leefgeld", "120.00"), ("zorgverzekering", "82.26")]
    assert per_household[second] == sorted([*per_household[first], ("zorgverzekering", "82.26")])
    assert "Zorgverzekeraar Tandarts" in {i.payee_name for i in report.instructions if i.household_id == second}
    assert planned_ahead(caplog) == [(1, 3)]
    assert_paid_exactly_once(database, services)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_without_commits_by_others_every_chunk_after_the_first_is_written_as_planned_ahead(
        services, database, profile_catalog, caplog):
    """The same run with nobody else writing: the writer plans only the first chunk itself."""
    caplog.set_level(logging.INFO, logger="budget_ledger.payment_runs")
    households = [add_s1(services, name) for name in NAMES]
    other = build(database, catalog=profile_catalog)
    planners = InThisProcess(database, other.payment_runs, {})
    report = PaymentRunService(services.payment_runs._tx, services.planning, chunk_size=1, plan_ahead_from=1,
                               planners=lambda: planners).start(RUN_DAY, actor="batch")
    assert report.processed == tuple(households) and report.instructions_created == 9
    assert planned_ahead(caplog) == [(2, 3)]


def test_a_small_run_starts_no_planning_processes(services, database):
    started = []
    run = PaymentRunService(services.payment_runs._tx, services.planning, chunk_size=500,
                            planners=lambda: started.append(1))
    add_s1(services)
    assert run.start(RUN_DAY, actor=BEHEERDER).instructions_created == 3
    assert started == []


RUNNER = """
import sys
from datetime import date
from pathlib import Path
from budget_ledger.adapters.db.bootstrap import chunk_planners, services, transactions
from budget_ledger.adapters.db.engine import Database
from budget_ledger.payment_runs import PaymentRunService
from budget_ledger.settings import load_settings
url, config, day = sys.argv[1:4]
database = Database(load_settings(config_dir=Path(config), database_url=url))
bundle = services(database)
run = PaymentRunService(transactions(database), bundle.planning, chunk_size=1, plan_ahead_from=1,
                        planners=chunk_planners(database, bundle.profile_catalog, bundle.planning, 2))
print("ready", flush=True)
sys.stdin.readline()
run.start(date.fromisoformat(day), actor="batch", progress=lambda done, total, h, line: print("household", h, flush=True))
print("done", flush=True)
"""


def _carrying(token: str) -> list[int]:
    """Live processes (not zombies) whose environment carries `token`: a runner and its planning processes."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if token.encode() not in f.read():
                    continue
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:  # gone meanwhile, or not ours to read
            continue
        found.append(int(entry))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to find the planning processes")
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_run_planned_ahead_killed_at_random_moments_leaves_no_process_and_pays_every_obligation_once(
        services, database, database_maker, profile_catalog):
    """Seven S1 households over S1's first months, one per chunk, two planning processes: on each run day a
    runner is killed with SIGKILL at a random moment of a run's time, twice. Its planning processes end by
    themselves, and the run started again pays every obligation exactly once: the same instructions and
    entries as a run that was never killed."""
    from conftest import CONFIG_DIR

    rng = random.Random(int(os.environ.get("BL_CRASH_SEED", "5")))
    reference_db = database_maker.make()
    reference = build(reference_db, catalog=profile_catalog)
    households = [add_s1(services, name) for name in FAMILY]
    assert [add_s1(reference, name) for name in FAMILY] == households
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def spawn(url: str, day, token: str) -> subprocess.Popen:
        runner = subprocess.Popen([sys.executable, "-c", RUNNER, url, str(CONFIG_DIR), day.isoformat()],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                  env={**env, "BL_RUN_AHEAD_TRIAL": token})
        assert runner.stdout.readline().strip() == "ready"
        runner.stdin.write("go\n")
        runner.stdin.flush()
        return runner

    said: Counter[str] = Counter()
    for day, arrivals in SCHEDULE:
        _receive(services, households, arrivals, day)
        _receive(reference, households, arrivals, day)
        reference_run = spawn(reference_db.settings.database_url, day, "reference")
        started = time.perf_counter()  # from "go" to "done" in the same runner: how long a run takes
        while reference_run.stdout.readline().strip() not in ("done", ""):
            pass
        window = time.perf_counter() - started
        assert reference_run.wait(timeout=120) == 0
        reference_run.stdout.close()
        reference_run.stdin.close()
        for trial in range(2):
            token = uuid.uuid4().hex
            runner = spawn(database.settings.database_url, day, token)
            time.sleep(rng.uniform(0.0, window))
            runner.send_signal(signal.SIGKILL)
            try:  # a planning process left behind would hold the runner's output open
                out = runner.communicate(timeout=15)[0].split()
            except subprocess.TimeoutExpired:
                pytest.fail(f"{day}, trial {trial}: planning processes outlived their run")
            said["finished" if "done" in out else "inside the run" if "household" in out
                 else "before a household"] += 1
            deadline = time.monotonic() + 10
            while _carrying(token) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _carrying(token) == [], f"{day}, trial {trial}: planning processes outlived their run"
            assert_paid_exactly_once(database, services)
        resumed = services.payment_runs.start(day, actor="batch")
        assert resumed.failed == ()
        assert paid(database) == paid(reference_db), f"after the run of {day}"
        assert book(database) == book(reference_db), f"after the run of {day}"
        assert_paid_exactly_once(database, services)
    assert said["finished"] <= said.total() - 3, said
