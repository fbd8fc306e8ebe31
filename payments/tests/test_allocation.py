"""Tests for the pure payment allocation function (no Django / DB needed)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.allocation import VendorAllocation, allocate


def shares(result: list[VendorAllocation]) -> list[int]:
    return [r.share_cents for r in result]


def alloc0(paid: int, prices: list[int]) -> list[int]:
    """Shares only, with no commission and no reservation."""
    return shares(allocate(paid, prices, commission_percent=0, reservation_percent=0))


# --------------------------------------------------------------------------------------
# Share splitting (largest remainder)
# --------------------------------------------------------------------------------------


def test_one_cent_over_three_equal_vendors_goes_to_first():
    # P=1, A=3: floor(1*1/3) = 0 each, remainders 1,1,1 (all tied), leftover 1
    # -> tie broken by input order -> vendor 0.
    assert alloc0(1, [500, 500, 500]) == [1, 0, 0]


def test_one_cent_full_breakdown():
    # share 1, fee = round_half_up(1 * 10/100 = 0.1) = 0, net 1,
    # reservation = floor(1 * 50/100 = 0.5) = 0, completion 1.
    result = allocate(1, [7, 7, 7], commission_percent=10, reservation_percent=50)
    assert result == [
        VendorAllocation(1, 0, 1, 0, 1),
        VendorAllocation(0, 0, 0, 0, 0),
        VendorAllocation(0, 0, 0, 0, 0),
    ]


def test_100_over_three_equal():
    # 100/3 = 33 r1 each -> leftover 100 - 99 = 1 -> first vendor: 34, 33, 33.
    assert alloc0(100, [1, 1, 1]) == [34, 33, 33]


def test_101_over_three_equal():
    # 101/3 = 33 r2 each -> leftover 101 - 99 = 2 -> first two: 34, 34, 33.
    assert alloc0(101, [9, 9, 9]) == [34, 34, 33]


def test_largest_remainder_not_first_index():
    # P=1000, prices [4, 2, 1], A=7:
    #   4000 = 571*7 + 3, 2000 = 285*7 + 5, 1000 = 142*7 + 6
    # floors 571 + 285 + 142 = 998 -> leftover 2 -> remainders 6 (idx 2) and 5 (idx 1).
    assert alloc0(1000, [4, 2, 1]) == [571, 286, 143]
    # Same prices in the other order: remainders 6, 5, 3 -> idx 0 and 1 get the cents.
    assert alloc0(1000, [1, 2, 4]) == [143, 286, 571]


def test_remainder_ties_broken_by_order_with_zero_remainder_vendor():
    # P=10, prices [1, 1, 1, 3], A=6:
    #   10 = 1*6 + 4 (x3), 30 = 5*6 + 0
    # floors 1+1+1+5 = 8 -> leftover 2 -> tied remainders 4,4,4 -> idx 0 and 1.
    assert alloc0(10, [1, 1, 1, 3]) == [2, 2, 1, 5]


def test_exact_division_has_no_leftover():
    # P=100, prices [1, 3], A=4: 25 and 75 exactly.
    assert alloc0(100, [1, 3]) == [25, 75]


def test_single_vendor_gets_everything():
    # share 12345; fee = round_half_up(1234.5) = 1235 (half up); net 11110;
    # reservation = floor(11110 * 0.3 = 3333.0) = 3333; completion 7777.
    assert allocate(12345, [999], commission_percent=10, reservation_percent=30) == [
        VendorAllocation(12345, 1235, 11110, 3333, 7777)
    ]


def test_hundred_equal_vendors():
    # P=12345, 100 equal prices: 12345 = 123*100 + 45, so each floor is 123 with
    # remainder 45 (all tied); leftover 12345 - 12300 = 45 -> first 45 vendors get 124.
    result = alloc0(12345, [250] * 100)
    assert result == [124] * 45 + [123] * 55
    assert sum(result) == 12345


def test_hundred_vendors_increasing_prices():
    # prices 1..100, A = 5050, P = 10101 = 2*5050 + 1.
    # P*i = 2*5050*i + i -> share_i = 2i, remainder i (since i < 5050).
    # Floors sum to 2*5050 = 10100 -> leftover 1 -> largest remainder is i=100 (last).
    result = alloc0(10101, list(range(1, 101)))
    assert result == [2 * i for i in range(1, 100)] + [201]


def test_large_amounts_equal_prices():
    # P=10**9 over 3 x 10**12: P*a = 10**21, A = 3*10**12
    # 10**21 / (3*10**12) = 10**9/3 = 333333333 r (10**12 * 1); tied -> first vendor.
    assert alloc0(10**9, [10**12] * 3) == [333_333_334, 333_333_333, 333_333_333]


def test_large_amounts_need_exact_remainder_comparison():
    # P=10**9, prices 10**12+1, 10**12+2, 10**12+3; A = 3*(10**12+2) =: 3*B.
    # share_2 = floor(10**9 * B / (3B)) = 333333333, remainder B*(10**9 mod 3) = B.
    # share_1: 10**9*(B-1) = 333333333*3B + (B - 10**9)       -> 333333333 r B-10**9
    # share_3: 10**9*(B+1) = 333333333*3B + (B + 10**9)       -> 333333333 r B+10**9
    # floors sum 999999999 -> leftover 1 -> largest remainder is vendor 3.
    # (P * a_i ~ 10**21 is far beyond 2**53, so this needs exact integer arithmetic.)
    assert alloc0(10**9, [10**12 + 1, 10**12 + 2, 10**12 + 3]) == [
        333_333_333,
        333_333_333,
        333_333_334,
    ]


def test_large_amounts_remainders_differ_below_float_precision():
    # P = 999999999997, prices x = 571428571429, y = 1428571428572, A = x + y = 2*10**12 + 1.
    #   P * x = 285714285713 * A + 1000000000000
    #   P * y = 714285714283 * A + 1000000000001
    # floors sum 999999999996 -> leftover 1 -> vendor 1 (remainder larger by exactly 1).
    # As floats both quotients are exactly ...x.5, so a float-based ranking would tie and
    # wrongly give the cent to vendor 0.
    assert alloc0(999_999_999_997, [571_428_571_429, 1_428_571_428_572]) == [
        285_714_285_713,
        714_285_714_284,
    ]


def test_large_amounts_exact_division_and_breakdown():
    # A = 10**12, P = 10**9 -> share = a / 1000 exactly.
    prices = [10**9, 3 * 10**9, 10**12 - 4 * 10**9]
    assert alloc0(10**9, prices) == [1_000_000, 3_000_000, 996_000_000]
    # Single vendor, 10**9 cents at 12.5% commission, 30% reservation:
    # fee 125000000, net 875000000, reservation 262500000, completion 612500000.
    assert allocate(
        10**9, [10**11], commission_percent=Decimal("12.5"), reservation_percent=30
    ) == [VendorAllocation(10**9, 125_000_000, 875_000_000, 262_500_000, 612_500_000)]


def test_zero_paid():
    result = allocate(0, [5, 10, 15], commission_percent=15, reservation_percent=25)
    assert result == [VendorAllocation(0, 0, 0, 0, 0)] * 3


def test_output_types_are_plain_ints():
    result = allocate(999, [3, 4], commission_percent=Decimal("12.5"), reservation_percent="33.3")
    for r in result:
        for value in (
            r.share_cents,
            r.fee_cents,
            r.net_cents,
            r.reservation_cents,
            r.completion_cents,
        ):
            assert type(value) is int


def test_result_is_frozen():
    (r,) = allocate(10, [1], commission_percent=0, reservation_percent=0)
    with pytest.raises(AttributeError):
        r.share_cents = 5  # type: ignore[misc]


# --------------------------------------------------------------------------------------
# Fee (round half up) and reservation (floor)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "expected_fee"),
    [
        (4, 0),  # 0.4 -> 0
        (5, 1),  # 0.5 -> 1 (half up)
        (6, 1),  # 0.6 -> 1
        (14, 1),  # 1.4 -> 1
        (15, 2),  # 1.5 -> 2
        (25, 3),  # 2.5 -> 3 (half up, NOT banker's rounding which would give 2)
        (0, 0),
    ],
)
def test_fee_half_up_at_ten_percent(share, expected_fee):
    (r,) = allocate(share, [1], commission_percent=10, reservation_percent=0)
    assert r.fee_cents == expected_fee
    assert r.net_cents == share - expected_fee
    assert r.reservation_cents == 0
    assert r.completion_cents == r.net_cents


@pytest.mark.parametrize("percent", [Decimal("12.5"), "12.5", Fraction(25, 2), " 12.5 "])
@pytest.mark.parametrize(
    ("share", "expected_fee"),
    [
        (100, 13),  # 12.5 -> 13
        (8, 1),  # 1.0 -> 1
        (4, 1),  # 0.5 -> 1 (half up)
        (3, 0),  # 0.375 -> 0
        (12, 2),  # 1.5 -> 2
        (20, 3),  # 2.5 -> 3
    ],
)
def test_fee_with_fractional_percent(percent, share, expected_fee):
    (r,) = allocate(share, [42], commission_percent=percent, reservation_percent=0)
    assert r.fee_cents == expected_fee


def test_reservation_is_floored():
    # share 100, fee = round_half_up(12.5) = 13, net 87,
    # reservation = floor(87 * 0.5 = 43.5) = 43, completion 44.
    (r,) = allocate(100, [1], commission_percent=Decimal("12.5"), reservation_percent=50)
    assert r == VendorAllocation(100, 13, 87, 43, 44)


def test_reservation_floor_just_below_integer():
    # share 9, fee 0, net 9, reservation = floor(9 * 0.33 = 2.97) = 2, completion 7.
    (r,) = allocate(9, [1], commission_percent=0, reservation_percent=33)
    assert r == VendorAllocation(9, 0, 9, 2, 7)
    # 99.9%: floor(9 * 0.999 = 8.991) = 8.
    (r,) = allocate(9, [1], commission_percent=0, reservation_percent=Decimal("99.9"))
    assert r == VendorAllocation(9, 0, 9, 8, 1)


def test_percent_extremes():
    # 100% commission: fee = share, net 0.  100% reservation: all of net reserved.
    assert allocate(101, [1, 1], commission_percent=100, reservation_percent=0) == [
        VendorAllocation(51, 51, 0, 0, 0),
        VendorAllocation(50, 50, 0, 0, 0),
    ]
    assert allocate(101, [1, 1], commission_percent=0, reservation_percent=100) == [
        VendorAllocation(51, 0, 51, 51, 0),
        VendorAllocation(50, 0, 50, 50, 0),
    ]


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid", "prices"),
    [
        (-1, [1]),  # negative paid
        (10.0, [1]),  # float paid
        (Decimal(10), [1]),  # non-int paid
        ("10", [1]),  # string paid
        (True, [1]),  # bool paid
        (10, []),  # no prices
        (10, [0]),  # zero price
        (10, [5, -1]),  # negative price
        (10, [1.5]),  # float price
        (10, [True]),  # bool price
        (10, [Decimal(3)]),  # non-int price
        (10, "123"),  # string is not a price list
    ],
)
def test_invalid_amounts_raise(paid, prices):
    with pytest.raises(ValueError):
        allocate(paid, prices, commission_percent=10, reservation_percent=10)


@pytest.mark.parametrize(
    "bad_percent",
    [
        -1,
        101,
        Decimal("100.1"),
        Decimal("-0.1"),
        "100.5",
        "abc",
        "",
        10.0,  # floats are rejected
        None,
        True,
        Decimal("NaN"),
        Decimal("Infinity"),
        "1/0",
    ],
)
def test_invalid_percents_raise(bad_percent):
    with pytest.raises(ValueError):
        allocate(10, [1], commission_percent=bad_percent, reservation_percent=10)
    with pytest.raises(ValueError):
        allocate(10, [1], commission_percent=10, reservation_percent=bad_percent)


def test_boundary_percents_are_valid():
    for percent in (0, 100, Decimal(0), Decimal("100.0"), "0", "100"):
        allocate(10, [1], commission_percent=percent, reservation_percent=percent)


def test_accepts_tuple_of_prices():
    assert alloc0(100, (1, 1, 1)) == [34, 33, 33]  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

percents = st.one_of(
    st.integers(min_value=0, max_value=100),
    st.decimals(min_value=0, max_value=100, places=1, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=300, deadline=None)
@given(
    paid=st.integers(min_value=0, max_value=10**12),
    prices=st.lists(st.integers(min_value=1, max_value=10**10), min_size=1, max_size=120),
    commission=percents,
    reservation=percents,
)
def test_allocation_properties(paid, prices, commission, reservation):
    result = allocate(paid, prices, commission_percent=commission, reservation_percent=reservation)
    total = sum(prices)
    assert len(result) == len(prices)

    got = shares(result)
    assert sum(got) == paid

    floors = [paid * a // total for a in prices]
    remainders = [paid * a % total for a in prices]
    for share, a, floor_ in zip(got, prices, floors, strict=True):
        # Within one cent of the exact proportional value.
        assert abs(share - Fraction(paid * a, total)) < 1
        # Either the floor or the floor plus one extra cent.
        assert share - floor_ in (0, 1)

    # Largest-remainder rule: every vendor that got an extra cent ranks strictly above
    # every vendor that did not, by (remainder desc, index asc).
    extra = [i for i in range(len(prices)) if got[i] > floors[i]]
    plain = [i for i in range(len(prices)) if got[i] == floors[i]]
    if extra and plain:
        lowest_extra = min((remainders[i], -i) for i in extra)
        highest_plain = max((remainders[i], -i) for i in plain)
        assert lowest_extra > highest_plain

    for r in result:
        assert r.fee_cents + r.net_cents == r.share_cents
        assert r.reservation_cents + r.completion_cents == r.net_cents
        assert (
            min(r.share_cents, r.fee_cents, r.net_cents, r.reservation_cents, r.completion_cents)
            >= 0
        )
        # Fee / reservation match the contract's exact definitions.
        c = Fraction(commission) / 100
        res = Fraction(reservation) / 100
        # round_half_up: fee - 1/2 <= exact < fee + 1/2;  floor: 0 <= exact - res < 1.
        assert r.fee_cents - Fraction(1, 2) <= r.share_cents * c < r.fee_cents + Fraction(1, 2)
        assert 0 <= r.net_cents * res - r.reservation_cents < 1

    assert (
        sum(r.fee_cents for r in result)
        + sum(r.reservation_cents for r in result)
        + sum(r.completion_cents for r in result)
        == paid
    )


@settings(max_examples=200, deadline=None)
@given(
    paid=st.integers(min_value=0, max_value=10**6),
    price=st.integers(min_value=1, max_value=10**10),
    n=st.integers(min_value=1, max_value=120),
)
def test_equal_prices_leftover_goes_to_first_vendors(paid, price, n):
    # With equal prices all remainders tie, so the leftover cents go to the first vendors.
    base, leftover = divmod(paid, n)
    assert alloc0(paid, [price] * n) == [base + 1] * leftover + [base] * (n - leftover)


@settings(max_examples=200, deadline=None)
@given(
    share=st.integers(min_value=0, max_value=10**12),
    commission=percents,
)
def test_single_vendor_fee_is_round_half_up(share, commission):
    (r,) = allocate(share, [1], commission_percent=commission, reservation_percent=0)
    exact = share * Fraction(commission) / 100
    # round_half_up: fee - 1/2 <= exact < fee + 1/2
    assert r.fee_cents - Fraction(1, 2) <= exact < r.fee_cents + Fraction(1, 2)
    assert r.share_cents == share
