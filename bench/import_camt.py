"""Benchmark: importing a generated CAMT.053 statement of N lines for M households (parse, dedupe, match, post).

    python bench/import_camt.py [--households 10000] [--entries 50000] [--profile] [--postgres URL]

What it sets up (untimed, each phase's time is printed), on a fresh database created by the Alembic migrations,
with the functions of bench/monthly_run.py (imported, not copied):

* households: monthly_run's six template households through the real services, their registry rows cloned
  for --households households (`clone_households`), their income history as the bank brought it
  (`post_arrivals`) and the real payment runs on the first business day of April, May and June 2025. The
  templates are monthly_run's with one change: their expected income carries the payer's IBAN
  (`ExpectedIncome.payer_ibans`, given to `IncomeService.add` before cloning, so every clone copies it):
  bijstand from its gemeente's own IBAN (BNG), toeslagen from the Belastingdienst (NL86INGB0002445588).
  No references are set on the templates: a reference copied to every clone names every clone.
* runs: every run is approved by a second user and marked exported (`PaymentRunService.approve`,
  `mark_exported`). The June run (2025-06-02) is started twice: one run for every household outside Aalten
  and one for gemeente Aalten (`start(..., gemeente="aalten")`), so the Aalten run has a batch id
  (PmtInfId `RUN<run>-20250602`) of its own that the bank can report as one amount without details.
* the parties only a few households have, through the services after the runs (nothing later than the
  runs is cloned, so every one is unique): intake households created with a BSN (BSNs cannot be cloned:
  a clone copies its template's); wages (`loon`, from 2025-06-01, paid on the 25th) from one of a few
  employers with the employee number as the expectation's reference; a creditor with an IBAN no other
  household has (paid by the client, `client_incasso`: a private landlord); a client's own account
  (`set_leefgeld_account`).
* the statement: one camt.053 Stmt for the organisation's account NL38BNGH0285012345 from 2025-06-03 to
  2025-07-04 (after the last booking of the set-up), of exactly --entries lines (a line is one payment:
  an Ntry, or one TxDtls of a batch Ntry; each line is one bank_lines row and one journal entry, and a
  return also reverses its payment's entry), in the proportions printed (default MIX below):
  - our payments of the June run (outside Aalten) as batch debit entries of --batch-size TxDtls, each
    with its EndToEndId, the batch id in Btch/PmtInfId, payee name, IBAN and reference, booked 2025-06-03;
  - the Aalten run as one debit entry without details (Btch/PmtInfId and NbOfTxs only);
  - returns of some of those payments (credit, RtrInf AC04/AC01/MD07/MS03 with the original EndToEndId);
  - bijstand for June from the gemeente's IBAN, the household's kenmerk as structured reference (CdtrRefInf),
    on its due day (2025-07-01) or a day off; toeslagen for July from the Belastingdienst's IBAN on
    2025-06-20 (or a day off), the household's kenmerk in the text (the BSN for the intake households),
    a fifth of them off by up to 3% (a recalculated voorschot; the tolerance is 5%); wages from the
    employer's IBAN with the employee number in the text;
  - transfers with the household's kenmerk (structured, or in the text) from private IBANs;
  - refunds from the unique creditors; clients passing on their toeslag from their own account;
  - unmatched: gifts from unknown accounts, refunds from creditors many households share, bank costs,
    a return of a payment that is not ours, a Belastingdienst payment no household expects, payments out.
  Every entry has an AcctSvcrRef except about 5% of the kenmerk transfers and unmatched entries (their line
  key is then a digest of what the bank said).
  The opening balance (OPBD, dated the first day) is the ledger's derdengeldenrekening as of 2025-06-02
  (`LedgerService.balance(BANK, as_of=...)`), the closing (CLBD) the opening plus the lines, so the import
  reconciles. The file is written by `write_camt053` (--style, --camt-version) and its size printed.

What it measures (wall time, and the process's CPU time beside it; the load average when it ended):

* parse: `parse_camt053` of the file's bytes.
* import: `StatementImportService.import_file` of the parsed file (services.bank_import): one transaction
  with the dedupe (line keys, the known keys read), the matching (the bulk reads of the matching index and
  `match` per line), the posting (the entry requests, `post_in`, the instructions executed or returned)
  and the record (reconciliation, warnings, the import row and the bank_lines rows). The time of each
  phase is measured by wrapping those functions of budget_ledger/statement_import.py and
  adapters/db/bank_store.py for the run (--no-phases leaves them alone); "other" is the rest (the lock on
  the bank account, the transaction, the commit). Entries/s = lines / seconds, for each phase, the
  import, and end to end (parse + import); the Ntry count is printed beside.
* re-import: the same parsed file again, every line known: the dedupe-only path.
* --profile: before the timed import the database is copied (SQLite: a backup of the file; PostgreSQL:
  CREATE DATABASE ... TEMPLATE); after the checks the same import runs on the copy under cProfile, and
  the top 25 functions by cumulative time (and the top 15 by own time) are printed. The timed figures are
  never taken under the profiler.

Checks (the exit status is 1 when one fails; no duration is asserted, the figures are only printed): the
parsed statement equals the generated one; the first import booked every line as new, each match kind as
many times as the statement was built for, and reconciled (opening and closing); the trial balance is
balanced and no stored balance differs from its postings (`LedgerService.balance_mismatches`); the
bank_lines table holds exactly the statement's lines; no instruction the statement reported as paid is
still 'exported' (executed, or rejected when it came back); the second import booked nothing (0 new lines,
no journal entry, no bank line) and reconciled too.

PostgreSQL: when BUDGET_LEDGER_DATABASE_URL (or --postgres URL) is a postgresql URL, the same runs on a
fresh database bench_<random> on that server (the user must be allowed to CREATE DATABASE), dropped at
the end, as in monthly_run.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import functools
import io
import json
import os
import platform
import pstats
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import monthly_run as mr  # noqa: E402 - the sibling benchmark: set-up, databases, machine information
import sqlalchemy  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from stdnum.nl import bsn as stdnum_bsn  # noqa: E402

import budget_ledger.statement_import as statement_import  # noqa: E402
from budget_ledger.adapters.bank.camt053 import parse_camt053  # noqa: E402
from budget_ledger.adapters.bank.camt053_writer import BANK_STYLES, write_camt053  # noqa: E402
from budget_ledger.adapters.bank.statement_files import MEGABYTE  # noqa: E402
from budget_ledger.adapters.db.bank_store import SqlBankStore  # noqa: E402
from budget_ledger.adapters.db.bootstrap import services as make_services  # noqa: E402
from budget_ledger.adapters.db.engine import Database  # noqa: E402
from budget_ledger.bank_lines import MatchKind  # noqa: E402
from budget_ledger.bank_statements import (  # noqa: E402
    Balance,
    BalanceKind,
    BankTransaction,
    CreditDebit,
    EntryStatus,
    Statement,
    StatementEntry,
    StatementFile,
)
from budget_ledger.chart import BANK  # noqa: E402
from budget_ledger.clock import AMSTERDAM  # noqa: E402
from budget_ledger.expected_income import TOESLAGEN, IncomeSource  # noqa: E402
from budget_ledger.identifiers import household_reference  # noqa: E402
from budget_ledger.ledger.money import Money  # noqa: E402
from budget_ledger.payment_calendar import DEFAULT_CALENDAR  # noqa: E402
from budget_ledger.payment_runs import InstructionStatus, PaymentInstruction, RunReport  # noqa: E402
from budget_ledger.services import Services  # noqa: E402
from budget_ledger.statement_import import ImportReport, statement_lines  # noqa: E402

PG_URL_ENV = mr.PG_URL_ENV
BELASTINGDIENST = "NL86INGB0002445588"
CHECKER = "beheerder.bob"  # approves the runs: another user than the one who started them (four eyes)
ACTOR = "bank-import"
STATEMENT_FROM = date(2025, 6, 3)  # the first business day after the last booking of the set-up
STATEMENT_TO = date(2025, 7, 4)
LAST_SET_UP_DAY = mr.RUN_DATE  # 2025-06-02: income and runs up to and including this day
BATCH_GEMEENTE = "aalten"  # its June run is reported as one amount without details
CAMT_VERSION = "camt.053.001.02"
PHASES = ("dedupe", "match", "post", "record")


@dataclass(frozen=True)
class Share:
    key: str
    label: str
    share: float
    kind: MatchKind | None


MIX: tuple[Share, ...] = (
    Share("own", "our payments by EndToEndId (TxDtls of batch entries)", 0.46, MatchKind.OWN_PAYMENT),
    Share("returns", "returns of our payments (RtrInf, original EndToEndId)", 0.003, MatchKind.RETURN),
    Share("bijstand", "bijstand: gemeente IBAN + kenmerk (CdtrRefInf)", 0.19, MatchKind.EXPECTED_INCOME),
    Share("toeslag", "toeslagen: Belastingdienst + kenmerk or BSN in the text", 0.24, MatchKind.EXPECTED_INCOME),
    Share("loon", "wages: employer IBAN + employee number (references)", 0.015, MatchKind.EXPECTED_INCOME),
    Share("kenmerk", "transfers with the household's kenmerk", 0.03, MatchKind.REFERENCE),
    Share("refund", "refunds from a creditor of one household", 0.004, MatchKind.CREDITOR_REFUND),
    Share("client", "a client passing on a toeslag from their own account", 0.004, MatchKind.CLIENT_TRANSFER),
)
OWN_BATCH_LABEL = "our Aalten run as one batch amount without details"
UNMATCHED_LABEL = "unmatched noise (unknown payers, shared creditors, costs, ...)"


# -- the templates: monthly_run's, with payer IBANs ---------------------------------------------------------


def gemeente_iban(code: str) -> str:
    """The IBAN a gemeente pays bijstand from (at BNG Bank, as gemeenten bank)."""
    number = [g[0] for g in mr.GEMEENTEN].index(code)
    return mr.nl_iban("BNGH", f"{285_100_000 + number:010d}")


def with_payers(template: mr.Template) -> mr.Template:
    incomes = []
    for income in template.incomes:
        payer = gemeente_iban(template.gemeente) if income["source"] == "bijstand" else BELASTINGDIENST
        incomes.append({**income, "payer_ibans": (payer,)})
    return dataclasses.replace(template, incomes=tuple(incomes))


# -- results --------------------------------------------------------------------------------------------


@dataclass
class Timing:
    backend: str
    label: str
    lines: int
    ntry: int
    seconds: float
    cpu_seconds: float | None = None
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class Outcome:
    bench: mr.Bench
    timings: list[Timing] = field(default_factory=list)
    mixes: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def timing(self, timing: Timing) -> Timing:
        self.timings.append(timing)
        cpu = f"; cpu {timing.cpu_seconds:.2f} s" if timing.cpu_seconds is not None else ""
        print(f"  {timing.backend:<10} {timing.label:<34} {timing.seconds:9.3f} s  {timing.lines:,} lines "
              f"({timing.per_second:,.0f} entries/s){cpu}", flush=True)
        return timing


# -- set-up ---------------------------------------------------------------------------------------------


def run_and_export(outcome: Outcome, backend: str, database: Database, prepared: mr.Prepared, day: date,
                   label: str, **scope: Any) -> tuple[RunReport, list[PaymentInstruction]]:
    """One real payment run (as the scheduler would start it), approved by a second user and exported."""
    bench, services = outcome.bench, prepared.services
    before = mr.max_ids(database)
    cpu = time.process_time()
    report, seconds = mr.timed(lambda: prepared.payment_runs.start(day, actor=mr.ACTOR, **scope))
    cpu = time.process_time() - cpu
    after = mr.max_ids(database)
    bench.add(mr.Result(backend, label, day.isoformat(), len(report.processed),
                        after["journal_entries"] - before["journal_entries"], report.instructions_created, seconds,
                        failed=len(report.failed), skipped=len(report.skipped), cpu_seconds=cpu))
    if report.failed:
        bench.problems.append(f"{backend} {label}: {len(report.failed)} household(s) failed, e.g. "
                              f"{report.failed[0].household_id}: {report.failed[0].message}")
    message_id = f"BL-RUN{report.run_id}-{day:%Y%m%d}060000"

    def approve_and_export() -> list[PaymentInstruction]:
        services.payment_runs.approve(report.run_id, CHECKER)
        services.payment_runs.mark_exported(report.run_id, message_id, CHECKER)
        return services.payment_runs.instructions(report.run_id, InstructionStatus.EXPORTED)

    exported, seconds = mr.timed(approve_and_export)
    bench.phase(backend, f"approve ({CHECKER}) + export run {report.run_id}", seconds,
                f"{len(exported):,} instructions exported ({message_id})")
    return report, exported


@dataclass
class Expected:
    """A payment a household expects, as the statement will bring it."""

    household: int
    source: IncomeSource
    due_on: date
    amount: Money
    payer: str


@dataclass
class World:
    """What the statement is built from."""

    services: Services
    households: list[int]
    template_of: dict[int, mr.Template]
    own: list[PaymentInstruction]  # exported, of the June run outside the batch gemeente
    batch: list[PaymentInstruction]  # exported, of the batch gemeente's June run
    batch_run: int | None
    batch_message: str | None
    own_message: str | None
    incomes: list[Expected]  # due in the statement's period, per household
    intake: dict[int, str] = field(default_factory=dict)  # household -> BSN
    wages: dict[int, tuple[Expected, str]] = field(default_factory=dict)  # household -> (loon, reference)
    landlords: dict[int, tuple[str, str]] = field(default_factory=dict)  # household -> (IBAN, name)
    own_accounts: dict[int, tuple[str, str]] = field(default_factory=dict)  # household -> (IBAN, name)
    opening: Money = Money(0)
    account_iban: str = ""


def expected_in_period(services: Services, household: int) -> list[Expected]:
    found = []
    for income, payment in services.income.payments_until(household, STATEMENT_TO):
        if STATEMENT_FROM <= payment.due_on <= STATEMENT_TO and income.payer_ibans:
            found.append(Expected(household, income.source, payment.due_on, payment.amount, income.payer_ibans[0]))
    return found


def valid_bsns(rng: random.Random, n: int) -> list[str]:
    found: list[str] = []
    while len(found) < n:
        candidate = f"{rng.randrange(10_000_000, 99_999_999)}{rng.randrange(10)}"
        if stdnum_bsn.is_valid(candidate) and candidate not in found:
            found.append(candidate)
    return found


def plan_counts(args: argparse.Namespace, supply: dict[str, int], with_batch: bool) -> tuple[dict[str, int], list[str]]:
    """Lines per kind for --entries: the MIX, at least one of each path, capped by what the set-up has."""
    n, notes = args.entries, []
    counts = {s.key: max(1, round(s.share * n)) for s in MIX}
    counts["own_batch"] = 1 if with_batch else 0
    for key, available in supply.items():
        if counts[key] > available:
            notes.append(f"the set-up has only {available:,} lines for {key!r} (the mix asks {counts[key]:,}); "
                         f"the other {counts[key] - available:,} become unmatched noise: use more households")
            counts[key] = available
    counts["returns"] = min(counts["returns"], counts["own"])
    rest = n - sum(counts.values())
    if rest < 0:
        raise SystemExit(f"--entries {n} is too few for one line of each kind ({sum(counts.values())})")
    counts["unmatched"] = rest
    return counts, notes


def build_world(outcome: Outcome, backend: str, database: Database, args: argparse.Namespace,
                rng: random.Random) -> tuple[World, dict[str, int]]:
    bench = outcome.bench
    prepared = mr.prepare(bench, backend, database, args)
    services = prepared.services
    k = len(mr.TEMPLATES[: args.households])
    template_of = {h: mr.TEMPLATES[i % k] for i, h in enumerate(prepared.households)}
    in_batch = [h for h in prepared.households if template_of[h].gemeente == BATCH_GEMEENTE]
    days = mr.run_dates(mr.RUN_DATE)
    previous: date | None = None
    own: list[PaymentInstruction] = []
    batch: list[PaymentInstruction] = []
    batch_run = own_message = batch_message = None
    for day in days:
        mr.post_arrivals(bench, backend, prepared, previous, day)
        if day != days[-1]:
            run_and_export(outcome, backend, database, prepared, day, f"payment run {day}")
        else:
            batched = set(in_batch)
            rest = [h for h in prepared.households if h not in batched]
            report, own = run_and_export(outcome, backend, database, prepared, day, f"payment run {day} (others)",
                                         households=rest)
            own_message = f"BL-RUN{report.run_id}-{day:%Y%m%d}060000"
            if in_batch:
                report, batch = run_and_export(outcome, backend, database, prepared, day,
                                               f"payment run {day} ({BATCH_GEMEENTE})", gemeente=BATCH_GEMEENTE)
                batch_run, batch_message = report.run_id, f"BL-RUN{report.run_id}-{day:%Y%m%d}060000"
        previous = day

    # Income due in the statement's period: per template, then the clones (they copy its expectations).
    per_template: dict[int, list[Expected]] = {}
    for i, h in enumerate(prepared.households[:k]):
        per_template[i] = expected_in_period(services, h)
    incomes = [dataclasses.replace(e, household=h) for i, h in enumerate(prepared.households)
               for e in per_template[i % k]]
    world = World(services, list(prepared.households), template_of, own, batch, batch_run, batch_message,
                  own_message, incomes)
    supply = {
        "own": len(own),
        "bijstand": sum(e.source is IncomeSource.BIJSTAND for e in incomes),
        "toeslag": sum(e.source in TOESLAGEN for e in incomes),
    }
    counts, notes = plan_counts(args, supply, bool(batch))
    for note in notes:
        print(f"  note: {note}", flush=True)
        bench.notes.append(f"{backend}: {note}")
    _, seconds = mr.timed(lambda: add_parties(world, counts, rng))
    bench.phase(backend, "parties through the services", seconds,
                f"{len(world.intake)} intake households with a BSN, {len(world.wages)} wages, "
                f"{len(world.landlords)} unique creditors, {len(world.own_accounts)} client accounts")
    world.opening = services.ledger.balance(BANK, as_of=LAST_SET_UP_DAY)
    now = services.ledger.balance(BANK)
    if now != world.opening:
        bench.problems.append(f"{backend}: the ledger's bank account has bookings after {LAST_SET_UP_DAY} "
                              f"({now} vs {world.opening}); the statement cannot reconcile")
    return world, counts


def add_parties(world: World, counts: dict[str, int], rng: random.Random) -> None:
    """Through the services: the parties the matching paths need that no clone can have."""
    services = world.services
    cloned = [h for h in world.households if world.template_of[h].gemeente != "doetinchem"]
    # Intake households with a BSN: their toeslag is named by the BSN in the Belastingdienst's text.
    n_intake = max(2, min(counts["toeslag"] // 200, 200))
    for number, bsn in enumerate(valid_bsns(rng, n_intake)):
        h = services.households.create({
            "gemeente": "deventer", "permit_type": "asiel", "has_bijstand": True, "bijstand_start": date(2025, 6, 1),
            "housing_date": date(2025, 6, 1), "preferred_language": "ti", "bsn": bsn,
            "members": [{"name": f"Intake Klant {number}", "date_of_birth": date(1996, 3, 4), "role": "aanvrager"}],
        }, mr.BEHEERDER).household.id
        services.income.add(h, {"source": "bijstand", "amount": "1281.38", "entitlement_from": date(2025, 6, 1),
                                "payer_ibans": [gemeente_iban("deventer")]}, mr.BEHEERDER)
        services.income.add(h, {"source": "zorgtoeslag", "amount": "131.00", "entitlement_from": date(2025, 6, 1),
                                "first_expected_on": date(2025, 6, 20), "payer_ibans": [BELASTINGDIENST]},
                            mr.BEHEERDER)
        trajectory = services.trajectories.start(h, {}, mr.BEHEERDER)
        services.trajectories.activate(trajectory.id, mr.BEHEERDER)
        world.intake[h] = bsn
        world.incomes += expected_in_period(services, h)
    # Wages from a few employers, each paying several clients; the employee number tells them apart.
    chosen = rng.sample(cloned, min(counts["loon"], len(cloned)))
    employers = [mr.nl_iban("RABO", f"{300_000_000 + e:010d}") for e in range(max(1, len(chosen) // 8))]
    for number, h in enumerate(chosen):
        reference = f"PERSNR {100_000 + number:06d}"
        amount = rng.choice(("845.00", "1120.40", "640.00", "1302.75"))
        income = services.income.add(h, {
            "source": "loon", "amount": amount, "entitlement_from": date(2025, 6, 1),
            "payment_day": "day:25;offset=0", "payer_ibans": [employers[number % len(employers)]],
            "references": [reference]}, mr.BEHEERDER)
        world.wages[h] = (Expected(h, IncomeSource.LOON, income.first_expected_on, income.amount,
                                   income.payer_ibans[0]), reference)
    # A creditor only this household has (a private landlord, paid by the client), who pays something back.
    for number, h in enumerate(rng.sample(cloned, min(counts["refund"], len(cloned)))):
        iban, name = mr.nl_iban("SNSB", f"{900_000_000 + number:010d}"), f"Verhuurder garage {number}"
        services.creditors.add(h, {
            "organisation": name, "account_holder_name": name, "iban": iban, "category": "overig",
            "reference_kind": "vrij", "reference": f"Huur garage {number}", "payer": "client_incasso",
            "schedule": {"amount": "45.00", "frequency": "monthly", "day": 1, "valid_from": date(2025, 6, 1)}},
            mr.BEHEERDER)
        world.landlords[h] = (iban, name)
    # The client's own account, from which the client passes on a toeslag that landed there (S8).
    for number, h in enumerate(rng.sample(cloned, min(counts["client"], len(cloned)))):
        iban, name = mr.nl_iban("ASNB", f"{700_000_000 + number:010d}"), world.template_of[h].members[0][0]
        services.households.set_leefgeld_account(h, {"iban": iban, "account_holder_name": name}, mr.BEHEERDER)
        world.own_accounts[h] = (iban, name)


# -- the statement --------------------------------------------------------------------------------------


@dataclass
class Draft:
    booking: date
    credit_debit: CreditDebit
    transactions: tuple[BankTransaction, ...]
    kinds: tuple[MatchKind | None, ...]
    group: str
    code: str
    reference: bool = True
    batch_id: str | None = None
    batch_message: str | None = None
    batch_count: int | None = None
    bare: bool = False


def business_days(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if DEFAULT_CALENDAR.is_business_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def near(rng: random.Random, day: date, days: list[date]) -> date:
    """The day itself mostly; a business day before or after it sometimes (banks and payers differ)."""
    if day not in days:
        day = min(days, key=lambda d: abs((d - day).days))
    roll = rng.random()
    at = days.index(day)
    if roll < 0.06 and at > 0:
        return days[at - 1]
    if roll < 0.12 and at + 1 < len(days):
        return days[at + 1]
    return day


def spaced(reference: str) -> str:
    return " ".join(reference[i:i + 4] for i in range(0, len(reference), 4))


def private_iban(rng: random.Random) -> str:
    return mr.nl_iban(rng.choice(("INGB", "ABNA", "RABO", "TRIO")), f"{rng.randrange(5_000_000_000, 6_000_000_000)}")


def wobble(rng: random.Random, amount: Money) -> Money:
    """Up to 3% off (the tolerance is 5%): a recalculated voorschot."""
    cents = amount.cents + round(amount.cents * rng.uniform(-0.03, 0.03))
    return Money(max(cents, 1))


def credit(amount: Money, **fields: Any) -> BankTransaction:
    return BankTransaction(amount=amount, credit_debit=CreditDebit.CREDIT, **fields)


def debit(amount: Money, **fields: Any) -> BankTransaction:
    return BankTransaction(amount=amount, credit_debit=CreditDebit.DEBIT, **fields)


def single(booking: date, tx: BankTransaction, kind: MatchKind | None, group: str, code: str,
           reference: bool = True) -> Draft:
    return Draft(booking, tx.credit_debit, (tx,), (kind,), group, code, reference)


def payment_tx(instruction: PaymentInstruction) -> BankTransaction:
    structured = instruction.reference_kind in ("betalingskenmerk", "rf")
    return debit(instruction.amount, end_to_end_id=instruction.end_to_end_id, counterparty_name=instruction.payee_name,
                 counterparty_iban=instruction.iban, remittance_text="" if structured else instruction.reference,
                 structured_reference=instruction.reference if structured else None,
                 structured_reference_issuer=("CUR" if instruction.reference_kind == "betalingskenmerk" else "ISO")
                 if structured else None)


def build_statement(world: World, counts: dict[str, int], args: argparse.Namespace,
                    rng: random.Random) -> tuple[StatementFile, Counter[str], dict[str, Any]]:
    days = business_days(STATEMENT_FROM, STATEMENT_TO)
    drafts: list[Draft] = []
    group_lines: Counter[str] = Counter()

    # Our payments of the June run, as the bank books the batch: entries of --batch-size transactions.
    own = world.own[: counts["own"]]
    batch_id = f"RUN{own[0].run_id}-{own[0].execution_date:%Y%m%d}" if own else None
    for start in range(0, len(own), args.batch_size):
        part = own[start:start + args.batch_size]
        drafts.append(Draft(STATEMENT_FROM, CreditDebit.DEBIT, tuple(payment_tx(i) for i in part),
                            (MatchKind.OWN_PAYMENT,) * len(part), "own", "PMNT-ICDT-ESCT", batch_id=batch_id,
                            batch_message=world.own_message, batch_count=len(part)))
    # The batch gemeente's run: one amount, no details.
    if counts["own_batch"] and world.batch:
        total = Money.sum(i.amount for i in world.batch)
        pmt_inf = f"RUN{world.batch_run}-{world.batch[0].execution_date:%Y%m%d}"
        bare = BankTransaction(amount=total, credit_debit=CreditDebit.DEBIT, payment_information_id=pmt_inf,
                               bank_transaction_code="PMNT-ICDT-ESCT")
        drafts.append(Draft(STATEMENT_FROM, CreditDebit.DEBIT, (bare,), (MatchKind.OWN_BATCH,), "own_batch",
                            "PMNT-ICDT-ESCT", batch_id=pmt_inf, batch_message=world.batch_message,
                            batch_count=len(world.batch), bare=True))
    # Returns of some of those payments, a few days later.
    reasons = (("AC04", "Rekening opgeheven"), ("AC04", "Rekeningnummer opgeheven"), ("AC01", "Rekeningnummer onjuist"),
               ("MD07", "Begunstigde overleden"), ("MS03", "Reden niet gespecificeerd"))
    returned = rng.sample(own, counts["returns"])
    for instruction in returned:
        code, why = rng.choice(reasons)
        tx = credit(instruction.amount, end_to_end_id=instruction.end_to_end_id,
                    counterparty_name=instruction.payee_name, counterparty_iban=instruction.iban,
                    remittance_text=f"RETOUR {why}", return_reason=code, return_additional_info=why)
        drafts.append(single(rng.choice(days[2:8]), tx, MatchKind.RETURN, "returns", "PMNT-ICDT-RRTN"))

    # Income: client transfers take a toeslag out of the Belastingdienst's lines (it landed on their account).
    by_household: dict[int, list[Expected]] = {}
    for e in world.incomes:
        by_household.setdefault(e.household, []).append(e)
    passed_on: set[int] = set()
    for h, (iban, name) in world.own_accounts.items():
        toeslag = next((e for e in by_household.get(h, []) if e.source in TOESLAGEN), None)
        amount = toeslag.amount if toeslag is not None else Money.parse("75.00")
        if toeslag is not None:
            passed_on.add(id(toeslag))
        day = rng.choice([d for d in days if date(2025, 6, 23) <= d <= date(2025, 6, 27)])
        tx = credit(amount, counterparty_name=name, counterparty_iban=iban,
                    remittance_text=f"{toeslag.source.value if toeslag else 'geld'} doorgestort")
        drafts.append(single(day, tx, MatchKind.CLIENT_TRANSFER, "client", "PMNT-RCDT-ESCT"))
    bijstand = [e for e in world.incomes if e.source is IncomeSource.BIJSTAND]
    toeslagen = [e for e in world.incomes if e.source in TOESLAGEN and id(e) not in passed_on]
    payer_name = {gemeente_iban(code): f"Gemeente {name}" for code, name, *_ in mr.GEMEENTEN}
    for e in rng.sample(bijstand, min(counts["bijstand"], len(bijstand))):
        tx = credit(e.amount, counterparty_name=payer_name.get(e.payer, "Gemeente"), counterparty_iban=e.payer,
                    remittance_text="Uitkering Participatiewet juni 2025",
                    structured_reference=household_reference(e.household), structured_reference_issuer="CUR")
        drafts.append(single(near(rng, e.due_on, days), tx, MatchKind.EXPECTED_INCOME, "bijstand", "PMNT-RCDT-ESCT"))
    intake_toeslagen = [e for e in toeslagen if e.household in world.intake]
    others = [e for e in toeslagen if e.household not in world.intake]
    wanted = min(counts["toeslag"], len(toeslagen))
    chosen = intake_toeslagen[:wanted] + rng.sample(others, max(0, wanted - len(intake_toeslagen)))
    for e in chosen:
        amount = wobble(rng, e.amount) if rng.random() < 0.2 else e.amount
        who = (f"BSN {world.intake[e.household]}" if e.household in world.intake
               else f"KENMERK {spaced(household_reference(e.household))}")
        tx = credit(amount, counterparty_name="Belastingdienst Toeslagen", counterparty_iban=BELASTINGDIENST,
                    remittance_text=f"TOESLAGEN {e.source.value.upper()} 2025 VOORSCHOT JULI {who}")
        drafts.append(single(near(rng, e.due_on, days), tx, MatchKind.EXPECTED_INCOME, "toeslag", "PMNT-RCDT-ESCT"))
    for e, reference in world.wages.values():
        amount = wobble(rng, e.amount) if rng.random() < 0.3 else e.amount
        tx = credit(amount, counterparty_name=f"Werkgever {e.payer[-4:]} B.V.", counterparty_iban=e.payer,
                    remittance_text=f"SALARIS JUNI 2025 {reference}")
        drafts.append(single(near(rng, e.due_on, days), tx, MatchKind.EXPECTED_INCOME, "loon", "PMNT-RCDT-ESCT"))
    # Transfers with the household's kenmerk: family, an employer not registered, a fund.
    senders = ("Fam. Tesfay", "Stichting Leergeld", "Uitzendbureau Flex", "A. Haddad", "Voedselbank", "Kerk")
    for _ in range(counts["kenmerk"]):
        h = rng.choice(world.households)
        amount = Money(rng.randrange(1_000, 40_000))
        if rng.random() < 0.5:
            tx = credit(amount, counterparty_name=rng.choice(senders), counterparty_iban=private_iban(rng),
                        structured_reference=household_reference(h), structured_reference_issuer="CUR")
        else:
            tx = credit(amount, counterparty_name=rng.choice(senders), counterparty_iban=private_iban(rng),
                        remittance_text=f"Bijdrage kenmerk {spaced(household_reference(h))}")
        drafts.append(single(rng.choice(days), tx, MatchKind.REFERENCE, "kenmerk", "PMNT-RCDT-ESCT",
                             reference=rng.random() >= 0.05))
    for iban, name in world.landlords.values():
        tx = credit(Money(rng.randrange(5_000, 50_000)), counterparty_name=name, counterparty_iban=iban,
                    remittance_text="Terugbetaling borg garagebox")
        drafts.append(single(rng.choice(days), tx, MatchKind.CREDITOR_REFUND, "refund", "PMNT-RCDT-ESCT"))
    # Noise nobody can place.
    shared = [(c.organisation, c.iban) for t in mr.TEMPLATES for c in t.creditors]
    for number in range(counts["unmatched"]):
        roll, day = rng.random(), rng.choice(days)
        if roll < 0.35:
            tx = credit(Money(rng.randrange(500, 30_000)), counterparty_name=rng.choice(senders),
                        counterparty_iban=private_iban(rng), remittance_text=rng.choice(("Gift", "Voor de kinderen",
                                                                                         "Terugbetaling lening")))
            code = "PMNT-RCDT-ESCT"
        elif roll < 0.55:
            organisation, iban = rng.choice(shared)
            tx = credit(Money(rng.randrange(1_000, 25_000)), counterparty_name=organisation, counterparty_iban=iban,
                        remittance_text="Teruggave jaarafrekening")
            code = "PMNT-RCDT-ESCT"
        elif roll < 0.70:
            tx = debit(Money(rng.randrange(100, 2_500)), remittance_text=f"Kosten betalingsverkeer {number}")
            code = "ACMT-MDOP-CHRG"
        elif roll < 0.75:
            tx = credit(Money(rng.randrange(1_000, 20_000)), end_to_end_id=f"NOTOURS-{number:08d}",
                        counterparty_iban=private_iban(rng), return_reason="MD07",
                        return_additional_info="Begunstigde overleden")
            code = "PMNT-ICDT-RRTN"
        elif roll < 0.85:
            tx = credit(Money(rng.randrange(100, 900)), counterparty_name="Belastingdienst",
                        counterparty_iban=BELASTINGDIENST, remittance_text="Teruggaaf rente")
            code = "PMNT-RCDT-ESCT"
        else:
            tx = debit(Money(rng.randrange(1_000, 20_000)), counterparty_name=rng.choice(senders),
                       counterparty_iban=private_iban(rng), remittance_text="Terugbetaling onterecht ontvangen")
            code = "PMNT-ICDT-ESCT"
        drafts.append(single(day, tx, None, "unmatched", code, reference=rng.random() >= 0.05))

    # In booking order, with the bank's references and indexes.
    order = {key: n for n, key in enumerate(("own", "own_batch", "returns", "bijstand", "toeslag", "loon",
                                              "kenmerk", "refund", "client", "unmatched"))}
    drafts.sort(key=lambda d: (d.booking, order[d.group]))
    entries: list[StatementEntry] = []
    intended: Counter[str] = Counter()
    kind_per_line: dict[tuple[int, int], str] = {}
    per_day: Counter[date] = Counter()
    for index, d in enumerate(drafts):
        per_day[d.booking] += 1
        ref = f"BNG-{d.booking:%Y%m%d}-{per_day[d.booking]:06d}" if d.reference else None
        # A transaction carries the entry's AcctSvcrRef, PmtInfId and BkTxCd unless it has its own, as the
        # reader gives it (and as the import sees it); a bare entry is exactly the reader's bare transaction.
        transactions = tuple(dataclasses.replace(
            t, account_servicer_reference=t.account_servicer_reference or ref,
            payment_information_id=t.payment_information_id or d.batch_id,
            bank_transaction_code=t.bank_transaction_code or d.code) for t in d.transactions)
        amount = Money.sum(t.signed for t in transactions)
        entries.append(StatementEntry(
            index=index, amount=abs(amount), credit_debit=d.credit_debit, status=EntryStatus.BOOKED,
            booking_date=d.booking, value_date=d.booking, transactions=transactions, account_servicer_reference=ref,
            batch_message_id=d.batch_message if not d.bare else None, batch_payment_information_id=d.batch_id,
            batch_count=d.batch_count, bank_transaction_code=d.code))
        group_lines[d.group] += len(transactions)
        for t_index, kind in enumerate(d.kinds):
            intended[kind.value if kind else "ongematcht"] += 1
            kind_per_line[(index, t_index)] = kind.value if kind else "ongematcht"
    total = Money.sum(e.signed for e in entries)
    closing_day = max(e.booking_date for e in entries)
    opening_kind = BANK_STYLES[args.style].opening_balance
    statement = Statement(
        statement_id=f"BNG-{STATEMENT_FROM:%Y%m%d}-{closing_day:%Y%m%d}", account_iban=world.account_iban,
        currency="EUR", created_at=datetime.combine(closing_day + timedelta(days=1), clock_time(6, 0), AMSTERDAM),
        from_date=STATEMENT_FROM, to_date=closing_day,
        balances=(Balance(opening_kind, world.opening, STATEMENT_FROM),
                  Balance(BalanceKind.CLOSING, world.opening + total, closing_day)),
        entries=tuple(entries), electronic_sequence=124, legal_sequence=None)
    file = StatementFile(message_id=f"CAMT053-BENCH-{closing_day:%Y%m%d}", version=args.camt_version,
                         created_at=statement.created_at, statements=(statement,))
    facts = {
        "ntry": len(entries),
        "lines": sum(len(e.transactions) for e in entries),
        "group_lines": dict(group_lines),
        "debit_instructions": [i.id for i in own] + [i.id for i in world.batch if counts["own_batch"]],
        "returned": {i.id for i in returned},
        "opening": world.opening,
        "closing": world.opening + total,
        "kind_per_line": kind_per_line,
    }
    return file, intended, facts


# -- the timed import -----------------------------------------------------------------------------------


class PhaseClock:
    """Seconds per phase of one import, by wrapping the functions each phase consists of; a call made inside
    another wrapped call counts for the outer one (return_payment posts inside the instructions update)."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self._active: str | None = None

    def wrap(self, phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
        clock = self

        @functools.wraps(function)
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            if clock._active is not None:
                return function(*args, **kwargs)
            clock._active = phase
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                clock.seconds[phase] += time.perf_counter() - start
                clock._active = None

        return timed_call


PHASE_TARGETS: tuple[tuple[Any, str, str], ...] = (
    (statement_import, "statement_lines", "dedupe"),
    (SqlBankStore, "known_line_keys", "dedupe"),
    (getattr(statement_import, "_StatementImport", None), "_index", "match"),
    (statement_import, "match", "match"),
    (getattr(statement_import, "_StatementImport", None), "_book", "post"),
    (statement_import, "post_in", "post"),
    (getattr(statement_import, "_StatementImport", None), "_update_instructions", "post"),
    (getattr(statement_import, "_StatementImport", None), "_reconcile", "record"),
    (statement_import, "raise_in", "record"),
    (SqlBankStore, "insert_import", "record"),
    (SqlBankStore, "insert_lines", "record"),
)


@contextmanager
def phases_measured(clock: PhaseClock | None) -> Iterator[list[str]]:
    missing: list[str] = []
    saved: list[tuple[Any, str, Any]] = []
    if clock is not None:
        for owner, name, phase in PHASE_TARGETS:
            original = vars(owner).get(name) if owner is not None else None
            if original is None or not callable(original):
                missing.append(name)
                continue
            setattr(owner, name, clock.wrap(phase, original))
            saved.append((owner, name, original))
    try:
        yield missing
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def timed_import(services: Services, file: StatementFile, measure: bool) -> tuple[ImportReport, float, float,
                                                                                  dict[str, float], list[str]]:
    clock = PhaseClock() if measure else None
    with phases_measured(clock) as missing:
        cpu = time.process_time()
        start = time.perf_counter()
        report = services.bank_import.import_file(file, ACTOR)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
    phases: dict[str, float] = {}
    if clock is not None:
        phases = {p: clock.seconds.get(p, 0.0) for p in PHASES}
        phases["other"] = max(0.0, seconds - sum(phases.values()))
    return report, seconds, cpu, phases, missing


def print_phases(timing: Timing, label: str) -> None:
    if not timing.phases:
        return
    words = {"dedupe": "line keys + known keys read", "match": "matching index reads + match()",
             "post": "entry requests + post_in + instructions", "record": "reconcile, warnings, bank_lines rows",
             "other": "lock, transaction, commit"}
    print(f"    {label} by phase:")
    for name, seconds in timing.phases.items():
        print(f"      {name:<7} {seconds:9.3f} s  {rate_text(timing.lines, seconds):>12} entries/s  ({words[name]})")


def rate_text(lines: int, seconds: float) -> str:
    """Lines per second; '-' for a phase that took under a millisecond (nothing to do: no rate)."""
    return f"{lines / seconds:,.0f}" if seconds >= 0.001 else "-"


# -- checks ---------------------------------------------------------------------------------------------


def count(database: Database, table: str) -> int:
    with database.connect(write=False) as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def instruction_statuses(database: Database, ids: Sequence[int]) -> Counter[str]:
    found: Counter[str] = Counter()
    with database.connect(write=False) as conn:
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            rows = conn.execute(text(f"SELECT status, count(*) FROM payment_instructions WHERE id IN "
                                     f"({', '.join(str(int(i)) for i in part)}) GROUP BY status")).all()
            for status, n in rows:
                found[status] += n
    return found


def differing_lines(database: Database, intended_kind: dict[tuple[int, int], str], limit: int = 5) -> list[str]:
    shown = []
    with database.connect(write=False) as conn:
        rows = conn.execute(text("SELECT entry_index, transaction_index, match_kind, match_reason FROM bank_lines "
                                 "ORDER BY id")).all()
    for entry_index, tx_index, kind, reason in rows:
        wanted = intended_kind.get((entry_index, tx_index))
        if wanted != (kind or "ongematcht"):
            shown.append(f"Ntry {entry_index}/{tx_index}: built as {wanted}, matched as {kind or 'ongematcht'}: "
                         f"{reason}")
            if len(shown) >= limit:
                break
    return shown


def first_difference(a: Statement, b: Statement) -> str:
    for field_ in dataclasses.fields(Statement):
        if field_.name == "entries":
            continue
        if getattr(a, field_.name) != getattr(b, field_.name):
            return f"{field_.name}: {getattr(a, field_.name)!r} != {getattr(b, field_.name)!r}"
    for x, y in zip(a.entries, b.entries, strict=False):
        if x != y:
            for field_ in dataclasses.fields(StatementEntry):
                if getattr(x, field_.name) != getattr(y, field_.name):
                    return (f"entry {x.index} {field_.name}: written {str(getattr(x, field_.name))[:400]} != "
                            f"read {str(getattr(y, field_.name))[:400]}")
    return f"{len(a.entries)} entries written, {len(b.entries)} read"


# -- one backend ----------------------------------------------------------------------------------------


@dataclass
class Copy:
    """A copy of the database just before the timed import, to profile the same import on."""

    database: Database
    dispose: Callable[[], None]


def copy_database(database: Database, workdir: Path | None, pg: mr.PostgresDatabase | None) -> Copy:
    if database.is_sqlite:
        assert workdir is not None
        target = workdir / "profile.sqlite3"
        mr.copy_sqlite(database, target)
        copy = Database(mr.settings_for(f"sqlite:///{target}"))
        return Copy(copy, copy.dispose)
    assert pg is not None
    database.dispose()
    name = f"{pg.name}_profile"
    with pg.admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg.name}"'))
    url = make_url(database.engine.url.render_as_string(hide_password=False)).set(database=name)
    copy = Database(mr.settings_for(url.render_as_string(hide_password=False)))

    def drop() -> None:
        copy.dispose()
        with pg.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return Copy(copy, drop)


