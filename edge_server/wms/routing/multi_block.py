"""Optimal pick tours on any layout of this format: Ratliff & Rosenthal's dynamic program swept
over every cross aisle at once (Roodbergen & de Koster's two-block method, generalised).

The travel graph of a layout is made of horizontal cross aisles (one *level* per cross-aisle y)
and vertical aisle segments, each running from one cross aisle to another, plus spurs to
explicit bins. Put a *column* at every x where an aisle runs, where the depot is and where an
explicit bin's spur leaves a cross aisle. A tour is a connected multigraph on this network in
which every vertex has even degree and which touches the depot and every pick point; an Euler
circuit of it walks the route. As in Ratliff & Rosenthal (1983) every cross-aisle piece between
two neighbouring columns is used 0, 1 or 2 times, and every aisle segment in one of six ways:
none (only without picks), traverse once, traverse twice, in and out from the front end (to
the deepest pick), from the back end, or from both ends leaving out the largest gap between
neighbouring picks.

The sweep goes left to right. The state after a column records, for each level, the degree
class of the column's vertex (zero, odd, even and positive) and which vertices are already
connected (a non-crossing partition), or that the tour is closed. A component that loses its
last vertex on the sweep line must be the finished tour. The step to the next column is split
in two: first the cross-aisle pieces of all levels, then the column's aisle segments one at a
time, so a state meets at most 2^levels and 5 choices instead of their product. Transitions
depend only on the state and the choice, so they are computed once (union–find over the
vertices of two columns) and cached for every later call.

The states grow with the number of cross aisles: a two-block layout (three cross aisles) keeps
a few dozen, three blocks a few hundred. `MAX_LEVELS` bounds what `route` uses it for.

Explicit bins hang off the network on spurs (leaves): a pick costs twice the spur plus a visit
to the point where the spur leaves an aisle (a pick point in that aisle) or a cross aisle (a
required vertex, like the depot).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Any

from edge_server.wms.routing.single_block import euler_first_visits
from edge_server.wms.travel_graph import TravelGraph

__all__ = ["MAX_LEVELS", "GridTour", "grid_levels", "solve_grid"]

# `route` uses the sweep for layouts with at most this many cross aisles (three blocks stacked
# have four); above it the state space grows too fast for the time budget.
MAX_LEVELS = 4
_EPS = 1e-6
_KEY_DIGITS = 6

# A state: (degree class per level (0 none, 1 odd, 2 even > 0), component label per level
# (0 for degree 0, else 1, 2, ... in order of first appearance), closed).
State = tuple[tuple[int, ...], tuple[int, ...], bool]
# Vertical cover of a segment: (degree added at its front end, at its back end, joins them).
Cover = tuple[int, int, bool]

_NONE: Cover = (0, 0, False)
_TRAVERSE: Cover = (1, 1, True)
_TRAVERSE2: Cover = (2, 2, True)
_FRONT: Cover = (2, 0, False)
_BACK: Cover = (0, 2, False)
_GAP: Cover = (2, 2, False)


@dataclass
class _Segment:
    lo: int  # level of the front end
    hi: int  # level of the back end
    length: float
    picks: list[tuple[float, int]] = field(default_factory=list)  # (offset from front, node)


@dataclass
class _Column:
    x: float
    segments: list[_Segment] = field(default_factory=list)
    required: dict[int, list[int]] = field(default_factory=dict)  # level -> nodes picked there


@dataclass(frozen=True)
class GridTour:
    """The optimal tour: the stop nodes in visiting order and the length (spurs included)."""

    order: list[int]
    length: float


def grid_levels(graph: TravelGraph) -> int:
    """Number of cross aisles (levels of the sweep) of the layout."""
    return len(graph.cross_aisles)


def _key(x: float) -> float:
    return round(x, _KEY_DIGITS) + 0.0


@lru_cache(maxsize=1 << 16)
def _normalise(labels: tuple[int, ...]) -> tuple[int, ...]:
    seen: dict[int, int] = {}
    return tuple(0 if v == 0 else seen.setdefault(v, len(seen) + 1) for v in labels)


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@lru_cache(maxsize=1 << 18)
def _horizontal(state: State, copies: tuple[int, ...], required: int) -> State | None:
    """The state after `copies[L]` cross-aisle pieces on each level L to the next column, or
    None. `required`: levels whose vertex in the column being left must be on the tour."""
    degrees, labels, closed = state
    m = len(degrees)
    if closed:
        return state if not any(copies) and not required else None
    for level in range(m):
        d, h = degrees[level], copies[level]
        if (d + h) % 2:
            return None  # a vertex left behind must have even degree
        if required >> level & 1 and d == 0 and h == 0:
            return None
    # Union-find over the old vertices 0..m-1 (by label) and the new ones m..2m-1.
    parent = list(range(2 * m))
    first: dict[int, int] = {}
    for level, lab in enumerate(labels):
        if lab:
            if lab in first:
                parent[_find(parent, level)] = _find(parent, first[lab])
            else:
                first[lab] = level
    for level, h in enumerate(copies):
        if h:
            parent[_find(parent, level)] = _find(parent, m + level)
    old = {_find(parent, lv) for lv in range(m) if degrees[lv] or copies[lv]}
    new = {_find(parent, m + lv) for lv in range(m) if copies[lv]}
    closing = old - new
    if closing:
        # A component that ends here is the finished tour: nothing else may exist.
        if len(old) > 1 or new:
            return None
        return ((0,) * m, (0,) * m, True)
    new_labels = _normalise(
        tuple(_find(parent, m + lv) + 1 if copies[lv] else 0 for lv in range(m))
    )
    return (copies, new_labels, False)


def _add(cls: int, deg: int) -> int:
    if deg == 0:
        return cls
    return 1 if (cls % 2 + deg) % 2 else 2


@lru_cache(maxsize=1 << 18)
def _vertical(state: State, lo: int, hi: int, cover: Cover) -> State | None:
    """The state after covering a segment between levels lo and hi of the current column."""
    degrees, labels, closed = state
    va, vb, joins = cover
    if closed:
        return state if not va and not vb else None
    if not va and not vb:
        return state
    new_deg = list(degrees)
    new_deg[lo] = _add(degrees[lo], va)
    new_deg[hi] = _add(degrees[hi], vb)
    lab = list(labels)
    fresh = max(lab) + 1
    if va and not lab[lo]:
        lab[lo] = fresh
        fresh += 1
    if vb and not lab[hi]:
        lab[hi] = fresh
    if joins and lab[lo] != lab[hi]:
        old = lab[hi]
        lab = [lab[lo] if v == old else v for v in lab]
    return (tuple(new_deg), _normalise(tuple(lab)), False)


def _finish_ok(state: State, required: int) -> bool:
    degrees, labels, closed = state
    if closed:
        return not required
    if any(d == 1 for d in degrees):
        return False
    if any(required >> lv & 1 and d == 0 for lv, d in enumerate(degrees)):
        return False
    return len({v for v in labels if v}) <= 1


def _covers(seg: _Segment) -> list[tuple[Cover, float]]:
    length = seg.length
    ys = [y for y, _ in seg.picks]
    if not ys:
        return [(_NONE, 0.0), (_TRAVERSE, length), (_TRAVERSE2, 2 * length)]
    out = [
        (_TRAVERSE, length),
        (_TRAVERSE2, 2 * length),
        (_FRONT, 2 * ys[-1]),
        (_BACK, 2 * (length - ys[0])),
    ]
    if len(ys) > 1:
        gap = max(b - a for a, b in pairwise(ys))
        out.append((_GAP, 2 * (length - gap)))
    return out


def _gap_index(seg: _Segment) -> int:
    ys = [y for y, _ in seg.picks]
    return max(range(len(ys) - 1), key=lambda i: (ys[i + 1] - ys[i], -i))


class _Model:
    """The sweep's view of a layout and a pick list."""

    def __init__(self, graph: TravelGraph, nodes: Sequence[int]) -> None:
        self.ok = True
        self.extra = 0.0  # spur lengths, walked twice each
        coords = graph.nodes
        self.levels = sorted(graph.cross_aisles)
        level_of = {_key(y): i for i, y in enumerate(self.levels)}
        m = len(self.levels)
        self.m = m
        on_cross: dict[int, tuple[int, float]] = {}
        self.span: list[tuple[float, float]] = []
        for i, y in enumerate(self.levels):
            ids = graph.cross_aisles[y]
            for n in ids:
                on_cross[n] = (i, coords[n].x)
            self.span.append((coords[ids[0]].x, coords[ids[-1]].x))
        xs: set[float] = {_key(coords[graph.depot].x)}
        segments: list[tuple[float, _Segment]] = []
        in_aisle: dict[int, tuple[_Segment, float]] = {}
        for ids in graph.aisles.values():
            front, back = coords[ids[0]], coords[ids[-1]]
            seg = _Segment(
                lo=level_of[_key(front.y)],
                hi=level_of[_key(back.y)],
                length=back.y - front.y,
            )
            segments.append((_key(front.x), seg))
            xs.add(_key(front.x))
            for n in ids[1:-1]:
                in_aisle[n] = (seg, coords[n].y - front.y)
        # Place every stop: a pick point in an aisle or a required vertex on a cross aisle.
        placed_cross: list[tuple[float, int, int]] = []
        for n in dict.fromkeys(nodes):
            at = n
            if at not in on_cross and at not in in_aisle:
                adj = graph.adjacency[at]
                if len(adj) != 1:
                    self.ok = False
                    return
                at, spur = adj[0]
                self.extra += 2 * spur
            if at in on_cross:
                level, x = on_cross[at]
                placed_cross.append((_key(x), level, n))
                xs.add(_key(x))
            elif at in in_aisle:
                seg, offset = in_aisle[at]
                seg.picks.append((offset, n))
            else:
                self.ok = False
                return
        self.columns = [_Column(x) for x in sorted(xs)]
        index = {c.x: k for k, c in enumerate(self.columns)}
        for x, seg in segments:
            seg.picks.sort()
            self.columns[index[x]].segments.append(seg)
        for col in self.columns:
            col.segments.sort(key=lambda s: s.lo)
        for x, level, n in placed_cross:
            self.columns[index[x]].required.setdefault(level, []).append(n)
        depot = coords[graph.depot]
        self.depot = (index[_key(depot.x)], level_of[_key(depot.y)])
        self.columns[self.depot[0]].required.setdefault(self.depot[1], [])

    def has_piece(self, k: int, level: int) -> bool:
        """Whether cross aisle `level` runs from column k to column k + 1."""
        lo, hi = self.span[level]
        return lo <= self.columns[k].x + _EPS and self.columns[k + 1].x <= hi + _EPS

    def required_mask(self, k: int) -> int:
        mask = 0
        for level in self.columns[k].required:
            mask |= 1 << level
        return mask


