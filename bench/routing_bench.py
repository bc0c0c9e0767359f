"""Pick-path routing: route length against an exact (or best known) reference, against walking
the pick list in location-code order and in S-shape (serpentine) order, and time per route.

Layouts (aisle pitch 3 m, 15 bays per aisle side, depot at the front left):
- single: one block of 20 aisles × 30 m;
- multi: three stacked blocks of 30 aisles × 30 m (the 60-pick / 30-aisle / 3-block target).

Pick lists: 5–60 distinct random rack bins (uniform over the layout), 20 per size.

Reference: single block: the Ratliff–Rosenthal DP (optimal). Multi-block up to 10 pick points:
Held–Karp (optimal). Multi-block above: the best of `route` and of three long local-search runs
(1,000 kicks, three seeds) — a best known tour, not a proven optimum.

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
REFERENCE_RUNS = 3
REFERENCE_KICKS = 1000
REFERENCE_SAMPLE = 8  # long reference runs only for this many routes per size (time)


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


def _run(name: str, layout: Layout, rng: random.Random) -> None:
    assert layout.graph.nodes  # built once, as the server keeps it
    codes = [b.code for b in layout.bins if b.level == 1 and b.side == "L"]  # one per pick point
    for n in SIZES:
        times: list[float] = []
        vs_ref: list[float] = []
        vs_code: list[float] = []
        vs_s: list[float] = []
        methods: set[str] = set()
        reference = ""
        for k in range(ROUTES_PER_SIZE):
            bins = rng.sample(codes, n)
            t0 = time.perf_counter()
            r = route(layout, bins)
            times.append(time.perf_counter() - t0)
            methods.add(r.method)
            stops = resolve_stops(layout, bins)
            d = distance_matrix(layout.graph, stops.nodes)
            s_len = tour_length(d, [0, *s_shape_order(layout, stops.bins)])
            c_len = tour_length(d, [0, *code_order(stops.bins)])
            vs_code.append(r.length / c_len - 1)
            vs_s.append(r.length / s_len - 1)
            if r.optimal:
                reference = "optimal (the route is exact)"
                vs_ref.append(0.0)
            elif n <= EXACT_MAX + 2:
                reference = "Held–Karp"
                vs_ref.append(r.length / held_karp(d)[1] - 1)
            elif k < REFERENCE_SAMPLE:
                reference = f"best of {REFERENCE_RUNS} × {REFERENCE_KICKS}-kick runs"
                best = min(
                    solve_heuristic(d, kicks=REFERENCE_KICKS, seed=s)[1]
                    for s in range(1, REFERENCE_RUNS + 1)
                )
                vs_ref.append(r.length / min(best, r.length) - 1)
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        print(
            f"{name:6} {n:3} picks  {'/'.join(sorted(methods)):17} "
            f"vs ref {_pct(vs_ref)} (max {max(vs_ref) * 100:5.2f}%, {reference})  "
            f"vs code order {_pct(vs_code)}  vs S-shape {_pct(vs_s)}  "
            f"time median {statistics.median(times) * 1000:5.1f} ms  p95 {p95 * 1000:5.1f} ms"
        )


def _heuristic_on_single_block(layout: Layout, rng: random.Random) -> None:
    """The local search alone on single-block instances, against the exact DP."""
    codes = [b.code for b in layout.bins if b.level == 1 and b.side == "L"]
    for n in (20, 40, 60):
        gaps = []
        for _ in range(10):
            bins = rng.sample(codes, n)
            exact = route(layout, bins).length
            d = distance_matrix(layout.graph, resolve_stops(layout, bins).nodes)
            gaps.append(solve_heuristic(d)[1] / exact - 1)
        print(
            f"single {n:3} picks  local search alone vs the DP: mean {_pct(gaps)}, "
            f"max {max(gaps) * 100:.2f}%"
        )


def main() -> None:
    rng = random.Random(SEED)
    started = time.perf_counter()
    single = _layout(1, 20)
    _run("single", single, rng)
    _heuristic_on_single_block(single, rng)
    _run("multi", _layout(3, 30), rng)
    print(f"(bench took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
