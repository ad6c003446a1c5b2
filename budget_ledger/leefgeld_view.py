"""The begeleider's read-only view: their caseload, and per household its leefgeld in plain words.

A maatschappelijk begeleider reads this with the client (design.md §1, issue 7 item 4): what is on the
leefgeldrekening, when the next leefgeld comes and how much (the rules engine's plan), what was paid
from the basisrekening this month and why (the month's entries, each with its reason), which expected
income has not arrived (S8), the open warnings, and the trajectory's dates. Every figure comes with a Dutch
sentence (`LeefgeldView.sentences`) so the screen can be read aloud as it is.

Nothing is written. A view is read in one read transaction: the registry, the book as it stood at the end of
`as_of` (entries booked after it are left out, as a forecast does), the warnings, and the rules engine's
plan made from the same facts (`forecasts.facts_as_of`, `planning.build_snapshot` counting on the income
expected, `rules.engine.plan` from the trajectory's start, as the payment run plans, so a leefgeld day a run
missed shows as still to be paid), so the figures agree with each other. A household whose plan cannot be
made (no running trajectory, rules that do not fit) still gets its view, without a next leefgeld and with
the reason in `forecast_problem`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from budget_ledger.chart import household_code
from budget_ledger.clock import Clock, system_clock
from budget_ledger.errors import InvalidInputError
from budget_ledger.expected_income import ExpectedIncome, expected_payments
from budget_ledger.forecasts import book_as_of, checked_date, today
from budget_ledger.households import require_household
from budget_ledger.income_watch import received_in
from budget_ledger.ledger.entries import PostedEntry
from budget_ledger.ledger.errors import LedgerError
from budget_ledger.ledger.money import Money
from budget_ledger.payment_calendar import PaymentCalendar
from budget_ledger.planning import (
    PlanningService,
    StoredFacts,
    build_snapshot,
    current_trajectory,
    past_movement,
)
from budget_ledger.ports import UnitOfWork
from budget_ledger.rules.engine import plan as make_plan
from budget_ledger.rules.forecast import forecast_end
from budget_ledger.rules.plan import FindingKind, Plan
from budget_ledger.rules.snapshot import BASIS, KREDIET_UNSPENT, LEEFGELD_PAID, month_end, month_start
from budget_ledger.rules.texts import day_text, month_name
from budget_ledger.trajectories import MilestoneKind, Trajectory
from budget_ledger.transactions import Transactions
from budget_ledger.warnings import UNRESOLVED, WarningRecord

__all__ = [
    "LeefgeldViewService", "LeefgeldView", "CaseloadHousehold", "TrajectoryDates", "NextEvaluation",
    "LeefgeldPaid", "NextLeefgeld", "MonthLine", "AwaitedIncome", "OpenWarning", "VIEW_MONTHS", "sentences",
]

VIEW_MONTHS = 3
"""How far the view looks ahead: the plan (the next leefgeld) and the expected income run through the
end of the third month, counting as_of's month as the first (S1 on 1 April: through 30 June)."""
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
"""The days a view can be asked for (as_of)."""
LEEFGELD_RULE = "leefgeld"
LEEFGELDREKENING = "leefgeld"
_EVALUATIONS = {
    MilestoneKind.EVALUATIE: "tussenevaluatie",
    MilestoneKind.EINDEVALUATIE: "eindevaluatie",
    MilestoneKind.EVALUATIE_VERLENGING: "evaluatie van de verlenging",
}
_PAID_TO = {
    LEEFGELD_PAID: "leefgeld",
    LEEFGELDREKENING: "leefgeld",
    KREDIET_UNSPENT: "terug naar het inrichtingskrediet",
    "krediet:inrichting": "aflossing inrichtingskrediet",
    "voorschot:toeslag": "terugbetaling voorschot toeslagen",
    "vordering:klant": "voorgeschoten kosten",
}
"""What money off the basisrekening was, by the household account it went to (vaste-last:<categorie> is the
category, reservering:<naam> a reservering)."""
_RECEIVED_FROM = {
    KREDIET_UNSPENT: "overbrugging uit het inrichtingskrediet",
    "voorschot:toeslag": "voorschot op toeslagen",
    LEEFGELDREKENING: "terug van de leefgeldrekening",
}
"""What money onto the basisrekening was, by the household account it came from (inkomen:<bron> is the
income source, reservering:<naam> a reservering released)."""