@lru_cache(maxsize=1 << 16)
def _h_moves(
    state: State, allowed: int, required: int
) -> tuple[tuple[State, tuple[int, ...], int], ...]:
    """Every (next state, copies per level, copies in all) from `state` to the next column."""
    degrees = state[0]
    choices: list[tuple[int, ...]] = [()]
    for level, d in enumerate(degrees):
        if not allowed >> level & 1:
            opts: tuple[int, ...] = (0,)
        else:
            opts = (1,) if d == 1 else (0, 2)
        choices = [(*c, h) for c in choices for h in opts]
    out = []
    for copies in choices:
        after = _horizontal(state, copies, required)
        if after is not None:
            out.append((after, copies, sum(copies)))
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def _v_moves(
    state: State, lo: int, hi: int, covers: tuple[Cover, ...]
) -> tuple[tuple[State, int], ...]:
    """Every (next state, index into `covers`) for one aisle segment."""
    out = []
    for i, cover in enumerate(covers):
        after = _vertical(state, lo, hi, cover)
        if after is not None:
            out.append((after, i))
    return tuple(out)


Layer = dict[State, tuple[float, State | None, object]]
# A phase of the sweep: ("h", column, width, allowed levels, required levels) moves to the next
# column; ("v", column, segment, covers, costs) covers one aisle segment of the column.
Phase = tuple[Any, ...]


