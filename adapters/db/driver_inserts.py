"""Bulk inserts through the database driver's own executemany (sqlite3; psycopg 3 on PostgreSQL), with
the SQL and type processing SQLAlchemy compiles for them.

The bulk payment run writes tens of thousands of rows (entries, instructions) per chunk. Used by the ledger
and payment stores; with any other driver it does nothing and the caller inserts as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, insert

_DRIVER_INSERTS: dict[tuple[Any, str, frozenset[str]], tuple[str, tuple[str, ...], list[Any]]] = {}


def insert_many_by_driver(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> bool:
    """Insert `rows` (dicts with the same keys, in any order) with the driver's own executemany: on SQLite
    (sqlite3, positional) and on PostgreSQL through psycopg 3 (named parameters; psycopg sends the rows in
    one pipeline as one prepared statement). The INSERT is the one SQLAlchemy compiles for those columns,
    each value passed through its column type's own bind processor (dates, JSON, UTC timestamps), rows in
    the order given. No ids come back: the caller reads them by a unique key. False (nothing done) where
    that does not apply; the caller then inserts as usual.

    Why not SQLAlchemy's executemany: on SQLite its per-row parameter work costs more than the insert; on
    PostgreSQL an INSERT .. RETURNING goes out as multi-row VALUES statements that psycopg parses again for
    every page of a thousand rows (most of the run's time in the database layer).
    """
    dialect = conn.dialect
    if not rows:
        return False
    if dialect.name == "sqlite" and dialect.paramstyle == "qmark":
        positional = True
    elif dialect.name == "postgresql" and dialect.driver == "psycopg" and dialect.paramstyle == "pyformat":
        positional = False
    else:
        return False
    keys = tuple(rows[0])
    cache_key = (dialect, table.name, frozenset(keys))
    found = _DRIVER_INSERTS.get(cache_key)
    if found is None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
        # The compiled INSERT names its columns in the table's order, whatever the order of the dict; a column
        # it adds that the rows do not have is a default SQLAlchemy would fill in: not done here. Named
        # parameters must be the columns' own names (SQLAlchemy renames a bind it has to escape).
        order = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
        if sorted(order) != sorted(keys) or getattr(compiled, "escaped_bind_names", None):
            return False
        found = _DRIVER_INSERTS[cache_key] = (
            compiled.string, order,
            [table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order])
    sql, order, processors = found
    wanted = frozenset(order)
    # Dates and timestamps repeat across a chunk's rows (its booking day, the moment it was written): each is
    # converted once per call. JSON values are dicts (not hashable) and go through their processor each time.
    processors = [_remembering(process) if process is not None and _repeats(table.c[key].type) else process
                  for key, process in zip(order, processors, strict=True)]
    params: list[Any] = []
    for row in rows:
        if len(row) != len(order) or row.keys() != wanted:
            return False
        values = [value if process is None else process(value)
                  for process, value in zip(processors, [row[key] for key in order], strict=True)]
        params.append(tuple(values) if positional else dict(zip(order, values, strict=True)))
    conn.exec_driver_sql(sql, params)
    return True


def _repeats(column_type: Any) -> bool:
    """Whether a column holds dates or timestamps (immutable, hashable, and the same on many rows)."""
    column_type = getattr(column_type, "impl_instance", column_type)  # a TypeDecorator: the type it stores as
    try:
        return issubclass(column_type.python_type, date)  # datetime is a date too
    except NotImplementedError:  # a type that names no Python type (NullType, some dialect types): not a date
        return False


def _remembering(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    converted: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        # Two timestamps of one instant in different zones are equal but may be written differently: the zone
        # is part of the key (and so is the type: None, a date, a datetime).
        key = (type(value), value, getattr(value, "tzinfo", None))
        found = converted.get(key, _MISSING)
        if found is _MISSING:
            found = converted[key] = process(value)
        return found

    return remembered


_MISSING = object()
