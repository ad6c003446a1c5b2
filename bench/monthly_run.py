"""Benchmark: one monthly payment run end to end for N households, against a raw sqlite3 floor.

    python bench/monthly_run.py [--households 10000] [--run-date 2025-06-02] [--chunk 500]

What it sets up (untimed, each phase's time is printed), on a fresh database created by the Alembic migrations:

* templates: six households entered through the real services (`adapters.db.bootstrap.services`), as
  tests/scenario_households.py and tests/registry.py do: six gemeenten with the rule profiles in
  config/profiles (roermond, westfriesland, tilburg, deventer, aalten, doetinchem), singles, couples and
  families with children, creditors for huur, zorgverzekering, energie and water (valid IBANs, free text,
  betalingskenmerk and RF references), bijstand and a toeslag (one waiting on the zorgverzekering's polis
  start), profile overrides, a client leefgeld IBAN, begeleiders; every trajectory started and activated,
  all from 2025-04-01.
* clones: the registry rows of the templates copied for N households by SQLAlchemy Core executemany with
  explicit ids (max(id)+1 onward; PostgreSQL's sequences are set afterwards). Which tables belong to a
  household is read from the metadata (adapters/db/*_tables.py): every table with a foreign key to
  households, or to a table cloned before it, except payment, budgetplan and warning tables; plus each
  household's ledger accounts (`huishouden:<id>:...`, balance 0). Household i (0-based) is a copy of
  template i % 6; households 0..5 are the templates themselves.
* history: the income each household should have had by then, as the bank brings it
  (`LedgerService.post_many`, entries shaped like tests/scenario_households.py `bank_in`: the
  inrichtingskrediet on 2025-04-01 where the template has one, then each payment of
  `IncomeService.payments_until`, e.g. bijstand for April on 2025-05-02, the first toeslag with its
  back-payment on 2025-05-20), and the real payment runs (`PaymentRunService.start`) on the first business
  day of every month from April up to the timed run: 2025-04-01 and 2025-05-02 ("earlier runs", timed and
  printed too). Each run comes after the income that arrived by its day.

What it measures:

* the timed run (SQLite, and PostgreSQL when configured): `PaymentRunService.start(--run-date)` over all
  households, built as `PaymentRunService(transactions(database), planning, clock, four_eyes=..,
  chunk_size=--chunk)`: reading the registry and the book, planning (the rules engine), posting through the
  ledger's bulk path and writing the payment instructions, one transaction per chunk of households.
  Households/s is households processed / seconds; entries/s is the journal entries that run posted / seconds.
  The process's CPU time during the run is printed beside the wall time (on a shared machine the difference
  is waiting: fsync, the PostgreSQL server, other processes), with the load average when the run ended.
* floor (SQLite): the SQLite file is copied just before the timed run (engine disposed, WAL checkpointed,
  sqlite3 backup). After the run, the rows it wrote are read back (accounts it opened, journal entries and
  their postings, the payment_runs row, the instructions, the balance changes) and written into the copy
  with the plain `sqlite3` module in the same shape: the run row inserted, then one transaction per chunk of
  households as the run has them (BEGIN IMMEDIATE; new accounts; entries inserted as draft by executemany;
  postings by executemany; the seal as `UPDATE journal_entries SET status='posted' WHERE id IN (...)` in
  chunks of 500; balance UPDATEs by executemany; instructions by executemany; COMMIT), then the run row's
  report and end, with the PRAGMAs of the service's engine (adapters/db/engine.py). The rows are prepared
  before the clock starts, so the floor is database work only. The ratio printed is run time / floor time
  (the issue's goal: at most 3x, and 100,000 households in under 60 s on SQLite).

Checks (the exit status is 1 when one fails; no timing is asserted, the figures are only printed): after
the timed run on every database, the trial balance is balanced, no stored balance differs from its
postings (`LedgerService.balance_mismatches`), no client-money (no-overdraft) account is below zero, no
obligation has two instructions that are not rejected, the run failed no household, its instructions are
exactly its entries that send money out (one each), and the report agrees with the database; the floor
database must equal the run's, row by row, in the tables the run wrote.

PostgreSQL: when BUDGET_LEDGER_DATABASE_URL (or --postgres URL) is a postgresql URL, the set-up, the runs
and the checks are repeated on a fresh database bench_<random> on that server (the user must be allowed to
CREATE DATABASE), dropped at the end. There is no floor on PostgreSQL.

BENCH_PROFILE=FILE runs the timed run under cProfile and writes its stats to FILE (for `python -m pstats`);
the figures of such a run are the profiler's, not the product's.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import pkgutil
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO / "config"

try:
    import sqlalchemy
    from sqlalchemy import Table, create_engine, func, insert, select, text
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy.engine import make_url

    import budget_ledger.adapters.db as db_package
    import budget_ledger.adapters.db.registry_tables as registry_tables
    from budget_ledger.adapters.db.bootstrap import chunk_planners, transactions
    from budget_ledger.adapters.db.bootstrap import services as make_services
    from budget_ledger.adapters.db.engine import Database
    from budget_ledger.adapters.db.migrate import upgrade
    from budget_ledger.adapters.db.models import Base, accounts
    from budget_ledger.chart import BANK, CLIENT_MONEY, IN_TRANSIT, household_code, organisation_accounts
    from budget_ledger.clock import system_clock
    from budget_ledger.creditors import NewCreditor
    from budget_ledger.ledger.entries import EntryRequest, EntrySource, Posting
    from budget_ledger.ledger.money import Money
    from budget_ledger.payment_calendar import DEFAULT_CALENDAR
    from budget_ledger.payment_runs import PaymentRunService, RunReport
    from budget_ledger.services import Services
    from budget_ledger.settings import load_settings
except ImportError as exc:  # pragma: no cover - only on a venv without the project installed
    sys.exit(
        f"cannot import budget_ledger ({exc}); run this with the project's venv after `pip install -e .`:\n"
        "    .venv/bin/python bench/monthly_run.py"
    )

# Every table module (adapters/db/*_tables.py) into the metadata, so the clone sees every household table.
for _module in pkgutil.iter_modules(db_package.__path__):
    if _module.name.endswith("_tables"):
        importlib.import_module(f"{db_package.__name__}.{_module.name}")

PG_URL_ENV = "BUDGET_LEDGER_DATABASE_URL"
SEAL_CHUNK = 500  # the chunk size of the bulk path's seal UPDATE (adapters/db/ledger_store.py, _CHUNK)
CLONE_CHUNK = 1_000  # households per executemany round while cloning
POST_BATCH = 10_000  # entries per post_many call for the history
START = date(2025, 4, 1)
RUN_DATE = date(2025, 6, 2)
BEHEERDER = "beheerder.anna"
ACTOR = "bench"
ISSUE_GOAL_SECONDS_PER_100K = 60.0
ISSUE_GOAL_RATIO = 3.0
MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip


# -- the template households ----------------------------------------------------------------------


def nl_iban(bank: str, account: str) -> str:
    """A Dutch IBAN with correct check digits (ISO 13616 mod 97) for a bank code and a 10-digit number."""
    bban = bank + account.rjust(10, "0")
    digits = "".join(str(int(c, 36)) for c in bban + "NL00")
    return f"NL{98 - int(digits) % 97:02d}{bban}"


@dataclass(frozen=True)
class Creditor:
    organisation: str
    category: str
    amount: str
    iban: str
    reference_kind: str = "vrij"
    reference: str = ""
    address: dict[str, str] | None = None


@dataclass(frozen=True)
class Template:
    label: str
    gemeente: str
    members: tuple[tuple[str, date, str], ...]
    creditors: tuple[Creditor, ...]
    incomes: tuple[dict[str, Any], ...]
    """Service input of IncomeService.add; "depends_on": <category> names the creditor a toeslag waits on."""
    language: str = "ar"
    krediet: str | None = None
    overrides: dict[str, Any] | None = None
    leefgeld_iban: str | None = None
    begeleiders: tuple[str, ...] = ()


GEMEENTEN = (
    # code, name, rule profile, repayment IBAN (krediet aflossing goes to the gemeente) or None
    ("roermond", "Roermond", "roermond", nl_iban("RABO", "0300065264")),
    ("hoorn", "Hoorn", "westfriesland", None),
    ("tilburg", "Tilburg", "tilburg", None),
    ("deventer", "Deventer", "deventer", nl_iban("BNGH", "0285001234")),
    ("aalten", "Aalten", "aalten", nl_iban("BNGH", "0285004321")),
    ("doetinchem", "Doetinchem", "doetinchem", None),
)

TEMPLATES: tuple[Template, ...] = (
    Template(
        "single, Roermond (S1-like: krediet bridges, first rent as gift)",
        "roermond",
        (("Yonas Tesfay", date(1998, 6, 1), "aanvrager"),),
        (
            Creditor(
                "Woonstichting Roermond",
                "huur",
                "650.00",
                nl_iban("ABNA", "0417164300"),
                "vrij",
                "Huur Kloosterstraat 12",
                {
                    "street_name": "Kloosterstraat",
                    "building_number": "12",
                    "postcode": "6041 AB",
                    "town": "Roermond",
                    "country": "NL",
                },
            ),
            Creditor(
                "Zorgverzekeraar U.A.",
                "zorgverzekering",
                "150.00",
                nl_iban("INGB", "0001234567"),
                "betalingskenmerk",
                "5000056789012345",
            ),
            Creditor(
                "Energie B.V.", "energie", "180.00", nl_iban("ABNA", "0417164301"), "rf", "RF18539007547034"
            ),
            Creditor("Waterleiding Limburg", "water", "24.50", nl_iban("INGB", "0006543210")),
        ),
        (
            {"source": "bijstand", "amount": "1281.38"},
            {"source": "zorgtoeslag", "amount": "131.00", "first_expected_on": date(2025, 5, 20)},
        ),
        language="ti",
        krediet="3500.00",
        begeleiders=("mb.sara",),
    ),
    Template(
        "couple, Hoorn (Westfriesland: huur and zorg only; zorgtoeslag waits on the polis)",
        "hoorn",
        (("Samir Haddad", date(1990, 2, 1), "aanvrager"), ("Lina Haddad", date(1992, 7, 9), "partner")),
        (
            Creditor("Woonstichting Hoorn", "huur", "780.00", nl_iban("ABNA", "0417164302")),
            Creditor("Zorgverzekeraar Noord", "zorgverzekering", "300.00", nl_iban("ABNA", "0417164303")),
            Creditor("Energie Noord", "energie", "220.00", nl_iban("ABNA", "0417164305")),
            Creditor("PWN Water", "water", "31.20", nl_iban("RABO", "0123456789")),
        ),
        (
            {"source": "bijstand", "amount": "1830.54"},
            {"source": "zorgtoeslag", "amount": "262.00", "depends_on": "zorgverzekering"},
        ),
        language="ar",
        begeleiders=("mb.joost",),
    ),
    Template(
        "family of four, Tilburg (regime geen: incasso by the client)",
        "tilburg",
        (
            ("Abdi Warsame", date(1985, 3, 12), "aanvrager"),
            ("Hodan Warsame", date(1987, 11, 30), "partner"),
            ("Ayaan Warsame", date(2015, 5, 4), "kind"),
            ("Nuur Warsame", date(2019, 9, 17), "kind"),
        ),
        (
            Creditor("Tiwos", "huur", "720.00", nl_iban("INGB", "0007654321")),
            Creditor("Zorgverzekeraar Zuid", "zorgverzekering", "300.00", nl_iban("RABO", "0144556677")),
            Creditor("Energie Zuid", "energie", "210.00", nl_iban("ABNA", "0417164306")),
            Creditor("Brabant Water", "water", "28.00", nl_iban("INGB", "0009988776")),
        ),
        (
            {"source": "bijstand", "amount": "1830.54"},
            {"source": "kindgebonden-budget", "amount": "390.00", "first_expected_on": date(2025, 5, 20)},
        ),
        language="so",
    ),
    Template(
        "single, Deventer (krediet bridges, toeslag advance, two toeslagen)",
        "deventer",
        (("Mariam Yohannes", date(2000, 1, 20), "aanvrager"),),
        (
            Creditor(
                "Woonbedrijf Ieder1", "huur", "575.00", nl_iban("ABNA", "0123456789"), "vrij", "Huur Brink 7"
            ),
            Creditor("Zorgverzekeraar Oost", "zorgverzekering", "145.00", nl_iban("INGB", "0001234568")),
            Creditor("Energie Oost", "energie", "160.00", nl_iban("ABNA", "0417164307")),
            Creditor("Vitens", "water", "22.40", nl_iban("RABO", "0167891234")),
        ),
        (
            {"source": "bijstand", "amount": "1281.38"},
            {"source": "zorgtoeslag", "amount": "131.00", "first_expected_on": date(2025, 5, 20)},
            {"source": "huurtoeslag", "amount": "280.00", "first_expected_on": date(2025, 5, 20)},
        ),
        language="ti",
        krediet="2800.00",
        begeleiders=("mb.sara", "mb.joost"),
    ),
    Template(
        "couple with a child, Aalten (krediet, reserveringen, aflossing)",
        "aalten",
        (
            ("Omar Nasser", date(1982, 8, 8), "aanvrager"),
            ("Rana Nasser", date(1986, 4, 2), "partner"),
            ("Yara Nasser", date(2017, 12, 1), "kind"),
        ),
        (
            Creditor("De Woonplaats", "huur", "690.00", nl_iban("ABNA", "0417164308")),
            Creditor(
                "Zorgverzekeraar Achterhoek", "zorgverzekering", "300.00", nl_iban("INGB", "0001234569")
            ),
            Creditor("Energie Achterhoek", "energie", "240.00", nl_iban("ABNA", "0417164309")),
            Creditor("Vitens", "water", "29.90", nl_iban("RABO", "0167891234")),
        ),
        (
            {"source": "bijstand", "amount": "1830.54"},
            {"source": "zorgtoeslag", "amount": "262.00", "first_expected_on": date(2025, 5, 20)},
            {"source": "kindgebonden-budget", "amount": "210.00", "conditions_met_on": START},
        ),
        language="ar",
        krediet="3000.00",
    ),
    Template(
        "single parent with two children, Doetinchem (weekly fixed leefgeld to the client's IBAN)",
        "doetinchem",
        (
            ("Saba Kidane", date(1991, 10, 5), "aanvrager"),
            ("Eden Kidane", date(2016, 2, 14), "kind"),
            ("Filmon Kidane", date(2020, 7, 22), "kind"),
        ),
        (
            Creditor("Site Woondiensten", "huur", "640.00", nl_iban("ABNA", "0417164310")),
            Creditor("Zorgverzekeraar Gelre", "zorgverzekering", "150.00", nl_iban("INGB", "0001234570")),
            Creditor("Energie Gelre", "energie", "200.00", nl_iban("ABNA", "0417164311")),
            Creditor("Vitens", "water", "26.10", nl_iban("RABO", "0167891234")),
        ),
        (
            {"source": "bijstand", "amount": "1830.54"},
            {"source": "kindgebonden-budget", "amount": "450.00", "first_expected_on": date(2025, 5, 20)},
        ),
        language="ti",
        overrides={"leefgeld": {"frequency": "weekly", "weekday": 1, "mode": "fixed", "amount": "60.00"}},
        leefgeld_iban=nl_iban("INGB", "0005556667"),
    ),
)


def create_templates(services: Services, templates: Sequence[Template]) -> list[int]:
    """The template households through the services, as a budgetbeheerder would enter them."""
    services.ledger.open_accounts(organisation_accounts())
    made = set()
    for code, name, profile, repayment_iban in GEMEENTEN:
        if not any(t.gemeente == code for t in templates):
            continue
        settings: dict[str, Any] = {"rule_profile": profile}
        if repayment_iban:
            settings |= {
                "repayment_iban": repayment_iban,
                "repayment_account_holder_name": f"Gemeente {name}",
            }
        services.gemeenten.create({"code": code, "name": name, "settings": settings}, BEHEERDER)
        made.add(code)
    ids = []
    for template in templates:
        h = services.households.create(
            {
                "gemeente": template.gemeente,
                "permit_type": "asiel",
                "has_bijstand": True,
                "bijstand_start": START,
                "housing_date": START,
                "preferred_language": template.language,
                "begeleiders": list(template.begeleiders),
                "members": [
                    {"name": n, "date_of_birth": born, "role": role} for n, born, role in template.members
                ],
            },
            BEHEERDER,
        ).household.id
        if template.overrides:
            services.profiles.assign(
                h,
                {
                    "valid_from": START,
                    "profile": None,
                    "overrides": template.overrides,
                    "reason": f"bench: {template.label}",
                },
                BEHEERDER,
            )
        creditor_ids: dict[str, int] = {}
        for c in template.creditors:
            data: dict[str, Any] = {
                "organisation": c.organisation,
                "account_holder_name": c.organisation,
                "iban": c.iban,
                "category": c.category,
                "reference_kind": c.reference_kind,
                "reference": c.reference or f"{c.category} {c.organisation}",
                "schedule": {"amount": c.amount, "frequency": "monthly", "day": 1, "valid_from": START},
            }
            if c.address is not None and "address" in NewCreditor.model_fields:  # addresses are new (0009)
                data["address"] = c.address
            creditor_ids.setdefault(c.category, services.creditors.add(h, data, BEHEERDER).id)
        for income in template.incomes:
            data = dict(income)
            if "depends_on" in data:
                data["depends_on_creditor_id"] = creditor_ids[data.pop("depends_on")]
            elif "conditions_met_on" not in data:
                data.setdefault("entitlement_from", START)
            services.income.add(h, data, BEHEERDER)
        if template.leefgeld_iban and hasattr(services.households, "set_leefgeld_account"):
            services.households.set_leefgeld_account(
                h, {"iban": template.leefgeld_iban, "account_holder_name": template.members[0][0]}, BEHEERDER
            )
        trajectory = services.trajectories.start(h, {}, BEHEERDER)
        services.trajectories.activate(trajectory.id, BEHEERDER)
        ids.append(h)
    return ids


# -- income as the bank brings it -----------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """Money arriving at the bank for a household: `bank_in` of tests/scenario_households.py."""

    on: date
    key: str
    debit: tuple[str, ...]
    credit: tuple[str, ...]
    cents: int
    reason: str

    def request(self, h: int) -> EntryRequest:
        money = Money(self.cents)
        return EntryRequest(
            idempotency_key=f"bank:{h}:{self.key}",
            booking_date=self.on,
            reason=self.reason,
            actor="bank-import",
            source=EntrySource.BANK_IMPORT,
            household_id=h,
            postings=(
                Posting(household_code(h, *self.debit), money),
                Posting(household_code(h, *self.credit), -money),
                Posting(BANK, money),
                Posting(CLIENT_MONEY, -money),
            ),
        )


def arrivals_of(services: Services, template: Template, h: int, until: date) -> list[Arrival]:
    """What the bank brings for a template household by `until`: the krediet and every expected payment."""
    found = []
    if template.krediet:
        found.append(
            Arrival(
                START,
                "krediet",
                ("reservering", "inrichting"),
                ("krediet", "inrichting"),
                Money.parse(template.krediet).cents,
                "Inrichtingskrediet verstrekt (leenbijstand)",
            )
        )
    for income, payment in services.income.payments_until(h, until):
        source = income.source.value
        months = " en ".join(f"{MONTHS[m.month - 1]} {m.year}" for m, _ in payment.covers)
        found.append(
            Arrival(
                payment.due_on,
                f"{source}-{payment.due_on.isoformat()}",
                ("basis",),
                ("inkomen", source),
                payment.amount.cents,
                f"{source} ontvangen ({months})",
            )
        )
    keys = Counter(a.key for a in found)
    if max(keys.values(), default=1) > 1:
        raise RuntimeError(f"template {template.label}: two arrivals share a key: {keys.most_common(1)}")
    return sorted(found, key=lambda a: (a.on, a.key))


def run_dates(run_date: date) -> list[date]:
    """The first business day of every month from START's month up to the month of `run_date`, and
    `run_date` itself last (the timed run)."""
    days, month = [], START.replace(day=1)
    while month < run_date.replace(day=1):
        day = (
            DEFAULT_CALENDAR.next_business_day(month)
            if not DEFAULT_CALENDAR.is_business_day(month)
            else month
        )
        if START <= day < run_date:
            days.append(day)
        month = (month + timedelta(days=32)).replace(day=1)
    return [*days, run_date]


# -- cloning the registry -------------------------------------------------------------------------

SKIPPED_TABLE_PARTS = ("payment", "budgetplan", "warning", "apscheduler")


@dataclass
class CloneTable:
    table: Table
    columns: list[str]
    remap: dict[str, str]
    """Column → the cloned table whose ids it holds (remapped per clone)."""
    owner_column: str | None
    """The column that says whose row it is (households: None, the row's own id)."""


def household_tables(database: Database) -> tuple[list[CloneTable], list[str]]:
    """The registry tables that belong to a household, parents first, from the metadata; and notes."""
    in_database = set(sa_inspect(database.engine).get_table_names())
    notes: list[str] = []
    cloned: dict[str, CloneTable] = {}
    households = registry_tables.households
    for table in Base.metadata.sorted_tables:
        if table.name in ("accounts", "journal_entries", "postings"):
            continue
        if table is not households:
            targets = {fk.column.table.name for fk in table.foreign_keys}
            if not targets & (set(cloned) | {"households"}):
                continue
            if any(part in table.name for part in SKIPPED_TABLE_PARTS):
                continue
        if table.name not in in_database:
            notes.append(f"table {table.name} is in the metadata but not in the database: not cloned")
            continue
        have = {c["name"] for c in sa_inspect(database.engine).get_columns(table.name)}
        missing = [c.name for c in table.columns if c.name not in have]
        if missing:
            notes.append(
                f"{table.name}: columns {missing} of the metadata are not in the database: not copied"
            )
        columns = [c.name for c in table.columns if c.name in have]
        remap: dict[str, str] = {}
        owner = None
        for fk in sorted(table.foreign_keys, key=lambda f: (f.parent.nullable, f.parent.name)):
            target = fk.column.table.name
            if target in cloned and fk.parent.name in columns:  # households is cloned first (sorted_tables)
                remap[fk.parent.name] = target
                if owner is None and target == "households":
                    owner = fk.parent.name
        if owner is None and table is not households:
            owner = next(iter(remap))  # the non-nullable foreign key to a cloned parent, sorted first
        cloned[table.name] = CloneTable(table, columns, remap, owner)
    return list(cloned.values()), notes


@dataclass
class CloneResult:
    households: list[int]
    rows: dict[str, int]
    seconds: float
    notes: list[str]


def clone_households(database: Database, template_ids: Sequence[int], n: int) -> CloneResult:
    """Households template_ids + clones up to n in all: clone i (0-based, i >= K) copies template i % K."""
    started = time.perf_counter()
    tables, notes = household_tables(database)
    k = len(template_ids)
    with database.engine.begin() as conn:
        # Every row of the cloned tables, with the template household it belongs to.
        owner_of: dict[str, dict[int, int]] = {}
        rows_of: dict[str, dict[int, list[dict[str, Any]]]] = {}
        for t in tables:
            table = t.table
            rows = [
                dict(r._mapping)
                for r in conn.execute(select(*[table.c[c] for c in t.columns]).order_by(table.c.id))
            ]
            owner_of[table.name] = {}
            rows_of[table.name] = defaultdict(list)
            for row in rows:
                if t.owner_column is None:
                    h = row["id"]
                else:
                    target = t.remap[t.owner_column]
                    h = (
                        row[t.owner_column]
                        if target == "households"
                        else owner_of[target][row[t.owner_column]]
                    )
                owner_of[table.name][row["id"]] = h
                if h in template_ids:
                    rows_of[table.name][h].append(row)
        account_columns = [c.name for c in accounts.columns]
        template_accounts: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in conn.execute(
            select(accounts).where(accounts.c.household_id.in_(list(template_ids))).order_by(accounts.c.id)
        ):
            template_accounts[row.household_id].append(dict(row._mapping))
        next_id = {
            t.table.name: (conn.execute(select(func.max(t.table.c.id))).scalar() or 0) + 1 for t in tables
        }
        next_account = (conn.execute(select(func.max(accounts.c.id))).scalar() or 0) + 1
        first_household = next_id["households"]
        counts: Counter[str] = Counter()
        new_households = list(template_ids)

        for chunk_start in range(k, n, CLONE_CHUNK):
            buffers: dict[str, list[dict[str, Any]]] = defaultdict(list)
            account_rows: list[dict[str, Any]] = []
            for i in range(chunk_start, min(n, chunk_start + CLONE_CHUNK)):
                template = template_ids[i % k]
                ids: dict[tuple[str, int], int] = {}
                for t in tables:
                    name = t.table.name
                    for row in rows_of[name][template]:
                        new = dict(row)
                        new["id"] = ids[(name, row["id"])] = next_id[name]
                        next_id[name] += 1
                        for column, target in t.remap.items():
                            if new[column] is not None:
                                new[column] = ids[(target, new[column])]
                        buffers[name].append(new)
                h = ids[("households", template)]
                new_households.append(h)
                old_prefix, new_prefix = household_code(template) + ":", household_code(h) + ":"
                for row in template_accounts[template]:
                    if not row["code"].startswith(old_prefix):
                        raise RuntimeError(
                            f"account {row['code']} of household {template} is not {old_prefix}..."
                        )
                    account_rows.append(
                        {
                            **row,
                            "id": next_account,
                            "household_id": h,
                            "balance_cents": 0,
                            "code": new_prefix + row["code"][len(old_prefix) :],
                        }
                    )
                    next_account += 1
            for t in tables:
                rows = buffers[t.table.name]
                if rows:
                    conn.execute(insert(t.table), rows)
                    counts[t.table.name] += len(rows)
            if account_rows:
                conn.execute(insert(accounts), [{c: r[c] for c in account_columns} for r in account_rows])
                counts["accounts"] += len(account_rows)
        if database.engine.dialect.name == "postgresql":
            for name in [t.table.name for t in tables] + ["accounts"]:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                    )
                )
    expected = list(range(first_household, first_household + n - k))
    if new_households[k:] != expected:
        raise RuntimeError("cloned households did not get the ids expected")
    return CloneResult(new_households, dict(counts), time.perf_counter() - started, notes)


