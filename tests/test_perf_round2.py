"""The second round of payment-run shortcuts gives exactly the answers of the work it saves.

- policies make no steps outside the planning period (the engine dropped those anyway);
- the leefgeld payment days are worked out once per planning pass;
- `PlanState.withheld` remembers each version's withheld categories;
- account codes accepted once are not matched against the pattern again (refused ones are, every time);
- `SqlLedgerStore.open_accounts` opens many accounts as `open_account` one by one would;
- `SqlLedgerStore.entries_of_households` reads which household an entry touches off its postings;
- the garbage collector's threshold is raised only while a chunk is booked, and put back.
"""

from __future__ import annotations

import gc
import threading
from dataclasses import replace
from datetime import date

import pytest
from rules_book import shipped
from test_rules_scenarios import (
    s1_household,
    s1_profile,
    s3_household,
    s10_household,
    s12_household,
    s12_profile,
    s13_household,
    s13_profile,
    s14_household,
)

from budget_ledger.adapters.db.bootstrap import transactions
from budget_ledger.ledger.accounts import AccountCodeError, AccountSpec, AccountType, validate_code
from budget_ledger.ledger.entries import EntryRequest, EntrySource, Posting
from budget_ledger.ledger.errors import DuplicateAccountError, UnbalancedEntryError
from budget_ledger.ledger.money import Money
from budget_ledger.payment_runs import _fewer_collections
from budget_ledger.rules.engine import PlanState
from budget_ledger.rules.engine import plan as make_plan
from budget_ledger.rules.policies import default_policies
from budget_ledger.rules.policies.leefgeld import Leefgeld
from budget_ledger.rules.profiles import CostCategory


def scenarios():
    return [
        ("s1", s1_household(), s1_profile()),
        ("s3", s3_household(), shipped("westfriesland")),
        ("s10", s10_household(date(2025, 9, 30)), shipped("roermond")),
        ("s12", s12_household("120.00"), s12_profile()),
        ("s13", s13_household(), s13_profile()),
        ("s14", s14_household(), shipped("roermond")),
    ]


