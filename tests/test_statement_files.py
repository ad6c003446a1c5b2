"""Each statement fixture through the whole import (reader, service, database), on both engines: the
styles of ING, Rabobank and ABN AMRO imported with every booked line once; every malformed, hostile, foreign
or other file refused with a clear message, and the book, the lines and the imports exactly as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from registry import BEHEERDER, count_rows

from budget_ledger.adapters.bank.camt053 import parse_camt053
from budget_ledger.adapters.bank.statement_files import import_camt053
from budget_ledger.chart import organisation_accounts
from budget_ledger.errors import InvalidInputError
from budget_ledger.statement_import import statement_lines

FIXTURES = Path(__file__).parent / "fixtures" / "camt053"
GOOD = ["generic_v02_small.xml", "ing_v02_batch.xml", "rabobank_v02_return.xml", "abnamro_v08_two_statements.xml"]
REFUSED = {
    "xxe.xml": "DOCTYPE", "billion_laughs.xml": "DOCTYPE", "camt054_notification.xml": "camt.054",
    "pain002_status_report.xml": "pain.002", "camt053_v09.xml": "camt.053.001.09", "truncated.xml": "",
    "missing_amt.xml": "Amt", "missing_bookgdt.xml": "BookgDt", "missing_cdtdbtind.xml": "CdtDbtInd",
    "amount_comma.xml": "", "amount_negative.xml": "", "amount_three_decimals.xml": "", "amount_usd.xml": "EUR",
    "foreign_account.xml": "NL91ABNA0417164300",
}
TABLES = ("journal_entries", "postings", "bank_lines", "bank_statement_imports", "warnings")


def state(database) -> tuple[int, ...]:
    return tuple(count_rows(database, table) for table in TABLES)


@pytest.fixture
def bank(services):
    services.ledger.open_accounts(organisation_accounts())
    return services.bank_import


@pytest.mark.parametrize("name", GOOD)
def test_a_banks_statement_is_imported_each_booked_line_once(bank, database, name):
    data = (FIXTURES / name).read_bytes()
    expected = sum(len(statement_lines(s)[0]) for s in parse_camt053(data).statements)
    assert expected > 0
    first = import_camt053(bank, data, BEHEERDER, max_megabytes=5)
    assert first.lines_new == expected and first.lines_known == 0
    assert count_rows(database, "bank_lines") == expected
    again = import_camt053(bank, data, BEHEERDER, max_megabytes=5)
    assert (again.lines_new, again.lines_known) == (0, expected)
    assert count_rows(database, "bank_lines") == expected


@pytest.mark.parametrize("name, says", sorted(REFUSED.items()))
def test_a_file_that_cannot_be_taken_is_refused_whole_and_changes_nothing(bank, database, name, says):
    before = state(database)
    with pytest.raises(InvalidInputError) as refused:
        import_camt053(bank, (FIXTURES / name).read_bytes(), BEHEERDER, max_megabytes=5)
    assert says in str(refused.value)
    assert state(database) == before


def test_a_file_above_the_size_limit_is_refused_unread(bank, database):
    before = state(database)
    with pytest.raises(InvalidInputError, match="limit"):
        import_camt053(bank, b" " * 1_000_001 + (FIXTURES / GOOD[0]).read_bytes(), BEHEERDER, max_megabytes=1)
    assert state(database) == before
