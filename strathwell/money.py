"""Integer money arithmetic shared by every app: amounts are whole cents, never floats."""

import math
from fractions import Fraction

_HALF = Fraction(1, 2)


def round_half_up(value: Fraction | int) -> int:
    """Round a non-negative exact number to the nearest integer, halves rounding up."""
    return math.floor(Fraction(value) + _HALF)


def percent_of(amount_cents: int, percent: int | Fraction) -> int:
    """`amount × percent / 100`, rounded half up, in exact arithmetic (no floats)."""
    return round_half_up(Fraction(amount_cents) * Fraction(percent) / 100)


def format_cents(cents: int | None, currency: str | None = None) -> str:
    """`123456, "usd"` → `1,234.56 USD` (integer arithmetic: money is never a float)."""
    if cents is None:
        return "-"
    sign = "-" if cents < 0 else ""
    major, minor = divmod(abs(int(cents)), 100)
    amount = f"{sign}{major:,}.{minor:02d}"
    return f"{amount} {currency.upper()}" if currency else amount
