"""Pick-path routing: exact single-block DP, Held–Karp, the local-search heuristic, the CLI.
The multi-block sweep has its own file, test_routing_multi_block.py."""

from __future__ import annotations

import json
import random
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from edge_server.cli import main
from edge_server.errors import AislewayError
from edge_server.wms.distances import TravelDistances
from edge_server.wms.layout import Layout
from edge_server.wms.routing import (
    code_order,
    distance_matrix,
    exact_single_block,
    held_karp,
    resolve_stops,
    route,
    route_length,
    s_shape_order,
    solve_heuristic,
    tour_length,
)
from protocols.errors import ErrorCode

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def make_layout(
    *,
    aisles: int = 3,
    bays: int = 5,
    blocks: int = 1,
    depot: float = 0.0,
    length: float = 10.0,
    pitch: float = 3.0,
    areas: list[dict[str, Any]] | None = None,
) -> Layout:
    return Layout.parse(
        {
            "site": "CHI",
            "depot": {"x": depot},
            "blocks": [
                {
                    "id": chr(ord("A") + k),
                    "x": 1.5,
                    "y": length * k,
                    "aisles": aisles,
                    "aisle_pitch": pitch,
                    "length": length,
                    "bays": bays,
                    "levels": 4,
                }
                for k in range(blocks)
            ],
            "areas": areas or [],
        }
    )


def brute_force(layout: Layout, bins: list[str]) -> float:
    stops = resolve_stops(layout, bins)
    return held_karp(distance_matrix(layout.graph, stops.nodes))[1]


def walked(layout: Layout, sequence: list[str]) -> float:
    """Depot → bins in order → depot, by the project's own Dijkstra (TravelDistances)."""
    travel = TravelDistances(layout)
    graph = layout.graph
    nodes = [graph.depot, *(travel.node(c) for c in sequence), graph.depot]
    return sum(travel.from_node(a)[b] for a, b in pairwise(nodes))


# -- hand-computed single-block routes ------------------------------------------------------
# Depot x = 0; aisles at x = 1.5, 4.5, 7.5; 10 m long; bays at y = 1, 3, 5, 7, 9.


@pytest.mark.parametrize(
    ("bins", "expected", "stops"),
    [
        (["A01-03-1L"], 2 * (1.5 + 5), 1),  # in and back out of aisle 1
        (["A01-02-1L", "A01-05-3R"], 2 * (1.5 + 9), 2),  # to the deepest pick and back
        (["A02-03-1L", "A02-03-4R"], 2 * (4.5 + 5), 1),  # both sides share a pick point
        (["A01-05-1L", "A03-05-1R"], 1.5 + 10 + 6 + 10 + 7.5, 2),  # traverse first and last
        (["A03-01-1L"], 2 * (7.5 + 1), 1),
        (["A01-05-1L", "A02-01-1L", "A03-05-1L"], 1.5 + 10 + 6 + 10 + 7.5 + 2 * 1, 3),
    ],
)
def test_hand_computed_single_block_routes(bins: list[str], expected: float, stops: int) -> None:
    layout = make_layout()
    r = route(layout, bins)
    assert r.method == "ratliff_rosenthal"
    assert r.optimal
    assert r.length == pytest.approx(expected)
    assert len(r.stops) == stops
    assert sorted(r.sequence) == sorted(set(bins))
    assert walked(layout, r.sequence) == pytest.approx(r.length)


def test_depot_in_the_middle_and_on_an_aisle() -> None:
    # Depot at x = 6 (between aisles 2 and 3): picks at the back of aisles 1 and 3.
    layout = make_layout(depot=6.0)
    r = route(layout, ["A01-05-1L", "A03-05-1L"])
    assert r.length == pytest.approx(4.5 + 10 + 6 + 10 + 1.5)
    # Depot exactly at aisle 2's front.
    layout = make_layout(depot=4.5)
    r = route(layout, ["A02-05-1L"])
    assert r.length == pytest.approx(18.0)


def test_no_bins_is_an_empty_route() -> None:
    r = route(make_layout(), [])
    assert (r.sequence, r.length, r.method) == ([], 0.0, "trivial")


def test_two_block_hand_computed() -> None:
    layout = make_layout(blocks=2, aisles=2)
    r = route(layout, ["B01-05-1L"])  # y = 19 in aisle 1 of block B
    assert r.length == pytest.approx(2 * (1.5 + 19))
    assert r.method == "aisle_sweep"
    held = route(layout, ["B01-05-1L"], max_levels=0)  # without the sweep
    assert (held.method, held.length) == ("held_karp", r.length)


# -- exact DP against brute force -----------------------------------------------------------
def test_dp_equals_held_karp_on_random_single_block_instances() -> None:
    rng = random.Random(20240601)
    for _ in range(60):
        aisles = rng.randint(1, 7)
        bays = rng.randint(1, 6)
        last = 1.5 + 3.0 * (aisles - 1)
        depot = rng.choice([0.0, 1.5, round(rng.uniform(1.5, last), 2), last + 1.0])
        layout = make_layout(aisles=aisles, bays=bays, depot=depot)
        codes = [b.code for b in layout.bins]
        bins = rng.sample(codes, rng.randint(1, min(8, len(codes))))
        r = exact_single_block(layout, bins)
        assert r.length == pytest.approx(brute_force(layout, bins), abs=1e-6), (depot, bins)
        assert route_length(layout, r.sequence) == pytest.approx(r.length, abs=1e-6)
        assert sorted(r.sequence) == sorted(set(bins))