def run_backend(outcome: Outcome, backend: str, database: Database, args: argparse.Namespace,
                workdir: Path, pg: mr.PostgresDatabase | None = None) -> None:
    bench = outcome.bench
    rng = random.Random(args.seed)
    world, counts = build_world(outcome, backend, database, args, rng)
    world.account_iban = database.settings.organisation_iban
    services = world.services

    (file, intended, facts), seconds = mr.timed(lambda: build_statement(world, counts, args, rng))
    lines, ntry = facts["lines"], facts["ntry"]
    bench.phase(backend, "build the statement records", seconds, f"{ntry:,} Ntry, {lines:,} lines")
    path = workdir / f"statement-{backend}.xml"
    data, seconds = mr.timed(lambda: write_camt053(file, style=args.style))
    path.write_bytes(data)
    bench.phase(backend, f"write_camt053 ({args.style}, {args.camt_version})", seconds,
                f"{path} {len(data) / 1e6:,.1f} MB")
    mix = [(s.label, counts[s.key], facts["group_lines"].get(s.key, 0)) for s in MIX]
    mix.insert(1, (OWN_BATCH_LABEL + f" ({len(world.batch):,} payments)" if counts["own_batch"] else OWN_BATCH_LABEL,
                   counts["own_batch"], facts["group_lines"].get("own_batch", 0)))
    mix.append((UNMATCHED_LABEL, counts["unmatched"], facts["group_lines"].get("unmatched", 0)))
    outcome.mixes[backend] = mix
    print(f"  statement mix ({lines:,} lines in {ntry:,} Ntry; opening {facts['opening'].format_nl()}, "
          f"closing {facts['closing'].format_nl()}):")
    for label, _, n in mix:
        print(f"    {n:>8,}  {100 * n / lines:5.1f}%  {label}")

    copy = copy_database(database, workdir, pg) if args.profile else None

    # Parse, timed.
    cpu = time.process_time()
    parsed, seconds = mr.timed(lambda: parse_camt053(data, max_bytes=database.settings.statement_max_megabytes * MEGABYTE))
    cpu = time.process_time() - cpu
    parse = outcome.timing(Timing(backend, "parse_camt053", lines, ntry, seconds, cpu))
    if parsed.statements != file.statements:
        bench.check(f"{backend} parse", ["the parsed statement differs from the generated one: "
                                         + first_difference(file.statements[0], parsed.statements[0])])
    parsed_lines, not_booked = statement_lines(parsed.statements[0])
    if len(parsed_lines) != lines or not_booked:
        bench.problems.append(f"{backend}: the import sees {len(parsed_lines)} lines ({not_booked} not booked), "
                              f"the statement was built with {lines}")

    # Import, timed.
    entries_before = count(database, "journal_entries")
    report, seconds, cpu, phases, missing = timed_import(services, parsed, not args.no_phases)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if missing:
        print(f"  note: phases not measured, not found in the service: {', '.join(missing)}", flush=True)
    imported = outcome.timing(Timing(backend, "import_file (dedupe+match+post)", lines, ntry, seconds, cpu, phases))
    print_phases(imported, "import")
    end_to_end = outcome.timing(Timing(backend, "end to end (parse + import)", lines, ntry,
                                       parse.seconds + imported.seconds,
                                       (parse.cpu_seconds or 0) + (imported.cpu_seconds or 0)))
    print(f"    ({ntry / end_to_end.seconds:,.0f} Ntry/s end to end; load average (1 min) {load:.2f} on "
          f"{os.cpu_count()} cores when the import ended)", flush=True)
    bench.notes.append(f"{backend}: load average (1 min) when the import ended: {load:.2f} on {os.cpu_count()} cores")
    stmt = report.statements[0]
    entries_booked = count(database, "journal_entries") - entries_before
    print(f"  booked: {stmt.lines_new:,} new lines, {stmt.lines_known:,} known, {entries_booked:,} journal entries, "
          f"{stmt.executed:,} payments executed, {stmt.returned:,} returned, {stmt.warnings_raised:,} warnings; "
          f"reconciled: {stmt.reconciled}")
    kinds = sorted(set(intended) | set(stmt.by_kind) | {"ongematcht"})
    booked_kinds = Counter(stmt.by_kind)
    booked_kinds["ongematcht"] = stmt.unmatched
    print(f"    {'match kind':<26} {'built':>8} {'booked':>8}")
    for kind in kinds:
        print(f"    {kind:<26} {intended.get(kind, 0):>8,} {booked_kinds.get(kind, 0):>8,}")
    outcome.facts[backend] = {"by_kind": dict(booked_kinds), "intended": dict(intended), "lines": lines, "ntry": ntry,
                              "bytes": len(data), "warnings": stmt.warnings_raised, "executed": stmt.executed,
                              "returned": stmt.returned}

    problems: list[str] = []
    if (stmt.lines_total, stmt.lines_new, stmt.lines_known) != (lines, lines, 0):
        problems.append(f"first import: {stmt.lines_total} lines, {stmt.lines_new} new, {stmt.lines_known} known; "
                        f"expected {lines} new")
    if dict(booked_kinds - Counter()) != dict(Counter(intended) - Counter()):
        problems.append("match kinds differ from what the statement was built for: built "
                        f"{dict(sorted(intended.items()))}, booked {dict(sorted(booked_kinds.items()))}")
        problems += [f"  e.g. {line}" for line in differing_lines(database, facts["kind_per_line"])]
    if stmt.opening is None or stmt.closing is None or not stmt.reconciled:
        problems.append(f"not reconciled: opening {stmt.opening} vs ledger {stmt.ledger_opening}, closing "
                        f"{stmt.closing} vs ledger {stmt.ledger_closing}")
    problems += book_problems(services)
    rows = count(database, "bank_lines")
    if rows != lines:
        problems.append(f"bank_lines holds {rows} rows, the statement {lines} lines")
    statuses = instruction_statuses(database, facts["debit_instructions"])
    if statuses.get(InstructionStatus.EXPORTED.value):
        problems.append(f"{statuses[InstructionStatus.EXPORTED.value]} instruction(s) the statement paid are still "
                        f"exported ({dict(statuses)})")
    if statuses.get(InstructionStatus.REJECTED.value, 0) != len(facts["returned"]):
        problems.append(f"{statuses.get(InstructionStatus.REJECTED.value, 0)} instructions rejected, "
                        f"{len(facts['returned'])} returned by the statement")
    print(f"  instructions the statement paid: {dict(statuses)}")
    bench.check(f"{backend} first import", problems)

    # Again: every line known.
    entries_before = count(database, "journal_entries")
    again, seconds, cpu, phases, _ = timed_import(services, parsed, not args.no_phases)
    dedupe = outcome.timing(Timing(backend, "re-import (all known: dedupe)", lines, ntry, seconds, cpu, phases))
    print_phases(dedupe, "re-import")
    second = again.statements[0]
    problems = []
    if (second.lines_new, second.lines_known) != (0, lines):
        problems.append(f"second import: {second.lines_new} new, {second.lines_known} known (expected 0, {lines})")
    if count(database, "journal_entries") != entries_before:
        problems.append(f"second import booked {count(database, 'journal_entries') - entries_before} journal entries")
    if count(database, "bank_lines") != lines:
        problems.append(f"bank_lines holds {count(database, 'bank_lines')} rows after the second import")
    if not second.reconciled:
        problems.append("the second import does not reconcile")
    problems += book_problems(services)
    bench.check(f"{backend} second import", problems)

    if copy is not None:
        try:
            profile_import(copy, parsed, args)
        finally:
            copy.dispose()
    database.dispose()