# -- results --------------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    label: str
    run_date: str
    households: int
    entries: int
    instructions: int
    seconds: float
    failed: int = 0
    skipped: int = 0
    ratio: float | None = None
    cpu_seconds: float | None = None
    """CPU time of this process during the run (the rest of the wall time is waiting: fsync, I/O, the server)."""

    @property
    def households_per_second(self) -> float:
        return self.households / self.seconds if self.seconds > 0 else float("inf")

    @property
    def entries_per_second(self) -> float:
        return self.entries / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class Bench:
    results: list[Result] = field(default_factory=list)
    phases: list[tuple[str, str, float, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)

    def phase(self, backend: str, name: str, seconds: float, detail: str = "") -> None:
        self.phases.append((backend, name, seconds, detail))
        print(f"  {backend:<10} {name:<34} {seconds:9.3f} s  {detail}", flush=True)

    def add(self, result: Result) -> Result:
        self.results.append(result)
        print(
            f"  {result.backend:<10} {result.label:<34} {result.seconds:9.3f} s  {result.households:,} households "
            f"({result.households_per_second:,.0f}/s), {result.entries:,} entries ({result.entries_per_second:,.0f}/s), "
            f"{result.instructions:,} instructions, {result.failed} failed, {result.skipped} skipped"
            + (f"; cpu {result.cpu_seconds:.1f} s" if result.cpu_seconds is not None else ""),
            flush=True,
        )
        return result

    def check(self, label: str, problems: list[str]) -> None:
        if problems:
            for problem in problems:
                print(f"  CHECK FAILED [{label}]: {problem}", flush=True)
            self.problems += [f"{label}: {p}" for p in problems]
        else:
            print(f"  checks passed [{label}]", flush=True)


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = work()
    return value, time.perf_counter() - start


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- databases ------------------------------------------------------------------------------------


def settings_for(database_url: str, **overrides):  # type: ignore[no-untyped-def]
    return load_settings(config_dir=CONFIG_DIR, database_url=database_url, **overrides)


def sqlite_path(database: Database) -> str:
    return database.engine.url.database or ""


def postgres_admin_url(explicit: str | None) -> str | None:
    url = explicit if explicit is not None else os.environ.get(PG_URL_ENV, "")
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+"):
        return url
    return None


class PostgresDatabase:
    """A fresh database bench_<random> on the server of the admin URL, dropped by drop()."""

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.name = f"bench_{uuid.uuid4().hex[:12]}"
        self.database: Database | None = None
        with self.admin.connect() as conn:
            self.server_version = conn.execute(text("SHOW server_version")).scalar_one()
            self.fsync = conn.execute(text("SHOW fsync")).scalar_one()
            self.synchronous_commit = conn.execute(text("SHOW synchronous_commit")).scalar_one()
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        try:
            url = make_url(admin_url).set(database=self.name).render_as_string(hide_password=False)
            self.database = Database(settings_for(url))
        except BaseException:
            self.drop()  # never leave a database behind
            raise

    def drop(self) -> None:
        if self.database is not None:
            self.database.dispose()
        try:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        except Exception as exc:  # noqa: BLE001 - report, do not hide the figures
            print(f"  could not drop database {self.name}: {exc}", file=sys.stderr)
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


def max_ids(database: Database) -> dict[str, int]:
    tables = ("accounts", "journal_entries", "postings", "payment_runs", "payment_instructions")
    with database.connect(write=False) as conn:
        return {t: conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {t}")).scalar_one() for t in tables}


# -- set-up and runs on one database --------------------------------------------------------------


@dataclass
class Prepared:
    services: Services
    payment_runs: PaymentRunService
    households: list[int]
    arrivals: dict[int, list[tuple[int, Arrival]]]
    """Day → (household, arrival) for every household, in household order."""


def prepare(bench: Bench, backend: str, database: Database, args: argparse.Namespace) -> Prepared:
    """Steps 1 and 2: migrate, template households through the services, clones by Core executemany."""
    _, seconds = timed(lambda: upgrade(database))
    bench.phase(backend, "migrate (alembic upgrade head)", seconds)
    services = make_services(database)
    templates = TEMPLATES[: args.households]
    template_ids, seconds = timed(lambda: create_templates(services, templates))
    bench.phase(backend, "templates through the services", seconds, f"{len(template_ids)} households")
    per_template = {
        h: arrivals_of(services, t, h, args.run_date) for h, t in zip(template_ids, templates, strict=True)
    }
    cloned = clone_households(database, template_ids, args.households)
    for note in cloned.notes:
        print(f"  note: {note}", flush=True)
        bench.notes.append(f"{backend}: {note}")
    detail = ", ".join(f"{name} {count:,}" for name, count in cloned.rows.items())
    bench.phase(
        backend,
        "clone registry rows (Core)",
        cloned.seconds,
        f"{len(cloned.households) - len(template_ids):,} households: {detail}",
    )
    arrivals: dict[int, list[tuple[int, Arrival]]] = defaultdict(list)
    k = len(template_ids)
    for i, h in enumerate(cloned.households):
        for arrival in per_template[template_ids[i % k]]:
            arrivals[arrival.on.toordinal()].append((h, arrival))
    planning = services.planning
    run_service = PaymentRunService(
        transactions(database),
        planning,
        system_clock,
        four_eyes=database.settings.four_eyes,
        chunk_size=args.chunk,
        # (the sibling benchmarks pass their own arguments, without --planning-workers: the setting then)
        planners=chunk_planners(database, services.profile_catalog, planning, getattr(args, "planning_workers", None)),
    )
    return Prepared(services, run_service, cloned.households, dict(arrivals))


def post_arrivals(bench: Bench, backend: str, prepared: Prepared, after: date | None, until: date) -> int:
    """Post (through post_many) what arrives after `after` up to `until`; returns the number of entries."""
    requests = [
        arrival.request(h)
        for day in sorted(prepared.arrivals)
        if (after is None or day > after.toordinal()) and day <= until.toordinal()
        for h, arrival in prepared.arrivals[day]
    ]
    if not requests:
        return 0

    def work() -> int:
        posted = 0
        for batch in chunks(requests, POST_BATCH):
            result = prepared.services.ledger.post_many(batch)
            if len(result.posted) != len(batch):
                raise RuntimeError(f"post_many posted {len(result.posted)} of {len(batch)} income entries")
            posted += len(result.posted)
        return posted

    posted, seconds = timed(work)
    bench.phase(
        backend,
        f"income through post_many to {until}",
        seconds,
        f"{posted:,} entries ({posted / seconds:,.0f}/s)",
    )
    return posted


def start_run(
    bench: Bench, backend: str, database: Database, prepared: Prepared, run_date: date, label: str
) -> tuple[RunReport, Result, dict[str, int]]:
    before = max_ids(database)
    cpu = time.process_time()
    profile_to = os.environ.get("BENCH_PROFILE") if label.startswith("TIMED") else None
    if profile_to:  # the timed run under cProfile (its figures are then not the product's)
        import cProfile

        profiler = cProfile.Profile()
        report, seconds = timed(lambda: profiler.runcall(prepared.payment_runs.start, run_date, actor=ACTOR))
        profiler.dump_stats(profile_to)
    else:
        report, seconds = timed(lambda: prepared.payment_runs.start(run_date, actor=ACTOR))
    cpu = time.process_time() - cpu
    after = max_ids(database)
    result = bench.add(
        Result(
            backend,
            label,
            run_date.isoformat(),
            len(report.processed),
            after["journal_entries"] - before["journal_entries"],
            report.instructions_created,
            seconds,
            failed=len(report.failed),
            skipped=len(report.skipped),
            cpu_seconds=cpu,
        )
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if label.startswith("TIMED"):
        bench.notes.append(
            f"{backend}: load average (1 min) when the timed run ended: {load:.2f} on "
            f"{os.cpu_count()} cores (other processes on this machine slow the wall time)"
        )
    for failure in report.failed[:5]:
        print(f"    failed: household {failure.household_id}: {failure.message}", flush=True)
    if report.failed:
        bench.problems.append(
            f"{backend} run {run_date}: {len(report.failed)} household(s) failed, e.g. "
            f"{report.failed[0].household_id}: {report.failed[0].message}"
        )
    if report.skipped:
        reasons = Counter(s.reason for s in report.skipped)
        print(f"    skipped: {dict(reasons)}", flush=True)
    return report, result, before


# -- checks ---------------------------------------------------------------------------------------


def check_book(
    database: Database, services: Services, report: RunReport, before: dict[str, int], households: int
) -> list[str]:
    problems: list[str] = []
    trial = services.ledger.trial_balance()
    if not trial.is_balanced:
        problems.append(f"trial balance is off by {trial.total}")
    mismatches = services.ledger.balance_mismatches()
    if mismatches:
        problems.append(
            f"{len(mismatches)} stored balance(s) differ from their postings, e.g. {mismatches[0]}"
        )
    with database.connect(write=False) as conn:
        negative = conn.execute(
            text(
                "SELECT code, balance_cents FROM accounts WHERE no_overdraft AND "
                "(CASE WHEN type IN ('asset', 'expense') THEN balance_cents ELSE -balance_cents END) < 0 "
                "ORDER BY id LIMIT 5"
            )
        ).all()
        doubles = conn.execute(
            text(
                "SELECT household_id, obligation, due_date, count(*) FROM payment_instructions WHERE status <> 'rejected' "
                "GROUP BY household_id, obligation, due_date HAVING count(*) > 1 LIMIT 5"
            )
        ).all()
        out_entries = set(
            conn.execute(
                text(
                    "SELECT DISTINCT e.id FROM journal_entries e JOIN postings p ON p.entry_id = e.id "
                    "JOIN accounts a ON a.id = p.account_id "
                    "WHERE e.id > :first AND a.code = :onderweg AND p.amount_cents < 0"
                ),
                {"first": before["journal_entries"], "onderweg": IN_TRANSIT},
            ).scalars()
        )
        instructed = Counter(
            conn.execute(
                text("SELECT entry_id FROM payment_instructions WHERE run_id = :run"), {"run": report.run_id}
            ).scalars()
        )
        drafts = conn.execute(
            text("SELECT count(*) FROM journal_entries WHERE status <> 'posted'")
        ).scalar_one()
        run_row = conn.execute(
            text("SELECT status, finished_at IS NOT NULL, report FROM payment_runs WHERE id = :run"),
            {"run": report.run_id},
        ).one_or_none()
    if negative:
        problems.append(f"client-money account(s) below zero, e.g. {[tuple(r) for r in negative]}")
    if doubles:
        problems.append(f"obligation(s) with two standing instructions, e.g. {[tuple(r) for r in doubles]}")
    if drafts:
        problems.append(f"{drafts} journal entries left as draft")
    if report.failed:
        problems.append(f"{len(report.failed)} household(s) failed in the run")
    if len(report.processed) + len(report.skipped) + len(report.failed) != households:
        problems.append(
            f"the run saw {len(report.processed) + len(report.skipped) + len(report.failed)} households "
            f"of {households}"
        )
    if sum(instructed.values()) != len(out_entries) or set(instructed) != out_entries:
        problems.append(
            f"{sum(instructed.values())} instructions for {len(out_entries)} outgoing entries of the run "
            f"({len(set(instructed) - out_entries)} instructed entries not outgoing, "
            f"{len(out_entries - set(instructed))} outgoing entries without an instruction)"
        )
    if max(instructed.values(), default=1) > 1:
        problems.append("an entry has two instructions")
    if sum(instructed.values()) != report.instructions_created:
        problems.append(
            f"the report says {report.instructions_created} instructions, the database has "
            f"{sum(instructed.values())}"
        )
    if run_row is None or not run_row[1]:
        problems.append(f"payment run {report.run_id} is not recorded as finished")
    return problems


# -- the floor (SQLite) ---------------------------------------------------------------------------


def copy_sqlite(database: Database, target: Path) -> float:
    """A consistent copy of the database file as it is now (the engine is disposed first)."""
    start = time.perf_counter()
    database.dispose()
    source = sqlite3.connect(sqlite_path(database))
    try:
        source.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    return time.perf_counter() - start


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


@dataclass
class FloorWork:
    run_row: tuple
    run_columns: list[str]
    run_end: tuple  # (finished_at, report) written at the end, as the service does
    transactions: list[dict[str, Any]]
    entry_columns: list[str]
    account_columns: list[str]
    instruction_columns: list[str]
    rows: Counter[str]


def prepare_floor(run_path: str, copy_path: Path, report: RunReport, chunk_size: int) -> FloorWork:
    """The rows the run wrote, read from its database, grouped as the run wrote them (untimed)."""
    run_db = sqlite3.connect(run_path)
    copy_db = sqlite3.connect(copy_path)
    try:
        before = {
            t: copy_db.execute(f"SELECT COALESCE(MAX(id), 0) FROM {t}").fetchone()[0]
            for t in ("accounts", "journal_entries", "postings", "payment_runs", "payment_instructions")
        }
        run_columns = [c for c in _columns(run_db, "payment_runs") if c != "id"]
        run_rows = run_db.execute(
            f"SELECT id, {', '.join(run_columns)} FROM payment_runs WHERE id > ? ORDER BY id",
            (before["payment_runs"],),
        ).fetchall()
        if len(run_rows) != 1 or run_rows[0][0] != report.run_id:
            raise RuntimeError(
                f"expected one new payment run {report.run_id}, found {[r[0] for r in run_rows]}"
            )
        run = dict(zip(run_columns, run_rows[0][1:], strict=True))
        run_end = (run["finished_at"], run["report"])
        run_row = tuple(None if c in ("finished_at", "report") else run[c] for c in run_columns)

        account_columns = [c for c in _columns(run_db, "accounts") if c != "id"]
        entry_columns = [c for c in _columns(run_db, "journal_entries") if c != "id"]
        instruction_columns = [c for c in _columns(run_db, "payment_instructions") if c != "id"]
        status_at = entry_columns.index("status")
        household_at = entry_columns.index("household_id")

        by_household: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        balance_at = account_columns.index("balance_cents")
        for row in run_db.execute(
            f"SELECT id, household_id, {', '.join(account_columns)} FROM accounts WHERE id > ? ORDER BY id",
            (before["accounts"],),
        ):
            values = list(row[2:])
            values[balance_at] = 0  # opened at zero; the chunk's balance UPDATEs move it, as in the run
            by_household[row[1]]["accounts"].append((row[0], tuple(values)))
        household_of_entry: dict[int, int] = {}
        for row in run_db.execute(
            f"SELECT id, {', '.join(entry_columns)} FROM journal_entries WHERE id > ? ORDER BY id",
            (before["journal_entries"],),
        ):
            values = list(row[1:])
            values[status_at] = "draft"
            household_of_entry[row[0]] = values[household_at]
            by_household[values[household_at]]["entries"].append((row[0], tuple(values)))
        for row in run_db.execute(
            "SELECT id, entry_id, account_id, amount_cents FROM postings WHERE id > ? ORDER BY id",
            (before["postings"],),
        ):
            by_household[household_of_entry[row[1]]]["postings"].append((row[0], row[1:]))
        household_at = instruction_columns.index("household_id")
        for row in run_db.execute(
            f"SELECT id, {', '.join(instruction_columns)} FROM payment_instructions "
            "WHERE run_id = ? ORDER BY id",
            (report.run_id,),
        ):
            by_household[row[1 + household_at]]["instructions"].append((row[0], row[1:]))
    finally:
        run_db.close()
        copy_db.close()

    processed = list(report.processed)
    unknown = set(by_household) - set(processed)
    if unknown:
        raise RuntimeError(f"the run wrote rows for households it did not process: {sorted(unknown)[:5]}")
    rows: Counter[str] = Counter()
    work = []
    for chunk in chunks(processed, chunk_size):
        parts: dict[str, list] = defaultdict(list)
        for h in chunk:
            for kind, items in by_household.get(h, {}).items():
                parts[kind] += items
        for kind in parts:
            parts[kind].sort()  # by id: the order the run inserted them in
            rows[kind] += len(parts[kind])
        deltas: dict[int, int] = defaultdict(int)
        for _, (_entry_id, account_id, cents) in parts["postings"]:
            deltas[account_id] += cents
        entry_ids = [i for i, _ in parts["entries"]]
        work.append(
            {
                "accounts": [values for _, values in parts["accounts"]],
                "account_range": (parts["accounts"][0][0], parts["accounts"][-1][0])
                if parts["accounts"]
                else None,
                "entries": [values for _, values in parts["entries"]],
                "entry_range": (entry_ids[0], entry_ids[-1]) if entry_ids else None,
                "postings": [values for _, values in parts["postings"]],
                "seals": [list(part) for part in chunks(entry_ids, SEAL_CHUNK)],
                "balances": [(delta, account_id) for account_id, delta in sorted(deltas.items()) if delta],
                "instructions": [values for _, values in parts["instructions"]],
            }
        )
    return FloorWork(
        run_row, run_columns, run_end, work, entry_columns, account_columns, instruction_columns, rows
    )


def write_floor(copy_path: Path, work: FloorWork, settings: Any) -> float:
    """The timed part: the same rows written with plain sqlite3 in the run's transaction shape."""
    insert_run = (
        f"INSERT INTO payment_runs ({', '.join(work.run_columns)}) "
        f"VALUES ({', '.join('?' * len(work.run_columns))})"
    )
    finish_run = "UPDATE payment_runs SET finished_at = ?, report = ? WHERE id = ?"
    insert_account = (
        f"INSERT INTO accounts ({', '.join(work.account_columns)}) "
        f"VALUES ({', '.join('?' * len(work.account_columns))})"
    )
    insert_entry = (
        f"INSERT INTO journal_entries ({', '.join(work.entry_columns)}) "
        f"VALUES ({', '.join('?' * len(work.entry_columns))})"
    )
    insert_posting = "INSERT INTO postings (entry_id, account_id, amount_cents) VALUES (?, ?, ?)"
    add_balance = "UPDATE accounts SET balance_cents = balance_cents + ? WHERE id = ?"
    insert_instruction = (
        f"INSERT INTO payment_instructions ({', '.join(work.instruction_columns)}) "
        f"VALUES ({', '.join('?' * len(work.instruction_columns))})"
    )
    seal_sql: dict[int, str] = {}

    conn = sqlite3.connect(copy_path, timeout=settings.sqlite_busy_timeout_seconds, isolation_level=None)
    try:
        # The PRAGMAs of the service's engine (adapters/db/engine.py).
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        conn.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_seconds * 1000)}")

        def transaction(body: Callable[[], None]) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                body()
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        def expect_ids(table: str, first_last: tuple[int, int] | None, rows: list, insert_sql: str) -> None:
            if not rows:
                return
            assert first_last is not None
            before = conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]
            if before != first_last[0] - 1:
                raise RuntimeError(
                    f"floor: {table} ends at {before}, the run's rows start at {first_last[0]}"
                )
            conn.executemany(insert_sql, rows)
            after = conn.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0]
            if after != first_last[1]:
                raise RuntimeError(f"floor: {table} got ids up to {after}, the run's up to {first_last[1]}")

        def chunk_body(part: dict[str, Any]) -> Callable[[], None]:
            def body() -> None:
                expect_ids("accounts", part["account_range"], part["accounts"], insert_account)
                expect_ids("journal_entries", part["entry_range"], part["entries"], insert_entry)
                conn.executemany(insert_posting, part["postings"])
                for ids in part["seals"]:
                    sql = seal_sql.get(len(ids))
                    if sql is None:
                        sql = seal_sql[len(ids)] = (
                            f"UPDATE journal_entries SET status = 'posted' WHERE id IN ({', '.join('?' * len(ids))})"
                        )
                    conn.execute(sql, ids)
                conn.executemany(add_balance, part["balances"])
                conn.executemany(insert_instruction, part["instructions"])

            return body

        bodies = [chunk_body(part) for part in work.transactions]
        start = time.perf_counter()
        run_id = None

        def insert_the_run() -> None:
            nonlocal run_id
            run_id = conn.execute(insert_run, work.run_row).lastrowid

        transaction(insert_the_run)
        for body in bodies:
            transaction(body)
        transaction(lambda: conn.execute(finish_run, (*work.run_end, run_id)))
        return time.perf_counter() - start
    finally:
        conn.close()