# -- what the view shows -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NextEvaluation:
    kind: str
    """tussenevaluatie, eindevaluatie or evaluatie van de verlenging."""
    due_from: date
    due_on: date


@dataclass(frozen=True, slots=True)
class TrajectoryDates:
    id: int
    status: str
    start_date: date
    minimum_last_day: date
    """The last day of the minimum period (S1: 14-09-2025)."""
    last_day: date
    """The last day as it stands now (later after an extension)."""
    ended_on: date | None
    next_evaluation: NextEvaluation | None
    """The first evaluation not yet recorded, by its last day."""


@dataclass(frozen=True, slots=True)
class LeefgeldPaid:
    on: date
    amount: Money
    reason: str


@dataclass(frozen=True, slots=True)
class NextLeefgeld:
    on: date
    amount: Money
    """What the plan pays on that day (counting on the income expected by then)."""
    planned: Money
    """What the rules set; more than `amount` when the basisrekening would not have enough."""
    overdue: bool = False
    """Due before the view's day and not booked: the next payment run pays it."""


@dataclass(frozen=True, slots=True)
class MonthLine:
    """One entry of the month that moved money off (or onto) the basisrekening."""

    on: date
    kind: str
    """huur, zorgverzekering, energie, leefgeld, reservering …; for money in: the income source
    (bijstand, zorgtoeslag …), gift or inrichtingskrediet (an overbrugging)."""
    amount: Money
    counterparty: str | None
    """Who it went to (the creditor, the client for leefgeld), or None."""
    reason: str
    entry_id: int


@dataclass(frozen=True, slots=True)
class AwaitedIncome:
    """The first payment of an expected income that the money received has not filled (S8)."""

    source: str
    due_on: date
    expected: Money
    missing: Money
    late: bool
    """Not received by the business day after its due date (the rule of income_watch)."""
    business_days_late: int


@dataclass(frozen=True, slots=True)
class OpenWarning:
    id: int
    type: str
    severity: str
    status: str
    role: str
    due_on: date
    message: str


@dataclass(frozen=True, slots=True)
class LeefgeldView:
    household_id: int
    aanvrager: str
    gemeente: str
    as_of: date
    month: date
    """The first day of as_of's month: the month of `paid_this_month` and `received_this_month`."""
    leefgeldrekening: Money
    basisrekening: Money
    krediet_unspent: Money
    """What is left of the inrichtingskrediet to spend (it also bridges the first months)."""
    leefgeld_account_ending: str | None
    """The last four characters of the client's own account that leefgeld is paid to; None when none is
    recorded (then leefgeld is booked but not in the bank file)."""
    last_leefgeld: LeefgeldPaid | None
    next_leefgeld: NextLeefgeld | None
    paid_this_month: tuple[MonthLine, ...]
    paid_this_month_total: Money
    received_this_month: tuple[MonthLine, ...]
    awaited_income: tuple[AwaitedIncome, ...]
    open_warnings: tuple[OpenWarning, ...]
    trajectory: TrajectoryDates | None
    forecast_problem: str | None
    """Why the rules engine could not plan the household (None when it could): then there is no next leefgeld."""
    sentences: tuple[str, ...]
    """The view in plain Dutch, in reading order."""


@dataclass(frozen=True, slots=True)
class CaseloadHousehold:
    household_id: int
    aanvrager: str
    gemeente: str
    gemeente_name: str
    trajectory: TrajectoryDates | None
    open_warnings: int


# -- the service -------------------------------------------------------------------------------------


