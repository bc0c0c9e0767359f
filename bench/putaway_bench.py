"""Directed putaway and velocity slotting against a worker's own choice, over a simulated month.

Layout: 3 stacked blocks × 10 aisles × 15 bays × 2 sides × 4 levels = 3,600 bins of 40 litres
and at most 3 SKUs each; one receiving dock in front. 600 SKUs: A 20% of SKUs / 80% of picks,
B 30% / 15%, C 50% / 5%. Day 0 stocks every SKU (not measured); then 22 working days of
orders (1–5 lines) and receipts (an LPN whenever a SKU falls below its reorder point).

The same event stream runs under three putaway policies:
- directed: `edge_server.wms.putaway.slotting.choose_bin` (the server's rules, position = dock);
- random bin with room: a worker picks any storage bin that has room for the LPN;
- nearest bin with room: a worker walks from the dock to the first bin with room.

Putaway travel per task: dock → bin → dock along the travel graph (Dijkstra).
Picking travel per order: depot → each pick point → depot, visiting the pick points in
nearest-neighbour order (a heuristic tour, the same for every policy). Each line is picked
from the bin holding the SKU nearest the depot.
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge_server.db import Database
from edge_server.wms import ledger
from edge_server.wms.distances import TravelDistances
from edge_server.wms.items import upsert_items, validate_item
from edge_server.wms.layout import Layout
from edge_server.wms.layout_store import load_layout
from edge_server.wms.ledger import StockKey
from edge_server.wms.putaway import tasks
from edge_server.wms.putaway.slotting import BinState, ItemProfile, choose_bin, room_for

SEED = 20240601
DAYS = 22
ORDERS_PER_DAY = 150
N_SKUS = 600
BIN_LITRES = 40.0
DOCK = "DOCK-01"
CLAIM = 0.30  # "directed putaway runs 30% faster than letting workers choose"

LAYOUT: dict[str, Any] = {
    "site": "CHI",
    "depot": {"x": 0.0},
    "blocks": [
        {
            "id": block,
            "x": 1.5,
            "y": 30.0 * i,
            "aisles": 10,
            "aisle_pitch": 3.0,
            "length": 30.0,
            "bays": 15,
            "levels": 4,
            "reserve_from_level": 3,
            "max_volume_cm3": BIN_LITRES * 1000,
            "max_skus": 3,
        }
        for i, block in enumerate("ABC")
    ],
    "areas": [
        {
            "zone": "DOCK",
            "type": "receiving_dock",
            "bins": [{"code": DOCK, "x": 15.0, "y": -6.0}],
        }
    ],
}


def make_items(rng: random.Random) -> list[ItemProfile]:
    items = []
    for i in range(N_SKUS):
        velocity = "A" if i < N_SKUS * 0.2 else "B" if i < N_SKUS * 0.5 else "C"
        items.append(
            ItemProfile(
                item_id=i + 1,
                sku=f"SKU-{i + 1:04}",
                velocity=velocity,
                unit_volume_cm3=rng.uniform(500, 4000),
                unit_weight_kg=rng.uniform(0.2, 3.0),
            )
        )
    return items


def pick_weights(items: list[ItemProfile]) -> list[float]:
    share = {"A": 0.80, "B": 0.15, "C": 0.05}
    count = {v: sum(1 for i in items if i.velocity == v) for v in share}
    return [share[i.velocity] / count[i.velocity] for i in items]


Policy = Callable[[ItemProfile, int, list[BinState]], tuple[BinState | None, int]]


class Sim:
    def __init__(self, layout: Layout, travel: TravelDistances, items: list[ItemProfile]) -> None:
        self.travel = travel
        self.items = {i.item_id: i for i in items}
        storage = [b for b in layout.bins if b.type in ("pick_face", "reserve")]
        self.bins = [
            BinState(
                location_id=n,
                code=b.code,
                type=b.type,
                max_volume_cm3=b.max_volume_cm3,
                max_skus=b.max_skus,
            )
            for n, b in enumerate(storage)
        ]
        self.by_code = {b.code: b for b in self.bins}
        depot = travel.from_depot()
        self.depot_m = {b.code: depot[travel.node(b.code)] for b in self.bins}
        dock = travel.from_node(travel.node(DOCK))
        self.dock_m = {b.code: dock[travel.node(b.code)] for b in self.bins}
        self.where: dict[int, dict[str, int]] = defaultdict(dict)  # item -> bin -> qty
        self.putaway_m: list[float] = []
        self.suggest_s: list[float] = []
        self.order_m: list[float] = []
        self.short_lines = 0

    # -- stock bookkeeping --------------------------------------------------------------------
    def put(self, item: ItemProfile, b: BinState, qty: int) -> None:
        b.item_ids.add(item.item_id)
        b.lots[(item.item_id, "")] = b.lots.get((item.item_id, ""), 0) + qty
        b.used_volume_cm3 += qty * (item.unit_volume_cm3 or 0)
        self.where[item.item_id][b.code] = self.where[item.item_id].get(b.code, 0) + qty

    def take(self, item: ItemProfile, code: str, qty: int) -> None:
        b = self.by_code[code]
        left = b.lots[(item.item_id, "")] - qty
        b.used_volume_cm3 -= qty * (item.unit_volume_cm3 or 0)
        if left:
            b.lots[(item.item_id, "")] = left
            self.where[item.item_id][code] = left
        else:
            del b.lots[(item.item_id, "")]
            b.item_ids.discard(item.item_id)
            del self.where[item.item_id][code]

    def on_hand(self, item_id: int) -> int:
        return sum(self.where[item_id].values())

    # -- putaway ----------------------------------------------------------------------------------
    def receive(self, item: ItemProfile, qty: int, policy: Policy, measure: bool) -> None:
        left = qty
        while left > 0:
            start = time.perf_counter()
            b, placed = policy(item, left, self.bins)
            if measure:
                self.suggest_s.append(time.perf_counter() - start)
            if b is None:
                return  # the warehouse is full for it; never happens at this fill
            self.put(item, b, placed)
            left -= placed
            if measure:
                self.putaway_m.append(2 * self.dock_m[b.code])

    # -- picking ----------------------------------------------------------------------------------
    def pick_order(self, lines: list[tuple[ItemProfile, int]]) -> None:
        stops: set[int] = set()
        for item, qty in lines:
            holding = sorted(self.where[item.item_id], key=lambda c: self.depot_m[c])
            if not holding:
                self.short_lines += 1
                continue
            for code in holding:
                if qty == 0:
                    break
                take = min(qty, self.where[item.item_id][code])
                self.take(item, code, take)
                stops.add(self.travel.node(code))
                qty -= take
        if stops:
            self.order_m.append(self.tour(stops))

    def tour(self, stops: set[int]) -> float:
        here, total, todo = self.travel.graph.depot, 0.0, set(stops)
        while todo:
            dist = self.travel.from_node(here)
            nxt = min(todo, key=lambda n: (dist[n], n))
            total += dist[nxt]
            todo.discard(nxt)
            here = nxt
        return total + self.travel.from_node(here)[self.travel.graph.depot]


def directed(sim: Sim) -> Policy:
    def policy(item: ItemProfile, qty: int, bins: list[BinState]) -> tuple[BinState | None, int]:
        s = choose_bin(
            item,
            qty,
            lot="",
            status="available",
            bins=bins,
            depot_m=sim.depot_m,
            travel_from=sim.dock_m.__getitem__,
            position=DOCK,
        )
        return (sim.by_code[s.bin.code], s.qty) if s.bin else (None, 0)

    return policy


def _fit(item: ItemProfile, qty: int, bins: list[BinState]) -> tuple[list[BinState], int]:
    """Bins with room for all of `qty`, else for as much as any bin takes."""
    rooms = [(b, room_for(item, b)) for b in bins]
    whole = [b for b, r in rooms if r is None or r >= qty]
    if whole:
        return whole, qty
    best = max((r or 0) for _, r in rooms)
    return [b for b, r in rooms if r == best and best > 0], best


def random_bin(rng: random.Random) -> Callable[[Sim], Policy]:
    def make(sim: Sim) -> Policy:
        def policy(
            item: ItemProfile, qty: int, bins: list[BinState]
        ) -> tuple[BinState | None, int]:
            pool, placed = _fit(item, qty, bins)
            return (rng.choice(pool), placed) if pool else (None, 0)

        return policy

    return make


def nearest_bin(sim: Sim) -> Policy:
    def policy(item: ItemProfile, qty: int, bins: list[BinState]) -> tuple[BinState | None, int]:
        pool, placed = _fit(item, qty, bins)
        if not pool:
            return None, 0
        return min(pool, key=lambda b: (sim.dock_m[b.code], b.code)), placed

    return policy


def simulate(layout: Layout, travel: TravelDistances, make_policy: Callable[[Sim], Policy]) -> Sim:
    rng = random.Random(SEED)  # the same orders and receipts for every policy
    items = make_items(rng)
    weights = pick_weights(items)
    sim = Sim(layout, travel, items)
    policy = make_policy(sim)
    # Day 0: ~10 days of demand on hand, at most a quarter bin per SKU per LPN.
    daily_units = ORDERS_PER_DAY * 3 * 2
    stock_target = {
        i.item_id: max(4, math.ceil(w * daily_units * 10))
        for i, w in zip(items, weights, strict=True)
    }
    lpn_cap = {
        i.item_id: max(1, int(BIN_LITRES * 1000 * 0.5 // (i.unit_volume_cm3 or 1))) for i in items
    }
    for item in items:
        sim.receive(item, stock_target[item.item_id], policy, measure=False)
    for _day in range(DAYS):
        for _ in range(ORDERS_PER_DAY):
            n = rng.randint(1, 5)
            chosen = rng.choices(items, weights=weights, k=n)
            lines = [(i, rng.randint(1, 3)) for i in dict.fromkeys(chosen)]
            sim.pick_order(lines)
        for item in items:  # reorder point: 40% of the target
            if sim.on_hand(item.item_id) < 0.4 * stock_target[item.item_id]:
                qty = stock_target[item.item_id] - sim.on_hand(item.item_id)
                while qty > 0:  # one LPN holds at most half a bin
                    lpn = min(qty, lpn_cap[item.item_id])
                    sim.receive(item, lpn, policy, measure=True)
                    qty -= lpn
    return sim


def db_suggestions(layout: Layout, samples: int = 100) -> float:
    """Seconds per suggestion through the server's path (SQLite reads inside a write
    transaction + slotting), on the bench layout with 1,500 stocked bins."""
    rng = random.Random(SEED)
    items = make_items(rng)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.db")
        db.migrate()
        load_layout(db, layout, site="CHI")
        master = [
            validate_item(
                {
                    "sku": i.sku,
                    "description": f"Bench item {i.sku}",
                    "velocity": i.velocity,
                    "length_cm": round((i.unit_volume_cm3 or 1000) ** (1 / 3), 3),
                    "width_cm": round((i.unit_volume_cm3 or 1000) ** (1 / 3), 3),
                    "height_cm": round((i.unit_volume_cm3 or 1000) ** (1 / 3), 3),
                }
            )[0]
            for i in items
        ]
        with db.write() as w:
            upsert_items(w, master)
            ids = {r[1]: r[0] for r in w.execute("SELECT id, code FROM locations")}
            item_ids = {r[1]: r[0] for r in w.execute("SELECT id, sku FROM items")}
            storage = [b.code for b in layout.bins if b.type in ("pick_face", "reserve")]
            for code in rng.sample(storage, 1500):
                sku = rng.choice(items).sku
                ledger.receive(w, StockKey(ids[code], item_ids[sku]), 2)
        timings = []
        with db.write() as w:
            for _ in range(samples):
                item = tasks.item_profile(w, rng.choice(items).sku)
                start = time.perf_counter()
                tasks.suggest(w, "CHI", item, 3, position=DOCK)
                timings.append(time.perf_counter() - start)
        db.close()
    return statistics.median(timings)


def _change(ratio: float) -> str:
    """0.62 -> '38% less', 1.27 -> '27% more'."""
    return f"{1 - ratio:.0%} less" if ratio <= 1 else f"{ratio - 1:.0%} more"


def main() -> None:
    started = time.perf_counter()
    layout = Layout.parse(LAYOUT)
    travel = TravelDistances(layout)
    runs = {
        "directed": simulate(layout, travel, directed),
        "random bin with room": simulate(layout, travel, random_bin(random.Random(SEED + 1))),
        "nearest bin with room": simulate(layout, travel, nearest_bin),
    }
    ours = runs["directed"]
    print(
        f"layout: {len(ours.bins)} storage bins, {N_SKUS} SKUs, {DAYS} days × "
        f"{ORDERS_PER_DAY} orders (A 20% of SKUs / 80% of picks)"
    )
    print(f"{'policy':24} {'putaways':>8} {'m/putaway':>10} {'orders':>7} {'m/order':>8}")
    for name, sim in runs.items():
        print(
            f"{name:24} {len(sim.putaway_m):8} {statistics.mean(sim.putaway_m):10.1f} "
            f"{len(sim.order_m):7} {statistics.mean(sim.order_m):8.1f}"
        )
    put = statistics.mean(ours.putaway_m)
    pick = statistics.mean(ours.order_m)
    for name in ("random bin with room", "nearest bin with room"):
        base = runs[name]
        bput = statistics.mean(base.putaway_m)
        bpick = statistics.mean(base.order_m)
        print(
            f"vs {name}: putaway travel ratio {put / bput:.2f} ({_change(put / bput)}; "
            f"industry claim {CLAIM:.0%} less time), picking travel ratio {pick / bpick:.2f} "
            f"({_change(pick / bpick)})"
        )
    print(
        f"suggestion time: {statistics.median(ours.suggest_s) * 1e3:.2f} ms median in memory "
        f"(slotting over {len(ours.bins)} bins), "
        f"{db_suggestions(layout) * 1e3:.2f} ms median through SQLite"
    )
    print(f"short pick lines (stock-outs): directed {ours.short_lines}")
    print(f"bench time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
