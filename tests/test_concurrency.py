"""Several OS processes posting to one household's book at the same moment, on SQLite and PostgreSQL.

Each child process builds its own Database and LedgerService from the database URL, as a second web
worker or a batch run would, and reports back what happened to every request it sent: posted, refused
for insufficient funds, given up as busy (DatabaseBusyError: the bounded retries were too few), or any
other error. The parent then checks the book.
"""

from __future__ import annotations

import multiprocessing
import random
import traceback
from collections import Counter
from datetime import date
from itertools import accumulate
from pathlib import Path

from sqlalchemy import func, select

from book import income, open_book, pay
from budget_ledger.adapters.db.models import accounts, journal_entries, postings
from budget_ledger.ledger import IdempotencyConflictError, InsufficientFundsError, Money
from budget_ledger.ledger.errors import DatabaseBusyError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
APRIL_1 = date(2025, 4, 1)
SPAWN = multiprocessing.get_context("spawn")

WORKERS = 4
ATTEMPTS = 40
FUNDING = "100.00"
SMALLEST, LARGEST = 100, 500  # cents: every withdrawal is 1.00 to 5.00
COSTS = ("huur", "zorgverzekering", "leefgeld-uitkering")
RESULT_TIMEOUT = 120


# -- children -----------------------------------------------------------------------------------


def _child_ledger(url: str):
    from budget_ledger.adapters.db.bootstrap import ledger_service
    from budget_ledger.adapters.db.engine import Database
    from budget_ledger.settings import load_settings

    database = Database(load_settings(config_dir=CONFIG_DIR, database_url=url))
    return database, ledger_service(database)


def _withdraw(url: str, codes: dict[str, str], worker: int, seed: int, start, results) -> None:
    """Try ATTEMPTS payments of 1.00-5.00 from the basisrekening, each under a key of its own."""
    report = {"worker": worker, "posted": [], "refused": [], "busy": [], "errors": []}
    try:
        database, ledger = _child_ledger(url)
        rng = random.Random(seed)
        start.wait(timeout=60)
        for attempt in range(ATTEMPTS):
            cents = rng.randint(SMALLEST, LARGEST)
            key = f"betaling:{worker}:{attempt}"
            request = pay(key, APRIL_1, codes, str(Money(cents)), cost=rng.choice(COSTS))
            try:
                entry = ledger.post(request)
                report["posted"].append((key, cents, entry.id, entry.replayed))
            except InsufficientFundsError as refused:
                report["refused"].append((key, cents, refused.available.cents, refused.requested.cents))
            except DatabaseBusyError as busy:
                report["busy"].append((key, str(busy)))
            except Exception:
                report["errors"].append((key, traceback.format_exc()))
        database.dispose()
    except BaseException:
        report["errors"].append(("setup", traceback.format_exc()))
        start.abort()
    results.put(report)


def _race(url: str, codes: dict[str, str], worker: int, rounds: int, conflicting: bool, start, results) -> None:
    """In each round, post the bijstand of month `round` under one shared key, all workers at once.

    With `conflicting`, each worker sends a different amount under that key (a corrupted retry).
    """
    report = {"worker": worker, "answers": [], "conflicts": [], "busy": [], "errors": []}
    try:
        database, ledger = _child_ledger(url)
        for month in range(rounds):
            key = f"bijstand-2025-{month + 1:02d}"
            amount = f"{1000 + worker}.00" if conflicting else "1254.15"
            request = income(key, APRIL_1, codes, amount)
            start.wait(timeout=60)
            try:
                entry = ledger.post(request)
                report["answers"].append((key, entry.id, entry.replayed))
            except IdempotencyConflictError as conflict:
                report["conflicts"].append((key, conflict.existing_entry_id))
            except DatabaseBusyError as busy:
                report["busy"].append((key, str(busy)))
            except Exception:
                report["errors"].append((key, traceback.format_exc()))
        database.dispose()
    except BaseException:
        report["errors"].append(("setup", traceback.format_exc()))
        start.abort()
    results.put(report)


def run_children(target, args_per_worker) -> list[dict]:
    start = SPAWN.Barrier(len(args_per_worker))
    results = SPAWN.Queue()
    children = [SPAWN.Process(target=target, args=(*args, start, results)) for args in args_per_worker]
    for child in children:
        child.start()
    try:
        reports = [results.get(timeout=RESULT_TIMEOUT) for _ in children]
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.terminate()
    assert [child.exitcode for child in children] == [0] * len(children)
    return sorted(reports, key=lambda r: r["worker"])


def assert_nothing_else_went_wrong(reports: list[dict]) -> None:
    errors = [(r["worker"], key, text) for r in reports for key, text in r["errors"]]
    assert errors == [], "unexpected errors in the children:\n" + "\n".join(t for _, _, t in errors)
    busy = [(r["worker"], key, text) for r in reports for key, text in r["busy"]]
    assert busy == [], f"DatabaseBusyError: the bounded retries were too few under this load: {busy}"