class LeefgeldViewService:
    def __init__(self, transactions: Transactions, planning: PlanningService, clock: Clock = system_clock) -> None:
        self._tx = transactions
        self._planning = planning
        self._clock = clock

    def caseload(self, begeleider: str) -> list[CaseloadHousehold]:
        """The households assigned to `begeleider`, by id, each with its trajectory dates and open warnings."""
        if not isinstance(begeleider, str) or not begeleider.strip():
            raise InvalidInputError("begeleider", "name the begeleider")
        name = begeleider.strip()

        def work(uow: UnitOfWork) -> list[CaseloadHousehold]:
            households = uow.registry.households(begeleider=name)
            ids = [h.id for h in households]
            if not ids:
                return []
            names = {g.id: g.name for g in uow.registry.gemeenten()}
            trajectories = uow.registry.trajectories_of_households(ids)
            counts = Counter(w.household_id for w in uow.warnings.warnings(
                statuses=[s.value for s in UNRESOLVED], begeleider=name))
            return [CaseloadHousehold(h.id, h.aanvrager.name, h.gemeente_code, names.get(h.gemeente_id, h.gemeente_code),
                                      trajectory_dates(shown_trajectory(trajectories.get(h.id, []))), counts[h.id])
                    for h in households]

        return self._tx.run(work, write=False)

    def view(self, household_id: int, as_of: date | str | None = None) -> LeefgeldView:
        """The leefgeld view of one household as the book stood at the end of `as_of` (default today)."""
        if type(household_id) is not int:
            raise InvalidInputError("household_id", f"must be a whole number, not {household_id!r}")
        day = checked_date(as_of, "as_of") or today(self._clock)
        if not EARLIEST <= day <= LATEST:
            raise InvalidInputError("as_of", f"must be a day from {EARLIEST} to {LATEST}, not {day}")
        return self._tx.run(lambda uow: self._view(uow, household_id, day), write=False)

    def _view(self, uow: UnitOfWork, household_id: int, day: date) -> LeefgeldView:
        household = require_household(uow, household_id)
        h = household.id
        balances = uow.ledger.balances_as_of(day, household_id=h)

        def asset(*parts: str) -> Money:  # an asset's balance: debit-positive, as stored
            return Money(balances.get(household_code(h, *parts), 0))

        # The household's facts are read once: the book and registry parts of the view come from them, and
        # the plan too. Only a household that cannot be planned has its book and registry read on their own.
        facts, problem = self._facts(uow, h)
        if facts is not None:
            entries = [e for e in facts.entries if e.booking_date <= day]
            creditor_list, incomes = facts.creditors, facts.incomes
        else:
            entries = list(uow.ledger.iter_entries(household_id=h, date_from=None, date_to=day))
            creditor_list, incomes = uow.registry.creditors_of(h), uow.registry.expected_income_of(h)
        creditors = {c.id: c.organisation for c in creditor_list}
        month = month_start(day)
        paid, received = month_lines(entries, h, month, creditors, household.aanvrager.name)
        trajectory = shown_trajectory(uow.registry.trajectories_of(h))
        warnings = [open_warning(w) for w in uow.warnings.warnings(
            statuses=[s.value for s in UNRESOLVED], household_id=h)]
        horizon = forecast_end(day, VIEW_MONTHS)
        awaited = awaited_income(incomes, day, horizon, self._planning.calendar, received_in(entries, h))
        plan = None
        if facts is not None:
            plan, problem = self._plan(uow, facts, day)
        view = LeefgeldView(
            household_id=h, aanvrager=household.aanvrager.name, gemeente=household.gemeente_code, as_of=day,
            month=month, leefgeldrekening=asset(*LEEFGELDREKENING.split(":")), basisrekening=asset(BASIS),
            krediet_unspent=asset(*KREDIET_UNSPENT.split(":")),
            leefgeld_account_ending=household.leefgeld_account.iban[-4:] if household.leefgeld_account else None,
            last_leefgeld=last_leefgeld(entries, h), next_leefgeld=next_leefgeld(plan, day) if plan else None,
            paid_this_month=tuple(paid), paid_this_month_total=Money.sum(line.amount for line in paid),
            received_this_month=tuple(received), awaited_income=tuple(awaited), open_warnings=tuple(warnings),
            trajectory=trajectory_dates(trajectory), forecast_problem=problem, sentences=())
        return replace(view, sentences=tuple(sentences(view)))

    def _facts(self, uow: UnitOfWork, household_id: int) -> tuple[StoredFacts | None, str | None]:
        try:
            return self._planning.facts(uow, household_id), None
        except _NOT_PLANNABLE as exc:
            return None, _problem(exc)

    def _plan(self, uow: UnitOfWork, facts: StoredFacts, day: date) -> tuple[Plan | None, str | None]:
        """What the rules engine will do from the trajectory's start through the view's horizon, counting on
        the income expected after `day`, as a forecast does. Booked obligations are skipped by their keys, so
        what is left before `day` is what the next payment run catches up (a missed leefgeld day)."""
        try:
            facts = book_as_of(uow, facts, day)
            end = forecast_end(day, VIEW_MONTHS)
            snapshot = build_snapshot(facts, day, end, self._planning.calendar, project_income=True)
            return make_plan(snapshot, facts.rules, min(facts.trajectory.start_date, day), end), None
        except _NOT_PLANNABLE as exc:
            return None, _problem(exc)


