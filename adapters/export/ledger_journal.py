"""The book as a plain-text journal in ledger/hledger syntax, for auditors, and balances as CSV.

An auditor can run `hledger -f book.journal bal` and get, to the cent, the balances that
`budget-ledger balances --format csv` prints: both use `Account.full_name` ("assets:huishouden:17:basis")
and debit-positive amounts. With a start date the journal opens with one "Beginsaldi" transaction that
carries the balances of the day before, so the file's balances are still the book's balances at its end.

Each transaction line carries the entry id as its code, the value date as hledger's secondary date, and
the audit metadata as tags: `2025-04-01=2025-04-01 * (17) Huur april  ; key:…, source:batch_run, …`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TextIO

from budget_ledger.ledger.accounts import Account, AccountType, ledger_account_name
from budget_ledger.ledger.entries import PostedEntry
from budget_ledger.ledger.money import Money
from budget_ledger.posting import BookExtract

COMMODITY = "EUR"
OPENING_ACCOUNT = ledger_account_name(AccountType.EQUITY, "beginsaldi")
_UNSAFE_TEXT = re.compile(r"[;\r\n\t|]+")
_UNSAFE_TAG = re.compile(r"[,;\r\n\t]+")


def _text(value: str) -> str:
    """Descriptions end at ';' and '|' splits payee from note in hledger; keep them out."""
    return _UNSAFE_TEXT.sub(" ", value).strip()


def _tag(value: str) -> str:
    """Tag values end at a comma."""
    return _UNSAFE_TAG.sub(" ", value).strip()


def _amount(money: Money) -> str:
    return f"{COMMODITY} {money}"


def _posting_line(name: str, money: Money) -> str:
    # At least two spaces end an account name in ledger syntax.
    return f"    {name}  {_amount(money)}"


def write_journal(extract: BookExtract, out: TextIO, *, organisation: str) -> int:
    """Write the extract; returns the number of transactions written (opening balances included)."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.write(f"; budget_ledger journal of {_text(organisation)}, generated {generated}\n")
    span = f"{extract.date_from or 'begin'} .. {extract.date_to or 'end'}"
    out.write(f"; booking dates {span}; amounts in euro, debit positive\n\n")
    out.write("decimal-mark .\n")
    out.write(f"commodity {COMMODITY} 1000.00\n\n")
    for code in sorted(extract.accounts):
        account = extract.accounts[code]
        out.write(f"account {account.full_name}  ; {_text(account.name)}\n")
    out.write("\n")

    written = 0
    if extract.opening_balances and extract.date_from is not None:
        _write_opening(extract, out)
        written += 1
    for entry in extract.entries:
        _write_entry(entry, extract.accounts, out)
        written += 1
    return written


def _write_opening(extract: BookExtract, out: TextIO) -> None:
    assert extract.date_from is not None
    day_before = extract.date_from - timedelta(days=1)
    out.write(f"{extract.date_from.isoformat()} * Beginsaldi  ; balances at the end of {day_before.isoformat()}\n")
    total = 0
    for code, money in sorted(extract.opening_balances.items()):
        out.write(_posting_line(extract.accounts[code].full_name, money) + "\n")
        total += money.cents
    if total:
        out.write(_posting_line(OPENING_ACCOUNT, Money(-total)) + "\n")
    out.write("\n")


def _write_entry(entry: PostedEntry, accounts: dict[str, Account], out: TextIO) -> None:
    tags = [f"key:{_tag(entry.idempotency_key)}", f"source:{entry.source.value}", f"actor:{_tag(entry.actor)}"]
    if entry.rule:
        tags.append(f"rule:{_tag(entry.rule)}")
    if entry.household_id is not None:
        tags.append(f"household:{entry.household_id}")
    if entry.reverses_entry_id is not None:
        tags.append(f"reverses:{entry.reverses_entry_id}")
    dates = entry.booking_date.isoformat()
    if entry.value_date != entry.booking_date:
        dates += "=" + entry.value_date.isoformat()
    out.write(f"{dates} * ({entry.id}) {_text(entry.reason)}  ; {', '.join(tags)}\n")
    for posting in entry.postings:
        out.write(_posting_line(accounts[posting.account].full_name, posting.amount) + "\n")
    out.write("\n")


def write_balances_csv(rows: Iterable[tuple[Account, Money]], out: TextIO) -> int:
    """`account,balance` for every account, named as in the journal, debit positive."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["account", "balance"])
    count = 0
    for account, balance in sorted(rows, key=lambda row: row[0].full_name):
        writer.writerow([account.full_name, str(balance)])
        count += 1
    return count
