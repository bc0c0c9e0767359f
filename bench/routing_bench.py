"""Pick-path routing: route length against the exact optimum, against walking the pick list in
location-code order and in S-shape (serpentine) order, and time per route.

Layouts (aisle pitch 3 m, 30 m aisles with 15 bays per side, depot at the front left):
- single: one block of 20 aisles;
- 2 blocks, 3 blocks: stacked blocks of 30 aisles (3 blocks: the 60-pick target layout);
- 4 blocks: five cross aisles, above `MAX_LEVELS`, so `route` falls back to Held–Karp and the
  local search there.

Pick lists: 5–60 distinct random rack bins (one per pick point, uniform over the layout), 20 per
size and layout.

Exact reference: the route itself when its method is exact (Ratliff–Rosenthal, the aisle sweep,
Held–Karp); otherwise the aisle sweep run without the level limit (`exact_multi_block`). The
sweep is checked against Held–Karp on every list of at most `EXACT_MAX` pick points ("HK
check"). A second table runs the local search alone (the fallback for layouts the sweep does
not take) on the same kinds of layouts against the exact optimum.

Time: `route(layout, bins)` in-process, the layout's travel graph already built.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from edge_server.wms.layout import Layout
from edge_server.wms.routing import (
    EXACT_MAX,
    code_order,
    distance_matrix,
    exact_multi_block,
    held_karp,
    resolve_stops,
    route,
    s_shape_order,
    solve_heuristic,
    tour_length,
)

SEED = 20240601
SIZES = (5, 10, 20, 40, 60)
ROUTES_PER_SIZE = 20
LAYOUTS = (("single", 1, 20), ("2 blocks", 2, 30), ("3 blocks", 3, 30), ("4 blocks", 4, 30))
HEURISTIC_SIZES = (20, 40, 60)
HEURISTIC_LISTS = 15


def _layout(blocks: int, aisles: int) -> Layout:
    spec: dict[str, Any] = {
        "site": "CHI",
        "depot": {"x": 0.0},
        "blocks": [
            {
                "id": chr(ord("A") + k),
                "x": 1.5,
                "y": 30.0 * k,
                "aisles": aisles,
                "aisle_pitch": 3.0,
                "length": 30.0,
                "bays": 15,
                "levels": 4,
            }
            for k in range(blocks)
        ],
    }
    return Layout.parse(spec)


def _pct(values: list[float]) -> str:
    return f"{statistics.mean(values) * 100:+6.2f}%"


def _gaps(values: list[float]) -> str:
    over = sum(v > 0.01 + 1e-9 for v in values)
    return f"{_pct(values)} (max {max(values) * 100:5.2f}%, {over:2} > 1%)"


def _codes(layout: Layout) -> list[str]:
    return [b.code for b in layout.bins if b.level == 1 and b.side == "L"]  # one per pick point


def _run(name: str, layout: Layout, rng: random.Random) -> None:
    assert layout.graph.nodes  # built once, as the server keeps it
    codes = _codes(layout)
    for n in SIZES:
        times: list[float] = []
        vs_exact: list[float] = []
        vs_code: list[float] = []
        vs_s: list[float] = []
        methods: set[str] = set()
        checked = agreed = 0
        for _ in range(ROUTES_PER_SIZE):
            bins = rng.sample(codes, n)
            t0 = time.perf_counter()
            r = route(layout, bins)
            times.append(time.perf_counter() - t0)
            methods.add(r.method)
            stops = resolve_stops(layout, bins)
            d = distance_matrix(layout.graph, stops.nodes)
            exact = r.length if r.optimal else exact_multi_block(layout, bins).length
            if len(stops.nodes) - 1 <= EXACT_MAX:
                checked += 1
                agreed += abs(held_karp(d)[1] - exact) <= 1e-6
            vs_exact.append(r.length / exact - 1)
            vs_code.append(r.length / tour_length(d, [0, *code_order(stops.bins)]) - 1)
            vs_s.append(r.length / tour_length(d, [0, *s_shape_order(layout, stops.bins)]) - 1)
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        check = f"HK check {agreed}/{checked}" if checked else "HK check  -   "
        print(
            f"{name:8} {n:3} picks  {'/'.join(sorted(methods)):24} "
            f"vs exact {_gaps(vs_exact)}  {check:14}  "
            f"vs code order {_pct(vs_code)}  vs S-shape {_pct(vs_s)}  "
            f"time median {statistics.median(times) * 1000:5.1f} ms  p95 {p95 * 1000:5.1f} ms"
        )


def _local_search_alone(rng: random.Random) -> None:
    """The local search (the fallback) against the exact optimum, on the sweep's layouts."""
    for name, blocks, aisles in LAYOUTS:
        layout = _layout(blocks, aisles)
        codes = _codes(layout)
        for n in HEURISTIC_SIZES:
            gaps: list[float] = []
            times: list[float] = []
            for _ in range(HEURISTIC_LISTS):
                bins = rng.sample(codes, n)
                exact = exact_multi_block(layout, bins).length
                stops = resolve_stops(layout, bins)
                t0 = time.perf_counter()
                d = distance_matrix(layout.graph, stops.nodes)
                starts = [[0, *s_shape_order(layout, stops.bins)], [0, *code_order(stops.bins)]]
                _, length = solve_heuristic(d, starts)
                times.append(time.perf_counter() - t0)
                gaps.append(length / exact - 1)
            print(
                f"{name:8} {n:3} picks  local search alone vs exact {_gaps(gaps)}  "
                f"time median {statistics.median(times) * 1000:5.1f} ms"
            )


def main() -> None:
    rng = random.Random(SEED)
    started = time.perf_counter()
    for name, blocks, aisles in LAYOUTS:
        _run(name, _layout(blocks, aisles), rng)
    print("-- the local search alone (used above MAX_LEVELS cross aisles):")
    _local_search_alone(rng)
    print(f"(bench took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
