"""The time services stamp their records with, replaceable in tests and in the simulation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def today_amsterdam() -> date:
    """Today's date where the households live, whatever zone the server runs in."""
    return datetime.now(AMSTERDAM).date()