def same_rows(run_path: str, floor_path: Path, before: dict[str, int]) -> list[str]:
    """The floor database must hold exactly what the run's holds, row by row, in the tables the run wrote;
    and no other table may differ in its number of rows (the run wrote nothing the floor left out)."""
    problems: list[str] = []
    a, b = sqlite3.connect(run_path), sqlite3.connect(floor_path)
    try:
        queries = {
            "accounts": "SELECT * FROM accounts ORDER BY id",
            "journal_entries": f"SELECT * FROM journal_entries WHERE id > {before['journal_entries']} ORDER BY id",
            "postings": f"SELECT * FROM postings WHERE id > {before['postings']} ORDER BY id",
            "payment_runs": "SELECT * FROM payment_runs ORDER BY id",
            "payment_instructions": "SELECT * FROM payment_instructions ORDER BY id",
        }
        for table, query in queries.items():
            rows_a, rows_b = a.execute(query).fetchall(), b.execute(query).fetchall()
            if rows_a != rows_b:
                first = next(
                    (i for i, (x, y) in enumerate(zip(rows_a, rows_b, strict=False)) if x != y),
                    min(len(rows_a), len(rows_b)),
                )
                problems.append(
                    f"{table} differs from the run's ({len(rows_a)} vs {len(rows_b)} rows; first difference at row "
                    f"{first}: {rows_a[first] if first < len(rows_a) else None} vs "
                    f"{rows_b[first] if first < len(rows_b) else None})"
                )
        tables = [
            r[0]
            for r in a.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        for table in tables:
            count_a = a.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            count_b = b.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            if count_a != count_b:
                problems.append(
                    f"the run left {count_a} rows in {table}, the floor {count_b}: the floor does not "
                    "write everything the run writes"
                )
    finally:
        a.close()
        b.close()
    return problems


# -- one backend ----------------------------------------------------------------------------------


def run_backend(
    bench: Bench, backend: str, database: Database, args: argparse.Namespace, workdir: Path | None
) -> None:
    prepared = prepare(bench, backend, database, args)
    n = len(prepared.households)
    days = run_dates(args.run_date)
    previous: date | None = None
    for day in days[:-1]:
        post_arrivals(bench, backend, prepared, previous, day)
        start_run(bench, backend, database, prepared, day, f"earlier run {day}")
        previous = day
    post_arrivals(bench, backend, prepared, previous, args.run_date)

    floor_copy = None
    if database.is_sqlite and not args.skip_floor:
        assert workdir is not None
        floor_copy = workdir / "floor.sqlite3"
        seconds = copy_sqlite(database, floor_copy)
        bench.phase(
            backend, "copy the file for the floor", seconds, f"{floor_copy.stat().st_size / 1e6:,.0f} MB"
        )

    again: list[tuple[Path, Path | None]] = []
    if database.is_sqlite and args.repeat > 1:
        assert workdir is not None
        for i in range(2, args.repeat + 1):
            pair = (workdir / f"again-{i}.sqlite3", None if floor_copy is None else workdir / f"floor-{i}.sqlite3")
            seconds = sum(copy_sqlite(database, path) for path in pair if path is not None)
            bench.phase(backend, f"copy the files for repeat {i}", seconds)
            again.append(pair)

    report, result, before = start_run(
        bench, backend, database, prepared, args.run_date, f"TIMED RUN {args.run_date}"
    )
    problems, seconds = timed(lambda: check_book(database, prepared.services, report, before, n))
    bench.phase(backend, "checks after the run", seconds)
    bench.check(f"{backend} run {args.run_date}", problems)

    work = None
    if floor_copy is not None:
        database.dispose()
        try:
            work = floor_sqlite(bench, backend, database, args, floor_copy, report, result, before)
        except RuntimeError as exc:  # the floor could not mirror the run: a failed check, not a crash
            bench.check(f"{backend} floor", [str(exc)])
    database.dispose()
    if again:
        repeat_sqlite(bench, backend, args, prepared, result, again, work)


def repeat_sqlite(bench: Bench, backend: str, args: argparse.Namespace, prepared: Prepared, first: Result,
                  again: Sequence[tuple[Path, Path | None]], work: FloorWork | None) -> None:
    """`--repeat`: the timed run again on copies of the book as it was before it, each with its floor
    written again from the same rows, so the ratio is a median of runs rather than one run on a noisy
    machine. A repeat must write as many entries and instructions as the first run."""
    ratios = [first.ratio] if first.ratio is not None else []
    seconds_all = [first.seconds]
    for i, (run_path, floor_path) in enumerate(again, start=2):
        database = Database(settings_for(f"sqlite:///{run_path}"))
        try:
            services = make_services(database)
            run_service = PaymentRunService(
                transactions(database), services.planning, system_clock, four_eyes=database.settings.four_eyes,
                chunk_size=args.chunk,
                planners=chunk_planners(database, services.profile_catalog, services.planning,
                                        getattr(args, "planning_workers", None)))
            repeated = Prepared(services, run_service, prepared.households, prepared.arrivals)
            _, result, _ = start_run(bench, backend, database, repeated, args.run_date, f"TIMED RUN again ({i})")
        finally:
            database.dispose()
        seconds_all.append(result.seconds)
        if (result.entries, result.instructions, result.failed) != (first.entries, first.instructions, first.failed):
            bench.problems.append(f"{backend} repeat {i}: {result.entries:,} entries, {result.instructions:,} "
                                  f"instructions, {result.failed} failed; the first run: {first.entries:,}, "
                                  f"{first.instructions:,}, {first.failed}")
        if floor_path is not None and work is not None:
            cpu = time.process_time()
            floor_seconds = write_floor(floor_path, work, database.settings)
            floor = bench.add(Result(backend, f"floor again ({i})", args.run_date.isoformat(), result.households,
                                     result.entries, result.instructions, floor_seconds,
                                     cpu_seconds=time.process_time() - cpu))
            result.ratio = result.seconds / floor.seconds
            ratios.append(result.ratio)
        for path in (run_path, floor_path):
            if path is not None:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
    note = (f"{backend}: {len(seconds_all)} timed runs: {', '.join(f'{s:.1f}' for s in seconds_all)} s, "
            f"median {statistics.median(seconds_all):.1f} s")
    if ratios:
        note += (f"; against their floors {', '.join(f'{r:.2f}' for r in ratios)}x, "
                 f"median {statistics.median(ratios):.2f}x (goal: at most {ISSUE_GOAL_RATIO:g}x)")
    print(f"  -> {note}", flush=True)
    bench.notes.append(note)


def floor_sqlite(
    bench: Bench,
    backend: str,
    database: Database,
    args: argparse.Namespace,
    floor_copy: Path,
    report: RunReport,
    result: Result,
    before: dict[str, int],
) -> FloorWork:
    """Prepare the floor's rows from the run's database, write them timed into the copy, compare; the rows
    are returned for `--repeat`'s floors."""
    work, seconds = timed(lambda: prepare_floor(sqlite_path(database), floor_copy, report, args.chunk))
    bench.phase(
        backend,
        "floor: read and group the rows",
        seconds,
        f"{len(work.transactions)} transactions; " + ", ".join(f"{k} {v:,}" for k, v in work.rows.items()),
    )
    cpu = time.process_time()
    seconds = write_floor(floor_copy, work, database.settings)
    cpu = time.process_time() - cpu
    floor = bench.add(
        Result(
            backend,
            "floor sqlite3 (same rows)",
            args.run_date.isoformat(),
            result.households,
            result.entries,
            result.instructions,
            seconds,
            cpu_seconds=cpu,
        )
    )
    result.ratio = result.seconds / floor.seconds
    print(f"  -> run/floor time ratio: {result.ratio:.2f}x (goal: at most {ISSUE_GOAL_RATIO:g}x)", flush=True)
    problems, seconds = timed(lambda: same_rows(sqlite_path(database), floor_copy, before))
    bench.phase(backend, "floor: compare with the run's rows", seconds)
    bench.check(f"{backend} floor equals the run", problems)
    return work


def run_sqlite(bench: Bench, args: argparse.Namespace, workdir: Path) -> None:
    path = workdir / "run.sqlite3"
    database = Database(settings_for(f"sqlite:///{path}"))
    print(
        f"\nSQLite ({path}, {filesystem_of(workdir)}; synchronous={database.settings.sqlite_synchronous}):",
        flush=True,
    )
    bench.machine["sqlite_synchronous"] = database.settings.sqlite_synchronous
    try:
        run_backend(bench, "sqlite", database, args, workdir)
    finally:
        database.dispose()


def run_postgres(bench: Bench, args: argparse.Namespace, admin_url: str) -> None:
    shown = make_url(admin_url).render_as_string(hide_password=True)
    pg = PostgresDatabase(admin_url)
    bench.machine["postgresql"] = {
        "server_version": pg.server_version,
        "fsync": pg.fsync,
        "synchronous_commit": pg.synchronous_commit,
    }
    print(
        f"\nPostgreSQL {pg.server_version} ({shown}; database {pg.name}; fsync={pg.fsync}, "
        f"synchronous_commit={pg.synchronous_commit}):",
        flush=True,
    )
    assert pg.database is not None
    try:
        run_backend(bench, "postgresql", pg.database, args, None)
    finally:
        pg.drop()


# -- report ---------------------------------------------------------------------------------------


def print_table(bench: Bench, args: argparse.Namespace) -> None:
    header = (
        f"{'backend':<10} {'run':<28} {'households':>10} {'entries':>9} {'instr.':>8} {'seconds':>9} "
        f"{'cpu s':>7} {'hh/s':>8} {'entries/s':>9}  vs floor / goal"
    )
    print("\n" + "=" * len(header))
    print("Results")
    print("=" * len(header))
    m = bench.machine
    print(
        f"machine: {m['cores']} cores, Python {m['python']}, SQLAlchemy {m['sqlalchemy']}, SQLite {m['sqlite']}, "
        f"filesystem {m['filesystem']}, {m['platform']}"
    )
    if "postgresql" in m:
        pg = m["postgresql"]
        print(
            f"PostgreSQL {pg['server_version']} (fsync={pg['fsync']}, synchronous_commit={pg['synchronous_commit']})"
        )
    print(
        f"households={args.households:,} run date={args.run_date} chunk={args.chunk} "
        f"sqlite synchronous={m.get('sqlite_synchronous', '-')}"
    )
    for note in bench.notes:
        print(note)
    print(header)
    print("-" * len(header))
    for r in bench.results:
        versus = ""
        if r.ratio is not None:
            versus = (
                f"{r.ratio:.2f}x floor ({'meets' if r.ratio <= ISSUE_GOAL_RATIO else 'misses'} the 3x goal)"
            )
        if r.label.startswith("TIMED") and r.backend == "sqlite":
            projected = 100_000 / r.households_per_second if r.households else float("inf")
            goal = "meets" if projected < ISSUE_GOAL_SECONDS_PER_100K else "misses"
            versus += f"; 100k at this rate: {projected:,.0f} s ({goal} the 60 s goal)"
        cpu = f"{r.cpu_seconds:7.1f}" if r.cpu_seconds is not None else f"{'-':>7}"
        print(
            f"{r.backend:<10} {r.label:<28} {r.households:>10,} {r.entries:>9,} {r.instructions:>8,} "
            f"{r.seconds:>9.3f} {cpu} {r.households_per_second:>8,.0f} {r.entries_per_second:>9,.0f}  {versus}"
        )
    print("-" * len(header))
    print("set-up phases (untimed in the figures above):")
    for backend, name, seconds, detail in bench.phases:
        print(f"  {backend:<10} {name:<34} {seconds:9.3f} s  {detail}")
    print("-" * len(header))
    if bench.problems:
        print(f"CORRECTNESS CHECKS FAILED ({len(bench.problems)}):")
        for problem in bench.problems:
            print(f"  - {problem}")
    else:
        print("All correctness checks passed.")


def to_json(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "households": args.households,
        "run_date": args.run_date.isoformat(),
        "chunk": args.chunk,
        "machine": bench.machine,
        "results": [
            asdict(r)
            | {"households_per_second": r.households_per_second, "entries_per_second": r.entries_per_second}
            for r in bench.results
        ],
        "phases": [{"backend": b, "phase": p, "seconds": s, "detail": d} for b, p, s, d in bench.phases],
        "problems": bench.problems,
        "notes": bench.notes,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=10_000, help="households in all (default 10000)")
    parser.add_argument(
        "--run-date",
        type=date.fromisoformat,
        default=RUN_DATE,
        help=f"the timed run's date (default {RUN_DATE}); earlier runs on the first business day "
        f"of each month from {START}",
    )
    parser.add_argument(
        "--chunk", type=int, default=500, help="households per transaction in the run (default 500)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="directory for the temp dir of SQLite files (default: the system temp dir)",
    )
    parser.add_argument(
        "--planning-workers",
        type=int,
        default=None,
        help="processes planning the run's next chunks while it writes (SQLite; default: the setting "
        "planning_workers, 2); 0: the run plans in its own process",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="SQLite: time the run this many times, each on a copy of the book as it was before it and with its "
        "own floor, and print the medians (default 1)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite files instead of removing them")
    parser.add_argument("--skip-floor", action="store_true", help="leave out the raw sqlite3 floor")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=None,
        help=f"a PostgreSQL server to repeat the run on (default: {PG_URL_ENV} if postgresql)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL even when a URL is set")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite (PostgreSQL only)")
    parser.add_argument(
        "--json",
        metavar="FILE",
        nargs="?",
        const="-",
        default=None,
        help="also write the figures as JSON to FILE (or standard output with no FILE)",
    )
    args = parser.parse_args(argv)
    if args.households < 1:
        parser.error("--households must be at least 1")
    if args.chunk < 1:
        parser.error("--chunk must be at least 1")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.run_date < START:
        parser.error(f"--run-date must be on or after {START}, when the trajectories start")

    imported_from = Path(inspect.getfile(load_settings)).resolve().parent
    if not imported_from.is_relative_to(REPO):
        print(f"warning: budget_ledger is imported from {imported_from}, not from {REPO}", file=sys.stderr)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="budget-ledger-monthly-", dir=args.workdir))
    bench = Bench(
        machine={
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "sqlalchemy": sqlalchemy.__version__,
            "sqlite": sqlite3.sqlite_version,
            "filesystem": filesystem_of(workdir),
            "platform": platform.platform(terse=True),
        }
    )
    print(
        f"budget_ledger monthly run bench: Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs; households={args.households:,} "
        f"run date={args.run_date} chunk={args.chunk}; earlier runs: "
        f"{', '.join(d.isoformat() for d in run_dates(args.run_date)[:-1]) or 'none'}",
        flush=True,
    )
    try:
        if not args.no_sqlite:
            run_sqlite(bench, args, workdir)
        admin_url = postgres_admin_url(args.postgres)
        if admin_url and not args.no_postgres:
            run_postgres(bench, args, admin_url)
        elif args.postgres or os.environ.get(PG_URL_ENV):
            print(f"\n{args.postgres or PG_URL_ENV} is not a postgresql URL: PostgreSQL skipped", flush=True)
        else:
            print(
                f"\nPostgreSQL skipped (set {PG_URL_ENV} or --postgres to a postgresql URL to include it)",
                flush=True,
            )
    finally:
        if args.keep:
            print(f"SQLite files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(bench, args)
    if args.json is not None:
        document = json.dumps(to_json(bench, args), indent=2, default=str)
        if args.json == "-":
            print(document)
        else:
            Path(args.json).write_text(document + "\n")
    return 1 if bench.problems else 0


if __name__ == "__main__":
    sys.exit(main())