_NOT_PLANNABLE = (LedgerError, ValueError, LookupError, ArithmeticError)
"""What makes a household impossible to plan (no running trajectory, rules that do not fit): the rest of the
view holds. A database error is not among them: it is no fact about the household."""


def _problem(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc)


# -- the parts, each from facts read in the view's transaction ----------------------------------------


def shown_trajectory(trajectories: list[Trajectory]) -> Trajectory | None:
    """The running trajectory, else the latest one (an ended trajectory still has its dates)."""
    return current_trajectory(trajectories) or max(trajectories, key=lambda t: (t.start_date, t.id), default=None)


def trajectory_dates(trajectory: Trajectory | None) -> TrajectoryDates | None:
    if trajectory is None:
        return None
    pending = [m for m in trajectory.milestones if m.kind in _EVALUATIONS and m.completed_on is None]
    first = min(pending, key=lambda m: (m.due_on, m.id), default=None)
    return TrajectoryDates(
        trajectory.id, trajectory.status.value, trajectory.start_date, trajectory.minimum_last_day,
        trajectory.last_day, trajectory.ended_on,
        NextEvaluation(_EVALUATIONS[first.kind], first.due_from, first.due_on) if first else None)


def open_warning(w: WarningRecord) -> OpenWarning:
    return OpenWarning(w.id, w.type.value, w.severity.value, w.status.value, w.role.value, w.due_on, w.message)


def _standing(entries: list[PostedEntry]) -> list[PostedEntry]:
    """The entries that stand: a reversed entry and its reversal (a rejected payment) moved no money."""
    reversed_ids = {e.reverses_entry_id for e in entries if e.reverses_entry_id is not None}
    return [e for e in entries if e.id not in reversed_ids and e.reverses_entry_id is None]


def last_leefgeld(entries: list[PostedEntry], household_id: int) -> LeefgeldPaid | None:
    paid_account = household_code(household_id, LEEFGELD_PAID)
    paid = [e for e in _standing(entries) if e.rule == LEEFGELD_RULE]
    if not paid:
        return None
    last = max(paid, key=lambda e: (e.booking_date, e.id))
    amount = Money.sum(p.amount for p in last.postings if p.account == paid_account and not p.amount.is_negative)
    return LeefgeldPaid(last.booking_date, amount, last.reason)


def next_leefgeld(plan: Plan, as_of: date) -> NextLeefgeld | None:
    """The first leefgeld day the plan has not booked yet: a leefgeld movement, or a leefgeld the
    basisrekening could not pay at all (a shortfall finding without a movement). Before `as_of` it is overdue:
    the next payment run catches it up."""
    paid: dict[date, Money] = defaultdict(lambda: Money(0))
    for movement in plan.movements:
        if movement.rule == LEEFGELD_RULE:
            paid[movement.due_on] = paid[movement.due_on] + movement.amount
    short: dict[date, Money] = defaultdict(lambda: Money(0))
    for finding in plan.findings:
        if finding.rule == LEEFGELD_RULE and finding.kind is FindingKind.SHORTFALL and finding.amount is not None:
            short[finding.on] = short[finding.on] + finding.amount
    days = sorted(set(paid) | set(short))
    if not days:
        return None
    first = days[0]
    amount = paid.get(first, Money(0))
    return NextLeefgeld(first, amount, amount + short.get(first, Money(0)), first < as_of)


