"""The ledger's storage in SQL: SQLAlchemy Core statements on one connection and transaction.

Writes go in three executemany-style statements however many entries there are: drafts inserted with
RETURNING (SQLAlchemy's insertmanyvalues), postings inserted, drafts sealed as posted (the database's
trigger checks each one balances). No ORM object is made per row. On SQLite the drafts, postings and
balance moves go to the driver's executemany (the same SQL and values, see `insert_many_by_driver`) and the
drafts' ids are read back by idempotency key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, String, and_, bindparam, func, insert, select, type_coerce, update

from budget_ledger.adapters.db.driver_inserts import insert_many_by_driver
from budget_ledger.adapters.db.driver_reads import driver_execute, driver_parts
from budget_ledger.adapters.db.memo import Memo
from budget_ledger.adapters.db.models import accounts, journal_entries, postings
from budget_ledger.ledger.accounts import Account, AccountSpec, AccountType
from budget_ledger.ledger.entries import EntryRequest, EntrySource, PostedEntry, Posting
from budget_ledger.ledger.errors import DuplicateAccountError
from budget_ledger.ledger.money import Money
from budget_ledger.ports import AccountLine, BalanceMismatch, KnownKey, LockedAccount

# Well under SQLite's limit on bound parameters, and a sensible IN-list size for PostgreSQL.
_CHUNK = 500

# Statements on the hot path are built once; IN lists use expanding bind parameters.
_insert_posting = insert(postings)
# Matched back by idempotency key (unique) rather than with sort_by_parameter_order, which would make
# SQLAlchemy send one INSERT per row on SQLite.
_insert_entries = insert(journal_entries).returning(journal_entries.c.idempotency_key, journal_entries.c.id)
_seal = update(journal_entries).where(journal_entries.c.id.in_(bindparam("ids", expanding=True))).values(status="posted")
_known_keys = select(journal_entries.c.idempotency_key, journal_entries.c.id, journal_entries.c.request_hash).where(
    journal_entries.c.idempotency_key.in_(bindparam("keys", expanding=True))
)
_reversed = select(journal_entries.c.reverses_entry_id).where(
    journal_entries.c.reverses_entry_id.in_(bindparam("ids", expanding=True))
)
_LOCK_COLUMNS = (accounts.c.id, accounts.c.code, accounts.c.type, accounts.c.no_overdraft, accounts.c.balance_cents)
_accounts_by_code = select(*_LOCK_COLUMNS).where(accounts.c.code.in_(bindparam("codes", expanding=True))).order_by(accounts.c.id)
_accounts_by_code_locked = _accounts_by_code.with_for_update()
_accounts_by_id_locked = (
    select(*_LOCK_COLUMNS).where(accounts.c.id.in_(bindparam("ids", expanding=True))).order_by(accounts.c.id).with_for_update()
)
_accounts_with_codes = select(accounts).where(accounts.c.code.in_(bindparam("codes", expanding=True)))
_insert_account = insert(accounts)
_account_ids_by_code = select(accounts.c.id, accounts.c.code).where(
    accounts.c.code.in_(bindparam("codes", expanding=True)))
_account_ids = select(accounts.c.id).where(accounts.c.code.in_(bindparam("codes", expanding=True)))
_add_balance = (
    update(accounts)
    .where(accounts.c.id == bindparam("account_id"))
    .values(balance_cents=accounts.c.balance_cents + bindparam("delta"))
)

# The same two statements as plain SQL for the driver's executemany (qmark parameters, SQLite).
_INSERT_POSTING_SQL = "INSERT INTO postings (entry_id, account_id, amount_cents) VALUES (?, ?, ?)"
_ADD_BALANCE_SQL = "UPDATE accounts SET balance_cents=(accounts.balance_cents + ?) WHERE accounts.id = ?"


# -- reading entries ----------------------------------------------------------------------------
# The dates are read as the driver hands them over (ISO text on SQLite, `date`s from psycopg; type_coerce
# renders no CAST) and converted once per distinct value by `_dates`: a book has few dates, and the Date
# type's per-value parsing was a measurable share of the bulk run's reads.
_ENTRY_COLUMNS = (
    journal_entries.c.id, journal_entries.c.idempotency_key, type_coerce(journal_entries.c.booking_date, String),
    type_coerce(journal_entries.c.value_date, String), journal_entries.c.reason, journal_entries.c.actor,
    journal_entries.c.source, journal_entries.c.rule, journal_entries.c.household_id,
    journal_entries.c.reverses_entry_id,
)
_POSTING_COLUMNS = (postings.c.entry_id, accounts.c.code, postings.c.amount_cents, accounts.c.household_id)
_SOURCES = {source.value: source for source in EntrySource}
# The entries touching a chunk of households: one condition (the index on accounts.household_id, then the one
# on postings.account_id) that both statements below repeat, instead of lists of entry ids sent back and forth.
# correlate(None): the subquery reads its own postings, never the enclosing statement's.
_households_entry_ids = (
    select(postings.c.entry_id)
    .join(accounts, accounts.c.id == postings.c.account_id)
    .where(accounts.c.household_id.in_(bindparam("households", expanding=True)))
    .correlate(None)
)
# Postings in (entry, posting id) order, so they are grouped per entry as they come (SQLite walks the index on
# postings.entry_id, no sort). The postings of drafts come along and are never used.
_household_postings = (
    select(*_POSTING_COLUMNS)
    .join(accounts, accounts.c.id == postings.c.account_id)
    .where(postings.c.entry_id.in_(_households_entry_ids))
    .order_by(postings.c.entry_id, postings.c.id)
)
_household_entries = select(*_ENTRY_COLUMNS).where(
    journal_entries.c.id.in_(_households_entry_ids), journal_entries.c.status == "posted")
_household_balances = select(
    accounts.c.household_id, accounts.c.code, accounts.c.type, accounts.c.balance_cents
).where(accounts.c.household_id.in_(bindparam("households", expanding=True)))
_BALANCE_SIGNS = {kind.value: kind.normal_sign for kind in AccountType}
_ACCOUNT_TYPES = {kind.value: kind for kind in AccountType}
_PART = 1000  # rows fetched and turned into values at a time


def _dates(dialect) -> Memo[object, date]:  # type: ignore[no-untyped-def]
    """Dates by their raw value, each converted once by the Date type's own result processing on this
    database (none on PostgreSQL, whose driver already returns dates)."""
    process = journal_entries.c.booking_date.type.dialect_impl(dialect).result_processor(dialect, None)
    return Memo((lambda raw: raw) if process is None else process)


def _postings() -> Memo[tuple[str, int], Posting]:
    """Postings by (account code, cents). A posting is an immutable value: one read many times (the same
    amount on the same account, month after month) is built and validated once, and so is each amount."""
    amounts: Memo[int, Money] = Memo(Money)
    return Memo(lambda key: Posting(key[0], amounts[key[1]]))


class _EntryReader:
    """Builds PostedEntry values from results of `_POSTING_COLUMNS` and `_ENTRY_COLUMNS`, with one memo of dates
    and postings for all the statements of one read.

    Results are consumed `_PART` rows at a time rather than all at once: the rows then die young, so the
    garbage collector does not carry tens of thousands of them into its oldest generation (whose collections
    get dearer the more a process holds; this was a large share of the bulk run's reading time)."""

    def __init__(self, dialect, households: Collection[int] = ()) -> None:  # type: ignore[no-untyped-def]
        self.dates = _dates(dialect)
        self.postings = _postings()
        self.households = households
        self.touching: dict[int, set[int]] = defaultdict(set)
        """Entry id → the ones of `households` whose accounts it touches."""

    def lines(self, parts: Iterable[Sequence[Any]]) -> dict[int, list[Posting]]:
        """Each entry's postings, from rows in posting-id order within each entry (an entry's rows together,
        as ordered by (entry id, posting id), so its list is looked up once per entry, not once per row)."""
        memo, households, touching = self.postings, self.households, self.touching
        lines: dict[int, list[Posting]] = {}
        current: int | None = None
        group: list[Posting] = []
        for part in parts:
            for entry_id, code, cents, household_id in part:
                if entry_id != current:
                    current = entry_id
                    group = lines.setdefault(entry_id, [])
                group.append(memo[code, cents])
                if household_id in households:
                    touching[entry_id].add(household_id)
        return lines

    def entries(self, parts: Iterable[Sequence[Any]], lines: Mapping[int, list[Posting]]) -> Iterator[PostedEntry]:
        dates, sources = self.dates, _SOURCES
        for part in parts:
            for (entry_id, key, booking_date, value_date, reason, actor, source, rule, household_id,
                 reverses_entry_id) in part:
                yield PostedEntry(
                    id=entry_id,
                    idempotency_key=key,
                    booking_date=dates[booking_date],
                    value_date=dates[value_date],
                    postings=tuple(lines.get(entry_id, ())),
                    reason=reason,
                    actor=actor,
                    source=sources.get(source) or EntrySource(source),
                    rule=rule,
                    household_id=household_id,
                    reverses_entry_id=reverses_entry_id,
                )


_entry_ids_by_key = select(journal_entries.c.idempotency_key, journal_entries.c.id).where(
    journal_entries.c.idempotency_key.in_(bindparam("keys", expanding=True))
)
def _settings(account: Account | AccountSpec) -> tuple[object, ...]:
    """What must agree when an account is opened again."""
    return (account.name, account.type, account.household_id, account.no_overdraft)


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _household_postings_on(code: str, *columns: Any) -> Any:
    """`columns` of the posted postings on the account `code`, joined to their entries, in entry order."""
    return (select(*columns)
            .join(postings, postings.c.entry_id == journal_entries.c.id)
            .join(accounts, accounts.c.id == postings.c.account_id)
            .where(accounts.c.code == code, journal_entries.c.status == "posted")
            .order_by(journal_entries.c.id, postings.c.id))


def _account(row) -> Account:  # type: ignore[no-untyped-def]
    return Account(
        id=row.id,
        code=row.code,
        name=row.name,
        type=AccountType(row.type),
        household_id=row.household_id,
        no_overdraft=row.no_overdraft,
        balance=Money(row.balance_cents),
    )


class SqlLedgerStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._lock_rows = conn.dialect.name == "postgresql"
        # On SQLite the integer-only bulk statements (postings, balance moves) go straight to the driver's
        # executemany: the same statement and rows in the same order, without SQLAlchemy's per-row parameter
        # processing (there is none to do for integers).
        self._driver_many = conn.dialect.name == "sqlite" and conn.dialect.paramstyle == "qmark"

    # -- accounts -----------------------------------------------------------------------------

    def open_account(self, spec: AccountSpec) -> Account:
        return self.open_accounts([spec])[0]

    def open_accounts(self, specs: Sequence[AccountSpec]) -> list[Account]:
        """The accounts of `specs`, in order: an existing one is returned, a new one opened (one read for
        those that exist, one executemany for the rest). An account that exists, or that an earlier spec
        of the same call opens, must have the spec's settings."""
        if not specs:
            return []
        found: dict[str, Account | AccountSpec] = {}
        for chunk in _chunks(sorted({spec.code for spec in specs})):
            for row in self.conn.execute(_accounts_with_codes, {"codes": list(chunk)}):
                found[row.code] = _account(row)
        opened: dict[str, AccountSpec] = {}
        for spec in specs:
            known = found.setdefault(spec.code, spec)
            if known is spec:
                opened[spec.code] = spec
            elif _settings(known) != _settings(spec):
                raise DuplicateAccountError(f"account {spec.code} already exists with different settings",
                                            field="code")
        if opened:
            now = datetime.now(UTC)
            self.conn.execute(_insert_account, [
                {"code": spec.code, "name": spec.name, "type": spec.type.value, "household_id": spec.household_id,
                 "no_overdraft": spec.no_overdraft, "balance_cents": 0, "created_at": now}
                for spec in opened.values()
            ])
            for chunk in _chunks(list(opened)):
                for account_id, code in self.conn.execute(_account_ids_by_code, {"codes": list(chunk)}):
                    spec = opened[code]
                    found[code] = Account(account_id, code, spec.name, spec.type, spec.household_id,
                                          spec.no_overdraft, Money(0))
        return [found[spec.code] for spec in specs]  # type: ignore[misc]

    def account(self, code: str) -> Account | None:
        row = self.conn.execute(select(accounts).where(accounts.c.code == code)).one_or_none()
        return _account(row) if row is not None else None

    def accounts(self, *, household_id: int | None = None) -> list[Account]:
        query = select(accounts).order_by(accounts.c.code)
        if household_id is not None:
            query = query.where(accounts.c.household_id == household_id)
        return [_account(row) for row in self.conn.execute(query)]

    def lock_accounts(self, codes: Collection[str]) -> dict[str, LockedAccount]:
        """Read the accounts' rows; on PostgreSQL lock them, always in id order so writers never deadlock.

        On SQLite the transaction already holds the database's write lock (BEGIN IMMEDIATE).
        """
        found: dict[str, LockedAccount] = {}
        ordered = sorted(set(codes))
        if self._lock_rows and len(ordered) > _CHUNK:
            # Locks must be taken in one global order: resolve ids first, then lock by id ranges.
            ids = sorted(i for chunk in _chunks(ordered) for i in self.conn.scalars(_account_ids, {"codes": list(chunk)}))
            batches = [(_accounts_by_id_locked, {"ids": list(chunk)}) for chunk in _chunks(ids)]
        else:
            query = _accounts_by_code_locked if self._lock_rows else _accounts_by_code
            batches = [(query, {"codes": list(chunk)}) for chunk in _chunks(ordered)]
        types = _ACCOUNT_TYPES
        for query, params in batches:
            for part in driver_parts(self.conn, query, params, _PART):
                for account_id, code, kind, no_overdraft, balance_cents in part:
                    # (SQLite hands a boolean over as 0 or 1)
                    found[code] = LockedAccount(account_id, code, types[kind], bool(no_overdraft), balance_cents)
        return found

    def add_to_balances(self, deltas: Mapping[int, int]) -> None:
        if self._driver_many:
            moves = [(delta, account_id) for account_id, delta in sorted(deltas.items()) if delta]
            if moves:
                self.conn.exec_driver_sql(_ADD_BALANCE_SQL, moves)
            return
        rows = [{"account_id": account_id, "delta": delta} for account_id, delta in sorted(deltas.items()) if delta]
        if rows:
            self.conn.execute(_add_balance, rows)

    # -- entries ------------------------------------------------------------------------------

    def known_keys(self, keys: Collection[str]) -> dict[str, KnownKey]:
        found: dict[str, KnownKey] = {}
        for chunk in _chunks(sorted(set(keys))):
            for part in driver_parts(self.conn, _known_keys, {"keys": list(chunk)}, _PART):
                for key, entry_id, request_hash in part:
                    found[key] = KnownKey(entry_id, request_hash)
        return found

    def reversed_entry_ids(self, entry_ids: Collection[int]) -> set[int]:
        reversed_ids: set[int] = set()
        for chunk in _chunks(sorted(set(entry_ids))):
            reversed_ids.update(self.conn.scalars(_reversed, {"ids": list(chunk)}))
        return reversed_ids

    def write_entries(
        self, requests: Sequence[EntryRequest], hashes: Sequence[str], accounts_by_code: Mapping[str, LockedAccount]
    ) -> list[int]:
        if not requests:
            return []
        now = datetime.now(UTC)
        entry_rows = [
            {
                "idempotency_key": r.idempotency_key,
                "request_hash": h,
                "status": "draft",
                "booking_date": r.booking_date,
                "value_date": r.effective_value_date,
                "source": r.source.value,
                "rule": r.rule,
                "actor": r.actor,
                "reason": r.reason,
                "household_id": r.household_id,
                "reverses_entry_id": r.reverses_entry_id,
                "details": dict(r.metadata) or None,
                "created_at": now,
            }
            for r, h in zip(requests, hashes, strict=True)
        ]
        if insert_many_by_driver(self.conn, journal_entries, entry_rows):  # SQLite and psycopg: the driver
            ids_by_key: dict[str, int] = {}
            for chunk in _chunks([r.idempotency_key for r in requests]):
                for part in driver_parts(self.conn, _entry_ids_by_key, {"keys": list(chunk)}, _PART):
                    ids_by_key.update(part)
        else:
            ids_by_key = dict(self.conn.execute(_insert_entries, entry_rows).all())
        ids = [ids_by_key[r.idempotency_key] for r in requests]
        if self._driver_many:
            self.conn.exec_driver_sql(_INSERT_POSTING_SQL, [
                (entry_id, accounts_by_code[p.account].id, p.amount.cents)
                for entry_id, r in zip(ids, requests, strict=True)
                for p in r.postings
            ])
        else:
            posting_rows = [
                {"entry_id": entry_id, "account_id": accounts_by_code[p.account].id, "amount_cents": p.amount.cents}
                for entry_id, r in zip(ids, requests, strict=True)
                for p in r.postings
            ]
            self.conn.execute(_insert_posting, posting_rows)
        for chunk in _chunks(ids):
            driver_execute(self.conn, _seal, {"ids": list(chunk)})
        return ids

    def load_entries(self, entry_ids: Collection[int]) -> dict[int, PostedEntry]:
        loaded: dict[int, PostedEntry] = {}
        for chunk in _chunks(sorted(set(entry_ids))):
            loaded.update(self._entries_where(journal_entries.c.id.in_(chunk)))
        return loaded

    def iter_entries(
        self, *, household_id: int | None = None, date_from: date | None = None, date_to: date | None = None
    ) -> Iterator[PostedEntry]:
        conditions = [journal_entries.c.status == "posted"]
        if date_from is not None:
            conditions.append(journal_entries.c.booking_date >= date_from)
        if date_to is not None:
            conditions.append(journal_entries.c.booking_date <= date_to)
        if household_id is not None:
            touching = (
                select(postings.c.entry_id)
                .join(accounts, accounts.c.id == postings.c.account_id)
                .where(accounts.c.household_id == household_id)
            )
            conditions.append(journal_entries.c.id.in_(touching))
        ids = list(
            self.conn.scalars(
                select(journal_entries.c.id).where(and_(*conditions)).order_by(
                    journal_entries.c.booking_date, journal_entries.c.id
                )
            )
        )
        for chunk in _chunks(ids, 2000):
            batch = self._entries_where(journal_entries.c.id.in_(chunk))
            for entry_id in chunk:
                yield batch[entry_id]

    def amounts_by_household(self, code: str, household_id: int | None = None) -> dict[int, list[Money]]:
        """The posted amounts on one organisation account per household the entry is for (its household_id),
        in entry order: what a receivable holds for each household (or for one), and what made it up."""
        e = journal_entries.c
        query = _household_postings_on(code, e.household_id, postings.c.amount_cents).where(e.household_id.is_not(None))
        if household_id is not None:
            query = query.where(e.household_id == household_id)
        found: dict[int, list[Money]] = defaultdict(list)
        for household_id, cents in self.conn.execute(query).all():
            found[household_id].append(Money(cents))
        return dict(found)

    def lines_by_household(self, code: str, household_ids: Collection[int]) -> dict[int, list[AccountLine]]:
        """`amounts_by_household` for some households, with each entry's id, date, reason and what it reverses:
        how a receivable came about, for telling which part of it has been open longest
        (budget_ledger/inleg_warnings.py)."""
        found: dict[int, list[AccountLine]] = defaultdict(list)
        e = journal_entries.c
        for chunk in _chunks(sorted(set(household_ids))):
            query = _household_postings_on(code, e.id, e.household_id, e.booking_date, postings.c.amount_cents,
                                           e.reason, e.reverses_entry_id).where(e.household_id.in_(list(chunk)))
            for entry_id, household_id, booked, cents, reason, reverses in self.conn.execute(query).all():
                found[household_id].append(AccountLine(entry_id, household_id, booked, Money(cents), reason, reverses))
        return dict(found)

    def balances_of_households(self, household_ids: Collection[int]) -> dict[int, dict[str, Money]]:
        """Each household's account balances (code → balance seen from the account's normal side), for
        many households in one go (the bulk payment run). Most balances repeat (zero, a fixed amount), so
        each distinct amount is one Money; rows are consumed a part at a time (see `_EntryReader`)."""
        found: dict[int, dict[str, Money]] = defaultdict(dict)
        amounts: Memo[int, Money] = Memo(Money)
        signs = _BALANCE_SIGNS
        for chunk in _chunks(sorted(set(household_ids))):
            for part in driver_parts(self.conn, _household_balances, {"households": list(chunk)}, _PART):
                for household_id, code, kind, cents in part:
                    found[household_id][code] = amounts[cents * signs[kind]]
        return found

    def entries_of_households(self, household_ids: Collection[int]) -> dict[int, list[PostedEntry]]:
        """Each household's posted entries (those touching its accounts), in booking order, for many
        households in one go: what `iter_entries(household_id=...)` gives for one.

        Per chunk of households two statements select by one condition (a subquery on the chunk's accounts):
        the postings, in entry order, then the entries. Which of the households an entry touches is read off
        its postings' accounts (all of an entry's postings are read, so an entry touching households of two
        chunks is complete in either)."""
        wanted = set(household_ids)
        reader = _EntryReader(self.conn.dialect, wanted)
        loaded: dict[int, PostedEntry] = {}
        for chunk in _chunks(sorted(wanted)):
            params = {"households": list(chunk)}
            lines = reader.lines(driver_parts(self.conn, _household_postings, params, _PART))
            for entry in reader.entries(driver_parts(self.conn, _household_entries, params, _PART), lines):
                loaded.setdefault(entry.id, entry)
        found: dict[int, list[PostedEntry]] = defaultdict(list)
        touching = reader.touching
        for entry in sorted(loaded.values(), key=attrgetter("booking_date", "id")):
            for household_id in touching[entry.id]:
                found[household_id].append(entry)
        return found

    def _entries_where(self, condition) -> dict[int, PostedEntry]:  # type: ignore[no-untyped-def]
        """The posted entries matching `condition` (on journal_entries), with their postings in id order."""
        reader = _EntryReader(self.conn.dialect)
        lines = reader.lines(self.conn.execute(
            select(*_POSTING_COLUMNS)
            .join(accounts, accounts.c.id == postings.c.account_id)
            .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
            .where(condition)
            .order_by(postings.c.entry_id, postings.c.id)
        ).partitions(_PART))
        entry_rows = self.conn.execute(
            select(*_ENTRY_COLUMNS).where(condition, journal_entries.c.status == "posted")).partitions(_PART)
        return {entry.id: entry for entry in reader.entries(entry_rows, lines)}

    # -- balances -----------------------------------------------------------------------------

    def balances_as_of(self, as_of: date, *, household_id: int | None = None) -> dict[str, int]:
        query = (
            select(accounts.c.code, func.coalesce(func.sum(postings.c.amount_cents), 0))
            .select_from(postings)
            .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
            .join(accounts, accounts.c.id == postings.c.account_id)
            .where(journal_entries.c.status == "posted", journal_entries.c.booking_date <= as_of)
            .group_by(accounts.c.code)
        )
        if household_id is not None:
            query = query.where(accounts.c.household_id == household_id)
        return {code: int(total) for code, total in self.conn.execute(query)}

    def balance_mismatches(self) -> list[BalanceMismatch]:
        sums = (
            select(postings.c.account_id, func.sum(postings.c.amount_cents).label("total"))
            .join(journal_entries, journal_entries.c.id == postings.c.entry_id)
            .where(journal_entries.c.status == "posted")
            .group_by(postings.c.account_id)
            .subquery()
        )
        query = (
            select(accounts.c.code, accounts.c.balance_cents, func.coalesce(sums.c.total, 0))
            .select_from(accounts.outerjoin(sums, sums.c.account_id == accounts.c.id))
            .where(accounts.c.balance_cents != func.coalesce(sums.c.total, 0))
            .order_by(accounts.c.code)
        )
        return [BalanceMismatch(code, stored, int(computed)) for code, stored, computed in self.conn.execute(query)]