def database_url(database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


# -- tests --------------------------------------------------------------------------------------


def test_payments_racing_from_one_basisrekening_never_overdraw_it(database, ledger):
    """Four payment runs pay bills of 1.00-5.00 from a basisrekening holding 100.00, all at once.

    Together they ask at least 160.00, so the money runs out: what was paid must add up to exactly
    what left the account, nothing may go below zero, and every refusal must have been true when made.
    """
    h = open_book(ledger)[1]
    funding = ledger.post(income("bijstand-2025-04", APRIL_1, h, FUNDING))
    start_cents = Money.parse(FUNDING).cents

    reports = run_children(_withdraw, [(database_url(database), h, worker, 1000 + worker) for worker in range(WORKERS)])

    assert_nothing_else_went_wrong(reports)
    posted = [p for r in reports for p in r["posted"]]
    refused = [p for r in reports for p in r["refused"]]
    assert len(posted) + len(refused) == WORKERS * ATTEMPTS
    assert not any(replayed for _, _, _, replayed in posted)
    assert len({entry_id for _, _, entry_id, _ in posted}) == len(posted)

    balance = ledger.balance(h["basis"])
    paid = sum(cents for _, cents, _, _ in posted)
    assert balance.cents >= 0
    assert paid == start_cents - balance.cents
    assert refused, "at least 160.00 was asked of 100.00, so some payments must have been refused"
    assert balance.cents < LARGEST, "a payment was refused while the money was there"

    # Writers were serialised, so entry ids follow the order in which the balance moved. Every refusal
    # must have seen one of those balances, and must really not have fitted in it.
    in_order = sorted(posted, key=lambda p: p[2])
    balances_seen = {start_cents, *(start_cents - spent for spent in accumulate(cents for _, cents, _, _ in in_order))}
    for key, cents, available, requested in refused:
        assert requested == cents, key
        assert available < requested, f"{key} was refused with {available} available for {requested}"
        assert available in balances_seen, f"{key} saw a balance of {available} that the account never had"

    basis_id = next(a.id for a in ledger.accounts(household_id=1) if a.code == h["basis"])
    with database.engine.connect() as conn:
        entries = conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()
        basis_postings = conn.execute(
            select(func.count(), func.sum(postings.c.amount_cents)).where(postings.c.account_id == basis_id)
        ).one()
        all_postings = conn.execute(select(func.count()).select_from(postings)).scalar_one()
        keys = set(conn.scalars(select(journal_entries.c.idempotency_key)))
    assert entries == 1 + len(posted)
    assert tuple(basis_postings) == (1 + len(posted), balance.cents)
    assert all_postings == 2 * (1 + len(posted))
    assert keys == {funding.idempotency_key, *(key for key, _, _, _ in posted)}
    assert ledger.balance_mismatches() == []
    assert ledger.trial_balance().is_balanced


def test_processes_racing_with_the_same_key_post_one_entry_and_all_get_it(database, ledger):
    """A retried bank import in four processes at once: each month's bijstand is booked exactly once."""
    h = open_book(ledger)[1]
    rounds = 8

    reports = run_children(_race, [(database_url(database), h, worker, rounds, False) for worker in range(WORKERS)])

    assert_nothing_else_went_wrong(reports)
    assert [r["conflicts"] for r in reports] == [[]] * WORKERS
    answers = [a for r in reports for a in r["answers"]]
    assert len(answers) == WORKERS * rounds
    with database.engine.connect() as conn:
        stored = dict(conn.execute(select(journal_entries.c.idempotency_key, journal_entries.c.id)).all())
        per_key = Counter(conn.scalars(select(journal_entries.c.idempotency_key)))
    assert len(stored) == rounds and set(per_key.values()) == {1}
    for key, entry_id in stored.items():
        got = [(entry, replayed) for k, entry, replayed in answers if k == key]
        assert {entry for entry, _ in got} == {entry_id}, f"{key}: processes got different entries {got}"
        assert sorted(replayed for _, replayed in got) == [False] + [True] * (WORKERS - 1), key
    assert ledger.balance(h["basis"]) == Money.parse("1254.15") * rounds
    assert ledger.balance_mismatches() == []


def test_processes_racing_with_the_same_key_and_different_amounts_post_one_and_refuse_the_rest(database, ledger):
    """The same key with four different amounts: one is booked, the other three are conflicts naming it."""
    h = open_book(ledger)[1]
    rounds = 4

    reports = run_children(_race, [(database_url(database), h, worker, rounds, True) for worker in range(WORKERS)])

    assert_nothing_else_went_wrong(reports)
    with database.engine.connect() as conn:
        stored = dict(conn.execute(select(journal_entries.c.idempotency_key, journal_entries.c.id)).all())
        basis = conn.execute(select(accounts.c.balance_cents).where(accounts.c.code == h["basis"])).scalar_one()
    assert len(stored) == rounds
    winners_amount = 0
    for key, entry_id in stored.items():
        posted = [(r["worker"], entry, replayed) for r in reports for k, entry, replayed in r["answers"] if k == key]
        conflicts = [existing for r in reports for k, existing in r["conflicts"] if k == key]
        assert [(entry, replayed) for _, entry, replayed in posted] == [(entry_id, False)], key
        assert conflicts == [entry_id] * (WORKERS - 1), key
        winners_amount += Money.parse(f"{1000 + posted[0][0]}.00").cents
    assert basis == winners_amount
    assert ledger.balance_mismatches() == []
