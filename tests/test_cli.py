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


def test_plan_shows_next_months_payments_of_the_demo_couple_and_writes_nothing(services, database):
    load_demo_book(services)
    before = services.ledger.balances()
    result = invoke("--database-url", database.settings.database_url, "plan", "2", "--from", "2025-07-01",
                    "--to", "2025-07-31")
    assert result.exit_code == 0, result.output
    assert "780.00  vaste_lasten" in result.stdout and "Huur juli 2025 (Woonbedrijf Ieder1)" in result.stdout
    assert "672.77  leefgeld" in result.stdout
    assert services.ledger.balances() == before


def test_budgetplan_is_recorded_once_and_printed_as_a_document_to_sign(services, database):
    load_demo_book(services)
    url = database.settings.database_url
    first = invoke("--database-url", url, "budgetplan", "1", "--month", "2025-06", "--record", "beheerder.anna")
    assert first.exit_code == 0, first.output
    assert "Budgetplan juni 2025" in first.stdout and "versie 1" in first.stdout
    again = invoke("--database-url", url, "budgetplan", "1", "--month", "2025-06", "--record", "beheerder.anna")
    assert "versie 1" in again.stdout  # nothing changed, so no second version
    as_json = invoke("--database-url", url, "budgetplan", "1", "--month", "2025-06", "--format", "json")
    assert '"1281.38"' in as_json.stdout


def test_forecast_of_an_unknown_household_is_a_message_and_exit_1(services, database):
    load_demo_book(services)
    result = invoke("--database-url", database.settings.database_url, "forecast", "99")
    assert result.exit_code == 1
    assert "there is no household 99" in result.output
    bad = invoke("--database-url", database.settings.database_url, "forecast", "1", "--months", "40")
    assert bad.exit_code == 2 and "--months" in bad.output


def test_an_export_never_replaces_a_device_or_directory(services, database, tmp_path):
    load_demo_book(services)
    result = invoke("--database-url", database.settings.database_url, "export", "-o", str(tmp_path))
    assert result.exit_code == 2 and "not a regular file" in result.output
    assert tmp_path.is_dir()
