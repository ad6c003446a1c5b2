"""An auditor's round trip: `hledger -f export bal` reproduces `budget-ledger balances --format csv`."""

from __future__ import annotations

import csv
import io
import random
import subprocess
from datetime import date, timedelta
from decimal import Decimal

from click.testing import CliRunner

from budget_ledger.adapters.cli.main import cli
from budget_ledger.chart import BANK, CLIENT_MONEY, household_accounts, household_code, organisation_accounts
from budget_ledger.ledger import EntryRequest, Money, Posting

HOUSEHOLDS = 25


def generated_book(ledger, entries: int = 3000, seed: int = 7) -> None:
    """Income, fixed costs, leefgeld and some reversals for many households over a year, in bulk."""
    rng = random.Random(seed)
    specs = organisation_accounts()
    for h in range(1, HOUSEHOLDS + 1):
        specs += household_accounts(h)
    ledger.open_accounts(specs)
    requests = []
    day = date(2025, 1, 1)
    for n in range(entries):
        h = rng.randint(1, HOUSEHOLDS)
        day = day + timedelta(days=rng.random() < 0.03)
        if n % 3 == 0:
            money = Money(rng.randint(50_00, 1500_00))
            lines = ((household_code(h, "basis"), money), (household_code(h, "inkomen", "bijstand"), -money),
                     (BANK, money), (CLIENT_MONEY, -money))
            reason = "Bijstand; met puntkomma | en pijp"  # characters ledger syntax gives a meaning
        else:
            money = Money(rng.randint(1, 40_00))
            lines = ((household_code(h, "vaste-last", "huur"), money), (household_code(h, "basis"), -money),
                     (CLIENT_MONEY, money), (BANK, -money))
            reason = "Huur"
        requests.append(EntryRequest(f"gen:{n}", day, tuple(Posting(a, m) for a, m in lines), reason, "gen",
                                     value_date=day + timedelta(days=n % 2), household_id=h))
    ledger.post_many(requests, on_insufficient="skip")
    posted = [e for e in ledger.post_many(requests).replayed.values()]
    for entry_id in posted[:40:4]:
        ledger.reverse(entry_id, actor="gen", reason="Correctie", booking_date=day)


def run(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def csv_balances(text: str) -> dict[str, Decimal]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["account", "balance"]
    return {account: Decimal(balance) for account, balance in rows[1:]}


def hledger_balances(hledger: str, journal) -> dict[str, Decimal]:
    out = subprocess.run([hledger, "-f", str(journal), "bal", "--flat", "--no-total", "-O", "csv"],
                         check=True, capture_output=True, text=True).stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["account", "balance"]
    return {account: Decimal(balance.replace("EUR", "").strip() or "0") for account, balance in rows[1:]}


def nonzero(balances: dict[str, Decimal]) -> dict[str, Decimal]:
    return {a: b for a, b in balances.items() if b}


def test_hledger_reproduces_every_balance_of_a_generated_book(ledger, database, hledger_bin, tmp_path):
    generated_book(ledger)
    url = ["--database-url", database.settings.database_url]
    journal = tmp_path / "book.journal"
    run([*url, "export", "--format", "ledger", "-o", str(journal)])

    ours = csv_balances(run([*url, "balances", "--format", "csv"]))
    theirs = hledger_balances(hledger_bin, journal)

    assert len(ours) == len(organisation_accounts()) + HOUSEHOLDS * len(household_accounts(1))
    assert nonzero(ours) == theirs
    assert len(theirs) > HOUSEHOLDS * 2  # the book really moved money
    assert sum(ours.values()) == 0


def test_a_period_export_carries_opening_balances(ledger, database, hledger_bin, tmp_path):
    generated_book(ledger, entries=1200)
    url = ["--database-url", database.settings.database_url]
    journal = tmp_path / "q2.journal"
    run([*url, "export", "--from", "2025-01-10", "--to", "2025-01-20", "-o", str(journal)])

    ours = csv_balances(run([*url, "balances", "--as-of", "2025-01-20"]))
    assert nonzero(ours) == hledger_balances(hledger_bin, journal)
    assert "Beginsaldi" in journal.read_text()


def test_a_household_export_holds_that_households_balances(ledger, database, hledger_bin, tmp_path):
    generated_book(ledger, entries=900)
    url = ["--database-url", database.settings.database_url]
    journal = tmp_path / "h3.journal"
    run([*url, "export", "--household", "3", "--from", "2025-01-05", "-o", str(journal)])

    ours = csv_balances(run([*url, "balances", "--household", "3"]))
    theirs = {a: b for a, b in hledger_balances(hledger_bin, journal).items() if ":huishouden:3:" in a}
    assert all(":huishouden:3:" in a for a in ours)
    assert nonzero(ours) == theirs
