"""The aisle sweep (exact multi-block routing) against brute force, hand-computed routes, the
single-block DP and the local search; irregular layouts and explicit bins."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from test_routing import brute_force, make_layout, walked

from edge_server.wms.layout import Layout
from edge_server.wms.routing import (
    MAX_LEVELS,
    code_order,
    distance_matrix,
    exact_multi_block,
    exact_single_block,
    grid_levels,
    resolve_stops,
    route,
    route_length,
    s_shape_order,
    solve_heuristic,
    tour_length,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def _block(bid: str, x: float, y: float, aisles: int, pitch: float, length: float, bays: int):
    return {
        "id": bid,
        "x": x,
        "y": y,
        "aisles": aisles,
        "aisle_pitch": pitch,
        "length": length,
        "bays": bays,
        "levels": 1,
    }


def _explicit(*bins: tuple[str, float, float]) -> list[dict[str, Any]]:
    return [
        {
            "zone": "X",
            "type": "staging",
            "bins": [{"code": code, "x": x, "y": y} for code, x, y in bins],
        }
    ]


# Irregular layouts the format allows; each is checked against brute force below.
IRREGULAR: dict[str, list[dict[str, Any]]] = {
    # stacked blocks whose aisles do not line up (other x and pitch)
    "misaligned": [_block("A", 1.5, 0, 5, 3, 10, 4), _block("B", 2.0, 10, 4, 4, 12, 3)],
    # B beside A on the same cross aisles, C stacked on A only
    "side_by_side": [
        _block("A", 1.5, 0, 3, 3, 10, 4),
        _block("B", 12, 0, 3, 3, 10, 4),
        _block("C", 1.5, 10, 3, 3, 10, 4),
    ],
    # A as long as B and C stacked beside it: A's aisles skip the middle cross aisle
    "tall_block": [
        _block("A", 1.5, 0, 3, 3, 20, 5),
        _block("B", 12, 0, 3, 3, 10, 3),
        _block("C", 12, 10, 3, 3, 10, 3),
    ],
    # three stacked blocks, the last one narrower (like docs/examples/layout-three-blocks.json)
    "narrow_top": [
        _block("A", 1.5, 0, 5, 3, 8, 3),
        _block("B", 1.5, 8, 5, 3, 8, 3),
        _block("C", 1.5, 16, 2, 3, 6, 2),
    ],
}


def _check_exact(layout: Layout, bins: list[str]) -> None:
    r = route(layout, bins)
    assert r.method == "aisle_sweep" or (r.method, r.length) == ("trivial", 0.0)
    assert r.optimal
    assert r.length == pytest.approx(brute_force(layout, bins), abs=1e-6), bins
    assert route_length(layout, r.sequence) == pytest.approx(r.length, abs=1e-6)
    assert sorted(r.sequence) == sorted(set(bins))


# -- hand-computed ------------------------------------------------------------------------------
# Two blocks of two aisles (x = 1.5, 4.5), 10 m each: cross aisles y = 0, 10, 20; depot x = 0.


@pytest.mark.parametrize(
    ("bins", "expected"),
    [
        # Both at the back of block B: up aisle 1 through both blocks, down aisle 2.
        (["B01-05-1L", "B02-05-1L"], 1.5 + 20 + 3 + 20 + 4.5),
        # Back of B's aisle 1 and the front of A's aisle 2: up aisle 1 to the pick, back to the
        # middle cross aisle, over to aisle 2 and down through the pick to the front.
        (["B01-05-1L", "A02-01-1L"], 1.5 + 19 + 9 + 3 + 10 + 4.5),
        # One pick in each block's aisle 2: in and out of the whole aisle line.
        (["A02-05-1L", "B02-01-1L"], 2 * (4.5 + 11)),
    ],
)
def test_hand_computed_two_block_routes(bins: list[str], expected: float) -> None:
    layout = make_layout(blocks=2, aisles=2)
    r = route(layout, bins)
    assert r.method == "aisle_sweep"
    assert r.length == pytest.approx(expected)
    assert walked(layout, r.sequence) == pytest.approx(expected)


# -- against brute force ----------------------------------------------------------------------


@pytest.mark.parametrize("blocks", [2, 3])
def test_sweep_equals_brute_force_on_random_multi_block_instances(blocks: int) -> None:
    rng = random.Random(1000 + blocks)
    for _ in range(70):
        aisles = rng.randint(1, 7)
        pitch = rng.choice([2.0, 3.0, 8.0])
        last = 1.5 + pitch * (aisles - 1)
        depot = rng.choice([0.0, 1.5, round(rng.uniform(1.5, last), 2), last + 1.0])
        layout = make_layout(
            blocks=blocks,
            aisles=aisles,
            bays=rng.randint(1, 6),
            depot=depot,
            length=rng.choice([6.0, 10.0, 25.0]),
            pitch=pitch,
        )
        codes = [b.code for b in layout.bins]
        bins = rng.sample(codes, rng.randint(1, min(9, len(codes))))
        _check_exact(layout, bins)


def test_sweep_equals_brute_force_with_four_blocks() -> None:
    # Five cross aisles: above MAX_LEVELS, so `route` does not use the sweep; the reference does.
    rng = random.Random(44)
    layout = make_layout(blocks=4, aisles=5, bays=4)
    assert grid_levels(layout.graph) == 5 > MAX_LEVELS
    codes = [b.code for b in layout.bins]
    for _ in range(15):
        bins = rng.sample(codes, rng.randint(1, 9))
        r = exact_multi_block(layout, bins)
        assert r.method == "aisle_sweep"
        assert r.length == pytest.approx(brute_force(layout, bins), abs=1e-6)
        assert route_length(layout, r.sequence) == pytest.approx(r.length, abs=1e-6)


@pytest.mark.parametrize("name", sorted(IRREGULAR))
@pytest.mark.parametrize("depot", [0.0, 3.0])
def test_sweep_on_irregular_layouts_with_explicit_bins(name: str, depot: float) -> None:
    layout = Layout.parse(
        {
            "site": "CHI",
            "depot": {"x": depot},
            "blocks": IRREGULAR[name],
            # S1 hangs off the front cross aisle, S2 off an aisle side, S3 lies on a cross aisle.
            "areas": _explicit(("S1", 5.0, -2.0), ("S2", 9.7, 15.0), ("S3", 6.0, 0.0)),
        }
    )
    codes = [b.code for b in layout.bins]
    rng = random.Random(hash(name) % 1000 + int(depot))
    for _ in range(25):
        _check_exact(layout, rng.sample(codes, rng.randint(1, 9)))


def test_sweep_with_the_example_layouts_explicit_bins() -> None:
    layout = Layout.parse((EXAMPLES / "layout-three-blocks.json").read_text())
    explicit = [b.code for b in layout.bins if b.block is None]
    rack = [b.code for b in layout.bins if b.block is not None]
    rng = random.Random(9)
    for _ in range(25):
        _check_exact(layout, rng.sample(rack, rng.randint(0, 6)) + rng.sample(explicit, 3))


def test_sweep_equals_the_single_block_dp() -> None:
    # Two independent exact methods on lists too long for brute force.
    rng = random.Random(5)
    layout = make_layout(aisles=15, bays=10, length=20.0, depot=9.0)
    codes = [b.code for b in layout.bins]
    for _ in range(10):
        bins = rng.sample(codes, rng.randint(10, 50))
        assert exact_multi_block(layout, bins).length == pytest.approx(
            exact_single_block(layout, bins).length, abs=1e-6
        )


# -- large lists ------------------------------------------------------------------------------


def test_sixty_picks_on_three_blocks_are_optimal_and_beat_the_local_search() -> None:
    layout = make_layout(blocks=3, aisles=30, bays=15, length=30.0)
    codes = [b.code for b in layout.bins]
    rng = random.Random(1)
    for n in (15, 30, 60):
        bins = rng.sample(codes, n)
        r = route(layout, bins)
        assert (r.method, r.optimal) == ("aisle_sweep", True)
        stops = resolve_stops(layout, bins)
        d = distance_matrix(layout.graph, stops.nodes)
        _, heuristic = solve_heuristic(d, kicks=300)
        assert r.length <= heuristic + 1e-6
        assert r.length <= tour_length(d, [0, *s_shape_order(layout, stops.bins)]) + 1e-6
        assert r.length <= tour_length(d, [0, *code_order(stops.bins)]) + 1e-6
        assert walked(layout, r.sequence) == pytest.approx(r.length)
        assert len(r.sequence) == len(set(bins))


def test_above_max_levels_route_falls_back_and_is_never_shorter_than_exact() -> None:
    layout = make_layout(blocks=5, aisles=6, bays=5)
    codes = [b.code for b in layout.bins]
    rng = random.Random(2)
    small = rng.sample(codes, 6)
    assert route(layout, small).method == "held_karp"
    assert route(layout, small).length == pytest.approx(exact_multi_block(layout, small).length)
    bins = rng.sample(codes, 20)
    r = route(layout, bins)
    assert (r.method, r.optimal) == ("local_search", False)
    assert r.length >= exact_multi_block(layout, bins).length - 1e-6
    assert route(layout, bins, max_levels=6).method == "aisle_sweep"


def test_explicit_bins_on_the_network() -> None:
    # An explicit bin at the depot's own spot and one at an aisle end are on the network.
    layout = Layout.parse(
        {
            "site": "CHI",
            "depot": {"x": 0.0},
            "blocks": [_block("A", 1.5, 0, 3, 3, 10, 5), _block("B", 1.5, 10, 3, 3, 10, 5)],
            "areas": _explicit(("AT-DEPOT", 0.0, 0.0), ("AT-END", 4.5, 10.0)),
        }
    )
    for bins in (["AT-END"], ["AT-DEPOT", "B03-05-1L"], ["AT-END", "A01-01-1L", "AT-DEPOT"]):
        _check_exact(layout, bins)
    r = route(layout, ["AT-DEPOT", "AT-END"])
    assert r.sequence == ["AT-DEPOT", "AT-END"]  # picked at the depot, before walking off
    assert r.length == pytest.approx(2 * (1.5 + 10 + 3))
    assert exact_multi_block(layout, ["AT-DEPOT"]).method == "trivial"
