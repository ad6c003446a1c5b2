"""Bulk inserts through the SQLite driver's own executemany, with the SQL and type processing SQLAlchemy
compiles for them.

SQLAlchemy's executemany of an INSERT does per-row parameter work that costs more than SQLite's own insert;
the bulk payment run writes tens of thousands of rows (entries, instructions) per chunk. Used by the ledger
and payment stores; on any other database it does nothing and the caller inserts as usual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert

_DRIVER_INSERTS: dict[tuple[Any, str, tuple[str, ...]], tuple[str, list[Any]]] = {}


def insert_many_by_driver(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> bool:
    """Insert `rows` (dicts with the same keys, in the same order) with the driver's executemany on SQLite:
    the INSERT SQLAlchemy compiles for those columns, each value passed through its column type's own bind
    processor (dates, JSON, UTC timestamps), rows in the order given, so they get the ids one multi-row
    INSERT would give them. False (nothing done) where that does not apply; the caller then inserts as usual.
    """
    dialect = conn.dialect
    if not rows or dialect.name != "sqlite" or dialect.paramstyle != "qmark":
        return False
    keys = tuple(rows[0])
    cache_key = (dialect, table.name, keys)
    found = _DRIVER_INSERTS.get(cache_key)
    if found is None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        if tuple(compiled.positiontup or ()) != keys:  # a column default SQLAlchemy would fill in: not here
            return False
        found = _DRIVER_INSERTS[cache_key] = (
            compiled.string, [table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys])
    sql, processors = found
    params = []
    for row in rows:
        if tuple(row) != keys:
            return False
        params.append(tuple(value if process is None else process(value)
                            for process, value in zip(processors, row.values(), strict=True)))
    conn.exec_driver_sql(sql, params)
    return True
