"""Closed tours over a symmetric distance matrix: exact (Held–Karp) and a local-search heuristic.

Node 0 is the depot; every tour starts and ends there. Tours are lists of node indices that
begin with 0 and do not repeat it at the end. Everything is plain Python on lists of floats:
the matrices here are small (one row per pick point plus the depot).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence

__all__ = [
    "HELD_KARP_MAX",
    "held_karp",
    "improve",
    "nearest_neighbour",
    "solve_heuristic",
    "tour_length",
]

Matrix = Sequence[Sequence[float]]
# Held–Karp costs 2^n · n² steps: n = 12 is about half a second in pure Python.
HELD_KARP_MAX = 13
_KICK_WINDOW = 20
_SEGMENTS: tuple[int, ...] = (1, 2, 3)
_CHAINS = 1  # independent ILS chains; 2–3 measured no better at the same kick budget
_EPS = 1e-9


def tour_length(d: Matrix, tour: Sequence[int]) -> float:
    """Length of the closed tour (back to tour[0] at the end)."""
    if len(tour) < 2:
        return 0.0
    total = 0.0
    prev = tour[-1]
    for node in tour:
        total += d[prev][node]
        prev = node
    return total


def held_karp(d: Matrix) -> tuple[list[int], float]:
    """The optimal closed tour through every node, starting at 0 (exact, O(2^n · n²))."""
    m = len(d)
    if m <= 1:
        return [0] * m, 0.0
    n = m - 1  # nodes 1..n as bits 0..n-1
    if n > HELD_KARP_MAX:
        raise ValueError(f"Held–Karp is limited to {HELD_KARP_MAX} nodes besides the depot")
    full = 1 << n
    inf = float("inf")
    # cost[mask][j]: shortest path from the depot through `mask`, ending at node j+1 (in mask).
    cost = [[inf] * n for _ in range(full)]
    parent = [[-1] * n for _ in range(full)]
    for j in range(n):
        cost[1 << j][j] = d[0][j + 1]
    for mask in range(1, full):
        row = cost[mask]
        for j in range(n):
            cj = row[j]
            if cj == inf:
                continue
            dj = d[j + 1]
            for k in range(n):
                bit = 1 << k
                if mask & bit:
                    continue
                nmask = mask | bit
                c = cj + dj[k + 1]
                if c < cost[nmask][k]:
                    cost[nmask][k] = c
                    parent[nmask][k] = j
    last_row = cost[full - 1]
    best_j = min(range(n), key=lambda j: last_row[j] + d[j + 1][0])
    best = last_row[best_j] + d[best_j + 1][0]
    order: list[int] = []
    mask, j = full - 1, best_j
    while j != -1:
        order.append(j + 1)
        pj = parent[mask][j]
        mask ^= 1 << j
        j = pj
    order.reverse()
    return [0, *order], best


def nearest_neighbour(d: Matrix, start: int = 0) -> list[int]:
    """A tour built by always walking to the nearest unvisited node (rotated to start at 0)."""
    m = len(d)
    left = set(range(m))
    left.discard(start)
    tour = [start]
    here = start
    while left:
        row = d[here]
        here = min(left, key=row.__getitem__)
        left.discard(here)
        tour.append(here)
    k = tour.index(0)
    return tour[k:] + tour[:k]


def _neighbour_lists(d: Matrix, k: int) -> list[list[int]]:
    m = len(d)
    return [sorted((j for j in range(m) if j != i), key=d[i].__getitem__)[:k] for i in range(m)]


def _local_search(d: Matrix, tour: list[int], near: list[list[int]], active: Sequence[int]) -> None:
    """2-opt and Or-opt (segments of 1–3, either way round) with neighbour lists and
    don't-look bits: only nodes in `active`, and the ends of edges a move changes, are tried.
    The tour is a cycle here; where it starts does not matter."""
    m = len(tour)
    pos = [0] * m
    for i, node in enumerate(tour):
        pos[node] = i
    queue = deque(active)
    queued = [False] * m
    for v in queue:
        queued[v] = True

    def wake(*nodes: int) -> None:
        for v in nodes:
            if not queued[v]:
                queued[v] = True
                queue.append(v)

    def reverse(i: int, j: int) -> None:
        """Reverse the cyclic stretch from position i to j (or, equivalently, the rest)."""
        if i > j:
            i, j = j + 1, i - 1
        if i < j:
            tour[i : j + 1] = tour[i : j + 1][::-1]
            for k in range(i, j + 1):
                pos[tour[k]] = k

    while queue:
        v = queue.popleft()
        queued[v] = False
        moved = False
        # 2-opt: v with its successor, then with its predecessor.
        for step in (1, -1):
            a = v
            b = tour[(pos[a] + step) % m]
            dab = d[a][b]
            for c in near[a]:
                dac = d[a][c]
                if dac >= dab - _EPS:
                    break
                e = tour[(pos[c] + step) % m]
                if c == b or e == a:
                    continue
                if dac + d[b][e] - dab - d[c][e] < -_EPS:
                    if step == 1:
                        reverse(pos[b], pos[c])
                    else:
                        reverse(pos[c], pos[b])
                    wake(a, b, c, e)
                    moved = True
                    break
            if moved:
                break
        if moved:
            continue
        # Or-opt: the segment of 1–3 nodes starting (or ending) at v moves elsewhere.
        for seg_len in _SEGMENTS:
            if seg_len > m - 3:
                break
            for step in (1, -1) if seg_len > 1 else (1,):
                iv = pos[v]
                i = iv if step == 1 else (iv - seg_len + 1) % m
                last = (i + seg_len - 1) % m
                p = tour[(i - 1) % m]
                s0 = tour[i]
                s1 = tour[last]
                n = tour[(last + 1) % m]
                removed = d[p][s0] + d[s1][n] - d[p][n]
                if removed <= _EPS:
                    continue
                best = -_EPS
                best_a = -1
                best_rev = False
                for c in (*near[s0], *near[s1]):
                    j = pos[c]
                    for e in (j - 1, j):
                        e %= m
                        if (e - i + 1) % m <= seg_len:
                            continue  # an edge touching the segment
                        a = tour[e]
                        b = tour[(e + 1) % m]
                        dab = d[a][b]
                        fwd = d[a][s0] + d[s1][b] - dab - removed
                        rev = d[a][s1] + d[s0][b] - dab - removed
                        if fwd < best:
                            best, best_a, best_rev = fwd, a, False
                        if rev < best:
                            best, best_a, best_rev = rev, a, True
                if best_a >= 0:
                    seg = [tour[(i + k) % m] for k in range(seg_len)]
                    rest = [tour[(last + 1 + k) % m] for k in range(m - seg_len)]
                    k = rest.index(best_a)
                    b_after = rest[(k + 1) % len(rest)]
                    if best_rev:
                        seg.reverse()
                    tour[:] = rest[: k + 1] + seg + rest[k + 1 :]
                    for idx, node in enumerate(tour):
                        pos[node] = idx
                    wake(p, n, s0, s1, best_a, b_after)
                    moved = True
                    break
            if moved:
                break


def _rotate_to_depot(tour: list[int]) -> list[int]:
    z = tour.index(0)
    return tour[z:] + tour[:z]


def improve(d: Matrix, tour: list[int], near: list[list[int]] | None = None) -> list[int]:
    """2-opt and Or-opt until neither finds an improvement (a local optimum of both)."""
    if len(tour) < 4:
        return tour
    if near is None:
        near = _neighbour_lists(d, 10)
    _local_search(d, tour, near, list(tour))
    return _rotate_to_depot(tour)


def _double_bridge(tour: list[int], rng: random.Random) -> tuple[list[int], list[int]]:
    """A random double-bridge kick, and the nodes at the edges it changed."""
    m = len(tour)
    if m > 3 * _KICK_WINDOW:
        # Local kick: the three cuts lie close together, which suits warehouse tours (a
        # random kick across the whole tour is almost always undone or much worse).
        a = rng.randrange(1, m - _KICK_WINDOW)
        b, c = sorted(rng.sample(range(a + 1, a + _KICK_WINDOW + 1), 2))
    else:
        a, b, c = sorted(rng.sample(range(1, m), 3))
    kicked = tour[:a] + tour[b:c] + tour[a:b] + tour[c:]
    touched = {tour[i % m] for x in (a, b, c, m) for i in (x - 1, x)}
    return kicked, sorted(touched)


def _kicks(m: int) -> int:
    return min(100, 4 * m)


def solve_heuristic(
    d: Matrix,
    starts: Sequence[Sequence[int]] = (),
    *,
    kicks: int | None = None,
    seed: int = 0,
) -> tuple[list[int], float]:
    """A good closed tour from 0: local search (2-opt + Or-opt) from each start tour and from
    nearest neighbour, then iterated local search (double-bridge kicks) on the best.

    Deterministic for a given `seed`. The result is never longer than any of `starts`."""
    m = len(d)
    if m <= 3:
        tour = list(range(m))
        return tour, tour_length(d, tour)
    near = _neighbour_lists(d, min(8, m - 1))
    candidates = [nearest_neighbour(d)] + [list(s) for s in starts]
    optima: list[tuple[float, list[int]]] = []
    for start in candidates:
        tour = improve(d, list(start), near)
        optima.append((tour_length(d, tour), tour))
    optima.sort(key=lambda o: o[0])
    best_len, best = optima[0]
    if m <= 5:
        return best, best_len
    rng = random.Random(seed)
    rounds = kicks if kicks is not None else _kicks(m)
    # A few independent chains (from the best distinct local optima) are more robust than one
    # long chain, which tends to stay in one basin.
    chains = [tour for _, tour in optima[:_CHAINS]]
    for c, start in enumerate(chains):
        current, current_len = start, tour_length(d, start)
        for _ in range(rounds // len(chains) + (c < rounds % len(chains))):
            tour, touched = _double_bridge(current, rng)
            _local_search(d, tour, near, touched)
            tour = _rotate_to_depot(tour)
            length = tour_length(d, tour)
            if length <= current_len + _EPS:  # sideways moves help across plateaus
                current, current_len = tour, length
                if length < best_len - _EPS:
                    best, best_len = list(tour), length
    return best, best_len
