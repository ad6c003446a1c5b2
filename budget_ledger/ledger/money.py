"""Money as whole euro cents.

Every amount in budget_ledger is an integer number of cents. `Decimal` and decimal strings are
accepted at the edges (the API, CSV, bank files) and converted exactly; a value with more than two
decimals is refused rather than rounded, because silently rounding a client's money hides errors.
`float` is refused outright: 0.1 + 0.2 is not 0.3, and a ledger must be right to the cent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import total_ordering

from budget_ledger.ledger.quick_values import quick_value

_HUNDRED = Decimal(100)
_DECIMAL_STRING = re.compile(r"^[+-]?\d+(\.\d{1,2})?$")


class MoneyError(ValueError):
    """An amount that cannot be represented exactly as euro cents."""


@total_ordering
@quick_value
@dataclass(frozen=True, slots=True)
class Money:
    """An amount in euro, held as integer cents. Immutable and hashable."""

    cents: int

    def __post_init__(self) -> None:
        # bool is a subclass of int; True euro cents is always a bug.
        if type(self.cents) is not int:
            raise MoneyError(f"Money needs integer cents, got {type(self.cents).__name__}")

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def of(cls, value: Money | Decimal | int | str) -> Money:
        """Build from `Money`, `Decimal` euros, `int` cents or a decimal string of euros.

        `int` means cents (the database form); `Decimal` and `str` mean euros (the human form).
        """
        if isinstance(value, Money):
            return value
        if isinstance(value, float):
            raise MoneyError("float amounts are refused: use a decimal string such as '12.34' or Decimal")
        if isinstance(value, bool):
            raise MoneyError("a boolean is not an amount")
        if isinstance(value, int):
            return cls(value)
        if isinstance(value, Decimal):
            return cls.from_decimal(value)
        if isinstance(value, str):
            return cls.parse(value)
        raise MoneyError(f"cannot make an amount from {type(value).__name__}")

    @classmethod
    def from_decimal(cls, value: Decimal) -> Money:
        if not isinstance(value, Decimal):
            raise MoneyError(f"expected Decimal, got {type(value).__name__}")
        if not value.is_finite():
            raise MoneyError(f"amount must be finite, got {value}")
        cents = value * _HUNDRED
        if cents != cents.to_integral_value():
            raise MoneyError(f"amount {value} has more than two decimals")
        return cls(int(cents))

    @classmethod
    def parse(cls, text: str) -> Money:
        """Parse a plain decimal string of euros: '12', '-3.5', '1234.56'. No thousands separators."""
        cleaned = text.strip()
        if not _DECIMAL_STRING.match(cleaned):
            raise MoneyError(f"{text!r} is not a decimal amount with at most two decimals (for example '1234.56')")
        try:
            return cls.from_decimal(Decimal(cleaned))
        except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
            raise MoneyError(f"{text!r} is not a decimal amount") from exc

    @classmethod
    def zero(cls) -> Money:
        return cls(0)

    @classmethod
    def sum(cls, amounts: Iterable[Money]) -> Money:
        return cls(sum(a.cents for a in amounts))

    # -- conversion ---------------------------------------------------------------------------

    def to_decimal(self) -> Decimal:
        return Decimal(self.cents).scaleb(-2)

    def __str__(self) -> str:
        """Plain decimal string with two decimals: the form used in JSON, CSV and exports."""
        sign = "-" if self.cents < 0 else ""
        whole, cents = divmod(abs(self.cents), 100)
        return f"{sign}{whole}.{cents:02d}"

    def format_nl(self) -> str:
        """Dutch display form, e.g. '€ 1.234,56' or '-€ 12,00', for texts a client or begeleider reads."""
        sign = "-" if self.cents < 0 else ""
        whole, cents = divmod(abs(self.cents), 100)
        return f"{sign}€ {whole:,}".replace(",", ".") + f",{cents:02d}"

    # -- arithmetic ---------------------------------------------------------------------------

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.cents + other.cents)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.cents - other.cents)

    def __neg__(self) -> Money:
        return Money(-self.cents)

    def __abs__(self) -> Money:
        return Money(abs(self.cents))

    def __mul__(self, factor: int) -> Money:
        # Only whole multiples: a fractional factor would need a rounding rule, so use allocate().
        if type(factor) is not int:
            return NotImplemented
        return Money(self.cents * factor)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.cents < other.cents

    def __bool__(self) -> bool:
        return self.cents != 0

    @property
    def is_negative(self) -> bool:
        return self.cents < 0

    # -- splitting without losing a cent ------------------------------------------------------

    def split(self, parts: int) -> list[Money]:
        """Split into `parts` amounts that differ by at most one cent and add up exactly.

        The larger parts come first: €100 over 3 months is 33.34, 33.33, 33.33.
        """
        if type(parts) is not int or parts < 1:
            raise MoneyError("split needs a whole number of parts, at least 1")
        return self.allocate([1] * parts)

    def allocate(self, ratios: Sequence[int]) -> list[Money]:
        """Divide in proportion to whole-number `ratios` (largest-remainder method).

        The parts always add up to exactly this amount; the leftover cents go to the parts with the
        largest remainders, earlier parts first on a tie, so the result is deterministic.
        """
        if not ratios or any(type(r) is not int or r < 0 for r in ratios):
            raise MoneyError("allocate needs a non-empty list of non-negative whole-number ratios")
        total = sum(ratios)
        if total == 0:
            raise MoneyError("allocate needs at least one ratio above zero")
        sign = -1 if self.cents < 0 else 1
        magnitude = abs(self.cents)
        shares = [magnitude * r // total for r in ratios]
        remainders = [magnitude * r % total for r in ratios]
        leftover = magnitude - sum(shares)
        order = sorted(range(len(ratios)), key=lambda i: (-remainders[i], i))
        for i in order[:leftover]:
            shares[i] += 1
        return [Money(sign * s) for s in shares]
