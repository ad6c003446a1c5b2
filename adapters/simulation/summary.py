"""The simulation's summary: who was simulated, what the book holds, what was paid, what went wrong.

Money figures are read from the book itself (one pass over every entry), not from counters the simulation
kept, so the summary is a report on the ledger: paid per category is what left the bank account through
`org:bank:onderweg`, income is what was credited to the households' `inkomen:<bron>` accounts, leefgeld is
what was paid out to the clients. Shortfalls and warnings come from the jobs' own results; the daily
payment run plans from the trajectory's start each time, so one finding is reported on many days and is
counted once here. The bank's side comes from the statement imports' own reports (lines matched by kind,
payments confirmed, reconciliation), the work queue as it stands at the end, and the simulated bank.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from budget_ledger.adapters.simulation.bank import Bank, BankLine
from budget_ledger.adapters.simulation.bank_queue_work import QueueLog
from budget_ledger.adapters.simulation.casework import CaseworkLog
from budget_ledger.adapters.simulation.households import World
from budget_ledger.adapters.simulation.payments import ExportedFile
from budget_ledger.adapters.simulation.scheduled_jobs import JobResults
from budget_ledger.chart import BANK, CLIENT_MONEY, GEMEENTE_RECEIVABLE, IN_TRANSIT
from budget_ledger.ledger.entries import PostedEntry
from budget_ledger.ledger.money import Money
from budget_ledger.payment_runs import InstructionStatus, RunFinding, RunReport
from budget_ledger.services import Services
from budget_ledger.statement_import import ImportReport

LIABILITY_CATEGORIES = {"krediet:inrichting": "aflossing-krediet", "voorschot:toeslag": "terugbetaling-voorschot"}
_AMOUNT = re.compile(r"-?€\s?[\d.]+,\d{2}")


def paid_category(entry: PostedEntry) -> tuple[str, Money] | None:
    """What an entry paid out of the bank account, and for what: (category, amount), or None.

    A payment leaves through org:bank:onderweg (Cr); its reversal comes back (Dr), so it counts negative.
    The category is the household account the money was spent on. The bank's confirmation (Dr onderweg /
    Cr derdengelden, no household account) is not a payment of its own."""
    out = -Money.sum(p.amount for p in entry.postings if p.account == IN_TRANSIT)
    if not out or not any(p.account.startswith("huishouden:") for p in entry.postings):
        return None
    for posting in entry.postings:
        parts = posting.account.split(":")
        if parts[0] != "huishouden":
            continue
        local = ":".join(parts[2:])
        if local.startswith("vaste-last:"):
            return local.split(":", 1)[1], out
        if local == "leefgeld-uitkering":
            return "leefgeld", out
        if local in LIABILITY_CATEGORIES:
            return LIABILITY_CATEGORIES[local], out
    return "overig", out


@dataclass
class BookFigures:
    """One pass over the book."""

    entries: int = 0
    by_source: Counter = field(default_factory=Counter)
    income: dict[str, Money] = field(default_factory=lambda: defaultdict(Money.zero))
    krediet_granted: Money = field(default_factory=Money.zero)
    bridged_from_krediet: Money = field(default_factory=Money.zero)
    gemeente_paid_in: Money = field(default_factory=Money.zero)
    """Money the gemeente put in by the rules (eerste huur gift, toeslag voorschot)."""
    paid: dict[str, Money] = field(default_factory=lambda: defaultdict(Money.zero))
    payments: Counter = field(default_factory=Counter)

    def add(self, entry: PostedEntry) -> None:
        self.entries += 1
        self.by_source[entry.source.value] += 1
        for posting in entry.postings:
            parts = posting.account.split(":")
            if parts[0] != "huishouden":
                continue
            local = ":".join(parts[2:])
            if local.startswith("inkomen:") and posting.amount.is_negative and entry.source.value == "bank_import":
                self.income[local.split(":", 1)[1]] += -posting.amount
            elif local == "krediet:inrichting" and posting.amount.is_negative and entry.source.value == "bank_import":
                self.krediet_granted += -posting.amount
            elif local == "reservering:inrichting" and posting.amount.is_negative and entry.rule:
                self.bridged_from_krediet += -posting.amount
        if entry.source.value == "batch_run" and any(p.account == GEMEENTE_RECEIVABLE and not p.amount.is_negative
                                                      for p in entry.postings):
            self.gemeente_paid_in += Money.sum(p.amount for p in entry.postings if p.account == GEMEENTE_RECEIVABLE)
        paid = paid_category(entry)
        if paid is not None:
            category, amount = paid
            self.paid[category] += amount
            self.payments[category] += 1 if not amount.is_negative else -1


@dataclass(frozen=True)
class Summary:
    data: dict[str, Any]
    credits_sent: tuple[BankLine, ...] = field(default=(), repr=False, compare=False)
    """Every line the simulated bank credited (not in the JSON: for checking the book against the world)."""

    def to_json(self) -> dict[str, Any]:
        return self.data

    def to_text(self) -> str:
        return render_text(self.data)


def _distinct(items: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    seen: dict[tuple[Any, ...], None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def distinct_findings(reports: Iterable[RunReport], *, shortfalls: bool) -> dict[tuple[Any, ...], RunFinding]:
    """The runs' findings (shortfalls, or the other warnings), each once: every daily run plans from the
    trajectory's start, so a bill still unpaid is reported again each day, with the balance of that day in
    its text. The first report of each is kept."""
    found: dict[tuple[Any, ...], RunFinding] = {}
    for report in reports:
        for finding in report.findings:
            if (finding.kind == "tekort") is shortfalls:
                key = (finding.household_id, finding.kind, finding.on, _AMOUNT.sub("€", finding.message))
                found.setdefault(key, finding)
    return found


def _money(amount: Money) -> str:
    return str(amount)


def bank_figures(services: Services, world: World, bank: Bank, imports: Sequence[ImportReport], queue: QueueLog,
                 gemeente_paid_in: Money) -> dict[str, Any]:
    """The bank's side: statements imported, lines matched, assigned and open, payments confirmed, the
    reconciliation and what is left onderweg."""
    statements = [s for report in imports for s in report.statements]
    matched: Counter = Counter()
    for s in statements:
        matched.update(s.by_kind)
    still_open = services.bank_queue.unmatched()
    instructions = [i for run in services.payment_runs.runs() for i in services.payment_runs.instructions(run.id)]
    later = bank.scheduled_after(world.end)
    not_in_file = Money.sum(i.amount for i in instructions if i.status is InstructionStatus.APPROVED)
    exported_open = Money.sum(i.amount for i in instructions if i.status is InstructionStatus.EXPORTED)
    unreconciled = [s for s in statements if not s.reconciled]
    last = statements[-1] if statements else None
    ledger_bank = services.ledger.balance(BANK)
    bank_closing = bank.balance_at_end_of(world.end)
    return {
        "statements_imported": len(statements),
        "lines_imported": sum(s.lines_new for s in statements),
        "lines_reported_again": sum(s.lines_known for s in statements),
        "credits_sent": len(bank.arrived),
        "credits_to_client_after_end": len(bank.not_booked),
        "payment_blocks_executed": len(bank.executed),
        "payments_executed": sum(len(e.transactions) for e in bank.executed),
        "matched_automatically": sum(matched.values()),
        "matched_by_kind": dict(sorted(matched.items())),
        "payments_confirmed": sum(s.executed for s in statements),
        "to_work_queue": sum(s.unmatched for s in statements),
        "assigned_from_queue": queue.assigned,
        "assigned_by_purpose": dict(sorted(queue.by_purpose.items())),
        "still_open": len(still_open),
        "still_open_lines": [{"line_id": line.id, "booking_date": line.booking_date.isoformat(),
                              "amount": str(line.amount), "counterparty": line.counterparty_name,
                              "why": queue.left.get(line.id, "nog niet behandeld")} for line in still_open],
        "statements_not_reconciled": len(unreconciled),
        "first_not_reconciled": unreconciled[0].statement_id if unreconciled else None,
        "bank_closing_balance": _money(bank_closing),
        "ledger_bank_balance": _money(ledger_bank),
        "ledger_minus_bank": _money(ledger_bank - bank_closing),
        "gemeente_paid_in": _money(gemeente_paid_in),
        "still_to_receive_from_gemeente": _money(services.ledger.balance(GEMEENTE_RECEIVABLE)),
        "last_statement_reconciled": None if last is None else last.reconciled,
        "onderweg_at_end": {
            "total": _money(-services.ledger.balance(IN_TRANSIT)),
            "exported_executed_after_end": _money(Money.sum(e.amount for e in later)),
            "exported_not_confirmed": _money(exported_open),
            "not_in_a_file": _money(not_in_file),
        },
    }


def summarise(world: World, services: Services, results: JobResults, bank: Bank, imports: Sequence[ImportReport],
              queue: QueueLog, casework: CaseworkLog, files: Sequence[ExportedFile],
              approved_runs: int, household_ids: dict[int, int]) -> Summary:
    """`household_ids`: case number → household id."""
    arrived, not_booked = bank.arrived, bank.not_booked
    figures = BookFigures()
    with services.ledger.extract() as extract:
        for entry in extract.entries:
            figures.add(entry)
    trial = services.ledger.trial_balance()
    balances = {account.code: balance for account, balance in services.ledger.balances()}
    mismatches = services.ledger.balance_mismatches()

    cases = world.households
    by_gemeente = Counter(c.gemeente for c in cases)
    profile_of = {g.code: g.profile for g in world.gemeenten}
    statuses: Counter = Counter()
    for case in cases:
        if case.opt_out:
            statuses["geen (afwijkende vorm)"] += 1
            continue
        trajectory = services.trajectories.of_household(household_ids[case.number])[-1]
        statuses[trajectory.status.value] += 1

    distinct_shortfalls = distinct_findings(results.payment_runs, shortfalls=True)
    distinct_warnings = distinct_findings(results.payment_runs, shortfalls=False)
    run_warnings = _distinct((h, message) for report in results.payment_runs for h, message in report.warnings)
    late = {(item.household_id, item.source, item.due_on): (day, item) for day, item in results.late_income}
    late_at_end = [item for (h, s, due), (day, item) in late.items() if day == world.end]
    warning_kinds: Counter = Counter(f.kind for f in distinct_warnings.values())
    warning_kinds["inkomen-niet-ontvangen"] = len(late)
    if run_warnings:  # e.g. a payment without an IBAN, left out of the bank file
        warning_kinds["betaalrun"] = len(run_warnings)

    instructions = sum(r.instructions_created for r in results.payment_runs)
    exported = sum(f.payments for f in files)
    first_toeslagen = [line for line in arrived if line.expected_on is not None]
    back_payments = [line for line in arrived if line.is_back_payment]
    paid_total = Money.sum(figures.paid.values())
    data: dict[str, Any] = {
        "seed": world.seed,
        "period": {"start": world.start.isoformat(), "end": world.end.isoformat(),
                   "days": (world.end - world.start).days + 1},
        "households": {
            "total": len(cases),
            "by_gemeente": {code: by_gemeente[code] for code in sorted(by_gemeente)},
            "by_profile": dict(sorted(Counter(profile_of[c.gemeente] for c in cases).items())),
            "by_composition": dict(sorted(Counter(c.kind for c in cases).items())),
            "singles": sum(1 for c in cases if not c.is_family),
            "families": sum(1 for c in cases if c.is_family),
            "people": sum(len(c.members) for c in cases),
            "with_wages": sum(1 for c in cases if c.wage),
            "nareizigers": sum(1 for c in cases if c.permit_type == "nareiziger_asiel"),
            "weekly_leefgeld": sum(1 for c in cases if c.overrides),
            "inrichtingskrediet": sum(1 for c in cases if c.krediet),
            "opt_out_afwijkende_vorm": sum(1 for c in cases if c.opt_out),
        },
        "trajectories": {
            "by_status": dict(sorted(statuses.items())),
            "evaluations_recorded": casework.evaluations,
            "extended": len(casework.extensions),
            "afbouw_started": len(casework.afbouw_started),
            "creditors_handed_over": casework.handovers,
            "ended": len(casework.ended),
        },
        "book": {
            "entries": figures.entries,
            "entries_by_source": dict(sorted(figures.by_source.items())),
            "accounts": len(balances),
            "trial_balance_balanced": trial.is_balanced,
            "stored_balance_mismatches": len(mismatches),
            "client_money": _money(-balances.get(CLIENT_MONEY, Money(0))),
            "bank_derdengelden": _money(balances.get(BANK, Money(0))),
            "onderweg": _money(-balances.get(IN_TRANSIT, Money(0))),
        },
        "income_received": {k: _money(v) for k, v in sorted(figures.income.items())},
        "income_received_total": _money(Money.sum(figures.income.values())),
        "inrichtingskrediet_granted": _money(figures.krediet_granted),
        "bridged_from_krediet": _money(figures.bridged_from_krediet),
        "paid_in_by_gemeente": _money(figures.gemeente_paid_in),
        "toeslagen": {
            "first_payments": len(first_toeslagen),
            "first_payments_later_than_expected": sum(1 for line in first_toeslagen if line.day > line.expected_on),
            "back_payments": len(back_payments),
            "back_payments_total": _money(Money.sum(line.amount for line in back_payments)),
        },
        "bank_lines": {"booked": len(arrived), "to_client_after_end": len(not_booked)},
        "bank": bank_figures(services, world, bank, imports, queue, figures.gemeente_paid_in),
        "paid_per_category": {k: _money(v) for k, v in sorted(figures.paid.items())},
        "payments_per_category": dict(sorted(figures.payments.items())),
        "paid_total": _money(paid_total),
        "leefgeld_paid": _money(figures.paid.get("leefgeld", Money(0))),
        "leefgeld_payments": figures.payments.get("leefgeld", 0),
        "payment_runs": {
            "runs": len(results.payment_runs),
            "approved": approved_runs,
            "files": len(files),
            "instructions": instructions,
            "exported_in_files": exported,
            "not_in_a_file": instructions - exported,
            "households_failed": len({f.household_id for r in results.payment_runs for f in r.failed}),
            "in_transit_note": "Betalingen staan op org:bank:onderweg tot het bankafschrift ze bevestigt; aan het "
                               "eind alleen die met een uitvoeringsdatum na de laatste dag en die zonder IBAN.",
        },
        "shortfalls": {
            "count": len(distinct_shortfalls),
            "households": len({f.household_id for f in distinct_shortfalls.values()}),
            "items": [{"household_id": f.household_id, "on": f.on.isoformat(), "message": f.message,
                       "amount": None if f.amount is None else str(f.amount)}
                      for f in sorted(distinct_shortfalls.values(), key=lambda f: (f.on, f.household_id))],
        },
        "jobs": {job: {"runs": results.calls[job], "seconds": round(results.seconds[job], 1)}
                 for job in sorted(results.calls)},
        "warnings": {
            "count": sum(warning_kinds.values()),
            "by_kind": dict(sorted(warning_kinds.items())),
            "income_still_late_at_end": len(late_at_end),
        },
    }
    return Summary(data, tuple(arrived))


def _line(label: str, value: Any, width: int = 44) -> str:
    return f"  {label:<{width}} {value}"


def render_text(data: dict[str, Any]) -> str:
    h, t, b, r = data["households"], data["trajectories"], data["book"], data["payment_runs"]
    period = data["period"]
    out = [f"Simulatie {period['start']} t/m {period['end']} ({period['days']} dagen), seed {data['seed']}", ""]
    out.append(f"Huishoudens: {h['total']} ({h['people']} personen): {h['singles']} alleenstaand, "
               f"{h['families']} stel of gezin; {h['with_wages']} met loon, {h['nareizigers']} nareiziger, "
               f"{h['inrichtingskrediet']} met inrichtingskrediet, {h['weekly_leefgeld']} met weekleefgeld, "
               f"{h['opt_out_afwijkende_vorm']} ontzorgd in afwijkende vorm (geen basisrekening)")
    out.append("  per gemeente: " + ", ".join(f"{k} {v}" for k, v in h["by_gemeente"].items()))
    out.append("  per profiel:  " + ", ".join(f"{k} {v}" for k, v in h["by_profile"].items()))
    out.append("  samenstelling: " + ", ".join(f"{k} {v}" for k, v in h["by_composition"].items()))
    out.append("Trajecten: " + ", ".join(f"{k} {v}" for k, v in t["by_status"].items())
               + f"; {t['evaluations_recorded']} evaluaties, {t['extended']} verlengd, "
                 f"{t['creditors_handed_over']} crediteuren overgedragen aan incasso, {t['ended']} beëindigd")
    out.append("")
    out.append(f"Boekingen: {b['entries']} (" + ", ".join(f"{k} {v}" for k, v in b["entries_by_source"].items())
               + f") op {b['accounts']} rekeningen; proefbalans "
               + ("sluitend" if b["trial_balance_balanced"] else "NIET SLUITEND")
               + f", {b['stored_balance_mismatches']} saldoverschillen")
    out.append(_line("cliëntgelden in beheer", b["client_money"]))
    out.append(_line("derdengeldenrekening (bank)", b["bank_derdengelden"]))
    out.append(_line("onderweg (aangeboden, niet bevestigd)", b["onderweg"]))
    out.append("Ontvangen inkomen:")
    for source, amount in data["income_received"].items():
        out.append(_line(source, amount))
    out.append(_line("totaal", data["income_received_total"]))
    out.append(_line("inrichtingskrediet verstrekt", data["inrichtingskrediet_granted"]))
    out.append(_line("overbrugd uit het krediet", data["bridged_from_krediet"]))
    out.append(_line("door de gemeente ingelegd (gift, voorschot)", data["paid_in_by_gemeente"]))
    ts = data["toeslagen"]
    out.append(f"Toeslagen: {ts['first_payments']} eerste betalingen, {ts['first_payments_later_than_expected']} "
               f"later dan verwacht; {ts['back_payments']} nabetalingen, samen {ts['back_payments_total']}")
    out.append("Betaald per categorie:")
    for category, amount in data["paid_per_category"].items():
        out.append(_line(f"{category} ({data['payments_per_category'][category]}x)", amount))
    out.append(_line("totaal", data["paid_total"]))
    out.append(f"Leefgeld betaald: {data['leefgeld_paid']} in {data['leefgeld_payments']} betalingen")
    out.append(f"Betaalruns: {r['runs']}, goedgekeurd {r['approved']} (vier ogen: sim.controleur), "
               f"{r['files']} pain.001-bestanden; {r['instructions']} betaalopdrachten, {r['exported_in_files']} "
               f"in een bestand, {r['not_in_a_file']} niet (zonder IBAN)"
               + (f"; {r['households_failed']} huishoudens MISLUKT" if r["households_failed"] else ""))
    out.append(f"  {r['in_transit_note']}")
    k, o = data["bank"], data["bank"]["onderweg_at_end"]
    out.append(f"Bank: {k['statements_imported']} afschriften (camt.053) geïmporteerd, {k['lines_imported']} regels "
               f"({k['lines_reported_again']} nogmaals gemeld, niet opnieuw geboekt); {k['matched_automatically']} "
               "automatisch gematcht (" + ", ".join(f"{kind} {n}" for kind, n in k["matched_by_kind"].items())
               + f"), {k['payments_confirmed']} betalingen bevestigd")
    out.append(f"  werkvoorraad: {k['to_work_queue']} regels, {k['assigned_from_queue']} toegewezen ("
               + ", ".join(f"{p} {n}" for p, n in k["assigned_by_purpose"].items())
               + f"), {k['still_open']} nog open")
    for item in k["still_open_lines"][:5]:
        out.append(f"    regel {item['line_id']} {item['booking_date']} {item['amount']} {item['counterparty']}: "
                   f"{item['why']}")
    out.append(f"  aansluiting: {k['statements_not_reconciled']} afschriften met verschil; grootboek "
               f"{k['ledger_bank_balance']}, bank {k['bank_closing_balance']} (verschil {k['ledger_minus_bank']}); "
               f"door de gemeente ingelegd {k['gemeente_paid_in']}, nog te ontvangen "
               f"{k['still_to_receive_from_gemeente']}")
    out.append(f"  onderweg aan het eind {o['total']}: uitvoering na de laatste dag {o['exported_executed_after_end']}, "
               f"geëxporteerd en niet bevestigd {o['exported_not_confirmed']}, niet in een bestand {o['not_in_a_file']}")
    s = data["shortfalls"]
    out.append(f"Tekorten: {s['count']} bij {s['households']} huishoudens")
    for item in s["items"][:8]:
        out.append(f"  {item['on']} huishouden {item['household_id']}: {item['message']}")
    if len(s["items"]) > 8:
        out.append(f"  … en {len(s['items']) - 8} meer (--format json voor alles)")
    w = data["warnings"]
    out.append(f"Waarschuwingen: {w['count']}: " + ", ".join(f"{k} {v}" for k, v in w["by_kind"].items()))
    out.append(f"  inkomen op de laatste dag nog niet ontvangen: {w['income_still_late_at_end']}")
    out.append("Taken van de scheduler: " + ", ".join(f"{job} {v['runs']}x in {v['seconds']} s"
                                                      for job, v in data["jobs"].items()))
    return "\n".join(out)


def month_line(month: date, registered: int, lines: int, runs: Sequence[RunReport], files: int,
               earlier_shortfalls: int, all_runs: Sequence[RunReport]) -> tuple[str, int]:
    """The progress line of a month, and the number of distinct shortfalls so far (for the next month)."""
    instructions = sum(r.instructions_created for r in runs)
    shortfalls = len(distinct_findings(all_runs, shortfalls=True))
    return (f"{month:%Y-%m}: {registered} huishoudens ingeschreven, {lines} bankregels, {len(runs)} betaalruns, "
            f"{instructions} betaalopdrachten, {files} betaalbestanden, {shortfalls - earlier_shortfalls} nieuwe "
            f"tekorten"), shortfalls