def test_exact_single_block_refuses_other_layouts() -> None:
    with pytest.raises(ValueError):
        exact_single_block(make_layout(blocks=2), ["A01-01-1L"])
    dock = [{"zone": "DOCK", "type": "receiving_dock", "bins": [{"code": "D1", "x": 3, "y": -2}]}]
    with pytest.raises(ValueError):
        exact_single_block(make_layout(areas=dock), ["D1"])


# -- the heuristic ----------------------------------------------------------------------------
def test_heuristic_equals_held_karp_on_small_multi_block_instances() -> None:
    rng = random.Random(7)
    worse = 0
    for _ in range(40):
        layout = make_layout(blocks=rng.randint(2, 3), aisles=rng.randint(2, 8), bays=6)
        codes = [b.code for b in layout.bins]
        bins = rng.sample(codes, rng.randint(2, 9))
        d = distance_matrix(layout.graph, resolve_stops(layout, bins).nodes)
        _, exact = held_karp(d)
        tour, length = solve_heuristic(d)
        assert length == pytest.approx(tour_length(d, tour))
        assert length >= exact - 1e-6
        assert length <= exact * 1.01 + 1e-6
        worse += length > exact + 1e-6
    assert worse <= 2  # optimal almost always


def test_heuristic_within_one_percent_of_the_dp_on_single_blocks() -> None:
    rng = random.Random(11)
    layout = make_layout(aisles=12, bays=10, length=20.0)
    codes = [b.code for b in layout.bins]
    for _ in range(15):
        bins = rng.sample(codes, rng.randint(10, 40))
        exact = exact_single_block(layout, bins).length
        d = distance_matrix(layout.graph, resolve_stops(layout, bins).nodes)
        _, length = solve_heuristic(d)
        assert exact - 1e-6 <= length <= exact * 1.01


def test_local_search_routes_beat_simple_orders_and_long_runs() -> None:
    rng = random.Random(3)
    layout = make_layout(blocks=3, aisles=10, bays=10, length=20.0)
    codes = [b.code for b in layout.bins]
    for n in (15, 30, 45):
        bins = rng.sample(codes, n)
        r = route(layout, bins, max_levels=0)  # the fallback for layouts the sweep does not take
        assert r.method == "local_search"
        stops = resolve_stops(layout, bins)
        d = distance_matrix(layout.graph, stops.nodes)
        s_shape = tour_length(d, [0, *s_shape_order(layout, stops.bins)])
        by_code = tour_length(d, [0, *code_order(stops.bins)])
        assert r.length <= s_shape + 1e-6
        assert r.length <= by_code + 1e-6
        longer = min(solve_heuristic(d, kicks=600, seed=s)[1] for s in range(3))
        assert r.length <= longer * 1.01
        assert walked(layout, r.sequence) == pytest.approx(r.length)
        assert sorted(r.sequence) == sorted(set(bins))


# -- sequences, duplicates, explicit bins, errors -------------------------------------------
def test_duplicates_collapse_and_shared_pick_points_stay_together() -> None:
    layout = make_layout(blocks=2, aisles=4)
    bins = ["A01-01-1L", "B02-03-2R", "A01-01-1L", "A01-01-4R", "B02-03-2R", "A04-05-1L"]
    r = route(layout, bins)
    assert sorted(r.sequence) == sorted(set(bins))
    assert len(r.sequence) == len(set(r.sequence)) == 4
    i = r.sequence.index("A01-01-1L")
    assert r.sequence[i + 1] == "A01-01-4R"
    assert len(r.stops) == 3


def test_explicit_bins_are_routed_over_the_graph() -> None:
    layout = Layout.parse((EXAMPLES / "layout-single-block.json").read_text())
    bins = ["DOCK-01", "A05-07-1L", "A10-15-4R", "A01-01-1L"]
    for max_levels, method in ((4, "aisle_sweep"), (0, "held_karp")):
        r = route(layout, bins, max_levels=max_levels)
        assert r.method == method
        assert r.length == pytest.approx(brute_force(layout, bins))
        assert walked(layout, r.sequence) == pytest.approx(r.length)


@pytest.mark.parametrize(
    ("code", "reason"),
    [("A99-01-1L", "the layout has no such bin"), ("a01-01-1l", "not a bin code"), ("", "not")],
)
def test_unknown_or_malformed_bins_are_refused(code: str, reason: str) -> None:
    with pytest.raises(AislewayError) as err:
        route(make_layout(), ["A01-01-1L", code])
    assert err.value.code == ErrorCode.UNKNOWN_LOCATION
    assert err.value.details["code"] == code
    assert err.value.details["reason"].startswith(reason)


# -- the CLI ------------------------------------------------------------------------------------
def test_cli_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    layout = EXAMPLES / "layout-three-blocks.json"
    bins = ["A01-01-1L", "B03-05-2R", "C02-01-1L", "A01-01-1R", "A01-01-1L"]
    assert main(["route", "--layout", str(layout), *bins]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert set(data) == {"sequence", "length", "method", "picks", "stops"}
    assert sorted(data["sequence"]) == sorted(set(bins))
    assert data["picks"] == 4 and data["stops"] == 3
    assert data["length"] == round(route_length(Layout.parse(layout.read_text()), bins), 3)
    assert err == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["A01-01-1L", "A99-01-1L"], "A99-01-1L: the layout has no such bin"),
        (["not a bin"], "not a bin: not a bin code"),
    ],
)
def test_cli_refuses_bad_bins(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    layout = EXAMPLES / "layout-three-blocks.json"
    assert main(["route", "--layout", str(layout), *args]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "That bin or location does not exist." in err
    assert message in err


def test_cli_refuses_a_missing_or_bad_layout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["route", "--layout", str(tmp_path / "missing.json"), "A01-01-1L"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "cannot read" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"site": "CHI"')
    assert main(["route", "--layout", str(bad), "A01-01-1L"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "The layout file is not valid." in err
