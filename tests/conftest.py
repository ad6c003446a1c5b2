"""Fixtures: a fresh, migrated database per test, on SQLite always and on PostgreSQL when one is given.

PostgreSQL: set BUDGET_LEDGER_TEST_POSTGRESQL_URL to a server URL whose user may create databases
(`.ci/start-postgres.sh` prints one). Each test gets its own database, cloned from a migrated template.
Under CI (CI=true) a missing PostgreSQL or hledger is an error, never a silent skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from budget_ledger.adapters.db.bootstrap import ledger_service
from budget_ledger.adapters.db.engine import Database
from budget_ledger.adapters.db.migrate import upgrade
from budget_ledger.posting import LedgerService
from budget_ledger.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO / "config"
PG_URL_ENV = "BUDGET_LEDGER_TEST_POSTGRESQL_URL"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def postgres_admin_url() -> str | None:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        return None
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def require_or_skip(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required under CI but is not available")
    pytest.skip(f"{what} not available")


def make_settings(database_url: str, **overrides) -> Settings:
    return load_settings(config_dir=CONFIG_DIR, database_url=database_url, **overrides)


class DatabaseMaker:
    """Makes fresh migrated databases of one backend, each a copy of a template migrated once."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        self._template: str | None = None
        self._made: list[Database] = []
        self._pg_names: list[str] = []

    def _sqlite_template(self) -> Path:
        template = self.workdir / "template.sqlite3"
        if not template.exists():
            database = Database(make_settings(f"sqlite:///{template}"))
            upgrade(database)
            # Closing the last connection checkpoints the WAL into the main file, which is then copied.
            database.dispose()
        return template

    def _pg_template(self, admin_url: str) -> str:
        if self._template is None:
            name = f"bl_template_{uuid.uuid4().hex[:10]}"
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            database = Database(make_settings(str(make_url(admin_url).set(database=name))))
            try:
                upgrade(database)
            except BaseException:
                database.dispose()
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                raise
            finally:
                admin.dispose()
            database.dispose()
            self._template = name
        return self._template

    def url(self) -> str:
        """A new, migrated, empty database; its URL. Dropped when the test ends."""
        if self.backend == "sqlite":
            target = self.workdir / f"db-{uuid.uuid4().hex[:12]}.sqlite3"
            shutil.copyfile(self._sqlite_template(), target)
            return f"sqlite:///{target}"
        admin_url = postgres_admin_url()
        assert admin_url
        template = self._pg_template(admin_url)
        name = f"bl_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        admin.dispose()
        self._pg_names.append(name)
        return str(make_url(admin_url).set(database=name).render_as_string(hide_password=False))

    def make(self, **settings_overrides) -> Database:
        database = Database(make_settings(self.url(), **settings_overrides))
        self._made.append(database)
        return database

    def cleanup(self) -> None:
        for database in self._made:
            database.dispose()
        self._made.clear()
        if self._pg_names:
            admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                for name in self._pg_names:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
            self._pg_names.clear()


@pytest.fixture(scope="session")
def _makers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, DatabaseMaker]]:
    makers = {
        "sqlite": DatabaseMaker("sqlite", tmp_path_factory.mktemp("sqlite")),
        "postgresql": DatabaseMaker("postgresql", tmp_path_factory.mktemp("pg")),
    }
    yield makers
    admin_url = postgres_admin_url()
    template = makers["postgresql"]._template
    if admin_url and template:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not postgres_admin_url():
        require_or_skip(f"PostgreSQL ({PG_URL_ENV})")
    return request.param


@pytest.fixture
def database_maker(backend: str, _makers: dict[str, DatabaseMaker]) -> Iterator[DatabaseMaker]:
    """For tests that need more than one database, or special settings."""
    maker = _makers[backend]
    yield maker
    maker.cleanup()


@pytest.fixture
def database(database_maker: DatabaseMaker) -> Database:
    """A fresh, migrated, empty database of the current backend."""
    return database_maker.make()


@pytest.fixture
def ledger(database: Database) -> LedgerService:
    return ledger_service(database)


@pytest.fixture
def hledger_bin() -> str:
    path = shutil.which("hledger")
    if path is None:
        require_or_skip("hledger")
    return path


@pytest.fixture(scope="session")
def profile_catalog():
    """The shipped rule profiles (config/profiles), loaded once for the whole run."""
    from budget_ledger.adapters.profiles import load_profiles
    from budget_ledger.household_profiles import ProfileCatalog

    return ProfileCatalog(load_profiles(CONFIG_DIR / "profiles"))


@pytest.fixture
def services(database: Database, profile_catalog):
    """Every service on the test's database."""
    from budget_ledger.adapters.db.bootstrap import services as build

    return build(database, catalog=profile_catalog)