def _periods(snapshot):
    start, last = snapshot.trajectory.start, snapshot.trajectory.last_day
    yield start, last
    yield start, min(last, date(start.year + (start.month + 1) // 12, (start.month + 1) % 12 + 1, 2))
    yield max(start, date(2025, 5, 1)), max(start, min(last, date(2025, 7, 31)))


def _step_view(step):
    return (step.day, step.phase, step.order, step.key, step.series)


@pytest.mark.parametrize("name, snapshot, rules", scenarios(), ids=lambda v: v if isinstance(v, str) else "")
def test_policies_make_the_steps_in_the_period_that_the_whole_trajectory_would_have(name, snapshot, rules):
    for start, end in _periods(snapshot):
        for as_of in (start, end):
            snap = replace(snapshot, as_of=as_of)
            whole = PlanState(snap, rules, snap.trajectory.start, snap.trajectory.last_day, default_policies())
            narrow = PlanState(snap, rules, start, end, default_policies())
            expected = [_step_view(s) for p in whole.policies for s in p.steps(whole) if narrow.in_period(s.day)]
            got = [_step_view(s) for p in narrow.policies for s in p.steps(narrow) if narrow.in_period(s.day)]
            # tekort only ever looked at the period's months; the rest must agree step for step
            assert [s for s in got if s[4] != "budgetcontrole"] == [s for s in expected if s[4] != "budgetcontrole"]
            assert narrow.handovers == whole.handovers  # afbouw's side effect is kept


@pytest.mark.parametrize("name, snapshot, rules", scenarios(), ids=lambda v: v if isinstance(v, str) else "")
def test_remembered_leefgeld_days_and_withheld_categories_answer_as_worked_out_afresh(name, snapshot, rules):
    state = PlanState(snapshot, rules, snapshot.trajectory.start, snapshot.trajectory.last_day, default_policies())
    for policy in state.policies:
        list(policy.steps(state))
    leefgeld = Leefgeld()
    for _ in range(2):
        assert leefgeld.payment_days(state) == leefgeld._payment_days(state)
    days = leefgeld.payment_days(state)
    days.clear()  # a caller's copy: the remembered days stay whole
    assert leefgeld.payment_days(state) == leefgeld._payment_days(state)
    month = snapshot.trajectory.start.replace(day=1)
    while month <= snapshot.trajectory.last_day:
        for category in CostCategory:
            version = state.version(max(month, snapshot.trajectory.start))
            direct = category in version.withheld_categories() and month < state.handover_on(category)
            for _ in range(2):
                assert state.withheld(category, month) is direct
                assert state.withheld(category.value, month) is direct
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)


@pytest.mark.parametrize("name, snapshot, rules", scenarios(), ids=lambda v: v if isinstance(v, str) else "")
def test_a_plan_is_the_same_made_twice_and_period_by_period(name, snapshot, rules):
    for start, end in _periods(snapshot):
        first = make_plan(snapshot, rules, start, end)
        assert make_plan(snapshot, rules, start, end) == first


def test_a_code_accepted_once_is_accepted_again_and_a_refused_one_is_refused_every_time():
    for _ in range(3):
        assert validate_code("huishouden:991:basis") == "huishouden:991:basis"
        for bad in ("Huishouden:1", "a b", "x::y", "", "a" * 201, "huishouden:1;"):
            with pytest.raises(AccountCodeError):
                validate_code(bad)

    class Code(str):
        pass

    with pytest.raises(AccountCodeError):
        validate_code(Code("Not Valid"))
    assert validate_code(Code("huishouden:991:basis")) == "huishouden:991:basis"


def test_an_entry_request_still_checks_its_balance_and_takes_its_source_by_value():
    postings = (Posting("huishouden:1:basis", Money(100)), Posting("org:bank", Money(-100)))
    request = EntryRequest("k", date(2025, 6, 2), postings, "reden", "actor", source="batch_run")
    assert request.source is EntrySource.BATCH_RUN
    assert EntryRequest("k", date(2025, 6, 2), postings, "reden", "actor",
                        source=EntrySource.BATCH_RUN).source is EntrySource.BATCH_RUN
    with pytest.raises(UnbalancedEntryError):
        EntryRequest("k", date(2025, 6, 2), (postings[0], Posting("org:bank", Money(-99))), "reden", "actor")


def _spec(code, name="Reservering x", household_id=None, no_overdraft=True):
    return AccountSpec(code, name, AccountType.ASSET, household_id, no_overdraft)


def test_opening_many_accounts_in_one_go_is_opening_them_one_by_one(database):
    first = [_spec("org:perf:a"), _spec("org:perf:b", "B")]
    later = [_spec("org:perf:c"), _spec("org:perf:a"), _spec("org:perf:d"), _spec("org:perf:c"), _spec("org:perf:b", "B")]

    def work(uow):
        opened = uow.ledger.open_accounts(first)
        again = uow.ledger.open_accounts(later)
        one_by_one = [uow.ledger.open_account(spec) for spec in later]
        assert uow.ledger.open_accounts([]) == []
        return opened, again, one_by_one, {a.code: a for a in uow.ledger.accounts()}

    opened, again, one_by_one, stored = transactions(database).run(work)
    assert again == one_by_one
    assert again[1] == opened[0] and again[4] == opened[1] and again[0] == again[3]
    assert [a.id for a in (*opened, again[0], again[2])] == sorted(a.id for a in (*opened, again[0], again[2]))
    assert again[2].id == again[0].id + 1  # in the order given, as one INSERT each would number them
    for account in again:
        assert stored[account.code] == account


@pytest.mark.parametrize("specs", [
    [_spec("org:perf:e"), _spec("org:perf:e", "Another name")],
    [_spec("org:perf:f"), _spec("org:perf:f", no_overdraft=False)],
])
def test_opening_an_account_twice_with_other_settings_is_refused_in_one_go_too(database, specs):
    tx = transactions(database)
    with pytest.raises(DuplicateAccountError):
        tx.run(lambda uow: uow.ledger.open_accounts(specs))
    assert tx.run(lambda uow: uow.ledger.account(specs[0].code)) is None  # rolled back whole
    tx.run(lambda uow: uow.ledger.open_accounts(specs[:1]))
    with pytest.raises(DuplicateAccountError):
        tx.run(lambda uow: uow.ledger.open_accounts(specs[1:]))


def test_the_collector_threshold_is_raised_only_while_a_chunk_is_booked():
    before = gc.get_threshold()
    with _fewer_collections():
        raised = gc.get_threshold()
        assert raised[0] >= before[0] and raised[1:] == before[1:]
        with _fewer_collections():
            assert gc.get_threshold() == raised
        assert gc.get_threshold() == raised  # an overlapping chunk is still running
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), _fewer_collections():
        raise RuntimeError("a chunk that fails")
    assert gc.get_threshold() == before


