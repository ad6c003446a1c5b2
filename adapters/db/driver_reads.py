"""Bulk reads straight from the database driver's cursor, in the transaction of a SQLAlchemy connection.

The payment run reads every past entry of its households, chunk after chunk: hundreds of thousands of
rows. SQLAlchemy builds a `Row` for each before the caller sees it, and for these reads that was the
larger part of the reading time. Here the statement is the one SQLAlchemy compiles (expanding IN lists
included, each bound value through its type's bind processor), sent on the connection's own DBAPI
connection, and the rows come back as the driver's tuples, a part at a time.

Only for statements whose result columns need no result processing on the dialect at hand (integers,
text, or values the caller converts itself, like the ISO dates `ledger_store` memoises): the driver's
values are what the caller gets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler

_COMPILED: dict[tuple[Any, Select[Any]], SQLCompiler] = {}


def driver_parts(conn: Connection, statement: Select[Any], params: Mapping[str, Any], size: int
                 ) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of `statement` with `params`, as the driver's tuples, `size` rows at a time.

    `statement` must be a module-level constant (its compiled form is kept per dialect for the process).
    """
    dialect = conn.dialect
    key = (dialect, statement)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = statement.compile(dialect=dialect)  # type: ignore[assignment]
    expanded = compiled.construct_expanded_state(dict(params))
    processors = expanded.processors
    values = {name: (process(value) if (process := processors.get(name)) is not None else value)
              for name, value in expanded.parameters.items()}
    arguments: Any = (tuple(values[name] for name in expanded.positiontup)
                      if expanded.positiontup is not None else values)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(expanded.statement, arguments)
        while part := cursor.fetchmany(size):
            yield part
    finally:
        cursor.close()
