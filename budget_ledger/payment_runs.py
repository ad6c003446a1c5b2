"""Payment runs: book what is due for every household in scope and record a payment instruction for each
payment that leaves the bank, for a second person to approve and the bank file to carry.

One transaction per chunk of households (`chunk_size`): the planning service plans each household
(`PlanningService.plan_many_in`, the rules engine from the trajectory's start), the run turns the plans into
journal entries and an instruction for each movement that leaves the bank (flow OUT: Dr org:clientgelden /
Cr org:bank:onderweg), and posts the whole chunk through the ledger's bulk path. A household that cannot be
planned fails alone; if the chunk's transaction fails, its households are booked again one transaction
each, so only the one at fault fails. The run goes on and reports it. A big run plans its next chunks in
other processes while it writes (budget_ledger.run_ahead), with the same result.

Exactly once. A movement's idempotency key `plan:<household>:<obligation>:<due date>` makes a second
booking a replay, and a replayed movement gets no instruction; the database's partial unique index on
(household, obligation, due date) among instructions that are not rejected refuses a second instruction
even if the ledger were bypassed. A process killed mid-run leaves each household either fully booked with
its instructions or untouched, so running again completes the run. Two runners at once are serialised
per household (the household row is locked on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers),
and a unique violation from a race is retried as a transient error, never reported as a failure.

Payees (decided here, see the issue note):
- a bill (`vaste_lasten`, a movement with a creditor): the creditor's IBAN, account-holder name (for
  Verification of Payee), its reference (betalingskenmerk, RF or free text) and its postal address as it
  is at the time of the run (a snapshot: a later change of the creditor's address does not change it);
- leefgeld: the client, to the leefgeld account recorded for the household
  (`HouseholdService.set_leefgeld_account`: IBAN and account-holder name). Without one the instruction has
  no IBAN and the aanvrager's name: in setup (b) leefgeld goes to the household's own leefgeldrekening
  (an internal transfer at the bank), in setup (a) the IBAN must be recorded before it can be exported.
  The export step leaves instructions without an IBAN out (`mark_exported` keeps them approved), and the
  run report warns about them;
- krediet aflossing and toeslag voorschot repayments: the gemeente, to `GemeenteSettings.repayment_iban`
  if set (else no IBAN, with a warning).

Rejection. A rejected instruction (by a person, or by the bank later) reverses its ledger entry; the
instruction keeps its row (status rejected) and frees its obligation, which the next run plans again under
the key `<base key>#<attempt>` (see budget_ledger.planning.retry_keys).

Note on design.md §3: the money moves to onderweg when the run books it, not when it is approved; an
unapproved run that is cancelled reverses its entries.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from budget_ledger.addresses import PostalAddress
from budget_ledger.clock import AMSTERDAM, Clock, system_clock
from budget_ledger.creditors import Creditor
from budget_ledger.errors import ConflictError, InvalidInputError, NotFoundError
from budget_ledger.gemeenten import require_gemeente
from budget_ledger.ledger.accounts import AccountSpec
from budget_ledger.ledger.entries import EntryRequest, reversal_request
from budget_ledger.ledger.money import Money
from budget_ledger.ledger.quick_values import quick_value, replaced
from budget_ledger.planning import (
    ACTIVE,
    Planned,
    PlanningService,
    StoredFacts,
    book_requests,
    entry_request,
    reservering_specs,
)
from budget_ledger.ports import UnitOfWork
from budget_ledger.posting import post_one_in
from budget_ledger.rules.plan import Finding, FindingKind, Flow, Movement, Severity
from budget_ledger.run_ahead import Ahead, ChunkPlanners
from budget_ledger.transactions import Transactions

log = logging.getLogger(__name__)


class RunKind(StrEnum):
    """What a run books. The scheduler books the fixed costs and the leefgeld in separate jobs, so each has
    its own time and can be caught up on its own; a person starting a run books everything due."""

    ALL = "alles"
    FIXED_COSTS = "vaste-lasten"
    """Everything due except leefgeld: bills, reserveringen, aflossing, advances and bridges."""
    LEEFGELD = "leefgeld"

    def covers(self, rule: str) -> bool:
        """Whether a run of this kind books (and reports the findings of) the rule."""
        return self is RunKind.ALL or (rule == LEEFGELD_RULE) is (self is RunKind.LEEFGELD)

    def selects(self, movement: Movement) -> bool:
        return self.covers(movement.rule)


class RunStatus(StrEnum):
    PLANNED = "planned"
    APPROVED = "approved"
    EXPORTED = "exported"
    CANCELLED = "cancelled"


class InstructionStatus(StrEnum):
    PLANNED = "planned"
    APPROVED = "approved"
    EXPORTED = "exported"
    EXECUTED = "executed"
    REJECTED = "rejected"


class PayeeKind(StrEnum):
    CREDITOR = "creditor"
    CLIENT = "client"
    GEMEENTE = "gemeente"


GEMEENTE_RULES = {"krediet_aflossing": "aflossing-krediet", "toeslag_voorschot": "terugbetaling-voorschot"}
LEEFGELD_RULE = "leefgeld"
_SEPA_ID = re.compile(r"^[A-Za-z0-9/?:().,'+ -]{1,35}$")


@quick_value
@dataclass(frozen=True, slots=True)
class NewInstruction:
    run_id: int
    household_id: int
    obligation: str
    due_date: date
    execution_date: date
    entry_key: str
    entry_id: int
    rule: str
    category: str
    amount: Money
    payee_kind: PayeeKind
    creditor_id: int | None
    payee_name: str
    iban: str | None
    bic: str | None
    reference_kind: str
    reference: str
    end_to_end_id: str
    payee_address: PostalAddress | None = field(default=None, kw_only=True)
    """The payee's postal address when the instruction was made (a creditor's; None when none is known)."""


@quick_value
@dataclass(frozen=True, slots=True)
class PaymentInstruction(NewInstruction):
    """An instruction as stored: what was recorded, and where it stands since."""

    id: int
    status: InstructionStatus
    created_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    exported_at: datetime | None = None
    executed_at: datetime | None = None
    rejected_by: str | None = None
    rejected_at: datetime | None = None
    rejection_reason: str | None = None
    reversal_entry_id: int | None = None


@dataclass(frozen=True, slots=True)
class PaymentRun:
    id: int
    run_date: date
    scope: dict[str, Any]
    started_by: str
    started_at: datetime
    four_eyes: bool
    status: RunStatus
    finished_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    exported_by: str | None = None
    exported_at: datetime | None = None
    message_id: str | None = None
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None
    report: dict[str, Any] | None = None
    """None while the run is going on, or when its process died: the instructions it wrote still stand."""


@dataclass(frozen=True, slots=True)
class Skipped:
    household_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class Failed:
    household_id: int
    message: str


@quick_value
@dataclass(frozen=True, slots=True)
class RunFinding:
    household_id: int
    kind: str
    severity: str
    on: date
    message: str
    amount: Money | None


@quick_value
@dataclass(frozen=True, slots=True)
class HouseholdOutcome:
    household_id: int
    instructions: tuple[NewInstruction, ...]
    instruction_ids: tuple[int, ...]
    findings: tuple[RunFinding, ...]
    warnings: tuple[str, ...]


@quick_value
@dataclass(frozen=True, slots=True)
class PreparedHousehold:
    """A household's part of a chunk, planned and made ready to write: its journal entries, the reservering
    accounts they need, an instruction per payment out (with its warning, if any; `entry_id` is filled in
    once the entry is posted) and the plan's findings. Made from one consistent read, in the writer's
    transaction or ahead of it in a planning process (budget_ledger.run_ahead)."""

    household_id: int
    requests: tuple[EntryRequest, ...]
    accounts: tuple[AccountSpec, ...]
    payments: tuple[tuple[NewInstruction, str | None], ...]
    findings: tuple[RunFinding, ...]


@dataclass(frozen=True)
class RunReport:
    run_id: int | None
    """None for a dry run: nothing was written."""
    run_date: date
    dry_run: bool
    processed: tuple[int, ...] = ()
    instruction_ids: tuple[int, ...] = ()
    instructions: tuple[NewInstruction, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    failed: tuple[Failed, ...] = ()
    findings: tuple[RunFinding, ...] = ()
    warnings: tuple[tuple[int, str], ...] = ()
    per_category: dict[str, Money] = field(default_factory=dict)

    @property
    def instructions_created(self) -> int:
        return len(self.instructions)

    @property
    def total(self) -> Money:
        return Money.sum(i.amount for i in self.instructions)

    @property
    def shortfalls(self) -> tuple[RunFinding, ...]:
        return tuple(f for f in self.findings if f.kind == "tekort")

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_date": self.run_date.isoformat(),
            "dry_run": self.dry_run,
            "households_processed": list(self.processed),
            "instructions_created": self.instructions_created,
            "total": str(self.total),
            "per_category": {k: str(v) for k, v in sorted(self.per_category.items())},
            "skipped": [{"household_id": s.household_id, "reason": s.reason} for s in self.skipped],
            "failed": [{"household_id": f.household_id, "message": f.message} for f in self.failed],
            "shortfalls": [_finding_json(f) for f in self.shortfalls],
            "warnings": [_finding_json(f) for f in self.findings if f.kind != "tekort"]
            + [{"household_id": h, "message": m} for h, m in self.warnings],
        }


NOTES_SHOWN = 100
"""Shortfalls and warnings a run's report shows of each in the API and the CLI; `PaymentRunService.notes` gives
them all (a region's run of 100,000 households has hundreds of thousands, tens of megabytes)."""


def reported_findings(findings: Sequence[Finding], kind: RunKind) -> list[Finding]:
    """The plan's findings a run of `kind` reports: warnings and critical ones of the rules it books.

    A run plans from the trajectory's start, so a bill the profile leaves to the client (S3) is found
    again every month: by June's run, energie for April, May and June. The budgetbeheerder's action is
    the same for all of them (put the creditor on 'klant betaalt'), and the earlier months were in the
    earlier runs' reports, so a run reports it once per creditor: the latest bill's. A run caught up after
    the service was down reports the latest missed bill, with the same action. Every other finding stays,
    a shortfall of an earlier month too: that bill is still unpaid.
    """
    kept = [f for f in findings if f.severity in (Severity.WARNING, Severity.CRITICAL) and kind.covers(f.rule)]
    latest: dict[int | None, Finding] = {}
    for f in kept:
        if f.kind is FindingKind.CLIENT_PAID_CREDITOR:
            seen = latest.get(f.creditor_id)
            if seen is None or not f.on < seen.on:
                latest[f.creditor_id] = f
    if not latest:
        return kept
    return [f for f in kept if f.kind is not FindingKind.CLIENT_PAID_CREDITOR or latest[f.creditor_id] is f]


def _finding_json(f: RunFinding) -> dict[str, Any]:
    return {"household_id": f.household_id, "kind": f.kind, "severity": f.severity, "on": f.on.isoformat(),
            "message": f.message, "amount": None if f.amount is None else str(f.amount)}


class _DryRun(Exception):
    """Raised inside a dry run's transaction so it rolls back, carrying what it would have done."""

    def __init__(self, results: list[tuple[int, HouseholdOutcome | Exception]]) -> None:
        super().__init__("dry run")
        self.results = results


Progress = Callable[[int, int, int, str], None]
"""(households done, households in scope, household id, one line about it)."""


def end_to_end_id(household_id: int, due: date, entry_key: str) -> str:
    """Unique per ledger entry (the key is), at most 35 characters of [A-Z0-9-], readable on a statement."""
    digest = hashlib.sha256(entry_key.encode()).hexdigest()[:12].upper()
    text = f"H{household_id}-{due:%y%m%d}-{digest}"
    return text if len(text) <= 35 else f"BL-{hashlib.sha256(entry_key.encode()).hexdigest()[:32].upper()}"


def _hashed(request: EntryRequest) -> EntryRequest:
    """The request with its fingerprint worked out (kept with it): done where a chunk is prepared, often a
    planning process, rather than by the writer, which every chunk waits for."""
    request.request_hash()
    return request


def _reference_text(text: str) -> str:
    return " ".join(text.split())[:140]


_GC_LOCK = threading.Lock()
_gc_holders = 0
_gc_saved: tuple[int, int, int] | None = None
_gc_freezes = False
_GC_CHUNK_THRESHOLD = 200_000
"""Generation-0 threshold while a chunk is booked (the interpreter's default is 700)."""


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Book a chunk (or a whole run) with the cyclic garbage collector's youngest generation collected less often.

    A chunk builds hundreds of thousands of small immutable objects (rows, postings, steps, movements) that
    live until the chunk is written; the default threshold runs a collection over them every 700 allocations,
    a tenth of the run's time for nothing (at 20,000 the collections still took 1.4 s of an 18 s run of 10,000
    households; at 200,000, 0.4 s, and the run 1.2 s less). Cycles wait at most that many allocations. Memory is
    still freed by reference counting; the thresholds are put back when the last overlapping holder (any
    thread) ends. Nothing the run computes depends on it.

    A whole run holds it too (`start`), and after each chunk moves what it keeps (the outcomes its report is
    made of) out of the collector's way with `_settle`: those objects live until the run ends, and every full
    collection walked all of them again (0.9 s of the writer's 7 s in a run of 10,000 households, more the
    longer the run). They are given back to the collector (`gc.unfreeze`) when the last holder ends.
    """
    global _gc_holders, _gc_saved, _gc_freezes
    with _GC_LOCK:
        if _gc_holders == 0:
            # Freezing is the run's only where nothing else in the process froze objects (unfreeze is all or none).
            _gc_freezes = gc.get_freeze_count() == 0
            _gc_saved = gc.get_threshold()
            if _gc_saved[0] and _gc_saved[0] < _GC_CHUNK_THRESHOLD:  # 0: collection is off, leave it so
                gc.set_threshold(_GC_CHUNK_THRESHOLD, *_gc_saved[1:])
        _gc_holders += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_holders -= 1
            if _gc_holders == 0:
                if _gc_freezes:
                    gc.unfreeze()
                    _gc_freezes = False
                if _gc_saved is not None:
                    gc.set_threshold(*_gc_saved)
                    _gc_saved = None


def _settle() -> None:
    """After a run's chunk, inside `_fewer_collections`: everything alive now is moved out of the collector's
    walks (`gc.freeze`) until the last holder ends. Objects freed by reference counting are freed as usual;
    only a cycle that became garbage in the meantime waits for the unfreeze."""
    with _GC_LOCK:
        if _gc_holders and _gc_freezes:
            gc.freeze()


class PaymentRunService:
    def __init__(self, transactions: Transactions, planning: PlanningService, clock: Clock = system_clock, *,
                 four_eyes: bool = True, chunk_size: int = 500, planners: Callable[[], ChunkPlanners] | None = None,
                 plan_ahead_from: int = 4) -> None:
        """`planners`: starts the processes that plan chunks ahead (budget_ledger.run_ahead), used by a run of
        at least `plan_ahead_from` chunks (starting them costs about a second); None plans in this process."""
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self._chunk_size = chunk_size
        self._planners = planners
        self._plan_ahead_from = plan_ahead_from
        self._tx = transactions
        self._planning = planning
        self._clock = clock
        self._four_eyes = four_eyes

    # -- the run ---------------------------------------------------------------------------------

    def start(self, run_date: date, *, gemeente: str | None = None, households: Sequence[int] | None = None,
              actor: str, dry_run: bool = False, progress: Progress | None = None,
              kind: RunKind | str = RunKind.ALL) -> RunReport:
        """Book everything due by `run_date` for the households in scope and record their payment instructions.

        Scope: the households of `gemeente`, or those listed, or all; a household without a running
        ontzorgtraject is skipped. With `dry_run` the same work runs in transactions that are rolled back:
        the report says what would happen and nothing is written.
        """
        if not actor or not actor.strip():
            raise InvalidInputError("actor", "a payment run is started by a named user")
        try:
            kind = RunKind(kind)
        except ValueError:
            raise InvalidInputError("kind", f"one of {', '.join(k.value for k in RunKind)}") from None
        scope = {"gemeente": gemeente, "households": sorted(households) if households is not None else None,
                 "kind": kind.value}
        in_scope, skipped = self._tx.run(lambda uow: self._scope(uow, run_date, gemeente, households), write=False)
        run_id: int | None = None
        if not dry_run:
            run_id = self._tx.run(lambda uow: uow.payments.insert_run(
                run_date, scope, actor, self._clock(), self._four_eyes))
        outcomes: list[HouseholdOutcome] = []
        failed: list[Failed] = []
        done = 0
        chunks = [in_scope[start:start + self._chunk_size] for start in range(0, len(in_scope), self._chunk_size)]
        ahead = self._ahead(run_id, run_date, actor, kind, chunks) if run_id is not None else None
        try:
            with _fewer_collections():  # for the whole run, see _settle
                for index, chunk in enumerate(chunks):
                    if ahead is not None:
                        ahead.wait(index)
                    booked = self._book_chunk(run_id, run_date, scope, chunk, actor, dry_run, kind, ahead)
                    for household_id, result in booked:
                        done += 1
                        if isinstance(result, Exception):
                            message = getattr(result, "message", None) or f"{type(result).__name__}: {result}"
                            failed.append(Failed(household_id, message))
                            line = f"mislukt: {message}"
                        else:
                            outcomes.append(result)
                            line = f"{len(result.instructions)} betaalopdracht(en)"
                        if progress is not None:
                            progress(done, len(in_scope), household_id, line)
                    _settle()
        finally:
            if ahead is not None:
                ahead.close()
                log.info("payment run %s: %d of %d chunks planned ahead", run_id, ahead.planned_ahead, len(chunks))
        report = self._report(run_id, run_date, dry_run, outcomes, skipped, failed)
        if run_id is not None:
            self._tx.run(lambda uow: uow.payments.update_run(
                run_id, [s.value for s in RunStatus], report=report.to_json(), finished_at=self._clock()))
        return report

    def _ahead(self, run_id: int, run_date: date, actor: str, kind: RunKind, chunks: Sequence[Sequence[int]]
               ) -> Ahead | None:
        """Planning processes for a run big enough to be worth starting them; None when there are none."""
        if self._planners is None or len(chunks) < self._plan_ahead_from:
            return None
        try:
            planners = self._planners()
        except Exception as exc:  # noqa: BLE001 - the run plans in this process, as it would without them
            log.warning("no planning processes for payment run %s (%s); planning in this process", run_id, exc)
            return None
        return Ahead(planners, chunks, lambda chunk: planners.submit(run_id, run_date, chunk, actor, kind.value))

    def _scope(self, uow: UnitOfWork, run_date: date, gemeente: str | None, households: Sequence[int] | None
               ) -> tuple[list[int], list[Skipped]]:
        gemeente_id = require_gemeente(uow, gemeente).id if gemeente else None
        found = uow.registry.household_ids(gemeente_id=gemeente_id)
        if households is not None:
            found = sorted(set(found) & set(households))
        skipped = [Skipped(h, "huishouden bestaat niet" + (f" in gemeente {gemeente}" if gemeente else ""))
                   for h in sorted(set(households or ()) - set(found))]
        in_scope = []
        running = [status.value for status in ACTIVE]
        for start in range(0, len(found), self._chunk_size):
            chunk = found[start:start + self._chunk_size]
            # The start of the trajectory planning would take (`current_trajectory`: the running one that
            # starts last), read as one date per household rather than as whole trajectories.
            starts = uow.registry.running_trajectory_starts(chunk, running)
            for household_id in chunk:
                begins = starts.get(household_id)
                if begins is None:
                    skipped.append(Skipped(household_id, "geen lopend ontzorgtraject"))
                elif begins > run_date:
                    skipped.append(Skipped(household_id, f"ontzorgtraject begint pas op {begins}"))
                else:
                    in_scope.append(household_id)
        return in_scope, skipped

    def _book_chunk(self, run_id: int | None, run_date: date, scope: dict[str, Any], chunk: Sequence[int],
                    actor: str, dry_run: bool, kind: RunKind, ahead: Ahead | None = None
                    ) -> list[tuple[int, HouseholdOutcome | Exception]]:
        """A chunk of households in one transaction through the bulk path; if that transaction fails, the
        chunk again one household per transaction, so only the household at fault fails."""
        tx = ahead.transactions if ahead is not None else self._tx
        if len(chunk) > 1 or ahead is not None:  # (one household alone: the same work as below, unless ahead)
            try:
                return self._in_transaction(tx, run_id, run_date, scope, dry_run, actor,
                                            lambda uow, the_run: self._book_households(uow, the_run, run_date, chunk,
                                                                                       actor, kind, ahead))
            except Exception:  # noqa: BLE001 - retried below, household by household, where the cause is reported
                pass
        results: list[tuple[int, HouseholdOutcome | Exception]] = []
        for household_id in chunk:
            try:
                results += self._in_transaction(
                    tx, run_id, run_date, scope, dry_run, actor,
                    lambda uow, the_run, h=household_id: self._book_households(uow, the_run, run_date, [h], actor, kind))
            except Exception as exc:  # one household's failure never stops the run
                results.append((household_id, exc))
        return results

    def _in_transaction(self, tx: Transactions, run_id: int | None, run_date: date, scope: dict[str, Any], dry_run: bool, actor: str,
                        book: Callable[[UnitOfWork, int], list[tuple[int, HouseholdOutcome | Exception]]]
                        ) -> list[tuple[int, HouseholdOutcome | Exception]]:
        def work(uow: UnitOfWork) -> list[tuple[int, HouseholdOutcome | Exception]]:
            the_run = run_id
            if dry_run:  # the same code path, against a run row that is rolled back with everything else
                the_run = uow.payments.insert_run(run_date, scope, actor, self._clock(), self._four_eyes)
            assert the_run is not None
            results = book(uow, the_run)
            if dry_run:
                raise _DryRun(results)
            return results

        try:
            return tx.run(work)
        except _DryRun as rolled_back:
            return rolled_back.results

    def _book_households(self, uow: UnitOfWork, run_id: int, run_date: date, chunk: Sequence[int], actor: str,
                         kind: RunKind, ahead: Ahead | None = None) -> list[tuple[int, HouseholdOutcome | Exception]]:
        """Book a chunk in this transaction: what was planned ahead for it, if nothing else was committed
        since it was read, and the rest (or all) planned here, after the households are locked."""
        prepared: dict[int, PreparedHousehold | Exception] = dict(ahead.take(uow, chunk)) if ahead else {}
        missing = [h for h in chunk if h not in prepared]
        if missing:
            uow.registry.lock_households(missing)
            prepared.update(self._prepare(self._planning.plan_many_in(uow, missing, run_date, only=kind.selects),
                                          run_id, actor, kind))
        ready = [p for h in chunk if isinstance(p := prepared[h], PreparedHousehold)]
        written = self._write(uow, ready)
        return [(h, written[h] if isinstance(prepared[h], PreparedHousehold) else prepared[h]) for h in chunk]

    def prepare_chunk(self, run_id: int, run_date: date, chunk: Sequence[int], actor: str, kind: RunKind | str
                      ) -> tuple[list[PreparedHousehold], list[int]]:
        """A chunk planned ahead (a planning process's work): read in one read-only transaction, planned after
        it, so the writer's log of changes is never held back by a long reader. Returns the households made
        ready, and those that could not be, which the writer plans again itself to report why."""
        with _fewer_collections():
            facts = self._tx.run(lambda uow: self._planning.facts_of_many(uow, chunk), write=False)
            prepared = self._prepare(self._planning.plan_many(facts, run_date, only=RunKind(kind).selects),
                                     run_id, actor, RunKind(kind))
        return ([p for p in prepared.values() if isinstance(p, PreparedHousehold)],
                [h for h, p in prepared.items() if not isinstance(p, PreparedHousehold)])

    def _prepare(self, planned: Mapping[int, Planned | Exception], run_id: int, actor: str, kind: RunKind
                 ) -> dict[int, PreparedHousehold | Exception]:
        """Each planned household's entries and instructions; nothing is read or written. A household whose
        plan or payee cannot be made gets its error, the others go on."""
        results: dict[int, PreparedHousehold | Exception] = {}
        for household_id, result in planned.items():
            if isinstance(result, Exception):
                results[household_id] = result
                continue
            try:
                results[household_id] = self._prepared(run_id, result, actor, kind)
            except Exception as exc:  # noqa: BLE001 - this household fails, with its reason, the others go on
                results[household_id] = exc
        return results

    def _prepared(self, run_id: int, planned: Planned, actor: str, kind: RunKind) -> PreparedHousehold:
        """The entries for a household's movements, an instruction for each one that leaves the bank, and the
        findings worth reporting (a leefgeld run reports the leefgeld's, the fixed-costs run the rest)."""
        facts, h = planned.facts, planned.facts.household.id
        creditors = {c.id: c for c in facts.creditors}
        return PreparedHousehold(
            household_id=h,
            requests=tuple(_hashed(entry_request(h, m, actor)) for m in planned.movements),
            accounts=tuple(reservering_specs(h, planned.movements)),
            payments=tuple(self._instruction(run_id, facts, m, creditors)
                           for m in planned.movements if m.flow is Flow.OUT),
            findings=tuple(RunFinding(h, f.kind.value, f.severity.value, f.on, f.message, f.amount)
                           for f in reported_findings(planned.plan.findings, kind)),
        )

    def _write(self, uow: UnitOfWork, prepared: Sequence[PreparedHousehold]) -> dict[int, HouseholdOutcome]:
        """Post the households' entries in one bulk posting and record an instruction for every payment whose
        entry this transaction posted; one replayed (booked by a run before) gets none."""
        posted = book_requests(uow, [r for p in prepared for r in p.requests],
                               [a for p in prepared for a in p.accounts]).posted
        outcomes: dict[int, HouseholdOutcome] = {}
        for p in prepared:
            paid = [(instruction, warning) for instruction, warning in p.payments if instruction.entry_key in posted]
            outcomes[p.household_id] = HouseholdOutcome(
                p.household_id, tuple(replaced(i, entry_id=posted[i.entry_key]) for i, _ in paid), (), p.findings,
                tuple(w for _, w in paid if w is not None))
        ids = iter(uow.payments.insert_instructions([i for o in outcomes.values() for i in o.instructions],
                                                    self._clock()))
        return {h: replaced(o, instruction_ids=tuple(next(ids) for _ in o.instructions))
                for h, o in outcomes.items()}

    def _instruction(self, run_id: int, facts: StoredFacts, movement: Movement, creditors: Mapping[int, Creditor]
                     ) -> tuple[NewInstruction, str | None]:
        """The instruction for a payment out (its entry id still 0) and what the run report should warn about
        it: a payee without an IBAN cannot be in the bank file."""
        h = facts.household.id
        iban = bic = address = warning = None
        if movement.creditor_id is not None:
            creditor = creditors.get(movement.creditor_id)
            if creditor is None:
                raise ConflictError(f"{movement.key}: creditor {movement.creditor_id} is not this household's",
                                    field="creditor_id")
            kind, name, iban, bic = PayeeKind.CREDITOR, creditor.account_holder_name, creditor.iban, creditor.bic
            address = creditor.address
            category = movement.category.value if movement.category else creditor.category.value
            reference_kind, reference = creditor.reference.kind.value, creditor.reference.value
        elif movement.rule == LEEFGELD_RULE:
            kind, name, category = PayeeKind.CLIENT, facts.household.aanvrager.name, "leefgeld"
            reference_kind, reference = "vrij", _reference_text(movement.reason)
            account = facts.household.leefgeld_account
            if account is not None:
                name, iban, bic = account.account_holder_name, account.iban, account.bic
            else:
                warning = (f"{movement.reason}: geen IBAN van de klant bekend; niet in het betaalbestand "
                           "(leefgeldrekening in eigen beheer, of IBAN vastleggen)")
        elif movement.rule in GEMEENTE_RULES:
            gemeente = facts.gemeente
            settings = gemeente.settings
            kind, category = PayeeKind.GEMEENTE, GEMEENTE_RULES[movement.rule]
            name = settings.repayment_account_holder_name or f"Gemeente {gemeente.name}"
            iban = settings.repayment_iban
            reference_kind, reference = "vrij", _reference_text(f"Huishouden {h} {movement.reason}")
            if iban is None:
                warning = (f"{movement.reason}: gemeente {gemeente.code} heeft geen repayment_iban; "
                           "niet in het betaalbestand")
        else:  # never post money out without knowing to whom: nothing is booked for the household
            raise ConflictError(f"{movement.key}: no payee known for rule {movement.rule!r}", field="rule")
        return NewInstruction(
            run_id=run_id, household_id=h, obligation=movement.obligation, due_date=movement.due_on,
            execution_date=movement.booking_date, entry_key=movement.key, entry_id=0, rule=movement.rule,
            category=category, amount=movement.amount, payee_kind=kind, creditor_id=movement.creditor_id,
            payee_name=name, iban=iban, bic=bic, reference_kind=reference_kind, reference=reference,
            end_to_end_id=end_to_end_id(h, movement.due_on, movement.key), payee_address=address,
        ), warning

    @staticmethod
    def _report(run_id: int | None, run_date: date, dry_run: bool, outcomes: Sequence[HouseholdOutcome],
                skipped: Sequence[Skipped], failed: Sequence[Failed]) -> RunReport:
        instructions = tuple(i for o in outcomes for i in o.instructions)
        per_category: dict[str, Money] = {}
        for i in instructions:
            per_category[i.category] = per_category.get(i.category, Money(0)) + i.amount
        return RunReport(
            run_id=run_id, run_date=run_date, dry_run=dry_run,
            processed=tuple(o.household_id for o in outcomes),
            instruction_ids=() if dry_run else tuple(i for o in outcomes for i in o.instruction_ids),
            instructions=instructions, skipped=tuple(skipped), failed=tuple(failed),
            findings=tuple(f for o in outcomes for f in o.findings),
            warnings=tuple((o.household_id, w) for o in outcomes for w in o.warnings),
            per_category=per_category,
        )

    # -- after the run ---------------------------------------------------------------------------

    def approve(self, run_id: int, actor: str) -> PaymentRun:
        """Approve a planned run and its instructions. With four eyes on, not by the user who started it."""

        def work(uow: UnitOfWork) -> PaymentRun:
            run = _require_run(uow, run_id, lock=True)
            if run.status is not RunStatus.PLANNED:
                raise ConflictError(f"payment run {run_id} is {run.status.value}; only a planned run can be approved",
                                    field="status")
            if (self._four_eyes or run.four_eyes) and actor == run.started_by:
                raise ConflictError(f"payment run {run_id} was started by {actor}: another user must approve it "
                                    "(four eyes)", field="actor")
            now = self._clock()
            if not uow.payments.update_run(run_id, [RunStatus.PLANNED.value], status=RunStatus.APPROVED.value,
                                           approved_by=actor, approved_at=now):
                raise ConflictError(f"payment run {run_id} changed while it was being approved", field="status")
            planned = [i.id for i in uow.payments.instructions(run_id=run_id, status=InstructionStatus.PLANNED.value)]
            uow.payments.update_instructions(planned, [InstructionStatus.PLANNED.value],
                                             status=InstructionStatus.APPROVED.value, approved_by=actor, approved_at=now)
            return _require_run(uow, run_id)

        return self._tx.run(work)

    def mark_exported(self, run_id: int, message_id: str, actor: str,
                      instruction_ids: Sequence[int] | None = None) -> PaymentRun:
        """Record that a bank file with `message_id` carries the run's approved instructions (those given, or
        every approved one with an IBAN; one without an IBAN cannot be in a file and stays approved)."""
        if not _SEPA_ID.match(message_id):
            raise InvalidInputError("message_id", "at most 35 characters of the SEPA character set")

        def work(uow: UnitOfWork) -> PaymentRun:
            run = _require_run(uow, run_id, lock=True)
            if run.status is not RunStatus.APPROVED:
                raise ConflictError(f"payment run {run_id} is {run.status.value}; only an approved run is exported",
                                    field="status")
            approved = uow.payments.instructions(run_id=run_id, status=InstructionStatus.APPROVED.value)
            if instruction_ids is None:
                chosen = [i.id for i in approved if i.iban]
            else:
                known = {i.id for i in approved}
                unknown = sorted(set(instruction_ids) - known)
                if unknown:
                    raise ConflictError(f"instruction {unknown[0]} is not an approved instruction of run {run_id}",
                                        field="instruction_ids")
                chosen = list(instruction_ids)
            now = self._clock()
            uow.payments.update_instructions(chosen, [InstructionStatus.APPROVED.value],
                                             status=InstructionStatus.EXPORTED.value, exported_at=now)
            uow.payments.update_run(run_id, [RunStatus.APPROVED.value], status=RunStatus.EXPORTED.value,
                                    message_id=message_id, exported_by=actor, exported_at=now)
            return _require_run(uow, run_id)

        return self._tx.run(work)

    def reject_instruction(self, instruction_id: int, actor: str, reason: str, *, on: date | None = None
                           ) -> PaymentInstruction:
        """Reject one instruction (a person before export, or the bank after): its ledger entry is reversed
        and its obligation is free to be planned and paid again by a later run."""
        if not reason or len(reason.strip()) < 3:
            raise InvalidInputError("reason", "say why the payment is rejected")

        def work(uow: UnitOfWork) -> PaymentInstruction:
            instruction = uow.payments.instruction(instruction_id, lock=True)
            if instruction is None:
                raise NotFoundError(f"there is no payment instruction {instruction_id}", field="instruction_id")
            self._reject(uow, instruction, actor, reason, on)
            return uow.payments.instruction(instruction_id)

        return self._tx.run(work)

    def cancel(self, run_id: int, actor: str, reason: str, *, on: date | None = None) -> PaymentRun:
        """Cancel a run that is not exported yet: every instruction of it is rejected (entries reversed)."""
        if not reason or len(reason.strip()) < 3:
            raise InvalidInputError("reason", "say why the run is cancelled")

        def work(uow: UnitOfWork) -> PaymentRun:
            run = _require_run(uow, run_id, lock=True)
            if run.status not in (RunStatus.PLANNED, RunStatus.APPROVED):
                raise ConflictError(f"payment run {run_id} is {run.status.value}; it can no longer be cancelled "
                                    "(reject single instructions instead)", field="status")
            for instruction in uow.payments.instructions(run_id=run_id):
                if instruction.status in (InstructionStatus.PLANNED, InstructionStatus.APPROVED):
                    self._reject(uow, instruction, actor, reason, on)
            uow.payments.update_run(run_id, [run.status.value], status=RunStatus.CANCELLED.value,
                                    cancelled_by=actor, cancelled_at=self._clock())
            return _require_run(uow, run_id)

        return self._tx.run(work)

    def _reject(self, uow: UnitOfWork, instruction: PaymentInstruction, actor: str, reason: str, on: date | None) -> None:
        if instruction.status in (InstructionStatus.REJECTED, InstructionStatus.EXECUTED):
            raise ConflictError(f"payment instruction {instruction.id} is {instruction.status.value} already",
                                field="status")
        now = self._clock()
        entry = uow.ledger.load_entries([instruction.entry_id])[instruction.entry_id]
        reversal = post_one_in(uow.ledger, reversal_request(
            entry, actor=actor, booking_date=on or now.astimezone(AMSTERDAM).date(),
            reason=_reference_text(f"Betaling teruggedraaid ({instruction.payee_name}): {reason}"),
            idempotency_key=f"reversal:{entry.id}"))
        changed = uow.payments.update_instructions(
            [instruction.id], [instruction.status.value], status=InstructionStatus.REJECTED.value, rejected_by=actor,
            rejected_at=now, rejection_reason=reason, reversal_entry_id=reversal.id)
        if not changed:
            raise ConflictError(f"payment instruction {instruction.id} changed while it was being rejected",
                                field="status")

    # -- reading ---------------------------------------------------------------------------------

    def get(self, run_id: int) -> PaymentRun:
        return self._tx.run(lambda uow: _require_run(uow, run_id), write=False)

    def runs(self, *, run_date: date | None = None) -> list[PaymentRun]:
        return self._tx.run(lambda uow: uow.payments.runs(run_date=run_date), write=False)

    def notes(self, run_id: int, *, kind: str | None = None, household_id: int | None = None
              ) -> list[dict[str, Any]]:
        """The run's shortfalls, then its warnings, as its report holds them, of one finding kind ('tekort',
        'crediteur-hoort-bij-klant', ...) and one household when asked: what a budgetbeheerder pages through
        when a region's run has hundreds of thousands of them."""
        run = self.get(run_id)
        if run.report is None:
            raise ConflictError(f"run {run_id} has no report yet: it is still going on, or its process died "
                                "(start it again to complete it)", field="run_id")
        return [note for note in (*run.report["shortfalls"], *run.report["warnings"])
                if (kind is None or note.get("kind") == kind)
                and (household_id is None or note["household_id"] == household_id)]

    def instructions(self, run_id: int, status: InstructionStatus | str | None = None) -> list[PaymentInstruction]:
        """The run's instructions (with one status), for the export step and for review."""
        wanted = InstructionStatus(status).value if status is not None else None

        def work(uow: UnitOfWork) -> list[PaymentInstruction]:
            _require_run(uow, run_id)
            return uow.payments.instructions(run_id=run_id, status=wanted)

        return self._tx.run(work, write=False)

    def instructions_of(self, household_id: int) -> list[PaymentInstruction]:
        return self._tx.run(lambda uow: uow.payments.instructions(household_id=household_id), write=False)


def _require_run(uow: UnitOfWork, run_id: int, *, lock: bool = False) -> PaymentRun:
    run = uow.payments.run(run_id, lock=lock)
    if run is None:
        raise NotFoundError(f"there is no payment run {run_id}", field="run_id")
    return run