def book_problems(services: Services) -> list[str]:
    problems = []
    trial = services.ledger.trial_balance()
    if not trial.is_balanced:
        problems.append(f"trial balance is off by {trial.total}")
    mismatches = services.ledger.balance_mismatches()
    if mismatches:
        problems.append(f"{len(mismatches)} stored balance(s) differ from their postings, e.g. {mismatches[0]}")
    return problems


def profile_import(copy: Copy, parsed: StatementFile, args: argparse.Namespace) -> None:
    services = make_services(copy.database)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    services.bank_import.import_file(parsed, ACTOR)
    profiler.disable()
    seconds = time.perf_counter() - start
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(15)
    print(f"\n  cProfile of the same import on a copy of the database ({seconds:.1f} s under the profiler):")
    for line in out.getvalue().splitlines():
        if line.strip():
            print("    " + line)


# -- report ---------------------------------------------------------------------------------------------



def print_table(outcome: Outcome, args: argparse.Namespace) -> None:
    bench = outcome.bench
    header = (f"{'backend':<10} {'step':<34} {'lines':>8} {'Ntry':>7} {'seconds':>9} {'cpu s':>8} "
              f"{'entries/s':>10} {'Ntry/s':>9}")
    print("\n" + "=" * len(header))
    print("Results (entries = statement lines: each is one bank_lines row and one journal entry)")
    print("=" * len(header))
    m = bench.machine
    print(f"machine: {m['cores']} cores, Python {m['python']}, SQLAlchemy {m['sqlalchemy']}, SQLite {m['sqlite']}, "
          f"filesystem {m['filesystem']}, {m['platform']}")
    if "postgresql" in m:
        pg = m["postgresql"]
        print(f"PostgreSQL {pg['server_version']} (fsync={pg['fsync']}, synchronous_commit={pg['synchronous_commit']})")
    print(f"households={args.households:,} entries={args.entries:,} batch size={args.batch_size} style={args.style} "
          f"version={args.camt_version} seed={args.seed} sqlite synchronous={m.get('sqlite_synchronous', '-')}")
    for note in bench.notes:
        print(note)
    print(header)
    print("-" * len(header))
    for t in outcome.timings:
        cpu = f"{t.cpu_seconds:8.2f}" if t.cpu_seconds is not None else f"{'-':>8}"
        print(f"{t.backend:<10} {t.label:<34} {t.lines:>8,} {t.ntry:>7,} {t.seconds:>9.3f} {cpu} "
              f"{t.per_second:>10,.0f} {t.ntry / t.seconds if t.seconds else 0:>9,.0f}")
        for name, seconds in t.phases.items():
            print(f"{'':<10}   {name:<32} {'':>8} {'':>7} {seconds:>9.3f} {'':>8} {rate_text(t.lines, seconds):>10}")
    print("-" * len(header))
    print("set-up phases (untimed in the figures above):")
    for backend, name, seconds, detail in bench.phases:
        print(f"  {backend:<10} {name:<34} {seconds:9.3f} s  {detail}")
    for r in bench.results:
        print(f"  {r.backend:<10} {r.label:<34} {r.seconds:9.3f} s  {r.households:,} households, {r.entries:,} "
              f"entries, {r.instructions:,} instructions")
    print("-" * len(header))
    if bench.problems:
        print(f"CORRECTNESS CHECKS FAILED ({len(bench.problems)}):")
        for problem in bench.problems:
            print(f"  - {problem}")
    else:
        print("All correctness checks passed.")


