"""Order batching: capacity, coverage, determinism and never worse than FCFS."""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_server.wms.layout import Layout
from edge_server.wms.outbound.batching import (
    CartCapacity,
    OrderPicks,
    batch_orders,
    fcfs_batches,
    total_length,
)
from edge_server.wms.routing import route, route_length

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def toy_length(bins: Sequence[str]) -> float:
    """A cheap deterministic stand-in for a route: bins are "A<aisle>-<bay>", aisles 3 m
    apart from the depot at aisle 0; walk to the farthest aisle and back, in and out of each
    aisle as deep as its deepest bay."""
    deepest: dict[int, int] = {}
    for code in set(bins):
        aisle, bay = code[1:].split("-")
        deepest[int(aisle)] = max(deepest.get(int(aisle), 0), int(bay))
    if not deepest:
        return 0.0
    return 6.0 * max(deepest) + sum(2.0 * bay for bay in deepest.values())


def order(
    oid: int, *bins: str, units: int = 1, cube: float = 100.0, arrival: int | None = None
) -> OrderPicks:
    return OrderPicks(oid, tuple(bins), units, cube, oid if arrival is None else arrival)


def assert_valid(batches: list[list[int]], orders: Sequence[OrderPicks], cap: CartCapacity):
    ids = [oid for b in batches for oid in b]
    assert sorted(ids) == sorted(o.order_id for o in orders)  # every order exactly once
    by_id = {o.order_id: o for o in orders}
    for b in batches:
        assert 1 <= len(b) <= cap.max_orders
        units = sum(by_id[i].units for i in b)
        cube = sum(by_id[i].cube_cm3 for i in b)
        oversized = len(b) == 1  # an order too big for any cart rides alone
        if cap.max_units is not None:
            assert units <= cap.max_units or oversized
        if cap.max_cube_cm3 is not None:
            assert cube <= cap.max_cube_cm3 or oversized


def test_empty_input_gives_no_batches():
    assert fcfs_batches([], CartCapacity(8)) == []
    assert batch_orders([], CartCapacity(8), toy_length) == []


@pytest.mark.parametrize(
    ("cap", "message"),
    [
        (CartCapacity(0), "max_orders must be at least 1"),
        (CartCapacity(-3), "max_orders must be at least 1"),
        (CartCapacity(4, max_units=0), "max_units must be at least 1"),
        (CartCapacity(4, max_cube_cm3=0.0), "max_cube_cm3 must be positive"),
    ],
)
def test_invalid_capacity_is_a_clear_error(cap, message):
    orders = [order(1, "A1-1")]
    with pytest.raises(ValueError, match=message):
        fcfs_batches(orders, cap)
    with pytest.raises(ValueError, match=message):
        batch_orders(orders, cap, toy_length)


def test_duplicate_order_ids_are_a_clear_error():
    orders = [order(1, "A1-1"), order(2, "A2-1"), order(1, "A3-1", arrival=9)]
    with pytest.raises(ValueError, match="duplicate order id 1"):
        fcfs_batches(orders, CartCapacity(4))
    with pytest.raises(ValueError, match="duplicate order id 1"):
        batch_orders(orders, CartCapacity(4), toy_length)


def test_negative_units_and_budget_are_clear_errors():
    with pytest.raises(ValueError, match="order 1 has negative units or cube"):
        batch_orders([order(1, "A1-1", units=-1)], CartCapacity(4), toy_length)
    with pytest.raises(ValueError, match="must not be negative"):
        batch_orders([order(1, "A1-1")], CartCapacity(4), toy_length, time_budget_s=-1)


def test_fcfs_follows_arrival_and_opens_a_cart_when_the_next_order_does_not_fit():
    orders = [
        order(10, "A1-1", units=3, arrival=2),
        order(11, "A1-1", units=3, arrival=1),
        order(12, "A1-1", units=3, arrival=3),
        order(13, "A1-1", units=1, arrival=3),  # same arrival as 12: id breaks the tie
        order(14, "A1-1", units=2, arrival=4),
    ]
    # 12 does not fit beside 11 and 10 (9 units > 7): a new cart, even though 13 would fit
    assert fcfs_batches(orders, CartCapacity(3, max_units=7)) == [[11, 10], [12, 13, 14]]
    assert fcfs_batches(orders, CartCapacity(2)) == [[11, 10], [12, 13], [14]]


def test_an_order_too_big_for_a_cart_rides_alone():
    orders = [
        order(1, "A1-1", units=2),
        order(2, "A1-2", units=50),  # over max_units
        order(3, "A1-3", units=2, cube=9000.0),  # over max_cube_cm3
        order(4, "A1-1", units=2),
    ]
    cap = CartCapacity(8, max_units=10, max_cube_cm3=5000.0)
    assert fcfs_batches(orders, cap) == [[1], [2], [3], [4]]
    batches = batch_orders(orders, cap, toy_length)
    assert [2] in batches and [3] in batches
    assert [1, 4] in batches  # the two small orders share a cart
    assert_valid(batches, orders, cap)


def test_orders_in_the_same_aisles_are_batched_together():
    # Arrivals alternate between a near and a far aisle: FCFS mixes them on every cart.
    orders = [order(i, "A1-2" if i % 2 else "A20-9") for i in range(8)]
    cap = CartCapacity(4)
    batches = batch_orders(orders, cap, toy_length)
    assert batches == [[0, 2, 4, 6], [1, 3, 5, 7]]
    assert total_length(batches, orders, toy_length) < total_length(
        fcfs_batches(orders, cap), orders, toy_length
    )


