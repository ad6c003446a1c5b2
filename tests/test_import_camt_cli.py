"""`budget-ledger import-camt` and the work queue from the command line, with real CAMT.053 files: the
file the bank sends after S1's first run (one batch entry of 438.71 for huur and zorg), read twice;
hostile and foreign files refused with a message, changing nothing."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from registry import BEHEERDER, count_rows
from test_statement_import import OURS, entry, march_18, s1_exported, statement, tx

from budget_ledger.adapters.bank.camt053_writer import write_camt053
from budget_ledger.adapters.cli.main import cli
from budget_ledger.bank_statements import StatementFile
from budget_ledger.ledger.money import Money

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>&secret;</MsgId>
</GrpHdr></BkToCstmrStmt></Document>"""


def as_version(file: StatementFile, version: str) -> StatementFile:
    from dataclasses import replace

    return replace(file, version=version)


@pytest.fixture
def exported_run(services):
    return s1_exported(services)


@pytest.fixture
def invoke(database):
    def run(*args: str):
        return CliRunner().invoke(cli, ["--database-url", database.settings.database_url, *args])

    return run


@pytest.mark.parametrize("style, version", [("ing", "camt.053.001.02"), ("rabobank", "camt.053.001.04"),
                                            ("abnamro", "camt.053.001.08")])
def test_a_statement_file_is_imported_once_however_often_it_is_read(services, database, exported_run, invoke,
                                                                      tmp_path, style, version):
    h, run_id, exported = exported_run
    path = tmp_path / "afschrift.xml"
    path.write_bytes(write_camt053(as_version(march_18(exported, opening="3500.00", closing="3061.29"), version),
                                   style=style))

    first = invoke("import-camt", str(path), "--as", BEHEERDER)
    assert first.exit_code == 0, first.output
    assert "2 nieuw, 0 al bekend" in first.output and "eigen-betaling: 2" in first.output
    assert "eindsaldo bank € 3.061,29, grootboek € 3.061,29: klopt" in first.output
    again = invoke("import-camt", str(path), "--as", BEHEERDER)
    assert again.exit_code == 0 and "0 nieuw, 2 al bekend" in again.output
    assert count_rows(database, "bank_lines") == 2
    assert {i.status.value for i in services.payment_runs.instructions(run_id) if i.iban} == {"executed"}


def test_hostile_foreign_and_other_files_are_refused_with_a_message_and_change_nothing(
        services, database, exported_run, invoke, tmp_path):
    h, _, exported = exported_run
    foreign = tmp_path / "foreign.xml"
    foreign.write_bytes(write_camt053(march_18(exported, iban="NL91ABNA0417164300")))
    hostile = tmp_path / "xxe.xml"
    hostile.write_bytes(XXE)
    other = tmp_path / "pain.xml"
    other.write_bytes(b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>')
    before = (count_rows(database, "journal_entries"), count_rows(database, "bank_lines"),
              count_rows(database, "bank_statement_imports"))

    result = invoke("import-camt", str(foreign), str(hostile), str(other), "--as", BEHEERDER)
    assert result.exit_code == 1
    assert "foreign.xml: geweigerd (account)" in result.output and "NL91ABNA0417164300" in result.output
    assert "xxe.xml: geweigerd" in result.output and "DOCTYPE" in result.output
    assert "pain.xml: geweigerd" in result.output and "pain.001" in result.output
    assert (count_rows(database, "journal_entries"), count_rows(database, "bank_lines"),
            count_rows(database, "bank_statement_imports")) == before


def test_the_work_queue_is_shown_and_a_line_is_assigned_from_the_command_line(services, database, exported_run,
                                                                               invoke, tmp_path):
    h, _, _ = exported_run
    path = tmp_path / "gift.xml"
    path.write_bytes(write_camt053(statement(entry(0, date(2025, 3, 20), tx(
        "75.00", counterparty_iban="NL02ABNA0123456789", counterparty_name="Kerk De Ark",
        remittance_text="Voor de familie"), ref="G1"))))
    assert invoke("import-camt", str(path), "--as", BEHEERDER).exit_code == 0
    queue = invoke("bank", "queue")
    assert "Kerk De Ark" in queue.output and "75,00" in queue.output
    [line] = services.bank_queue.unmatched()
    gifts_before = services.ledger.balance(f"huishouden:{h}:inkomen:gift")  # Roermond's gift of the first huur
    wrong = invoke("bank", "assign", str(line.id), "--part", f"household={h}:70.00", "--note", "gift kerk",
                   "--as", BEHEERDER)
    assert wrong.exit_code == 1 and "add up to" in wrong.output
    done = invoke("bank", "assign", str(line.id), "--part", f"household={h}:75.00:gift", "--note", "gift kerk",
                  "--as", BEHEERDER)
    assert done.exit_code == 0, done.output
    assert services.bank_queue.unmatched() == []
    assert services.ledger.balance(f"huishouden:{h}:inkomen:gift") == gifts_before - Money.parse("75.00")
    assert OURS in services.bank_queue.line(line.id).account_iban


def test_a_krediet_in_the_queue_is_assigned_as_the_inrichtingskrediet_from_the_command_line(
        services, exported_run, invoke, tmp_path):
    h, _, _ = exported_run
    path = tmp_path / "krediet.xml"
    path.write_bytes(write_camt053(statement(entry(0, date(2025, 3, 20), tx(
        "500.00", counterparty_iban="NL02ABNA0123456789", counterparty_name="Gemeente",
        remittance_text="aanvulling inrichtingskrediet"), ref="K9"))))
    assert invoke("import-camt", str(path), "--as", BEHEERDER).exit_code == 0
    [line] = services.bank_queue.unmatched()
    loan_before = services.ledger.balance(f"huishouden:{h}:krediet:inrichting")
    done = invoke("bank", "assign", str(line.id), "--part", f"household={h}:500.00:inrichtingskrediet",
                  "--note", "aanvullend krediet, besluit 19 maart", "--as", BEHEERDER)
    assert done.exit_code == 0, done.output
    assert services.ledger.balance(f"huishouden:{h}:krediet:inrichting") == loan_before - Money.parse("500.00")
    assert services.bank_queue.assignments(line.id)[0].income_source == "inrichtingskrediet"


def test_the_gemeentes_gift_paid_without_its_kenmerk_is_assigned_as_its_inleg_from_the_command_line(
        services, exported_run, invoke, tmp_path):
    """Roermond put in S1's first part-month of huur (356.45); its transfer came without the kenmerk."""
    h, _, _ = exported_run
    path = tmp_path / "inleg.xml"
    path.write_bytes(write_camt053(statement(entry(0, date(2025, 3, 20), tx(
        "356.45", counterparty_iban="NL39RABO0300065264", counterparty_name="Gemeente Roermond",
        remittance_text="BB eerste huur"), ref="I9"))))
    assert invoke("import-camt", str(path), "--as", BEHEERDER).exit_code == 0
    [line] = services.bank_queue.unmatched()
    done = invoke("bank", "assign", str(line.id), "--part", f"household={h}:356.45:inleg-gemeente",
                  "--note", "bijzondere bijstand eerste huur", "--as", BEHEERDER)
    assert done.exit_code == 0, done.output
    assert services.ledger.balance("org:gemeente:te-ontvangen") == Money(0)
    assert services.bank_queue.assignments(line.id)[0].income_source == "inleg-gemeente"
    again = invoke("bank", "assign", str(line.id), "--part", f"household={h}:356.45:inleg-gemeente",
                   "--note", "nog eens", "--as", BEHEERDER)
    assert again.exit_code != 0 and "not in the work queue" in again.output
