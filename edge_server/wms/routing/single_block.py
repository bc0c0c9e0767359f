"""Optimal pick tours in a single-block warehouse: the Ratliff & Rosenthal (1983) dynamic program.

A tour is a connected multigraph on the aisle/cross-aisle network in which every vertex has
even degree and which touches the depot and every pick point; an Euler circuit of it walks the
route. Ratliff and Rosenthal sweep the aisles left to right and keep, for each *equivalence
class* of partial tours, the cheapest one. A class records what matters for completing the
tour: the degree of the current aisle's front and back ends (zero, odd, even) and whether the
two ends are already connected (one or two components, or a finished tour). Each step adds the
cross-aisle pieces to the next aisle (0, 1 or 2 copies at the front and at the back) and one of
six ways to cover that aisle:

- none (only if it holds no picks), traverse once, traverse twice,
- in and out from the front (to the deepest pick), in and out from the back,
- in and out from both ends, leaving out the largest gap between neighbouring picks.

The classes are computed here rather than tabulated: a four-node union–find over the two ends
of the current and the next aisle checks parity and connectivity for every transition. A depot
between two aisle positions, or beside the block, is a column without an aisle (only the front
cross aisle reaches it when it lies beyond the outermost aisle).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from edge_server.wms.layout import Layout

__all__ = ["SingleBlockTour", "is_single_block", "solve_single_block"]

_EPS = 1e-6

# State: (front degree class, back degree class, ends connected, closed); classes 0 / 1 odd /
# 2 even and positive.
State = tuple[int, int, bool, bool]
EMPTY: State = (0, 0, False, False)
CLOSED: State = (0, 0, False, True)
# Vertical cover: (degree added at the front end, at the back end, connects the two ends).
Cover = tuple[int, int, bool]


@dataclass
class _Column:
    x: float
    has_aisle: bool
    depot: bool = False
    picks: list[tuple[float, int]] = field(default_factory=list)  # (offset from front, node)


@dataclass(frozen=True)
class SingleBlockTour:
    """The optimal tour: pick nodes in visiting order and its length."""

    order: list[int]
    length: float


def is_single_block(layout: Layout) -> bool:
    return len(layout.blocks) == 1


def _cls(degree: int) -> int:
    return 0 if degree == 0 else (1 if degree % 2 else 2)


@lru_cache(maxsize=4096)
def _advance(state: State, hf: int, hb: int, cover: Cover, left_required: bool) -> State | None:
    """The class after adding hf/hb cross-aisle copies and `cover` on the next aisle, or None
    if that cannot be part of a tour."""
    da, db, conn, closed = state
    vf, vb, vconn = cover
    if closed:
        if hf or hb or vf or vb or left_required:
            return None
        return CLOSED
    if (da + hf) % 2 or (db + hb) % 2:
        return None  # a finished vertex must have even degree
    if left_required and da + hf == 0:
        return None
    parent = [0, 1, 2, 3]  # A, B: ends of this aisle; C, D: ends of the next

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    if da and db and conn:
        union(0, 1)
    if hf:
        union(0, 2)
    if hb:
        union(1, 3)
    if vconn:
        union(2, 3)
    dc, dd = hf + vf, hb + vb
    frontier = {find(i) for i, deg in ((2, dc), (3, dd)) if deg}
    old = {find(i) for i, deg in ((0, da), (1, db)) if deg}
    closing = old - frontier
    if closing:
        # A component that stops here is the finished tour: nothing else may exist.
        if len(old) > 1 or dc or dd:
            return None
        return CLOSED
    return (_cls(dc), _cls(dd), bool(dc and dd and find(2) == find(3)), False)


def _finish(state: State, required: bool) -> bool:
    da, db, conn, closed = state
    if closed:
        return not required
    if da % 2 or db % 2 or (required and da == 0):
        return False
    if da and db:
        return conn
    return True  # empty (no picks at all) or a single component


def _covers(col: _Column, length: float) -> list[tuple[Cover, float, object]]:
    """(cover, cost, how) options for a column; `how` rebuilds the edges."""
    if not col.has_aisle:
        return [((0, 0, False), 0.0, "none")]
    out: list[tuple[Cover, float, object]] = []
    ys = [y for y, _ in col.picks]
    if not ys:
        out.append(((0, 0, False), 0.0, "none"))
    out.append(((1, 1, True), length, "traverse"))
    out.append(((2, 2, True), 2 * length, "traverse2"))
    if ys:
        out.append(((2, 0, False), 2 * ys[-1], "front"))
        out.append(((0, 2, False), 2 * (length - ys[0]), "back"))
        if len(ys) > 1:
            gap, at = max((ys[i + 1] - ys[i], i) for i in range(len(ys) - 1))
            out.append(((2, 2, False), 2 * (length - gap), ("gap", at)))
    return out


def solve_single_block(layout: Layout, nodes: Sequence[int]) -> SingleBlockTour:
    """The optimal tour from the depot through the pick nodes `nodes` (rack pick points of the
    layout's only block) and back."""
    graph = layout.graph
    block = layout.blocks[0]
    wanted = set(nodes)
    depot_x = layout.depot[0]
    columns: list[_Column] = []
    for aisle in range(1, block.aisles + 1):
        col = _Column(x=block.aisle_x(aisle), has_aisle=True)
        for node in graph.aisles[(block.id, aisle)][1:-1]:
            if node in wanted:
                col.picks.append((graph.nodes[node].y - block.front_y, node))
        col.picks.sort()
        columns.append(col)
    at = [c for c in columns if abs(c.x - depot_x) <= _EPS]
    if at:
        at[0].depot = True
    else:
        columns.append(_Column(x=depot_x, has_aisle=False, depot=True))
        columns.sort(key=lambda c: c.x)
    if not wanted - {graph.depot}:
        return SingleBlockTour([], 0.0)
    x_lo, x_hi = block.x, block.last_aisle_x
    length = block.length

    # dp[k]: state -> (cost, previous state, hf, hb, how)
    dp: list[dict[State, tuple[float, State, int, int, object]]] = []
    first: dict[State, tuple[float, State, int, int, object]] = {}
    for cover, cost, how in _covers(columns[0], length):
        nxt = _advance(EMPTY, 0, 0, cover, False)
        if nxt is not None and cost < first.get(nxt, (float("inf"),))[0]:
            first[nxt] = (cost, EMPTY, 0, 0, how)
    dp.append(first)
    for k in range(1, len(columns)):
        left, col = columns[k - 1], columns[k]
        width = col.x - left.x
        back_ok = x_lo - _EPS <= left.x and col.x <= x_hi + _EPS
        options = _covers(col, length)
        layer: dict[State, tuple[float, State, int, int, object]] = {}
        for state, (base, *_rest) in dp[-1].items():
            for hf in (0, 1, 2):
                for hb in (0, 1, 2) if back_ok else (0,):
                    step = base + (hf + hb) * width
                    for cover, cost, how in options:
                        nxt = _advance(state, hf, hb, cover, left.depot)
                        if nxt is None:
                            continue
                        total = step + cost
                        if total < layer.get(nxt, (float("inf"),))[0] - 1e-12:
                            layer[nxt] = (total, state, hf, hb, how)
        dp.append(layer)
    finals = [(v[0], s) for s, v in dp[-1].items() if _finish(s, columns[-1].depot)]
    best_cost, state = min(finals)

    # Rebuild the multigraph of the tour and walk an Euler circuit from the depot.
    edges: list[tuple[object, object]] = []

    def chain(points: list[object], copies: int) -> None:
        for a, b in pairwise(points):
            edges.extend([(a, b)] * copies)

    for k in range(len(columns) - 1, -1, -1):
        _cost, prev, hf, hb, how = dp[k][state]
        col = columns[k]
        front, back = ("F", k), ("B", k)
        picks: list[object] = [("P", node) for _, node in col.picks]
        if how == "traverse":
            chain([front, *picks, back], 1)
        elif how == "traverse2":
            chain([front, *picks, back], 2)
        elif how == "front":
            chain([front, *picks], 2)
        elif how == "back":
            chain([back, *picks[::-1]], 2)
        elif isinstance(how, tuple):
            cut = how[1]
            chain([front, *picks[: cut + 1]], 2)
            chain([back, *picks[cut + 1 :][::-1]], 2)
        if k:
            edges.extend([(("F", k - 1), front)] * hf)
            edges.extend([(("B", k - 1), back)] * hb)
        state = prev
    depot_key = ("F", next(k for k, c in enumerate(columns) if c.depot))
    order = euler_first_visits(edges, depot_key)
    return SingleBlockTour(order=order, length=best_cost)


def euler_first_visits(
    edges: list[tuple[object, object]],
    start: object,
    stops_at: dict[object, list[int]] | None = None,
) -> list[int]:
    """Pick nodes in the order an Euler circuit from `start` (Hierholzer) first reaches them:
    a vertex `("P", n)` is pick node n; `stops_at` names further pick nodes a vertex stands
    for (the multi-block sweep's aisle ends)."""
    adj: dict[object, list[tuple[object, int]]] = {}
    for i, (a, b) in enumerate(edges):
        adj.setdefault(a, []).append((b, i))
        adj.setdefault(b, []).append((a, i))
    used = [False] * len(edges)
    stack = [start]
    circuit: list[object] = []
    while stack:
        here = stack[-1]
        out = adj.get(here, [])
        while out and used[out[-1][1]]:
            out.pop()
        if out:
            other, i = out.pop()
            used[i] = True
            stack.append(other)
        else:
            circuit.append(stack.pop())
    circuit.reverse()
    seen: dict[int, None] = {}
    for key in circuit:
        if isinstance(key, tuple) and key[0] == "P":
            seen.setdefault(key[1], None)
        for n in (stops_at or {}).get(key, ()):
            seen.setdefault(n, None)
    return list(seen)
