"""The `budget-ledger` command: bad input gets a message and a non-zero exit, and changes nothing."""

from __future__ import annotations

from click.testing import CliRunner

from budget_ledger.adapters.cli.main import cli
from budget_ledger.demo import load_demo_book


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_db_upgrade_creates_the_schema_of_a_new_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'book.sqlite3'}"
    assert "empty" in invoke("--database-url", url, "db", "current").stdout
    result = invoke("--database-url", url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    from budget_ledger.adapters.db.migrate import head_revision

    assert invoke("--database-url", url, "db", "current").stdout.strip() == head_revision()


def test_commands_refuse_a_database_without_schema(tmp_path):
    result = invoke("--database-url", f"sqlite:///{tmp_path / 'empty.sqlite3'}", "balances")
    assert result.exit_code == 1
    assert "budget-ledger db upgrade" in result.output


def test_a_bad_date_names_the_option(ledger, database):
    result = invoke("--database-url", database.settings.database_url, "export", "--from", "2025-02-30")
    assert result.exit_code == 2
    assert "--from" in result.output and "YYYY-MM-DD" in result.output


def test_from_after_to_is_refused(ledger, database):
    result = invoke("--database-url", database.settings.database_url, "export", "--from", "2025-03-01", "--to", "2025-02-01")
    assert result.exit_code == 2
    assert "--from is after --to" in result.output


def test_an_unknown_household_is_refused_and_writes_no_file(services, database, tmp_path):
    load_demo_book(services)
    target = tmp_path / "h99.journal"
    result = invoke("--database-url", database.settings.database_url, "export", "--household", "99", "-o", str(target))
    assert result.exit_code == 2
    assert "household 99 has no accounts" in result.output
    assert not target.exists() and not list(tmp_path.glob("*.partial"))


def test_an_unsupported_database_url_is_a_usage_error():
    result = invoke("--database-url", "mysql://localhost/x", "balances")
    assert result.exit_code == 2
    assert "database_url" in result.output


def test_check_reports_a_sound_book(services, database):
    load_demo_book(services)
    result = invoke("--database-url", database.settings.database_url, "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok:")


def test_balances_csv_of_the_demo_household(services, database):
    load_demo_book(services)
    result = invoke("--database-url", database.settings.database_url, "balances", "--household", "1")
    lines = result.stdout.splitlines()
    assert lines[0] == "account,balance"
    # S1 on 20-06: 4,717.19 in all, of which the krediet holds 2,770.43 + the 461.00 the toeslagen refilled.
    assert "assets:huishouden:1:basis,1485.76" in lines
    assert "assets:huishouden:1:reservering:inrichting,3231.43" in lines
