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

_DRIVER_INSERTS: dict[tuple[Any, str, frozenset[str]], tuple[str, tuple[str, ...], list[Any]]] = {}


def insert_many_by_driver(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> bool:
    """Insert `rows` (dicts with the same keys, in any order) with the driver's executemany on SQLite:
    the INSERT SQLAlchemy compiles for those columns, each value passed through its column type's own bind
    processor (dates, JSON, UTC timestamps), rows in the order given, so they get the ids one multi-row
    INSERT would give them. False (nothing done) where that does not apply; the caller then inserts as usual.
    """
    dialect = conn.dialect
    if not rows or dialect.name != "sqlite" or dialect.paramstyle != "qmark":
        return False
    keys = tuple(rows[0])
    cache_key = (dialect, table.name, frozenset(keys))
    found = _DRIVER_INSERTS.get(cache_key)
    if found is None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        # The compiled INSERT names its columns in the table's order, whatever the order of the dict; a column
        # it adds that the rows do not have is a default SQLAlchemy would fill in: not done here.
        order = tuple(compiled.positiontup or ())
        if sorted(order) != sorted(keys):
            return False
        found = _DRIVER_INSERTS[cache_key] = (
            compiled.string, order,
            [table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order])
    sql, order, processors = found
    wanted = frozenset(order)
    params = []
    for row in rows:
        if len(row) != len(order) or row.keys() != wanted:
            return False
        params.append(tuple(value if process is None else process(value)
                            for process, value in zip(processors, [row[key] for key in order], strict=True)))
    conn.exec_driver_sql(sql, params)
    return True
