"""Settings come from config/*.toml, then BUDGET_LEDGER_ environment variables, then explicit arguments."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from budget_ledger.settings import load_settings


def test_defaults_come_from_the_toml_file(tmp_path, monkeypatch):
    monkeypatch.delenv("BUDGET_LEDGER_DATABASE_URL", raising=False)
    (tmp_path / "settings.toml").write_text('database_url = "sqlite:///data/x.sqlite3"\nport = 8123\n')
    settings = load_settings(tmp_path)
    assert settings.database_url == "sqlite:///data/x.sqlite3"
    assert settings.port == 8123
    assert settings.config_dir == tmp_path


def test_environment_beats_the_files_and_arguments_beat_the_environment(tmp_path, monkeypatch):
    (tmp_path / "settings.toml").write_text("port = 8123\n")
    (tmp_path / "local.toml").write_text("port = 8124\n")
    assert load_settings(tmp_path).port == 8124
    monkeypatch.setenv("BUDGET_LEDGER_PORT", "8125")
    assert load_settings(tmp_path).port == 8125
    assert load_settings(tmp_path, port=8126).port == 8126


def test_a_plain_postgresql_url_gets_the_psycopg_driver(tmp_path):
    settings = load_settings(tmp_path, database_url="postgresql://u@localhost/budget")
    assert settings.database_url == "postgresql+psycopg://u@localhost/budget"
    assert not settings.is_sqlite


def test_an_unknown_key_in_the_toml_file_is_refused(tmp_path):
    (tmp_path / "settings.toml").write_text("databse_url = 'sqlite:///typo.sqlite3'\n")
    with pytest.raises(ValidationError, match="databse_url"):
        load_settings(tmp_path)


def test_the_shipped_config_file_loads():
    from pathlib import Path

    settings = load_settings(Path(__file__).resolve().parent.parent / "config")
    assert settings.sqlite_synchronous == "FULL"
