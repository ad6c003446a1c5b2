"""The bulk payment run's ledger reads give exactly what the straightforward reads they replaced gave.

`SqlLedgerStore.entries_of_households`, `balances_of_households` and `_entries_where` (behind `load_entries`
and `iter_entries`) read in parts, turn dates and postings into values once per distinct value, and group
postings as they come. The reference below is the code they replaced, copied as it was, run on the same
connection in the same transaction, over a book with payment runs, a reversal, an entry touching two
households, entries of no household, a draft that was never posted, and several ways of chunking the ids.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields
from datetime import UTC, date, datetime
from operator import attrgetter

import pytest
from registry import BEHEERDER
from scenario_households import income_received
from sqlalchemy import insert, select
from test_payment_runs import CHECKER, RUN_DAY, add_s1

from budget_ledger.adapters.db import ledger_store
from budget_ledger.adapters.db.bootstrap import transactions
from budget_ledger.adapters.db.models import accounts, journal_entries, postings
from budget_ledger.chart import BANK, CLIENT_MONEY, household_code
from budget_ledger.ledger.accounts import AccountType
from budget_ledger.ledger.entries import EntryRequest, EntrySource, PostedEntry, Posting
from budget_ledger.ledger.money import Money

M = Money.parse

# -- the reference: the reads as they were before they were made faster ------------------------------

_REF_ENTRY_COLUMNS = (
    journal_entries.c.id, journal_entries.c.idempotency_key, journal_entries.c.booking_date,
    journal_entries.c.value_date, journal_entries.c.reason, journal_entries.c.actor, journal_entries.c.source,
    journal_entries.c.rule, journal_entries.c.household_id, journal_entries.c.reverses_entry_id,
)
_REF_SOURCES = {source.value: source for source in EntrySource}


def _ref_chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def ref_balances_of_households(conn, household_ids, size=500):
    found = defaultdict(dict)
    signs = {t.value: t.normal_sign for t in AccountType}
    query = select(accounts.c.household_id, accounts.c.code, accounts.c.type, accounts.c.balance_cents)
    for chunk in _ref_chunks(sorted(set(household_ids)), size):
        for household_id, code, kind, cents in conn.execute(
                query.where(accounts.c.household_id.in_(list(chunk)))).all():
            found[household_id][code] = Money(cents * signs[kind])
    return found


def ref_entries_of_households(conn, household_ids, size=500):
    wanted = set(household_ids)
    touching = defaultdict(set)
    loaded = {}
    memo = {}
    for chunk in _ref_chunks(sorted(wanted), size):
        ids = (select(postings.c.entry_id)
               .join(accounts, accounts.c.id == postings.c.account_id)
               .where(accounts.c.household_id.in_(list(chunk))))
        for entry_id, entry in ref_entries_where(conn, journal_entries.c.id.in_(ids), memo,
                                                 touching=touching, households=wanted).items():
            if entry_id not in loaded:
                loaded[entry_id] = entry
    ordered = sorted(loaded.values(), key=attrgetter("booking_date", "id"))
    found = defaultdict(list)
    for entry in ordered:
        for household_id in touching[entry.id]:
            found[household_id].append(entry)
    return found


def ref_entries_where(conn, condition, memo=None, *, touching=None, households=()):
    memo = {} if memo is None else memo
    lines = defaultdict(list)
    posting_query = (
        select(postings.c.entry_id, accounts.c.code, postings.c.amount_cents, accounts.c.household_id)
        .join(accounts, accounts.c.id == postings.c.account_id)
        .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
        .where(condition)
        .order_by(postings.c.id)
    )
    for entry_id, code, cents, household_id in conn.execute(posting_query).all():
        posting = memo.get((code, cents))
        if posting is None:
            posting = memo[(code, cents)] = Posting(code, Money(cents))
        lines[entry_id].append(posting)
        if touching is not None and household_id in households:
            touching[entry_id].add(household_id)
    entries = {}
    for (entry_id, key, booking_date, value_date, reason, actor, source, rule, household_id,
         reverses_entry_id) in conn.execute(
            select(*_REF_ENTRY_COLUMNS).where(condition, journal_entries.c.status == "posted")).all():
        entries[entry_id] = PostedEntry(
            id=entry_id, idempotency_key=key, booking_date=booking_date, value_date=value_date,
            postings=tuple(lines[entry_id]), reason=reason, actor=actor,
            source=_REF_SOURCES.get(source) or EntrySource(source), rule=rule, household_id=household_id,
            reverses_entry_id=reverses_entry_id,
        )
    return entries


# -- comparing, type by type ------------------------------------------------------------------------

def entry_view(entry: PostedEntry) -> tuple:
    """Every field with its exact type: a date that came back as text, or a plain str for an EntrySource,
    must not pass for equal."""
    view = []
    for f in fields(entry):
        value = getattr(entry, f.name)
        if f.name == "postings":
            value = tuple((type(p), type(p.account), p.account, type(p.amount), type(p.amount.cents), p.amount.cents)
                          for p in value)
        view.append((f.name, type(value), value))
    return tuple(view)


def entries_view(found) -> dict:
    return {h: [entry_view(e) for e in found[h]] for h in found}


def balances_view(found) -> dict:
    return {h: {code: (type(m), type(m.cents), m.cents) for code, m in found[h].items()} for h in found}


# -- the book ---------------------------------------------------------------------------------------

@pytest.fixture
def book(services, database):
    """Four S1 households with incomes, two payment runs, one rejected (reversed) instruction, an entry
    between two households, one of no household touching a household, a reversal of a manual entry, a
    household without entries, and a draft that was never posted."""
    households = [add_s1(services, name) for name in ("Yonas Tesfay", "Saba Tesfay", "Amanuel Kidane", "Lidya Haile")]
    first, second, third, fourth = households
    for h in households[:3]:
        services.ledger.post(income_received(h, date(2025, 3, 16), "bijstand", "1281.38"))
    run = services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    huur = next(i for i in services.payment_runs.instructions(run.run_id)
                if i.category == "huur" and i.household_id == second)
    services.payment_runs.reject_instruction(huur.id, CHECKER, "IBAN hoort niet bij de verhuurder", on=RUN_DAY)
    services.payment_runs.start(RUN_DAY, actor=BEHEERDER)
    services.payment_runs.start(date(2025, 4, 1), actor=BEHEERDER)
    between = services.ledger.post(EntryRequest(
        idempotency_key="test:between", booking_date=date(2025, 3, 20), value_date=date(2025, 3, 18),
        postings=(Posting(household_code(first, "vordering", "klant"), M("12.34")),
                  Posting(household_code(third, "vordering", "klant"), M("-12.34")),
                  Posting(household_code(third, "voorschot", "toeslag"), M("-5.00")),
                  Posting(household_code(first, "voorschot", "toeslag"), M("5.00"))),
        reason="Overboeking tussen twee huishoudens", actor=BEHEERDER, source=EntrySource.MANUAL, rule="test"))
    organisation = services.ledger.post(EntryRequest(
        idempotency_key="test:organisation", booking_date=date(2025, 3, 17),
        postings=(Posting(BANK, M("7.00")), Posting(CLIENT_MONEY, M("-3.00")),
                  Posting(household_code(fourth, "voorschot", "toeslag"), M("-4.00"))),
        reason="Zonder huishouden", actor=BEHEERDER, source=EntrySource.MIGRATION))
    services.ledger.reverse(organisation.id, actor=CHECKER, reason="Teruggedraaid", booking_date=date(2025, 3, 18))
    empty = services.households.create({
        "gemeente": "roermond", "permit_type": "asiel", "has_bijstand": True, "bijstand_start": date(2025, 3, 15),
        "housing_date": date(2025, 3, 15), "preferred_language": "ti",
        "members": [{"name": "Zonder Boekingen", "date_of_birth": date(1990, 1, 1), "role": "aanvrager"}]},
        BEHEERDER).household.id

    def add_draft(uow):
        conn = uow.ledger.conn
        conn.execute(insert(journal_entries).values(
            idempotency_key="test:draft", request_hash="0" * 64, status="draft", booking_date=date(2025, 3, 10),
            value_date=date(2025, 3, 10), source="manual", rule=None, actor=BEHEERDER, reason="Nooit geboekt",
            household_id=fourth, reverses_entry_id=None, details=None, created_at=datetime.now(UTC)))
        draft_id = conn.scalar(select(journal_entries.c.id).where(journal_entries.c.idempotency_key == "test:draft"))
        ids = {code: i for i, code in conn.execute(select(accounts.c.id, accounts.c.code))}
        conn.execute(insert(postings), [
            {"entry_id": draft_id, "account_id": ids[household_code(fourth, "basis")], "amount_cents": 100},
            {"entry_id": draft_id, "account_id": ids[household_code(empty, "basis")], "amount_cents": -100}])
        return draft_id

    draft = transactions(database).run(add_draft)
    return {"households": households, "empty": empty, "between": between.id, "organisation": organisation.id,
            "draft": draft}


def read(database, work):
    return transactions(database).run(lambda uow: work(uow.ledger), write=False)


def chunked_by(size):
    def chunks(items, _size=size):
        for start in range(0, len(items), _size):
            yield items[start : start + _size]
    return chunks


ID_LISTS = {
    "all": lambda b: [*b["households"], b["empty"]],
    "reversed with duplicates": lambda b: [*reversed(b["households"]), b["households"][0], b["empty"]],
    "one": lambda b: [b["households"][1]],
    "two touched by one entry": lambda b: [b["households"][0], b["households"][2]],
    "unknown ids too": lambda b: [0, -1, 10**9, b["households"][3], b["empty"]],
    "only unknown ids": lambda b: [0, 10**9],
    "none": lambda b: [],
}


@pytest.mark.parametrize("size", [1, 2, 3, 500])
@pytest.mark.parametrize("which", list(ID_LISTS))
def test_entries_and_balances_of_households_are_what_the_reference_reads(database, book, monkeypatch, size, which):
    ids = ID_LISTS[which](book)
    monkeypatch.setattr(ledger_store, "_chunks", chunked_by(size))

    def work(store):
        return (store.entries_of_households(ids), ref_entries_of_households(store.conn, ids, size),
                store.balances_of_households(ids), ref_balances_of_households(store.conn, ids, size))

    entries, expected_entries, balances, expected_balances = read(database, work)
    assert entries_view(entries) == entries_view(expected_entries)
    assert entries == expected_entries and balances == expected_balances
    assert balances_view(balances) == balances_view(expected_balances)
    assert set(entries) <= set(ids) and set(balances) <= set(ids)
    assert type(entries) is type(expected_entries) and type(balances) is type(expected_balances)
    if which == "all":  # the book really has what this test is about
        first, second, third, fourth = book["households"]
        assert {e.id for e in entries[first]} & {e.id for e in entries[third]} == {book["between"]}
        assert any(e.reverses_entry_id is not None for e in entries[second])
        assert book["organisation"] in {e.id for e in entries[fourth]}
        assert book["draft"] not in {e.id for es in entries.values() for e in es}
        assert book["empty"] not in entries and set(balances[book["empty"]].values()) == {Money(0)}
        assert len({e.booking_date for es in entries.values() for e in es}) > 2


def test_entries_read_by_condition_are_what_the_reference_reads(database, book):
    """`load_entries` and `iter_entries` go through `_entries_where` too."""
    def work(store):
        all_ids = list(store.conn.scalars(select(journal_entries.c.id)))
        conditions = [journal_entries.c.id.in_(all_ids), journal_entries.c.id.in_(all_ids[1::3]),
                      journal_entries.c.id.in_([book["draft"], book["between"], 10**9]), journal_entries.c.id.in_([]),
                      journal_entries.c.household_id == book["households"][0]]
        return [(store._entries_where(c), ref_entries_where(store.conn, c)) for c in conditions], all_ids

    pairs, all_ids = read(database, work)
    assert book["draft"] in all_ids
    for got, expected in pairs:
        assert list(got) == list(expected)  # the same entries in the same order
        assert [entry_view(e) for e in got.values()] == [entry_view(e) for e in expected.values()]
    assert len(pairs[0][0]) == len(all_ids) - 1  # all but the draft


def test_one_household_read_in_bulk_is_its_extract(database, book):
    """The bulk read per household agrees with `iter_entries(household_id=...)`, the one-household read."""
    ids = [*book["households"], book["empty"]]
    bulk = read(database, lambda store: store.entries_of_households(ids))
    for h in ids:
        one = read(database, lambda store, h=h: list(store.iter_entries(household_id=h)))
        assert [entry_view(e) for e in bulk.get(h, [])] == [entry_view(e) for e in one]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # SQLite's query plans
def test_the_chunks_subquery_uses_the_indexes(database, backend):
    """On SQLite the entries of a chunk are found through the indexes on accounts.household_id and
    postings.account_id, and the postings through the one on postings.entry_id: nothing is scanned."""

    def plans(store):
        found = {}
        for name, statement in (("postings", ledger_store._household_postings),
                                ("entries", ledger_store._household_entries),
                                ("balances", ledger_store._household_balances)):
            sql = statement.params(households=[1, 2, 3]).compile(
                dialect=store.conn.dialect, compile_kwargs={"literal_binds": True})
            found[name] = [row[-1] for row in store.conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
        return found

    found = read(database, plans)
    for name, steps in found.items():
        assert not [s for s in steps if s.startswith("SCAN")], (name, steps)
        assert any("ix_accounts_household_id" in s for s in steps), (name, steps)
    assert any("ix_postings_account_id" in s for s in found["entries"])
    assert any("ix_postings_account_id" in s for s in found["postings"])
    assert any("ix_postings_entry_id" in s for s in found["postings"])
    assert not any("TEMP B-TREE" in s for s in found["postings"])  # the index gives the order
