"""Pagination for every list: `limit` (1–500, default 50) and `offset`, answered with the page and how many
there are in all, so a client can walk the whole list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from litestar.params import QueryParameter

T = TypeVar("T")

LIMIT = QueryParameter(ge=1, le=500, description="page size (at most 500)")
OFFSET = QueryParameter(ge=0, le=1_000_000_000, description="how many to skip")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def page_of(items: Sequence[T], limit: int, offset: int) -> Page[T]:
    return Page(items=list(items[offset:offset + limit]), total=len(items), limit=limit, offset=offset)
