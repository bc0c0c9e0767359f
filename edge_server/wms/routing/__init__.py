"""Pick-path routing: the shortest walk from the depot through a pick list and back.

Pure (no database). See docs/routing.md. `route(layout, bins)` picks the method:
Ratliff & Rosenthal's dynamic program for a single block, its sweep over every cross aisle for
layouts with up to `MAX_LEVELS` cross aisles (exact), Held–Karp for small pick lists elsewhere,
local search (2-opt, Or-opt, iterated) for larger ones.
"""

from edge_server.wms.routing.multi_block import MAX_LEVELS, grid_levels, solve_grid
from edge_server.wms.routing.network import Stops, check_bin, distance_matrix, resolve_stops
from edge_server.wms.routing.orders import code_order, s_shape_order
from edge_server.wms.routing.router import (
    EXACT_MAX,
    Route,
    exact_multi_block,
    exact_single_block,
    route,
    route_length,
)
from edge_server.wms.routing.tsp import held_karp, solve_heuristic, tour_length

__all__ = [
    "EXACT_MAX",
    "MAX_LEVELS",
    "Route",
    "Stops",
    "check_bin",
    "code_order",
    "distance_matrix",
    "exact_multi_block",
    "exact_single_block",
    "grid_levels",
    "held_karp",
    "resolve_stops",
    "route",
    "route_length",
    "s_shape_order",
    "solve_grid",
    "solve_heuristic",
    "tour_length",
]