def to_json(outcome: Outcome, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "households": args.households, "entries": args.entries, "batch_size": args.batch_size, "style": args.style,
        "camt_version": args.camt_version, "seed": args.seed, "machine": outcome.bench.machine,
        "timings": [dataclasses.asdict(t) | {"entries_per_second": t.per_second} for t in outcome.timings],
        "mix": outcome.mixes, "facts": outcome.facts,
        "phases": [{"backend": b, "phase": p, "seconds": s, "detail": d} for b, p, s, d in outcome.bench.phases],
        "problems": outcome.bench.problems, "notes": outcome.bench.notes,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=10_000, help="households in all (default 10000)")
    parser.add_argument("--entries", type=int, default=50_000, help="statement lines (default 50000)")
    parser.add_argument("--batch-size", type=int, default=250,
                        help="TxDtls per batch entry of our payments (default 250)")
    parser.add_argument("--style", choices=sorted(BANK_STYLES), default="generic", help="write_camt053 style")
    parser.add_argument("--camt-version", default=CAMT_VERSION, help=f"default {CAMT_VERSION}")
    parser.add_argument("--chunk", type=int, default=500, help="households per transaction in the payment runs")
    parser.add_argument("--seed", type=int, default=20250603, help="random seed of the statement")
    parser.add_argument("--profile", action="store_true",
                        help="also run the import under cProfile on a copy of the database and print the top functions")
    parser.add_argument("--no-phases", action="store_true", help="do not time the import's phases separately")
    parser.add_argument("--workdir", type=Path, default=None, help="directory for the temp dir (SQLite, statement)")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite files and the statement")
    parser.add_argument("--postgres", metavar="URL", default=None,
                        help=f"a PostgreSQL server to repeat the import on (default: {PG_URL_ENV} if postgresql)")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL even when a URL is set")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite (PostgreSQL only)")
    parser.add_argument("--json", metavar="FILE", nargs="?", const="-", default=None,
                        help="also write the figures as JSON to FILE (or standard output with no FILE)")
    args = parser.parse_args(argv)
    if args.households < len(mr.TEMPLATES):
        parser.error(f"--households must be at least {len(mr.TEMPLATES)} (one of each template)")
    if args.entries < 20:
        parser.error("--entries must be at least 20")
    if args.batch_size < 2:
        parser.error("--batch-size must be at least 2")
    args.run_date = mr.RUN_DATE

    mr.TEMPLATES = tuple(with_payers(t) for t in mr.TEMPLATES)  # prepare() reads the module's templates
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="budget-ledger-camt-", dir=args.workdir))
    outcome = Outcome(mr.Bench(machine={
        "cores": os.cpu_count(), "python": platform.python_version(), "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version, "filesystem": mr.filesystem_of(workdir),
        "platform": platform.platform(terse=True)}))
    print(f"budget_ledger CAMT.053 import bench: Python {platform.python_version()}, SQLAlchemy "
          f"{sqlalchemy.__version__}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs; "
          f"households={args.households:,} entries={args.entries:,} style={args.style} {args.camt_version}; "
          f"statement {STATEMENT_FROM}..{STATEMENT_TO} after runs on "
          f"{', '.join(d.isoformat() for d in mr.run_dates(mr.RUN_DATE))}", flush=True)
    try:
        if not args.no_sqlite:
            path = workdir / "import.sqlite3"
            database = Database(mr.settings_for(f"sqlite:///{path}"))
            outcome.bench.machine["sqlite_synchronous"] = database.settings.sqlite_synchronous
            print(f"\nSQLite ({path}, {mr.filesystem_of(workdir)}; "
                  f"synchronous={database.settings.sqlite_synchronous}):", flush=True)
            try:
                run_backend(outcome, "sqlite", database, args, workdir)
            finally:
                database.dispose()
        admin_url = mr.postgres_admin_url(args.postgres)
        if admin_url and not args.no_postgres:
            pg = mr.PostgresDatabase(admin_url)
            outcome.bench.machine["postgresql"] = {"server_version": pg.server_version, "fsync": pg.fsync,
                                                   "synchronous_commit": pg.synchronous_commit}
            print(f"\nPostgreSQL {pg.server_version} ({make_url(admin_url).render_as_string(hide_password=True)}; "
                  f"database {pg.name}; fsync={pg.fsync}, synchronous_commit={pg.synchronous_commit}):", flush=True)
            try:
                assert pg.database is not None
                run_backend(outcome, "postgresql", pg.database, args, workdir, pg)
            finally:
                pg.drop()
        elif args.postgres or os.environ.get(PG_URL_ENV):
            print(f"\n{args.postgres or PG_URL_ENV} is not a postgresql URL: PostgreSQL skipped", flush=True)
        else:
            print(f"\nPostgreSQL skipped (set {PG_URL_ENV} or --postgres to a postgresql URL to include it)",
                  flush=True)
    finally:
        if args.keep:
            print(f"files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(outcome, args)
    if args.json is not None:
        document = json.dumps(to_json(outcome, args), indent=2, default=str)
        if args.json == "-":
            print(document)
        else:
            Path(args.json).write_text(document + "\n")
    return 1 if outcome.bench.problems else 0


if __name__ == "__main__":
    sys.exit(main())
