"""The one Settings object, built explicitly and passed in; nothing reads configuration at import time.

Sources, strongest first: keyword arguments to `load_settings`, environment variables prefixed
`BUDGET_LEDGER_`, `config/local.toml` (per machine, not in git), `config/settings.toml` (the defaults).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "BUDGET_LEDGER_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    database_url: str = "sqlite:///data/budget_ledger.sqlite3"
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"
    sqlite_busy_timeout_seconds: float = Field(default=30, gt=0)
    postgresql_lock_timeout_seconds: float = Field(default=10, gt=0)
    transient_retry_attempts: int = Field(default=8, ge=1, le=50)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    organisation_name: str = "Demo Kredietbank"
    organisation_iban: str = "NL38BNGH0285012345"
    """The derdengeldenrekening payments are made from: the debtor account of every pain.001 file."""
    payment_file_version: Literal["pain.001.001.03", "pain.001.001.09"] = "pain.001.001.09"
    """The bank profile's pain.001 version; .09 is the default from the November 2026 EPC cut-over."""
    four_eyes: bool = True
    planning_workers: int = Field(default=2, ge=0, le=64)
    """Processes that plan a big payment run's next chunks while it writes (SQLite; see
    budget_ledger/run_ahead.py); 0: the run plans in its own process. About the number of cores."""
    """A payment run must be approved by another user than the one who started it (also checked by the database)."""
    scheduler_mode: Literal["embedded", "process", "off"] = "embedded"
    """embedded: inside `serve`; process: only in `budget-ledger scheduler run`; off: no scheduled jobs."""
    payment_run_time: str = Field(default="06:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    """When the daily payment run (the fixed costs due that day) starts, Europe/Amsterdam, on business days."""
    leefgeld_run_time: str = Field(default="06:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    """When the leefgeld transfers due that day are booked (after the fixed costs), on business days."""
    misfire_grace_hours: int = Field(default=72, ge=1, le=24 * 14)
    """A job missed while the service was down is run once at start if it is at most this late."""
    statement_max_megabytes: int = Field(default=200, ge=1, le=2000)
    """A bank statement file larger than this is refused before it is read."""
    income_match_tolerance_percent: int = Field(default=5, ge=0, le=50)
    """How far a payment may differ from the expected amount and still match the expected income."""
    income_match_window_days: int = Field(default=7, ge=0, le=60)
    """How many days before or after its due date a payment matches expected income (a first toeslag
    matches anywhere from its first expected day to its latest)."""
    unmatched_warning_days: int = Field(default=3, ge=0, le=60)
    """A bank line still in the work queue this many days after its booking date raises a warning."""
    monitoring_target_percent: int = Field(default=75, ge=0, le=100)
    """The monitoring KPI's target: percent managing its own finances after six months (Westfriesland: 75)."""
    config_dir: Path = Path("config")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "sqlite+pysqlite:", "postgresql")):
            raise ValueError("database_url must be a sqlite:/// or postgresql+psycopg:// URL")
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # One driver for PostgreSQL: psycopg 3.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def default_config_dir() -> Path:
    """`BUDGET_LEDGER_CONFIG_DIR`, else ./config, else the config/ folder of this checkout."""
    explicit = os.environ.get(f"{ENV_PREFIX}CONFIG_DIR")
    if explicit:
        return Path(explicit)
    local = Path.cwd() / "config"
    if local.is_dir():
        return local
    return Path(__file__).resolve().parent.parent / "config"


def load_settings(config_dir: Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML files of `config_dir`, then the environment, then `overrides`."""
    directory = Path(config_dir) if config_dir is not None else default_config_dir()
    files = [p for p in (directory / "settings.toml", directory / "local.toml") if p.is_file()]

    # The TOML source reads its file list from the class's model_config, so bind it on a subclass
    # made for this call instead of mutating shared state.
    class _FromFiles(Settings):
        model_config = SettingsConfigDict(toml_file=files)

    loaded = _FromFiles(**overrides)
    values = loaded.model_dump()
    values["config_dir"] = directory
    return Settings.model_construct(**values)