def _phases(model: _Model) -> list[Phase]:
    """The phases in sweep order."""
    m = model.m
    columns = model.columns
    phases: list[Phase] = []
    for k, col in enumerate(columns):
        if k:
            allowed = sum(1 << lv for lv in range(m) if model.has_piece(k - 1, lv))
            width = col.x - columns[k - 1].x
            phases.append(("h", k, width, allowed, model.required_mask(k - 1)))
        for seg in col.segments:
            options = _covers(seg)
            covers = tuple(c for c, _ in options)
            phases.append(("v", k, seg, covers, [c for _, c in options]))
    return phases


def solve_grid(graph: TravelGraph, nodes: Sequence[int]) -> GridTour | None:
    """The optimal tour from the depot through the stop nodes `nodes` and back, or None when a
    stop is not on the aisle/cross-aisle network or a spur off it."""
    model = _Model(graph, nodes)
    if not model.ok:
        return None
    m = model.m
    phases = _phases(model)
    start: State = ((0,) * m, (0,) * m, False)
    layers: list[Layer] = [{start: (0.0, None, None)}]
    for phase in phases:
        layer = layers[-1]
        nxt: Layer = {}
        if phase[0] == "h":
            _kind, _k, width, allowed, required = phase
            for state, (base, _p, _c) in layer.items():
                for state2, copies, n in _h_moves(state, allowed, required):
                    total = base + n * width
                    old = nxt.get(state2)
                    if old is None or total < old[0] - 1e-12:
                        nxt[state2] = (total, state, copies)
        else:
            _kind, _k, seg, covers, costs = phase
            lo, hi = seg.lo, seg.hi
            for state, (base, _p, _c) in layer.items():
                for state2, j in _v_moves(state, lo, hi, covers):
                    total = base + costs[j]
                    old = nxt.get(state2)
                    if old is None or total < old[0] - 1e-12:
                        nxt[state2] = (total, state, covers[j])
        layers.append(nxt)
    required = model.required_mask(len(model.columns) - 1)
    cost, state = min((v[0], s) for s, v in layers[-1].items() if _finish_ok(s, required))
    return GridTour(_rebuild(model, layers, phases, state), cost + model.extra)


