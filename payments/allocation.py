"""Pure money allocation of a succeeded payment across a booking's vendors.

No Django, no database, no floats: every computation is exact integer / ``Fraction``
arithmetic on cents.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from strathwell.money import round_half_up

__all__ = ["VendorAllocation", "allocate"]

_HUNDRED = Fraction(100)


@dataclass(frozen=True)
class VendorAllocation:
    """One vendor's slice of a payment, all amounts in integer cents."""

    share_cents: int
    fee_cents: int
    net_cents: int
    reservation_cents: int
    completion_cents: int


def _is_int(value: object) -> bool:
    # bool is a subclass of int but is never a meaningful amount of cents.
    return isinstance(value, int) and not isinstance(value, bool)


def _to_percent(value: object, name: str) -> Fraction:
    """Convert an int / Decimal / Fraction / numeric string percent to an exact Fraction."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, Fraction, str)):
        # The contract is "ValueError for any invalid input", including wrong types.
        raise ValueError(
            f"{name} must be an int, Decimal, Fraction or numeric string "
            f"(floats are not accepted), got {type(value).__name__}: {value!r}"
        )
    try:
        fraction = Fraction(value.strip() if isinstance(value, str) else value)
    except (ValueError, ZeroDivisionError, OverflowError, ArithmeticError) as exc:
        raise ValueError(f"{name} is not a finite number: {value!r}") from exc
    if not 0 <= fraction <= 100:
        raise ValueError(f"{name} must be between 0 and 100 inclusive, got {value!r}")
    return fraction


def allocate(
    paid_cents: int,
    agreed_prices: Sequence[int],
    *,
    commission_percent: int | Decimal | Fraction | str,
    reservation_percent: int | Decimal | Fraction | str,
) -> list[VendorAllocation]:
    """Split ``paid_cents`` across vendors in proportion to their agreed prices.

    Algorithm (largest-remainder / Hamilton method, exact integers throughout), with
    ``P = paid_cents``, ``a_i = agreed_prices[i]`` and ``A = sum(agreed_prices)``:

    * ``share_i = floor(P * a_i / A)``; the leftover ``P - sum(share_i)`` cents are handed
      out one each to the vendors with the largest remainders ``(P * a_i) mod A``; ties go
      to the earlier vendor in ``agreed_prices`` (booking-vendor creation order).
    * ``fee_i = round_half_up(share_i * commission_percent / 100)``
    * ``net_i = share_i - fee_i``
    * ``reservation_i = floor(net_i * reservation_percent / 100)``
    * ``completion_i = net_i - reservation_i``

    Percents may be ``int``, ``decimal.Decimal``, ``fractions.Fraction`` or a numeric string
    (e.g. ``"12.5"``); they are converted to exact ``Fraction`` values. Floats are rejected.

    Guarantees:

    * The result has one entry per price, in the same order as ``agreed_prices``.
    * ``sum(share_i) == P`` exactly, and ``|share_i - P * a_i / A| < 1`` for every vendor.
    * ``fee_i + net_i == share_i`` and ``reservation_i + completion_i == net_i``, hence
      ``sum(fee_i) + sum(reservation_i) + sum(completion_i) == P``.
    * Every value is a non-negative ``int``.

    Raises:
        ValueError: if ``paid_cents`` is not a non-negative int, ``agreed_prices`` is empty
            or contains anything other than positive ints, or a percent is not a finite
            number in ``[0, 100]``.
    """
    if not _is_int(paid_cents):
        raise ValueError(
            f"paid_cents must be an int, got {type(paid_cents).__name__}: {paid_cents!r}"
        )
    if paid_cents < 0:
        raise ValueError(f"paid_cents must be >= 0, got {paid_cents}")
    if isinstance(agreed_prices, (str, bytes)):
        raise ValueError("agreed_prices must be a sequence of ints")
    prices = list(agreed_prices)
    if not prices:
        raise ValueError("agreed_prices must contain at least one price")
    for index, price in enumerate(prices):
        if not _is_int(price):
            raise ValueError(
                f"agreed_prices[{index}] must be an int, got {type(price).__name__}: {price!r}"
            )
        if price <= 0:
            raise ValueError(f"agreed_prices[{index}] must be > 0, got {price}")
    commission = _to_percent(commission_percent, "commission_percent") / _HUNDRED
    reservation = _to_percent(reservation_percent, "reservation_percent") / _HUNDRED

    total = sum(prices)
    shares: list[int] = []
    remainders: list[int] = []
    for price in prices:
        share, remainder = divmod(paid_cents * price, total)
        shares.append(share)
        remainders.append(remainder)

    leftover = paid_cents - sum(shares)
    # 0 <= leftover < len(prices), since each remainder is < total and they sum to
    # leftover * total. Largest remainder first; ties by input order.
    order = sorted(range(len(prices)), key=lambda i: (-remainders[i], i))
    for index in order[:leftover]:
        shares[index] += 1

    result: list[VendorAllocation] = []
    for share in shares:
        fee = round_half_up(share * commission)
        net = share - fee
        reservation_cents = math.floor(net * reservation)
        result.append(
            VendorAllocation(
                share_cents=share,
                fee_cents=fee,
                net_cents=net,
                reservation_cents=reservation_cents,
                completion_cents=net - reservation_cents,
            )
        )
    return result
