"""Order batching: group orders into cart-capacity batches with less total travel than
first-come-first-served grouping. See docs/batching.md.

`batch_orders` builds several candidate batchings — FCFS, two seed heuristics and Clarke–Wright
savings — improves the best of them by local search (move an order to another cart, swap two
orders between carts), and returns whichever candidate is shortest by the real `route_length`,
FCFS included, so it is never worse than FCFS.

Search cost model: with a layout (passed as `layout=`, or found in a
`functools.partial(route_length, layout)`), an aisle estimate that is cheap to update when an
order joins or leaves a cart (see `_AisleModel`); without one, `route_length` itself, cached.
Either way every returned total is measured with `route_length`, cached by the set of bins.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from edge_server.wms.layout import Layout

__all__ = [
    "DEFAULT_MAX_EVALUATIONS",
    "DEFAULT_TIME_BUDGET_S",
    "CartCapacity",
    "OrderPicks",
    "batch_orders",
    "fcfs_batches",
    "total_length",
]

# Wall-clock guard on the search (not on measuring routes). ~200 orders need ~0.3 s.
DEFAULT_TIME_BUDGET_S = 0.8
# Cap on cost-model evaluations in the search: a deterministic stop. ~200 orders with the
# aisle estimate need 80,000–130,000.
DEFAULT_MAX_EVALUATIONS = 400_000


@dataclass(frozen=True, slots=True)
class OrderPicks:
    """What one order needs picked: the bins it visits and its size."""

    order_id: int
    bins: tuple[str, ...]
    units: int
    cube_cm3: float
    arrival: int  # smaller = arrived first (FCFS order)


@dataclass(frozen=True, slots=True)
class CartCapacity:
    max_orders: int  # totes on the cart: one order per tote
    max_units: int | None = None
    max_cube_cm3: float | None = None


RouteLength = Callable[[Sequence[str]], float]


def _check(orders: Sequence[OrderPicks], capacity: CartCapacity) -> list[OrderPicks]:
    """Validate; the orders in FCFS order (arrival, then order id)."""
    if capacity.max_orders < 1:
        raise ValueError(f"capacity.max_orders must be at least 1, got {capacity.max_orders}")
    if capacity.max_units is not None and capacity.max_units < 1:
        raise ValueError(f"capacity.max_units must be at least 1, got {capacity.max_units}")
    if capacity.max_cube_cm3 is not None and not capacity.max_cube_cm3 > 0:
        raise ValueError(f"capacity.max_cube_cm3 must be positive, got {capacity.max_cube_cm3}")
    seen: set[int] = set()
    for o in orders:
        if o.order_id in seen:
            raise ValueError(f"duplicate order id {o.order_id}")
        seen.add(o.order_id)
        if o.units < 0 or not o.cube_cm3 >= 0:
            raise ValueError(f"order {o.order_id} has negative units or cube")
    return sorted(orders, key=lambda o: (o.arrival, o.order_id))


def _fits(units: int, cube: float, count: int, capacity: CartCapacity) -> bool:
    """Whether a batch of `count` orders totalling `units`/`cube` fits on one cart."""
    if count > capacity.max_orders:
        return False
    if capacity.max_units is not None and units > capacity.max_units:
        return False
    return capacity.max_cube_cm3 is None or cube <= capacity.max_cube_cm3


def fcfs_batches(orders: Sequence[OrderPicks], capacity: CartCapacity) -> list[list[int]]:
    """Baseline: orders in arrival order, a new cart whenever the next one does not fit.

    An order that alone exceeds max_units/max_cube_cm3 gets a cart of its own."""
    batches: list[list[int]] = []
    units, cube = 0, 0.0
    for o in _check(orders, capacity):
        if batches and _fits(units + o.units, cube + o.cube_cm3, len(batches[-1]) + 1, capacity):
            batches[-1].append(o.order_id)
            units += o.units
            cube += o.cube_cm3
        else:
            batches.append([o.order_id])
            units, cube = o.units, o.cube_cm3
    return batches


def _batch_bins(batch: Sequence[int], bins_of: dict[int, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(sorted({b for oid in batch for b in bins_of[oid]}))


def total_length(
    batches: Sequence[Sequence[int]], orders: Sequence[OrderPicks], route_length: RouteLength
) -> float:
    """Sum over the batches of route_length(the batch's distinct bins, sorted)."""
    bins_of = {o.order_id: o.bins for o in orders}
    return sum(route_length(_batch_bins(b, bins_of)) for b in batches)


# --- cost models ----------------------------------------------------------------------------


class _Model(Protocol):
    """Estimated tour length of a set of orders (by index). A profile is the model's summary
    of a set of orders; `cost_with` prices adding one more order without building it."""

    def profile(self, members: Sequence[int]) -> object: ...
    def cost(self, profile: object) -> float: ...
    def cost_with(self, profile: object, order: int) -> float: ...


class _RouteModel:
    """No layout: the real route length, cached by the set of bins."""

    def __init__(self, bins: list[frozenset[str]], measure: Callable[[frozenset[str]], float]):
        self.bins = bins
        self.measure = measure

    def profile(self, members: Sequence[int]) -> object:
        return frozenset().union(*(self.bins[i] for i in members))

    def cost(self, profile: object) -> float:
        assert isinstance(profile, frozenset)
        return self.measure(profile)

    def cost_with(self, profile: object, order: int) -> float:
        assert isinstance(profile, frozenset)
        return self.measure(profile | self.bins[order])


# An aisle profile: aisle -> (lowest, highest pick y); the walk's bounding box
# (x_lo, x_hi, y_lo, y_hi), which always holds the depot; the sum of the aisle terms.
_AisleProfile = tuple[dict[int, tuple[float, float]], tuple[float, float, float, float], float]


class _AisleModel:
    """Estimate from the layout: for every aisle holding picks, the cheapest of walking it end
    to end and going in and out from either end as far as the farthest pick (S-shape/return
    per aisle), plus twice the width and depth of the bounding box of the depot, the aisles
    visited and the nearer end of their blocks (the cross-aisle travel to get there and back).
    Explicit bins (docks, staging) only widen the bounding box. Monotone: adding an order
    never lowers the estimate."""

    def __init__(self, layout: Layout, orders: Sequence[OrderPicks]):
        dx, dy = layout.depot[0], layout.depot[1]
        blocks = {b.id: b for b in layout.blocks}
        aisle_index: dict[tuple[str, int], int] = {}
        self.length: list[float] = []
        self.front: list[float] = []
        self.back: list[float] = []
        self.orders: list[_AisleProfile] = []
        for o in orders:
            lines: dict[int, tuple[float, float]] = {}
            x0, x1, y0, y1 = dx, dx, dy, dy
            for code in o.bins:
                b = layout.bin(code)
                if b.block is None or b.aisle is None or b.bay is None:
                    x, y = b.x, b.y
                else:
                    block = blocks[b.block]
                    key = (b.block, b.aisle)
                    k = aisle_index.get(key)
                    if k is None:
                        k = aisle_index[key] = len(self.length)
                        self.length.append(block.back_y - block.front_y)
                        self.front.append(block.front_y)
                        self.back.append(block.back_y)
                    pos = block.bay_y(b.bay)
                    lo, hi = lines.get(k, (pos, pos))
                    lines[k] = (min(lo, pos), max(hi, pos))
                    x = block.aisle_x(b.aisle)
                    y = min((block.front_y, block.back_y), key=lambda v: abs(v - dy))
                x0, x1, y0, y1 = min(x0, x), max(x1, x), min(y0, y), max(y1, y)
            total = sum(self._aisle(k, lo, hi) for k, (lo, hi) in lines.items())
            self.orders.append((lines, (x0, x1, y0, y1), total))

    def _aisle(self, k: int, lo: float, hi: float) -> float:
        return min(self.length[k], 2 * (hi - self.front[k]), 2 * (self.back[k] - lo))

    def profile(self, members: Sequence[int]) -> object:
        if len(members) == 1:
            return self.orders[members[0]]
        lines: dict[int, tuple[float, float]] = {}
        x0 = x1 = y0 = y1 = 0.0
        for n, i in enumerate(members):
            o_lines, (a, b, c, d), _ = self.orders[i]
            for k, (lo, hi) in o_lines.items():
                cur = lines.get(k)
                lines[k] = (lo, hi) if cur is None else (min(cur[0], lo), max(cur[1], hi))
            if n == 0:
                x0, x1, y0, y1 = a, b, c, d
            else:
                x0, x1, y0, y1 = min(x0, a), max(x1, b), min(y0, c), max(y1, d)
        aisle = self._aisle
        total = sum(aisle(k, lo, hi) for k, (lo, hi) in lines.items())
        return (lines, (x0, x1, y0, y1), total)

    def cost(self, profile: object) -> float:
        _, (x0, x1, y0, y1), total = cast(_AisleProfile, profile)
        return float(total + 2 * (x1 - x0 + y1 - y0))

    def cost_with(self, profile: object, order: int) -> float:
        lines, (x0, x1, y0, y1), total = cast(_AisleProfile, profile)
        o_lines, (a, b, c, d), _ = self.orders[order]
        aisle = self._aisle
        for k, (lo, hi) in o_lines.items():
            cur = lines.get(k)
            if cur is None:
                total += aisle(k, lo, hi)
            elif lo < cur[0] or hi > cur[1]:
                total += aisle(k, min(lo, cur[0]), max(hi, cur[1])) - aisle(k, *cur)
        a, b, c, d = min(a, x0), max(b, x1), min(c, y0), max(d, y1)
        return float(total + 2 * (b - a + d - c))


def _layout_of(route_length: RouteLength) -> Layout | None:
    """The layout bound into a `functools.partial(f, layout)`, if that is what we were given."""
    if isinstance(route_length, functools.partial):
        for arg in (*route_length.args, *route_length.keywords.values()):
            if isinstance(arg, Layout):
                return arg
    return None


class _OutOfBudget(Exception):
    pass


class _Search:
    """Candidate batchings of orders 0..n-1 (FCFS rank) under a cost model."""

    def __init__(
        self,
        orders: Sequence[OrderPicks],
        capacity: CartCapacity,
        model: _Model,
        deadline: float,
        max_evaluations: int,
    ):
        self.n = len(orders)
        self.units = [o.units for o in orders]
        self.cube = [o.cube_cm3 for o in orders]
        self.capacity = capacity
        self.model = model
        self.deadline = deadline
        self.left = max_evaluations

    def _tick(self, count: int = 1) -> None:
        self.left -= count
        if self.left < 0 or time.perf_counter() > self.deadline:
            raise _OutOfBudget

    def fits(self, members: Sequence[int]) -> bool:
        return _fits(
            sum(self.units[i] for i in members),
            sum(self.cube[i] for i in members),
            len(members),
            self.capacity,
        )

    def total(self, batches: Sequence[Sequence[int]]) -> float:
        m = self.model
        return sum(m.cost(m.profile(b)) for b in batches)

    def fcfs(self) -> list[list[int]]:
        batches: list[list[int]] = []
        for i in range(self.n):
            if batches and self.fits([*batches[-1], i]):
                batches[-1].append(i)
            else:
                batches.append([i])
        return batches

    def seed(self, farthest: bool) -> list[list[int]]:
        """de Koster et al.'s seed algorithm: open a cart with a seed order (the earliest, or
        the one with the longest tour alone), then keep adding the order that adds least."""
        m = self.model
        alone = [m.cost(m.profile([i])) for i in range(self.n)]
        free = list(range(self.n))
        batches: list[list[int]] = []
        while free:
            first = max(free, key=lambda i: (alone[i], -i)) if farthest else free[0]
            free.remove(first)
            batch = [first]
            units, cube = self.units[first], self.cube[first]
            while True:
                prof = m.profile(batch)
                best, best_cost = -1, 0.0
                for i in free:
                    if not _fits(
                        units + self.units[i], cube + self.cube[i], len(batch) + 1, self.capacity
                    ):
                        continue
                    self._tick()
                    c = m.cost_with(prof, i)
                    if best < 0 or c < best_cost:
                        best, best_cost = i, c
                if best < 0:
                    break
                free.remove(best)
                batch.append(best)
                units += self.units[best]
                cube += self.cube[best]
            batches.append(batch)
        return batches

    def savings(self) -> list[list[int]]:
        """Clarke–Wright savings: merge the carts of the pair of orders that saves most by
        sharing a tour, while the merged cart fits."""
        m = self.model
        profiles = [m.profile([i]) for i in range(self.n)]
        alone = [m.cost(p) for p in profiles]
        pairs: list[tuple[float, int, int]] = []
        for i in range(self.n):
            self._tick(self.n - i - 1)
            for j in range(i + 1, self.n):
                pairs.append((alone[i] + alone[j] - m.cost_with(profiles[i], j), i, j))
        pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
        cluster = list(range(self.n))
        members: dict[int, list[int]] = {i: [i] for i in range(self.n)}
        for _, i, j in pairs:
            a, b = cluster[i], cluster[j]
            if a == b or not self.fits(members[a] + members[b]):
                continue
            for k in members[b]:
                cluster[k] = a
            members[a].extend(members.pop(b))
        return [sorted(v) for _, v in sorted(members.items())]

    def improve(self, batches: list[list[int]]) -> list[list[int]]:
        """Local search: for each order in turn, the best move of it to another cart or swap
        with an order there, if that lowers the estimate; repeat until nothing improves.
        Stops early (keeping what it has) when the evaluation or time budget runs out."""
        m = self.model
        batches = [list(b) for b in batches]
        where = {i: k for k, b in enumerate(batches) for i in b}
        prof = [m.profile(b) for b in batches]
        cost = [m.cost(p) for p in prof]
        # For each cart and member: (profile without it, cost without it).
        without: list[dict[int, tuple[object, float]]] = []

        def refresh(k: int) -> None:
            prof[k] = m.profile(batches[k])
            cost[k] = m.cost(prof[k])
            rest: dict[int, tuple[object, float]] = {}
            for i in batches[k]:
                others = [j for j in batches[k] if j != i]
                p = m.profile(others) if others else None
                rest[i] = (p, m.cost(p) if others else 0.0)
            without[k] = rest

        for k in range(len(batches)):
            without.append({})
            refresh(k)
        units = [sum(self.units[i] for i in b) for b in batches]
        cube = [sum(self.cube[i] for i in b) for b in batches]
        cap = self.capacity
        eps = 1e-9
        try:
            improved = True
            while improved:
                improved = False
                for i in range(self.n):
                    a = where[i]
                    p_a, rest_a = without[a][i]
                    gain_a = cost[a] - rest_a
                    if gain_a <= eps:
                        continue
                    best: tuple[float, int, int] = (-eps, -1, -1)  # (delta, cart, swap partner)
                    for b in range(len(batches)):
                        if b == a:
                            continue
                        self._tick()
                        insert_b = m.cost_with(prof[b], i) - cost[b]
                        n_b = len(batches[b])
                        if _fits(units[b] + self.units[i], cube[b] + self.cube[i], n_b + 1, cap):
                            delta = insert_b - gain_a
                            if delta < best[0]:
                                best = (delta, b, -1)
                        most = max(cost[b] - without[b][j][1] for j in batches[b])
                        if insert_b - gain_a - most >= best[0]:
                            continue  # no swap into b can pay (monotone, ~diminishing returns)
                        for j in batches[b]:
                            if not (
                                _fits(
                                    units[a] - self.units[i] + self.units[j],
                                    cube[a] - self.cube[i] + self.cube[j],
                                    len(batches[a]),
                                    cap,
                                )
                                and _fits(
                                    units[b] - self.units[j] + self.units[i],
                                    cube[b] - self.cube[j] + self.cube[i],
                                    n_b,
                                    cap,
                                )
                            ):
                                continue
                            self._tick(2)
                            p_b = without[b][j][0]
                            new_a = (
                                m.cost_with(p_a, j) if p_a is not None else m.cost(m.profile([j]))
                            )
                            new_b = (
                                m.cost_with(p_b, i) if p_b is not None else m.cost(m.profile([i]))
                            )
                            delta = new_a + new_b - cost[a] - cost[b]
                            if delta < best[0]:
                                best = (delta, b, j)
                    _, b, j = best
                    if b < 0:
                        continue
                    batches[a].remove(i)
                    batches[b].append(i)
                    where[i] = b
                    units[a] -= self.units[i]
                    cube[a] -= self.cube[i]
                    units[b] += self.units[i]
                    cube[b] += self.cube[i]
                    if j >= 0:
                        batches[b].remove(j)
                        batches[a].append(j)
                        where[j] = a
                        units[b] -= self.units[j]
                        cube[b] -= self.cube[j]
                        units[a] += self.units[j]
                        cube[a] += self.cube[j]
                    for k in (a, b):
                        batches[k].sort()
                        if batches[k]:
                            refresh(k)
                    improved = True
                    if not batches[a]:  # a cart emptied by a move: drop it
                        del batches[a], prof[a], cost[a], without[a], units[a], cube[a]
                        where = {x: k for k, bb in enumerate(batches) for x in bb}
        except _OutOfBudget:
            pass
        return [b for b in batches if b]


def batch_orders(
    orders: Sequence[OrderPicks],
    capacity: CartCapacity,
    route_length: RouteLength,
    *,
    layout: Layout | None = None,
    time_budget_s: float = DEFAULT_TIME_BUDGET_S,
    max_evaluations: int = DEFAULT_MAX_EVALUATIONS,
) -> list[list[int]]:
    """Order ids per batch, every order exactly once, each batch within capacity; total
    route length over the batches no more than FCFS's.

    `route_length(bins)` is called with each batch's distinct bins, sorted, and cached by that
    set. `layout`: enables the fast aisle estimate for the search (found automatically in a
    `functools.partial(..., layout)`); without it the search prices carts with
    `route_length` itself. `time_budget_s`: wall-clock budget of the search; measuring FCFS
    and the chosen batching with `route_length` (at most twice the number of carts calls,
    cached) comes on top. `max_evaluations`: cost-model evaluations in the search. The result
    is deterministic whenever the search ends by itself or by `max_evaluations`, not by the
    time budget.

    Batches come out in order of their earliest order (arrival, then id), order ids within a
    batch in the same order. An order that alone exceeds max_units/max_cube_cm3 is a batch of
    its own."""
    ranked = _check(orders, capacity)
    if not ranked:
        return []
    if not time_budget_s >= 0 or max_evaluations < 0:
        raise ValueError("time_budget_s and max_evaluations must not be negative")
    cache: dict[frozenset[str], float] = {}

    def measure(bins: frozenset[str]) -> float:
        length = cache.get(bins)
        if length is None:
            length = cache[bins] = float(route_length(tuple(sorted(bins))))
        return length

    bins_of = [frozenset(o.bins) for o in ranked]

    def real_total(batches: Sequence[Sequence[int]]) -> float:
        return sum(measure(frozenset().union(*(bins_of[i] for i in b))) for b in batches)

    def ids(batches: Sequence[Sequence[int]]) -> list[list[int]]:
        ordered = sorted(sorted(b) for b in batches)
        return [[ranked[i].order_id for i in b] for b in ordered]

    fcfs_ids = fcfs_batches(ranked, capacity)
    rank_of = {o.order_id: i for i, o in enumerate(ranked)}
    fcfs_total = real_total([[rank_of[oid] for oid in b] for b in fcfs_ids])
    deadline = time.perf_counter() + time_budget_s
    # Orders too big for any cart alone ride alone; only the rest are searched.
    alone = [i for i, o in enumerate(ranked) if not _fits(o.units, o.cube_cm3, 1, capacity)]
    lone = set(alone)
    searched = [i for i in range(len(ranked)) if i not in lone]
    if len(searched) < 2:
        return fcfs_ids

    sub = [ranked[i] for i in searched]
    if layout is None:
        layout = _layout_of(route_length)
    model: _Model
    if layout is not None:
        model = _AisleModel(layout, sub)
    else:
        model = _RouteModel([bins_of[i] for i in searched], measure)
    search = _Search(sub, capacity, model, deadline, max_evaluations)
    candidates: list[list[list[int]]] = []
    starts: list[Callable[[], list[list[int]]]] = [
        search.fcfs,
        lambda: search.seed(farthest=False),
        lambda: search.seed(farthest=True),
        search.savings,
    ]
    for start in starts:
        try:
            candidates.append(start())
        except _OutOfBudget:
            break
    candidates.sort(key=search.total)
    improved = [search.improve(c) for c in candidates[:1]]
    best = min(improved, key=search.total) if improved else None
    if best is None:
        return fcfs_ids
    mapped = [[searched[i] for i in b] for b in best] + [[i] for i in alone]
    if real_total(mapped) < fcfs_total:
        return ids(mapped)
    return fcfs_ids