def _rebuild(model: _Model, layers: list[Layer], phases: list[Phase], state: State) -> list[int]:
    """The stops in the order an Euler circuit of the chosen multigraph first reaches them."""
    edges: list[tuple[object, object]] = []

    def chain(points: list[object], copies: int) -> None:
        for a, b in pairwise(points):
            edges.extend([(a, b)] * copies)

    for i in range(len(phases) - 1, -1, -1):
        _cost, prev, choice = layers[i + 1][state]
        k = phases[i][1]
        if phases[i][0] == "v":
            seg = phases[i][2]
            front, back = ("V", k, seg.lo), ("V", k, seg.hi)
            picks: list[object] = [("P", n) for _, n in seg.picks]
            if choice == _TRAVERSE:
                chain([front, *picks, back], 1)
            elif choice == _TRAVERSE2:
                chain([front, *picks, back], 2)
            elif choice == _FRONT:
                chain([front, *picks], 2)
            elif choice == _BACK:
                chain([back, *picks[::-1]], 2)
            elif choice == _GAP:
                cut = _gap_index(seg)
                chain([front, *picks[: cut + 1]], 2)
                chain([back, *picks[cut + 1 :][::-1]], 2)
        else:
            assert isinstance(choice, tuple)
            for level, h in enumerate(choice):
                edges.extend([(("V", k - 1, level), ("V", k, level))] * h)
        assert prev is not None
        state = prev
    stops_at: dict[object, list[int]] = {}
    for k, col in enumerate(model.columns):
        for level, nodes in col.required.items():
            stops_at[("V", k, level)] = nodes
    return euler_first_visits(edges, ("V", *model.depot), stops_at)