def test_what_a_run_keeps_is_out_of_the_collectors_way_until_the_run_ends():
    from budget_ledger.payment_runs import _settle

    assert gc.get_freeze_count() == 0
    with _fewer_collections():
        kept = [[i] for i in range(1000)]  # a run's outcomes, kept for its report
        _settle()
        assert gc.get_freeze_count() >= len(kept)
        with _fewer_collections():  # a chunk inside the run
            pass
        assert gc.get_freeze_count() >= len(kept)  # still the run's
    assert gc.get_freeze_count() == 0  # given back to the collector
    cycle: list = []
    cycle.append(cycle)
    with _fewer_collections():
        _settle()
        del cycle
    assert gc.collect() >= 1  # a cycle that died while frozen is collected after the run


def test_a_process_that_froze_objects_itself_keeps_them_frozen():
    from budget_ledger.payment_runs import _settle

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with _fewer_collections():
            _settle()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_the_collector_threshold_is_put_back_when_chunks_overlap_in_threads():
    before = gc.get_threshold()
    inside, release = threading.Barrier(3), threading.Event()

    def chunk():
        with _fewer_collections():
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=chunk) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait()
    release.set()
    for thread in threads:
        thread.join()
    assert gc.get_threshold() == before


@pytest.mark.parametrize("horizon", [date(2025, 6, 2), date(2025, 11, 30), date(2025, 12, 31), date(2024, 2, 29)])
def test_the_remembered_budget_horizon_and_months_are_worked_out_as_before(horizon):
    from dateutil.relativedelta import relativedelta

    from budget_ledger.planning import _budget_horizon, _month_of
    from budget_ledger.rules.snapshot import month_end

    for _ in range(2):
        assert _budget_horizon(horizon) == month_end(horizon + relativedelta(months=2))
        assert _month_of(f"{horizon:%Y-%m}") == date.fromisoformat(f"{horizon:%Y-%m}-01")
    with pytest.raises(ValueError):
        _month_of("2025-13")


def test_rows_inserted_by_the_driver_are_stored_as_sqlalchemy_stores_them(database):
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy import insert, select

    from budget_ledger.adapters.db.driver_inserts import insert_many_by_driver
    from budget_ledger.adapters.db.models import journal_entries

    now = datetime(2025, 6, 2, 7, 30, 15, 123456, tzinfo=UTC)
    # The same instant in another zone, and the same dates on several rows: the driver path converts each
    # repeated date or timestamp once per call, and must still store every row as SQLAlchemy does.
    summer = now.astimezone(timezone(timedelta(hours=2)))

    def row(key, case):
        details, created_at, value_date = case
        return {"idempotency_key": key, "request_hash": "0" * 64, "status": "draft", "booking_date": date(2025, 6, 2),
                "value_date": value_date, "source": "batch_run", "rule": None, "actor": "a", "reason": "r",
                "household_id": None, "reverses_entry_id": None, "details": details, "created_at": created_at}

    cases = [(None, now, date(2025, 5, 30)), ({"obligation": "crediteur-1", "period": "2025-06-01"}, now, date(2025, 6, 2)),
             (None, summer, date(2025, 5, 30)), ({"k": "v"}, now + timedelta(seconds=1), date(2025, 6, 2))]
    keys = ", ".join(f"'{kind}:{i}'" for kind in ("sa", "driver") for i in range(len(cases)))

    def work(uow):
        conn = uow.ledger.conn
        conn.execute(insert(journal_entries), [row(f"sa:{i}", d) for i, d in enumerate(cases)])
        used = insert_many_by_driver(conn, journal_entries, [row(f"driver:{i}", d) for i, d in enumerate(cases)])
        if not used:
            conn.execute(insert(journal_entries), [row(f"driver:{i}", d) for i, d in enumerate(cases)])
        raw = conn.exec_driver_sql(
            "SELECT idempotency_key, booking_date, value_date, details, created_at FROM journal_entries "
            f"WHERE idempotency_key IN ({keys}) ORDER BY id").fetchall()
        typed = conn.execute(select(journal_entries.c.idempotency_key, journal_entries.c.details,
                                    journal_entries.c.created_at, journal_entries.c.booking_date)
                             .where(journal_entries.c.idempotency_key.like("%:%"))).all()
        conn.execute(journal_entries.delete().where(journal_entries.c.status == "draft"))
        return used, raw, typed

    used, raw, typed = transactions(database).run(work)
    assert used  # sqlite3 and psycopg 3, the two drivers the project runs on
    by_kind = {}
    for key, *values in raw:
        by_kind.setdefault(key.split(":")[1], []).append(tuple(values))
    assert all(len(v) == 2 and v[0] == v[1] for v in by_kind.values())  # stored alike, byte for byte
    assert len(by_kind) == len(cases)
    read_back = {r[0]: tuple(r[1:]) for r in typed}
    assert all(read_back[f"sa:{i}"] == read_back[f"driver:{i}"] for i in range(len(cases)))
    assert read_back["sa:0"][0] is None and read_back["driver:1"][0] == cases[1][0]
    assert read_back["driver:2"][1] == now and read_back["driver:3"][1] == now + timedelta(seconds=1)