def _kind(account: str, *, paid: bool) -> str:
    if account.startswith(("vaste-last:", "inkomen:")):
        return account.split(":", 1)[1]
    if account.startswith("reservering:") and account != KREDIET_UNSPENT:
        return f"{'reservering' if paid else 'uit reservering'} {account.split(':', 1)[1]}"
    return (_PAID_TO if paid else _RECEIVED_FROM).get(account, account)


def month_lines(entries: list[PostedEntry], household_id: int, month: date, creditors: dict[int, str],
                client: str) -> tuple[list[MonthLine], list[MonthLine]]:
    """The month's standing entries that moved the basisrekening: (money off it, money onto it)."""
    prefix = household_code(household_id) + ":"
    basis = prefix + BASIS
    paid, received = [], []
    for entry in _standing(entries):
        if not month <= entry.booking_date <= month_end(month):
            continue
        change = Money.sum(p.amount for p in entry.postings if p.account == basis)
        if change.cents == 0:
            continue
        # The household's other side: the accounts moving against the basisrekening, largest first.
        others = sorted(((p.account[len(prefix):], p.amount) for p in entry.postings
                         if p.account.startswith(prefix) and p.account != basis
                         and p.amount.is_negative == (change.cents > 0)),
                        key=lambda item: -abs(item[1].cents))
        kind = _kind(others[0][0], paid=change.cents < 0) if others else (entry.rule or "boeking")
        if change.cents < 0:
            paid.append(MonthLine(entry.booking_date, kind, -change, _payee(entry, household_id, kind, creditors, client),
                                  entry.reason, entry.id))
        else:
            received.append(MonthLine(entry.booking_date, kind, change, None, entry.reason, entry.id))
    return paid, received


def _payee(entry: PostedEntry, household_id: int, kind: str, creditors: dict[int, str], client: str) -> str | None:
    moved = past_movement(entry, household_id)
    if moved is not None and moved.obligation.startswith("crediteur-"):
        number = moved.obligation.split(":", 1)[0].removeprefix("crediteur-")
        if number.isdigit():
            return creditors.get(int(number))
    if kind == "leefgeld":
        return client
    return None


def awaited_income(incomes: Iterable[ExpectedIncome], as_of: date, horizon: date, calendar: PaymentCalendar,
                   received: dict[str, Money]) -> list[AwaitedIncome]:
    """Per expected income, its first payment due by `horizon` that the money received by `as_of` has not
    filled: filled in due-date order, one source's receipts shared by its expectations oldest first, as
    `income_watch.first_unfilled` does; late from the business day after its due date. `received`: what
    arrived by `as_of`, per source (`income_watch.received_in` of the book to that day)."""
    received = dict(received)
    awaited = []
    for income in incomes:
        source = income.source.value
        left = received.get(source, Money(0))
        for payment in expected_payments(income, horizon, calendar):
            if not left < payment.amount:
                left = left - payment.amount
                continue
            late = calendar.next_business_day(date.fromordinal(payment.due_on.toordinal() + 1)) <= as_of
            days = calendar.business_days_between(payment.due_on, as_of) if late else 0
            awaited.append(AwaitedIncome(source, payment.due_on, payment.amount,
                                         payment.amount - max(left, Money(0)), late, days))
            left = Money(0)
            break
        received[source] = left
    return sorted(awaited, key=lambda a: (a.due_on, a.source))


# -- in plain words ------------------------------------------------------------------------------------


