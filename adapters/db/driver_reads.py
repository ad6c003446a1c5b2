"""Bulk reads (and the run's seal) straight through the database driver's cursor, in the transaction of a
SQLAlchemy connection.

The payment run reads every past entry of its households, chunk after chunk: hundreds of thousands of
rows. SQLAlchemy builds a `Row` for each before the caller sees it, and for these reads that was the
larger part of the reading time. Here the statement is the one SQLAlchemy compiles (expanding IN lists
included, each bound value through its type's bind processor), executed as driver SQL on the connection
(errors arrive wrapped as SQLAlchemy's, as from any statement), and the rows are taken from the driver's
cursor as its tuples, a part at a time.

SQLAlchemy expands an IN list of 500 values anew on every execution, in Python; the run's writer sends
dozens of such statements per chunk. The expansion is worked out once per statement and list lengths (the
SQL text and where each value goes) and reused.

Only for statements whose result columns need no result processing on the dialect at hand (integers,
text, or values the caller converts itself, like the ISO dates `ledger_store` memoises): the driver's
values are what the caller gets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

_Shape = tuple[tuple[str, int], ...]
_Recipe = tuple[str, list[tuple[str, int | None, Any]], list[Callable[[Any], Any] | None], tuple[str, ...] | None]
"""The expanded SQL; per bound value the parameter it comes from (its index when it is in a list) and the
statement's own value when the caller does not give it; its processor; the names of the values when the
driver takes them by name (None: by position)."""
_EXPANDED: dict[tuple[Any, Executable, _Shape], _Recipe] = {}
_EXPANDED_KEPT = 10_000
"""A handful of statements times the list lengths they meet: bounded in case a caller sends every length."""


def driver_parts(conn: Connection, statement: Executable, params: Mapping[str, Any], size: int
                 ) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of `statement` with `params`, as the driver's tuples, `size` rows at a time.

    `statement` must be a module-level constant (its expansion is kept per dialect and list lengths for the
    process).
    """
    sql, arguments = _expanded(conn, statement, params)
    # Executed through SQLAlchemy, so an error arrives wrapped as any other (a lock timeout or a busy
    # database is then recognised as transient and retried); the rows are fetched from its cursor.
    result = conn.exec_driver_sql(sql, arguments)
    cursor = result.cursor
    try:
        while True:
            try:
                part = cursor.fetchmany(size)
            except conn.dialect.loaded_dbapi.Error as exc:
                raise DBAPIError.instance(sql, arguments, exc, conn.dialect.loaded_dbapi.Error) from exc
            if not part:
                break
            yield part
    finally:
        result.close()


def driver_execute(conn: Connection, statement: Executable, params: Mapping[str, Any]) -> None:
    """Execute `statement` (an UPDATE or DELETE, a module-level constant) with `params` on the driver."""
    sql, arguments = _expanded(conn, statement, params)
    conn.exec_driver_sql(sql, arguments).close()


def _expanded(conn: Connection, statement: Executable, params: Mapping[str, Any]) -> tuple[str, Any]:
    dialect = conn.dialect
    shape = tuple(sorted((name, len(value)) for name, value in params.items() if isinstance(value, list | tuple)))
    key = (dialect, statement, shape)
    recipe = _EXPANDED.get(key)
    if recipe is None:
        if len(_EXPANDED) >= _EXPANDED_KEPT:
            _EXPANDED.clear()
        recipe = _EXPANDED[key] = _recipe(statement, dialect, params)
    sql, sources, processors, names = recipe
    values = [params[name][index] if index is not None else params[name] if name in params else constant
              for name, index, constant in sources]
    values = [value if process is None else process(value)
              for process, value in zip(processors, values, strict=True)]
    return sql, (tuple(values) if names is None else dict(zip(names, values, strict=True)))


def _recipe(statement: Executable, dialect: Any, params: Mapping[str, Any]) -> _Recipe:
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    expanded = compiled.construct_expanded_state(dict(params))
    origin: dict[str, tuple[str, int]] = {}
    for name, parts in expanded.parameter_expansion.items():
        for index, part in enumerate(parts):
            origin[part] = (name, index)
    order: Sequence[str] = (expanded.positiontup if expanded.positiontup is not None
                            else list(expanded.parameters))
    # A value from the caller's list, from the caller, or the statement's own (a literal such as 'posted').
    sources = [(*origin[name], None) if name in origin else (name, None, expanded.parameters[name])
               for name in order]
    processors = [expanded.processors.get(name) for name in order]
    return (expanded.statement, sources, processors,
            None if expanded.positiontup is not None else tuple(order))
