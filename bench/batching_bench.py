"""Order batching: total pick travel of `batch_orders` against first-come-first-served carts.

Layout: three stacked blocks of 25 aisles × 30 m (aisle pitch 3 m, 15 bays per side), depot at
the front left — the routing bench's multi-block layout, a little narrower.

SKUs: one per pick point (1,125). Popularity is skewed: Zipf weights 1/rank, so the top 20% of
SKUs take about 80% of the lines. Slotting: "velocity" puts the most popular SKUs at the pick
points nearest the depot (walking distance); "uniform" places SKUs at random.

Orders: 1–2 lines ("small") or 1–5 lines ("mixed"), each line a distinct SKU drawn by
popularity; 1–4 units per line, 500 cm³ per unit. Arrival order = generation order.
Cart: 8 orders (one tote each); one scenario also limits the cart to 40 units.

Travel is measured two ways, each passed to `batch_orders` as its `route_length`:
- tour: `route(layout, bins).length`, the optimised pick tour the picker is given;
- code walk: `router.route_length(layout, bins)` on the bins in code order (what
  `functools.partial(route_length, layout)` measures).
Time: one `batch_orders` call, including its route-length calls (FCFS and the result).
"""

from __future__ import annotations

import functools
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from edge_server.wms.layout import Layout
from edge_server.wms.outbound.batching import (
    CartCapacity,
    OrderPicks,
    batch_orders,
    fcfs_batches,
    total_length,
)
from edge_server.wms.routing import route, route_length

SEED = 20240602
INSTANCES = 3


def _layout(blocks: int = 3, aisles: int = 25) -> Layout:
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


def _orders(
    slots: Sequence[str], count: int, max_lines: int, rng: random.Random
) -> list[OrderPicks]:
    weights = [1.0 / (rank + 1) for rank in range(len(slots))]
    orders = []
    for i in range(count):
        lines = set(rng.choices(slots, weights, k=rng.randint(1, max_lines)))
        units = sum(rng.randint(1, 4) for _ in lines)
        orders.append(OrderPicks(i + 1, tuple(sorted(lines)), units, 500.0 * units, i))
    return orders


def main() -> None:
    layout = _layout()
    rng = random.Random(SEED)
    points = [b for b in layout.bins if b.level == 1 and b.side == "L"]  # one per pick point
    depot_x, depot_y = layout.depot
    velocity = [
        b.code for b in sorted(points, key=lambda b: abs(b.x - depot_x) + abs(b.y - depot_y))
    ]
    uniform = [b.code for b in points]
    rng.shuffle(uniform)
    tour: Callable[[Sequence[str]], float] = lambda bins: route(layout, bins).length  # noqa: E731
    walk = functools.partial(route_length, layout)
    scenarios = [
        ("small, velocity", velocity, 200, 2, CartCapacity(8)),
        ("mixed, velocity", velocity, 150, 5, CartCapacity(8)),
        ("mixed, velocity, 40 units", velocity, 150, 5, CartCapacity(8, max_units=40)),
        ("mixed, uniform", uniform, 150, 5, CartCapacity(8)),
        ("mixed, velocity, 100", velocity, 100, 5, CartCapacity(8)),
    ]
    started = time.perf_counter()
    print(f"layout: 3 blocks × 25 aisles, {len(points)} pick points; {INSTANCES} instances each")
    for name, slots, count, max_lines, cap in scenarios:
        instances = [_orders(slots, count, max_lines, rng) for _ in range(INSTANCES)]
        lines = statistics.mean(len(o.bins) for inst in instances for o in inst)
        for measure_name, measure in (("tour", tour), ("code walk", walk)):
            ratios, times, n_fcfs, n_batch = [], [], [], []
            for orders in instances:
                fcfs = fcfs_batches(orders, cap)
                t0 = time.perf_counter()
                batches = batch_orders(orders, cap, measure, layout=layout)
                times.append(time.perf_counter() - t0)
                ratios.append(
                    total_length(batches, orders, measure) / total_length(fcfs, orders, measure)
                )
                n_fcfs.append(len(fcfs))
                n_batch.append(len(batches))
            print(
                f"{name:26} {count:3} orders ({lines:.1f} lines)  {measure_name:9}  "
                f"travel vs FCFS {statistics.mean(ratios):.3f} "
                f"(range {min(ratios):.3f}–{max(ratios):.3f})  "
                f"carts {statistics.mean(n_batch):.1f} (FCFS {statistics.mean(n_fcfs):.1f})  "
                f"time mean {statistics.mean(times) * 1000:4.0f} ms  "
                f"max {max(times) * 1000:4.0f} ms"
            )
    print(f"(bench took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
