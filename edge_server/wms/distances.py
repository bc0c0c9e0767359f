"""Shortest walking distances over a layout's travel graph (Dijkstra), cached per source.

A site's graph has a few hundred to a few thousand nodes; one Dijkstra from a node costs about
a millisecond per thousand nodes in pure Python, and the same sources (the depot, the docks,
the bins workers stand at) come back again and again, so each source's distances are kept.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.wms.layout import Layout, layout_from_json
from edge_server.wms.travel_graph import TravelGraph
from protocols.errors import ErrorCode

__all__ = ["TravelDistances", "shortest_paths", "site_travel"]

_SOURCES_KEPT = 4096  # ~4096 × nodes floats; a 10,000-node site stays well under 400 MB
_SITES_KEPT = 8


def shortest_paths(graph: TravelGraph, source: int) -> list[float]:
    """Walking distance from node `source` to every node (`inf` where unreachable)."""
    dist = [math.inf] * len(graph.nodes)
    dist[source] = 0.0
    heap: list[tuple[float, int]] = [(0.0, source)]
    adjacency = graph.adjacency
    while heap:
        d, node = heapq.heappop(heap)
        if d > dist[node]:
            continue
        for other, length in adjacency[node]:
            nd = d + length
            if nd < dist[other]:
                dist[other] = nd
                heapq.heappush(heap, (nd, other))
    return dist


class TravelDistances:
    """Distances between bins (by code) along a layout's travel graph."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.graph = layout.graph
        self._cache: OrderedDict[int, Sequence[float]] = OrderedDict()
        self._lock = threading.Lock()

    def node(self, code: str) -> int:
        """The node where `code` is reached; UNKNOWN_LOCATION if the layout has no such bin."""
        try:
            return self.graph.node_of(code)
        except KeyError:
            raise AislewayError(ErrorCode.UNKNOWN_LOCATION, details={"location": code}) from None

    def from_node(self, node: int) -> Sequence[float]:
        with self._lock:
            found = self._cache.get(node)
            if found is not None:
                self._cache.move_to_end(node)
                return found
        dist = tuple(shortest_paths(self.graph, node))
        with self._lock:
            self._cache[node] = dist
            while len(self._cache) > _SOURCES_KEPT:
                self._cache.popitem(last=False)
        return dist

    def from_depot(self) -> Sequence[float]:
        return self.from_node(self.graph.depot)

    def depot_to(self, code: str) -> float:
        return self.from_depot()[self.node(code)]

    def between(self, a: str, b: str) -> float:
        return self.from_node(self.node(a))[self.node(b)]


_sites: OrderedDict[str, TravelDistances] = OrderedDict()
_sites_lock = threading.Lock()


def site_travel(source: Database | SUDatabase, site: str) -> TravelDistances:
    """The distances of `site`'s loaded layout (LAYOUT_NOT_LOADED before the first load).

    Cached by the layout file's hash, so a reloaded layout is picked up on the next call."""
    conn = source.read if isinstance(source, Database) else source
    row = conn.execute("SELECT layout_json FROM sites WHERE code = ?", [site]).fetchone()
    if row is None or not row[0]:
        raise AislewayError(ErrorCode.LAYOUT_NOT_LOADED, details={"site": site})
    digest = hashlib.sha256(row[0].encode()).hexdigest()
    with _sites_lock:
        found = _sites.get(digest)
        if found is not None:
            _sites.move_to_end(digest)
            return found
    travel = TravelDistances(layout_from_json(row[0]))
    with _sites_lock:
        _sites[digest] = travel
        while len(_sites) > _SITES_KEPT:
            _sites.popitem(last=False)
    return travel
