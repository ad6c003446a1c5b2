"""Shared set-up for registry tests: gemeenten and households as a budgetbeheerder would enter them."""

from __future__ import annotations

from datetime import date
from typing import Any

BEHEERDER = "beheerder.anna"


def gemeente(services, code: str = "roermond", name: str | None = None, **settings: Any):
    return services.gemeenten.create({"code": code, "name": name or code.title(), "settings": settings}, BEHEERDER)


def single(services, *, gemeente_code: str = "roermond", permit_type: str = "asiel", bijstand_start: date | None = date(2025, 3, 15),
           housing_date: date | None = date(2025, 3, 15), **extra: Any):
    """A single statushouder, housed (and on bijstand) from Saturday 15 March 2025, as in S1."""
    data = {
        "gemeente": gemeente_code,
        "permit_type": permit_type,
        "has_bijstand": bijstand_start is not None,
        "bijstand_start": bijstand_start,
        "housing_date": housing_date,
        "preferred_language": "ti",
        "members": [{"name": "Yonas Tesfay", "date_of_birth": date(1998, 6, 1), "role": "aanvrager"}],
        **extra,
    }
    return services.households.create(data, BEHEERDER)


def count_rows(database, table: str) -> int:
    with database.engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