def _ended(text: str) -> str:
    """`text` as a sentence: with a full stop unless it ends in one (or another closing mark) already."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def sentences(view: LeefgeldView) -> list[str]:
    """The view in Dutch, for the begeleider to read with the client."""
    said: list[str] = [f"Overzicht voor {view.aanvrager} op {day_text(view.as_of)}."]
    if view.last_leefgeld is not None:
        said.append(f"Op {day_text(view.last_leefgeld.on)} is {view.last_leefgeld.amount.format_nl()} leefgeld "
                    "betaald.")
    else:
        said.append("Er is nog geen leefgeld betaald.")
    nxt = view.next_leefgeld
    if nxt is not None and nxt.overdue:
        said.append(f"Het leefgeld van {day_text(nxt.on)} ({nxt.planned.format_nl()}) is nog niet betaald; het "
                    "gaat mee met de eerstvolgende betaalrun.")
    elif nxt is not None:
        when = "vandaag" if nxt.on == view.as_of else f"op {day_text(nxt.on)}"
        if nxt.amount == nxt.planned:
            said.append(f"Het volgende leefgeld is {nxt.amount.format_nl()}, {when}.")
        else:
            said.append(f"Het volgende leefgeld is {when}: {nxt.planned.format_nl()} gepland, maar er is naar "
                        f"verwachting maar {nxt.amount.format_nl()} voor op de basisrekening.")
    elif view.trajectory is None or view.trajectory.ended_on is not None:
        said.append("Er loopt geen ontzorgtraject, dus er is geen leefgeld gepland.")
    elif view.forecast_problem is not None:
        said.append("Het volgende leefgeld kon niet worden berekend; de budgetbeheerder kijkt ernaar.")
    else:
        said.append("Er is geen leefgeld meer gepland in de komende maanden.")
    said.append(f"Op de leefgeldrekening staat {view.leefgeldrekening.format_nl()}; op de basisrekening staat "
                f"{view.basisrekening.format_nl()}.")
    if view.leefgeld_account_ending is not None:
        said.append(f"Het leefgeld gaat naar de eigen rekening van de klant, eindigend op "
                    f"{view.leefgeld_account_ending}.")
    else:
        said.append("Er is nog geen eigen rekening van de klant voor het leefgeld vastgelegd; de budgetbeheerder "
                    "maakt het leefgeld pas over als die bekend is.")
    if view.krediet_unspent.cents > 0:
        said.append(f"Van het inrichtingskrediet is nog {view.krediet_unspent.format_nl()} over.")
    period = month_name(view.month)
    if view.paid_this_month:
        said.append(f"In {period} is {view.paid_this_month_total.format_nl()} uit de basisrekening betaald:")
        for line in view.paid_this_month:
            to = f" aan {line.counterparty.rstrip('.')}" if line.counterparty else ""
            said.append(f"{day_text(line.on)}: {line.amount.format_nl()} {line.kind}{to}. Reden: {_ended(line.reason)}")
    else:
        said.append(f"In {period} is nog niets uit de basisrekening betaald.")
    for line in view.received_this_month:
        said.append(f"{day_text(line.on)}: {line.amount.format_nl()} {line.kind} op de basisrekening gekomen. "
                    f"Reden: {_ended(line.reason)}")
    for income in view.awaited_income:
        if income.late:
            said.append(f"Te laat: {income.source} van {income.expected.format_nl()}, verwacht op "
                        f"{day_text(income.due_on)}, is niet ontvangen ({income.missing.format_nl()} ontbreekt).")
        else:
            said.append(f"Nog niet binnen: {income.source} van {income.expected.format_nl()}, verwacht op "
                        f"{day_text(income.due_on)}.")
    if view.open_warnings:
        said.append(f"Er {'staat' if len(view.open_warnings) == 1 else 'staan'} "
                    f"{_count(len(view.open_warnings), 'waarschuwing', 'waarschuwingen')} open:")
        said += [w.message for w in view.open_warnings]
    else:
        said.append("Er staan geen waarschuwingen open.")
    said += _trajectory_sentences(view.trajectory, view.as_of)
    return said


def _trajectory_sentences(t: TrajectoryDates | None, as_of: date) -> list[str]:
    if t is None:
        return ["Er is geen ontzorgtraject."]
    if t.ended_on is not None:
        return [f"De ontzorging liep van {day_text(t.start_date)} tot en met {day_text(t.ended_on)}."]
    said = [f"De ontzorging {'begint' if t.start_date > as_of else 'loopt sinds'} {day_text(t.start_date)}; de "
            f"minimale periode loopt tot en met {day_text(t.minimum_last_day)}."]
    if t.last_day != t.minimum_last_day:
        said.append(f"Na verlenging is de laatste dag {day_text(t.last_day)}.")
    evaluation = t.next_evaluation
    if evaluation is not None:
        when = (f"op {day_text(evaluation.due_on)}" if evaluation.due_from == evaluation.due_on
                else f"tussen {day_text(evaluation.due_from)} en {day_text(evaluation.due_on)}")
        said.append(f"De volgende evaluatie is de {evaluation.kind}, {when}.")
    return said
