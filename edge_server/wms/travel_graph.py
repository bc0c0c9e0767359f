"""The travel graph of a layout: where a worker can walk, and how far.

Nodes sit where travel can branch or stop: aisle ends (junctions with a cross aisle), pick
points (one per aisle and bay; both sides and every level share it), the depot, and explicit
bins with the point where their spur leaves the network. Edges follow the aisle and cross-aisle
centre lines between neighbouring nodes, so an edge's length is the walking distance.

An explicit bin (dock door, staging lane, ...) is reached by a straight spur from the nearest
point of the aisle/cross-aisle network; the spur's length counts as travel.

This is a data structure only. Routing (Ratliff–Rosenthal for a single block, its multi-block
extensions, heuristics) builds on `aisles`, `cross_aisles`, `node_of` and `adjacency`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from edge_server.wms.layout import Bin, Layout

__all__ = ["Edge", "EdgeKind", "Node", "NodeKind", "TravelGraph", "build_travel_graph"]

NodeKind = Literal["depot", "junction", "pick", "bin", "access"]
EdgeKind = Literal["aisle", "cross_aisle", "spur"]
# When two roles fall on one point the node keeps the first kind in this order.
_RANK: dict[str, int] = {"depot": 0, "junction": 1, "pick": 2, "bin": 3, "access": 4}
_DIGITS = 6
_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    x: float
    y: float
    kind: NodeKind


@dataclass(frozen=True, slots=True)
class Edge:
    """An undirected edge; `a` is the front (aisle) or west (cross aisle, spur access) end."""

    a: int
    b: int
    length: float
    kind: EdgeKind
    line: str  # "A03" (aisle), "y=30" (cross aisle) or the bin code (spur)


@dataclass(frozen=True)
class TravelGraph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    depot: int
    # (block, aisle) -> node ids front to back, both aisle ends included.
    aisles: Mapping[tuple[str, int], tuple[int, ...]]
    # cross-aisle y -> node ids west to east.
    cross_aisles: Mapping[float, tuple[int, ...]]
    # bin code -> the node where that bin is picked.
    bin_nodes: Mapping[str, int]
    # node id -> ((neighbour id, edge length), ...)
    adjacency: tuple[tuple[tuple[int, float], ...], ...]

    def node_of(self, code: str) -> int:
        """The node where bin `code` is picked; KeyError for an unknown code."""
        return self.bin_nodes[code]

    def neighbours(self, node: int) -> tuple[tuple[int, float], ...]:
        return self.adjacency[node]

    @property
    def total_length(self) -> float:
        return round(sum(e.length for e in self.edges), _DIGITS)


class _Builder:
    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []
        self.kinds: list[str] = []
        self.index: dict[tuple[float, float], int] = {}

    def node(self, x: float, y: float, kind: str) -> int:
        key = (round(x, _DIGITS) + 0.0, round(y, _DIGITS) + 0.0)
        nid = self.index.get(key)
        if nid is None:
            nid = len(self.points)
            self.index[key] = nid
            self.points.append(key)
            self.kinds.append(kind)
        elif _RANK[kind] < _RANK[self.kinds[nid]]:
            self.kinds[nid] = kind
        return nid


def _nearest(
    b: Bin,
    cross: Mapping[float, tuple[float, float]],
    aisles: Mapping[tuple[str, int], tuple[float, float, float]],
) -> tuple[str, object, float, float, float]:
    """(line kind, line key, x, y, distance) of the network point nearest to bin `b`."""
    best: tuple[str, object, float, float, float] | None = None
    for y, (x0, x1) in cross.items():
        px = min(max(b.x, x0), x1)
        d = math.hypot(b.x - px, b.y - y)
        if best is None or d < best[4] - _EPS:
            best = ("cross", y, px, y, d)
    for key, (x, y0, y1) in aisles.items():
        py = min(max(b.y, y0), y1)
        d = math.hypot(b.x - x, b.y - py)
        if best is None or d < best[4] - _EPS:
            best = ("aisle", key, x, py, d)
    assert best is not None  # a layout has at least one block
    return best


def build_travel_graph(layout: Layout) -> TravelGraph:
    g = _Builder()
    depot = g.node(layout.depot[0], layout.depot[1], "depot")

    aisle_lines: dict[tuple[str, int], tuple[float, float, float]] = {}
    aisle_stops: dict[tuple[str, int], list[tuple[float, int]]] = {}
    pick_nodes: dict[tuple[str, int, int], int] = {}
    for block in layout.blocks:
        for aisle in range(1, block.aisles + 1):
            x = block.aisle_x(aisle)
            stops = [(block.front_y, g.node(x, block.front_y, "junction"))]
            for bay in range(1, block.bays + 1):
                y = block.bay_y(bay)
                nid = g.node(x, y, "pick")
                pick_nodes[(block.id, aisle, bay)] = nid
                stops.append((y, nid))
            stops.append((block.back_y, g.node(x, block.back_y, "junction")))
            aisle_lines[(block.id, aisle)] = (x, block.front_y, block.back_y)
            aisle_stops[(block.id, aisle)] = stops

    cross_lines: dict[float, tuple[float, float]] = {}
    cross_stops: dict[float, list[tuple[float, int]]] = {}
    for c in layout.cross_aisles:
        stops = [(e.x, g.node(e.x, c.y, "junction")) for e in c.ends]
        if c.has_depot:
            stops.append((layout.depot[0], depot))
        cross_lines[c.y] = (c.x_min, c.x_max)
        cross_stops[c.y] = stops

    bin_nodes: dict[str, int] = {}
    spurs: list[Edge] = []
    for b in layout.bins:
        if b.block is not None:
            assert b.aisle is not None and b.bay is not None
            bin_nodes[b.code] = pick_nodes[(b.block, b.aisle, b.bay)]
            continue
        kind, key, px, py, dist = _nearest(b, cross_lines, aisle_lines)
        access = g.node(px, py, "access")
        if kind == "cross":
            cross_stops[key].append((px, access))  # type: ignore[index]
        else:
            aisle_stops[key].append((py, access))  # type: ignore[index]
        if dist <= _EPS:
            bin_nodes[b.code] = g.node(px, py, "bin")
        else:
            node = g.node(b.x, b.y, "bin")
            bin_nodes[b.code] = node
            spurs.append(Edge(access, node, round(dist, _DIGITS), "spur", b.code))

    edges: list[Edge] = []
    seen: set[tuple[int, int]] = set()

    def chain(stops: list[tuple[float, int]], kind: EdgeKind, line: str) -> tuple[int, ...]:
        ordered: list[tuple[float, int]] = []
        for pos, nid in sorted(stops):
            if not ordered or ordered[-1][1] != nid:
                ordered.append((pos, nid))
        for (p0, n0), (p1, n1) in pairwise(ordered):
            edges.append(Edge(n0, n1, round(p1 - p0, _DIGITS), kind, line))
            seen.add((min(n0, n1), max(n0, n1)))
        return tuple(nid for _, nid in ordered)

    aisles = {
        key: chain(stops, "aisle", f"{key[0]}{key[1]:02}") for key, stops in aisle_stops.items()
    }
    cross = {y: chain(stops, "cross_aisle", f"y={y:g}") for y, stops in cross_stops.items()}
    for spur in spurs:
        pair = (min(spur.a, spur.b), max(spur.a, spur.b))
        if pair not in seen:  # two bins at one spot share their spur
            seen.add(pair)
            edges.append(spur)

    adjacency: list[list[tuple[int, float]]] = [[] for _ in g.points]
    for e in edges:
        adjacency[e.a].append((e.b, e.length))
        adjacency[e.b].append((e.a, e.length))
    nodes = tuple(
        Node(i, x, y, kind)  # type: ignore[arg-type]
        for i, ((x, y), kind) in enumerate(zip(g.points, g.kinds, strict=True))
    )
    return TravelGraph(
        nodes=nodes,
        edges=tuple(edges),
        depot=depot,
        aisles=MappingProxyType(aisles),
        cross_aisles=MappingProxyType(cross),
        bin_nodes=MappingProxyType(bin_nodes),
        adjacency=tuple(tuple(a) for a in adjacency),
    )
