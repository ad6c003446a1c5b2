"""Values built once per distinct raw value during one read.

The bulk payment run reads tens of thousands of rows per chunk of households, and they repeat their values:
the same amounts, dates, timestamps, addresses, postings. Building a frozen value (and validating it) once
per distinct raw value, then sharing it between the rows, is cheaper than building it per row. Only for
immutable values: never for a dict or list that its holder could change under the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

_K = TypeVar("_K")
_V = TypeVar("_V")


class Memo(dict[_K, _V]):
    """`memo[raw]` is `make(raw)`, made the first time `raw` is asked for and shared after that."""

    def __init__(self, make: Callable[[_K], _V]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: _K) -> _V:
        value = self[key] = self.make(key)
        return value