def test_the_remembered_codes_stay_bounded(monkeypatch):
    import budget_ledger.ledger.accounts as accounts

    monkeypatch.setattr(accounts, "_VALID_CODES", set())
    monkeypatch.setattr(accounts, "_VALID_CODES_MAX", 3)
    for i in range(10):
        assert validate_code(f"huishouden:{i}:basis") == f"huishouden:{i}:basis"
        assert len(accounts._VALID_CODES) <= 3
    with pytest.raises(AccountCodeError):
        validate_code("huishouden:1:Basis")


def test_rows_whose_keys_are_not_in_the_tables_column_order_still_go_through_the_driver(database):
    """The payment instructions' rows name `status` and `created_at` before the payee's address, unlike the
    table; the driver path must not quietly fall back to SQLAlchemy's row-by-row insert for that."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from budget_ledger.adapters.db.driver_inserts import insert_many_by_driver
    from budget_ledger.adapters.db.models import journal_entries

    now = datetime(2025, 6, 2, 7, 30, tzinfo=UTC)

    def row(key):
        values = {"idempotency_key": key, "request_hash": "0" * 64, "status": "draft", "booking_date": date(2025, 6, 2),
                  "value_date": date(2025, 6, 2), "source": "batch_run", "rule": None, "actor": "a", "reason": "r",
                  "household_id": None, "reverses_entry_id": None, "details": {"k": key}, "created_at": now}
        return dict(reversed(list(values.items())))  # every key out of the table's order

    def work(uow):
        conn = uow.ledger.conn
        used = insert_many_by_driver(conn, journal_entries, [row("order:0"), row("order:1")])
        stored = conn.execute(select(journal_entries.c.idempotency_key, journal_entries.c.details,
                                     journal_entries.c.booking_date, journal_entries.c.created_at)
                              .where(journal_entries.c.idempotency_key.like("order:%"))
                              .order_by(journal_entries.c.id)).all()
        mixed = insert_many_by_driver(conn, journal_entries, [row("order:2"), {**row("order:3"), "extra": 1}])
        conn.execute(journal_entries.delete().where(journal_entries.c.status == "draft"))
        return used, stored, mixed

    used, stored, mixed = transactions(database).run(work)
    assert used
    assert mixed is False  # rows that do not all have the same columns: left to the caller
    assert [(k, d, b) for k, d, b, _ in stored] == [("order:0", {"k": "order:0"}, date(2025, 6, 2)),
                                                 ("order:1", {"k": "order:1"}, date(2025, 6, 2))]
    assert all(c.replace(tzinfo=UTC) == now for *_, c in stored)

