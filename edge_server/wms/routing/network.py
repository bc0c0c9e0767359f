"""Pick points of a pick list and the walking distances between them over the travel graph.

The travel graph has a node per bay of every aisle; a route only cares about the depot, the
nodes it stops at and the junctions where travel can branch. `distance_matrix` contracts every
other node (a chain of unvisited bays is one edge) and runs Dijkstra on what is left, once per
stop: a few hundred nodes instead of thousands.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from edge_server.errors import AislewayError
from edge_server.wms.layout import Layout, is_rack_bin_code
from edge_server.wms.travel_graph import TravelGraph
from protocols.errors import ErrorCode

__all__ = ["Stops", "distance_matrix", "resolve_stops"]

_EXPLICIT_CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")


@dataclass(frozen=True)
class Stops:
    """Distinct pick points of a pick list. `nodes[0]` is the depot; `bins[i]` are the bins
    picked at `nodes[i]` (sorted codes; empty for the depot)."""

    nodes: tuple[int, ...]
    bins: tuple[tuple[str, ...], ...]

    @property
    def picks(self) -> int:
        return sum(len(b) for b in self.bins)


def check_bin(layout: Layout, code: object) -> str:
    """`code` if the layout has that bin; AislewayError(UNKNOWN_LOCATION) naming it otherwise."""
    if not isinstance(code, str) or not (
        is_rack_bin_code(code) or _EXPLICIT_CODE_RE.fullmatch(code)
    ):
        raise AislewayError(
            ErrorCode.UNKNOWN_LOCATION,
            details={"code": str(code), "reason": "not a bin code"},
        )
    if code not in layout:
        raise AislewayError(
            ErrorCode.UNKNOWN_LOCATION,
            details={"code": code, "reason": "the layout has no such bin"},
        )
    return code


def resolve_stops(layout: Layout, bins: Iterable[str]) -> Stops:
    """Group the (checked, de-duplicated) bins by the node where they are picked."""
    graph = layout.graph
    by_node: dict[int, set[str]] = {}
    for raw in bins:
        code = check_bin(layout, raw)
        by_node.setdefault(graph.node_of(code), set()).add(code)
    order = sorted(by_node, key=lambda n: min(by_node[n]))
    nodes = [graph.depot]
    groups: list[tuple[str, ...]] = [()]
    for node in order:
        if node == graph.depot:  # picked at the depot itself: no detour, keep the bins
            groups[0] = tuple(sorted(by_node[node]))
            continue
        nodes.append(node)
        groups.append(tuple(sorted(by_node[node])))
    return Stops(tuple(nodes), tuple(groups))


def _contract(graph: TravelGraph, keep: set[int]) -> dict[int, dict[int, float]]:
    """Adjacency over `keep` plus every node of degree ≠ 2; chains become single edges."""
    adjacency = graph.adjacency
    kept = set(keep)
    kept.update(n for n, adj in enumerate(adjacency) if len(adj) != 2)
    out: dict[int, dict[int, float]] = {n: {} for n in kept}
    for u in kept:
        row = out[u]
        for v, length in adjacency[u]:
            prev, here, total = u, v, length
            while here not in kept:
                (a, la), (b, lb) = adjacency[here]
                if a != prev:
                    prev, here, total = here, a, total + la
                else:
                    prev, here, total = here, b, total + lb
            if here != u and total < row.get(here, math.inf):
                row[here] = total
    return out


def _dijkstra(adj: dict[int, dict[int, float]], source: int) -> dict[int, float]:
    dist = {source: 0.0}
    heap = [(0.0, source)]
    done: set[int] = set()
    while heap:
        d, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        for other, length in adj[node].items():
            nd = d + length
            if nd < dist.get(other, math.inf):
                dist[other] = nd
                heapq.heappush(heap, (nd, other))
    return dist


def distance_matrix(graph: TravelGraph, nodes: Sequence[int]) -> list[list[float]]:
    """Walking distances between every pair of `nodes` (shortest paths over the graph)."""
    adj = _contract(graph, set(nodes))
    matrix: list[list[float]] = []
    for i, source in enumerate(nodes):
        dist = _dijkstra(adj, source)
        row = [dist.get(t, math.inf) for t in nodes]
        row[i] = 0.0
        matrix.append(row)
    # Exactly symmetric (floating sums along different paths can differ in the last bit).
    for i in range(len(nodes)):
        for j in range(i):
            matrix[i][j] = matrix[j][i]
    return matrix
