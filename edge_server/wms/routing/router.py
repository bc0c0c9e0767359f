"""`route(layout, bins)`: the pick tour from the depot through every bin and back.

Method, by layout and size:
- `ratliff_rosenthal`: one block and only rack bins: the exact dynamic program (optimal).
- `aisle_sweep`: otherwise, when the layout has at most `MAX_LEVELS` cross aisles (up to three
  stacked blocks): the same dynamic program swept over all cross aisles at once, Roodbergen &
  de Koster's two-block method generalised (optimal; explicit bins on spurs included).
- `held_karp`: otherwise, up to `EXACT_MAX` distinct pick points: exact TSP over shortest-path
  distances along the travel graph (optimal).
- `local_search`: otherwise: nearest neighbour, S-shape and location-code orders improved by
  2-opt and Or-opt, then iterated local search; never longer than the S-shape order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from edge_server.wms.layout import Layout
from edge_server.wms.routing.multi_block import MAX_LEVELS, grid_levels, solve_grid
from edge_server.wms.routing.network import Stops, distance_matrix, resolve_stops
from edge_server.wms.routing.orders import code_order, s_shape_order
from edge_server.wms.routing.single_block import is_single_block, solve_single_block
from edge_server.wms.routing.tsp import held_karp, solve_heuristic, tour_length

__all__ = [
    "EXACT_MAX",
    "Route",
    "exact_multi_block",
    "exact_single_block",
    "route",
    "route_length",
]

# Held–Karp up to this many pick points (~10 ms at 11, ~40 ms at 12 in pure Python).
EXACT_MAX = 11
_DIGITS = 6


@dataclass(frozen=True)
class Route:
    """A pick tour. `sequence`: every distinct bin once, in walking order (bins sharing a pick
    point are adjacent, by code). `stops`: the pick points in that order (travel-graph nodes).
    `length`: metres from the depot through the stops and back. `optimal`: proven optimal."""

    sequence: list[str]
    length: float
    method: str
    stops: list[int]
    optimal: bool

    @property
    def picks(self) -> int:
        return len(self.sequence)

    def as_json(self) -> dict[str, object]:
        return {
            "sequence": self.sequence,
            "length": round(self.length, 3),
            "method": self.method,
            "picks": self.picks,
            "stops": len(self.stops),
        }


def _build(stops: Stops, order: Sequence[int], length: float, method: str, optimal: bool) -> Route:
    """A Route from stop indices (1.., the depot left out) in visiting order."""
    sequence = list(stops.bins[0])  # bins picked at the depot itself
    nodes: list[int] = []
    for i in order:
        sequence.extend(stops.bins[i])
        nodes.append(stops.nodes[i])
    return Route(sequence, round(length, _DIGITS) + 0.0, method, nodes, optimal)


def exact_single_block(layout: Layout, bins: Iterable[str]) -> Route:
    """The optimal route in a single-block layout (Ratliff & Rosenthal). Rack bins only."""
    if not is_single_block(layout):
        raise ValueError("exact_single_block needs a layout with exactly one block")
    stops = resolve_stops(layout, bins)
    for group in stops.bins[1:]:
        if layout.bin(group[0]).block is None:
            raise ValueError(f"{group[0]} is not a rack bin; exact_single_block needs rack bins")
    tour = solve_single_block(layout, stops.nodes[1:])
    index = {node: i for i, node in enumerate(stops.nodes)}
    return _build(stops, [index[n] for n in tour.order], tour.length, "ratliff_rosenthal", True)


def _sweep(stops: Stops, layout: Layout) -> Route | None:
    tour = solve_grid(layout.graph, stops.nodes[1:])
    if tour is None:
        return None
    index = {node: i for i, node in enumerate(stops.nodes)}
    return _build(stops, [index[n] for n in tour.order], tour.length, "aisle_sweep", True)


def exact_multi_block(layout: Layout, bins: Iterable[str]) -> Route:
    """The optimal route by the aisle sweep, whatever the number of cross aisles (its time and
    memory grow steeply beyond four: a reference for benchmarks and tests)."""
    stops = resolve_stops(layout, bins)
    if len(stops.nodes) == 1:
        return _build(stops, [], 0.0, "trivial", True)
    found = _sweep(stops, layout)
    if found is None:
        raise ValueError("a stop is neither on the aisle network nor on a spur off it")
    return found


def route(
    layout: Layout,
    bins: Iterable[str],
    *,
    exact_max: int = EXACT_MAX,
    max_levels: int = MAX_LEVELS,
) -> Route:
    """The pick tour through `bins` (duplicates collapse), starting and ending at the depot.
    `max_levels`: use the aisle sweep for layouts with at most this many cross aisles (0: never).

    Raises AislewayError(UNKNOWN_LOCATION) naming the first unknown or malformed bin."""
    stops = resolve_stops(layout, bins)
    n = len(stops.nodes) - 1
    if n == 0:
        return _build(stops, [], 0.0, "trivial", True)
    rack_only = all(layout.bin(g[0]).block is not None for g in stops.bins[1:])
    if is_single_block(layout) and rack_only:
        tour = solve_single_block(layout, stops.nodes[1:])
        index = {node: i for i, node in enumerate(stops.nodes)}
        order = [index[node] for node in tour.order]
        return _build(stops, order, tour.length, "ratliff_rosenthal", True)
    if grid_levels(layout.graph) <= max_levels:
        found = _sweep(stops, layout)
        if found is not None:
            return found
    d = distance_matrix(layout.graph, stops.nodes)
    if n <= exact_max:
        best, length = held_karp(d)
        return _build(stops, best[1:], length, "held_karp", True)
    starts = [[0, *s_shape_order(layout, stops.bins)], [0, *code_order(stops.bins)]]
    best, length = solve_heuristic(d, starts)
    return _build(stops, best[1:], length, "local_search", False)


def route_length(layout: Layout, bins: Sequence[str]) -> float:
    """Length of visiting `bins` in exactly this order (depot → … → depot), shortest paths
    between consecutive pick points. For checking routes and measuring reference orders."""
    stops = resolve_stops(layout, bins)
    index = {node: i for i, node in enumerate(stops.nodes)}
    graph = layout.graph
    walk = [0]
    for code in bins:
        i = index[graph.node_of(code)]
        if i != walk[-1]:
            walk.append(i)
    d = distance_matrix(graph, stops.nodes)
    return round(tour_length(d, walk), _DIGITS) + 0.0