def test_units_and_cube_limits_hold():
    rng = random.Random(7)
    orders = [
        order(
            i,
            *(f"A{rng.randint(1, 12)}-{rng.randint(1, 10)}" for _ in range(rng.randint(1, 4))),
            units=rng.randint(1, 9),
            cube=rng.uniform(100, 4000),
            arrival=rng.randint(0, 20),
        )
        for i in range(60)
    ]
    for cap in (
        CartCapacity(8),
        CartCapacity(8, max_units=20),
        CartCapacity(6, max_cube_cm3=9000.0),
        CartCapacity(5, max_units=15, max_cube_cm3=8000.0),
        CartCapacity(1),
    ):
        batches = batch_orders(orders, cap, toy_length)
        assert_valid(batches, orders, cap)
        assert total_length(batches, orders, toy_length) <= total_length(
            fcfs_batches(orders, cap), orders, toy_length
        )


def test_same_input_gives_the_same_batches_in_any_input_order():
    rng = random.Random(3)
    orders = [
        order(i, *(f"A{rng.randint(1, 15)}-{rng.randint(1, 10)}" for _ in range(3)))
        for i in range(40)
    ]
    cap = CartCapacity(8, max_units=30)
    first = batch_orders(orders, cap, toy_length)
    assert batch_orders(orders, cap, toy_length) == first
    shuffled = orders[:]
    rng.shuffle(shuffled)
    assert batch_orders(shuffled, cap, toy_length) == first
    # batches in order of their earliest order, ids within a batch by arrival
    assert [b[0] for b in first] == sorted(b[0] for b in first)
    assert all(b == sorted(b) for b in first)


orders_strategy = st.lists(
    st.tuples(
        st.lists(
            st.tuples(st.integers(1, 8), st.integers(1, 6)).map(lambda t: f"A{t[0]}-{t[1]}"),
            min_size=0,
            max_size=4,
        ),
        st.integers(0, 6),  # units
        st.integers(0, 5),  # arrival
    ),
    min_size=0,
    max_size=14,
).map(
    lambda rows: [
        OrderPicks(i, tuple(bins), units, units * 100.0, arrival)
        for i, (bins, units, arrival) in enumerate(rows)
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    orders=orders_strategy,
    max_orders=st.integers(1, 5),
    max_units=st.one_of(st.none(), st.integers(1, 12)),
    max_cube=st.one_of(st.none(), st.floats(50.0, 1200.0)),
)
def test_never_worse_than_fcfs(orders, max_orders, max_units, max_cube):
    cap = CartCapacity(max_orders, max_units, max_cube)
    batches = batch_orders(orders, cap, toy_length)
    assert_valid(batches, orders, cap)
    assert total_length(batches, orders, toy_length) <= total_length(
        fcfs_batches(orders, cap), orders, toy_length
    )
    assert batch_orders(orders, cap, toy_length) == batches


def _random_orders(layout: Layout, count: int, seed: int) -> list[OrderPicks]:
    rng = random.Random(seed)
    codes = [b.code for b in layout.bins]
    return [
        OrderPicks(i, tuple(rng.sample(codes, rng.randint(1, 5))), rng.randint(1, 6), 500.0, i)
        for i in range(count)
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_real_layout_with_the_aisle_estimate(seed):
    """The production wiring: `route_length` bound to a layout (the layout is found in the
    partial and the search uses the aisle estimate); explicit bins (docks, staging) included."""
    layout = Layout.parse((EXAMPLES / "layout-three-blocks.json").read_text())
    orders = _random_orders(layout, 40, seed)
    cap = CartCapacity(6, max_units=20)
    measure = functools.partial(route_length, layout)
    batches = batch_orders(orders, cap, measure)
    assert_valid(batches, orders, cap)
    fcfs = total_length(fcfs_batches(orders, cap), orders, measure)
    assert total_length(batches, orders, measure) < fcfs
    assert batch_orders(orders, cap, measure) == batches


def test_real_layout_with_the_optimised_tour_length():
    layout = Layout.parse((EXAMPLES / "layout-three-blocks.json").read_text())
    orders = _random_orders(layout, 24, 5)
    cap = CartCapacity(4)

    def tour(bins: Sequence[str]) -> float:
        return route(layout, bins).length

    for kwargs in ({"layout": layout}, {}):  # aisle estimate / the tour itself in the search
        batches = batch_orders(orders, cap, tour, **kwargs)
        assert_valid(batches, orders, cap)
        assert total_length(batches, orders, tour) <= total_length(
            fcfs_batches(orders, cap), orders, tour
        )


def test_route_length_is_asked_once_per_set_of_bins():
    calls: list[tuple[str, ...]] = []

    def counting(bins: Sequence[str]) -> float:
        calls.append(tuple(bins))
        return toy_length(bins)

    orders = [order(i, f"A{i % 5 + 1}-{i % 3 + 1}", "A1-1") for i in range(12)]
    batch_orders(orders, CartCapacity(3), counting)
    assert calls and len(calls) == len(set(calls))
    assert all(list(c) == sorted(set(c)) for c in calls)  # distinct bins, sorted


def test_a_zero_time_budget_still_returns_valid_batches():
    orders = [order(i, f"A{i % 7 + 1}-{i % 4 + 1}") for i in range(30)]
    cap = CartCapacity(4)
    batches = batch_orders(orders, cap, toy_length, time_budget_s=0.0, max_evaluations=0)
    assert_valid(batches, orders, cap)
    assert total_length(batches, orders, toy_length) <= total_length(
        fcfs_batches(orders, cap), orders, toy_length
    )
