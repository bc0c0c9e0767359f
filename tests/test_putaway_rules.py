"""Slotting: each rule of docs/putaway.md shown by a case, on a site built with the real
layout loader and item master."""

import threading

import pytest
from putaway_support import add_item, build_site, receive, stock

from edge_server.errors import AislewayError
from edge_server.wms import inventory
from edge_server.wms.distances import shortest_paths, site_travel
from edge_server.wms.ledger import Actor, check_ledger
from edge_server.wms.putaway import count_hook, tasks
from edge_server.wms.putaway.slotting import (
    BinState,
    ItemProfile,
    choose_bin,
    room_for,
    velocity_bands,
)
from protocols.inventory import MoveIn


@pytest.fixture
def site(fresh_db):
    build_site(fresh_db)
    return fresh_db


def putaway(db, sku, qty, *, lot="", status="available", location="DOCK-01", lpn=""):
    """Receive `qty` at the dock and create its putaway tasks; returns the task views."""
    receive(db, sku, qty, lot=lot, status=status, location=location, lpn=lpn)
    with db.write() as w:
        ids = tasks.create_putaway_tasks(
            w, "CHI", location=location, lpn=lpn, sku=sku, lot=lot, qty=qty, status=status
        )
        return [tasks.get_task(w, "CHI", i) for i in ids]


def location_type(db, code):
    return db.query_one("SELECT type FROM locations WHERE code = ?", [code])["type"]


def depot_m(db, code):
    return site_travel(db, "CHI").depot_to(code)


# -- travel distances --------------------------------------------------------------------------
def test_shortest_path_walks_the_aisles_not_through_racks(site):
    travel = site_travel(site, "CHI")
    # A01-01 is picked at (1.5, 1.0): 1.5 m along the front cross aisle, 1 m up aisle 1.
    assert travel.depot_to("A01-01-1L") == pytest.approx(2.5)
    # From the front of aisle 1 to the front of aisle 2 is down, across 3 m and up again.
    assert travel.between("A01-01-1L", "A02-01-1L") == pytest.approx(1 + 3 + 1)
    # Both sides and levels of a bay share a pick point.
    assert travel.between("A02-03-1L", "A02-03-2R") == 0
    graph = travel.graph
    assert shortest_paths(graph, graph.depot)[graph.depot] == 0


def test_unknown_position_is_a_clear_refusal(site):
    with pytest.raises(AislewayError) as err:
        site_travel(site, "CHI").between("A01-01-1L", "NOPE-01")
    assert err.value.code == "UNKNOWN_LOCATION"


# -- rule 1: zone ------------------------------------------------------------------------------
def test_available_stock_goes_to_storage_never_to_docks_packing_or_quarantine(site):
    add_item(site, "SKU-1", velocity="A")
    [task] = putaway(site, "SKU-1", 4)
    assert location_type(site, task["to_location"]) in {"pick_face", "reserve"}
    assert task["to_location"].startswith("A")
    for alt in task["alternates"]:
        assert location_type(site, alt["location"]) in {"pick_face", "reserve"}


@pytest.mark.parametrize("status", ["damaged", "quarantine"])
def test_damaged_or_quarantined_stock_goes_to_quarantine(site, status):
    add_item(site, "SKU-1", velocity="A")
    [task] = putaway(site, "SKU-1", 2, status=status)
    assert task["to_location"] == "QUAR-01"
    assert task["reason"].startswith(f"{status} stock goes to quarantine")


def test_chilled_items_go_to_chilled_bins_only(site):
    add_item(site, "MILK", temperature_class="chilled", velocity="A")
    [task] = putaway(site, "MILK", 3)
    assert task["to_location"].startswith("C0")
    assert all(a["location"].startswith("C0") for a in task["alternates"])


def test_hazardous_items_go_only_where_hazmat_is_allowed(site):
    add_item(site, "ACID", hazmat=True)
    [task] = putaway(site, "ACID", 3)
    assert task["to_location"] == "HAZ-01"
    assert task["alternates"] == []


def test_no_compatible_bin_leaves_the_task_for_a_supervisor(site):
    add_item(site, "ICE", temperature_class="frozen")
    [task] = putaway(site, "ICE", 3)
    assert task["to_location"] is None
    assert "no compatible bin for ICE" in task["reason"]


# -- rule 2: consolidation ---------------------------------------------------------------------
def test_same_item_and_lot_consolidates_even_far_away(site):
    add_item(site, "SKU-1", velocity="A", lot_tracked=True)
    receive(site, "SKU-1", 3, lot="L7")
    with site.write() as w:
        inventory.move(
            w,
            "CHI",
            MoveIn(from_location="DOCK-01", to_location="A04-05-1L", sku="SKU-1", qty=3, lot="L7"),
            Actor(),
        )
    [task] = putaway(site, "SKU-1", 2, lot="L7")
    assert task["to_location"] == "A04-05-1L"
    assert task["reason"].startswith("consolidates with 3 of SKU-1 lot L7 already in A04-05-1L")
    # Another lot of the same item is not consolidated there: velocity decides.
    [other] = putaway(site, "SKU-1", 2, lot="L8")
    assert other["to_location"] != "A04-05-1L"
    assert "consolidates" not in other["reason"]


def test_consolidation_only_where_capacity_allows(site):
    add_item(site, "SKU-1", velocity="A")
    receive(site, "SKU-1", 9)
    with site.write() as w:
        inventory.move(
            w,
            "CHI",
            MoveIn(from_location="DOCK-01", to_location="A04-05-1L", sku="SKU-1", qty=9),
            Actor(),
        )
    [task] = putaway(site, "SKU-1", 2)  # 9 + 2 litres > 10 litres
    assert task["to_location"] != "A04-05-1L"


# -- rule 3: velocity --------------------------------------------------------------------------
def test_a_items_go_near_the_depot_and_c_items_far(site):
    add_item(site, "FAST", velocity="A")
    add_item(site, "MID", velocity="B")
    add_item(site, "SLOW", velocity="C")
    [fast] = putaway(site, "FAST", 2)
    [mid] = putaway(site, "MID", 2)
    [slow] = putaway(site, "SLOW", 2)
    d = {t["sku"]: depot_m(site, t["to_location"]) for t in (fast, mid, slow)}
    assert d["FAST"] < d["MID"] < d["SLOW"]
    assert "A item, nearest third" in fast["reason"]
    assert "B item, middle third" in mid["reason"]
    assert "C item, farthest third" in slow["reason"]
    storage = [
        r["code"]
        for r in site.query("SELECT code FROM locations WHERE type IN ('pick_face', 'reserve')")
        if r["code"].startswith("A")
    ]
    # The bands are thirds of the active area: on an empty site, its nearest fifth.
    band = velocity_bands([depot_m(site, c) for c in storage], occupied=2)
    assert band(d["FAST"]) == 0 and band(d["MID"]) == 1 and band(d["SLOW"]) == 2
    assert max(d.values()) < sorted(depot_m(site, c) for c in storage)[len(storage) // 4]


def test_velocity_bands_are_thirds_by_rank():
    band = velocity_bands([1, 2, 3, 4, 5, 6])
    assert [band(x) for x in (1, 2, 3, 4, 5, 6)] == [0, 0, 1, 1, 2, 2]
    assert velocity_bands([])(5) == 0


def test_velocity_bands_cover_the_active_area_not_the_whole_building():
    """100 bins, 20 in use: the active area is the nearest 30 (1.5x); beyond it is far."""
    band = velocity_bands(list(range(100)), occupied=20)
    assert [band(x) for x in (0, 9, 10, 19, 20, 29, 30, 99)] == [0, 0, 1, 1, 2, 2, 2, 2]
    # an empty site still spreads A, B and C over its nearest fifth
    empty = velocity_bands(list(range(100)), occupied=0)
    assert [empty(x) for x in (0, 6, 7, 13, 14, 19)] == [0, 0, 1, 1, 2, 2]


# -- rule 4: capacity --------------------------------------------------------------------------
def test_volume_splits_a_quantity_over_bins_and_reserves_the_room(site):
    add_item(site, "BOX", velocity="A", length_cm=20)  # 2 litres: 5 fit in a 10-litre bin
    views = putaway(site, "BOX", 12)
    assert [t["qty"] for t in views] == [5, 5, 2]
    assert len({t["to_location"] for t in views}) == 3
    assert "HAZ-01" not in {t["to_location"] for t in views}  # unlimited, but kept for hazmat
    assert "room for 5 of 12" in views[0]["reason"]
    # Reserved, not yet moved: another 5 boxes must not be sent into the same first two bins.
    [again] = putaway(site, "BOX", 5)
    assert again["to_location"] not in {views[0]["to_location"], views[1]["to_location"]}


def test_weight_limits_a_bin(site):
    add_item(site, "LEAD", velocity="A", weight_kg=10, length_cm=1, width_cm=1, height_cm=1)
    views = putaway(site, "LEAD", 6)  # 50 kg a bin: 5 per bin
    assert [t["qty"] for t in views] == [5, 1]


def test_max_skus_counts_stock_and_open_tasks(site):
    for sku in ("X", "Y", "Z"):
        add_item(site, sku, velocity="A", length_cm=1, width_cm=1, height_cm=1)
    [x] = putaway(site, "X", 1)
    # X is not in its bin yet, only reserved: the bin already counts X as one of its SKUs.
    bin_code = x["to_location"]
    with site.write() as w:
        item_z = tasks.item_profile(w, "Z")
        bins = {b.code: b for b in tasks._candidate_bins(w, 1, item_z, "available", None)}
    assert bins[bin_code].item_ids == {tasks.item_profile(site.read, "X").item_id}
    [y] = putaway(site, "Y", 1)
    assert y["to_location"] == bin_code  # same best bin, second SKU allowed
    [z] = putaway(site, "Z", 1)
    assert z["to_location"] != bin_code  # a third SKU is one too many, stock or not


def test_room_for_counts_each_limit():
    item = ItemProfile(1, "S", unit_volume_cm3=1000, unit_weight_kg=2)
    b = BinState(1, "B", "pick_face", max_volume_cm3=10_000, max_weight_kg=9, max_skus=1)
    assert room_for(item, b) == 4  # weight: 9 kg / 2 kg
    b.item_ids.add(2)
    assert room_for(item, b) == 0  # another SKU already there
    unknown = ItemProfile(1, "S")
    assert room_for(unknown, BinState(2, "C", "reserve", max_volume_cm3=1)) is None


# -- rule 5: least travel ----------------------------------------------------------------------
def test_equal_bins_are_broken_by_travel_from_the_worker():
    item = ItemProfile(1, "S", velocity="A")
    bins = [BinState(i, code, "pick_face") for i, code in enumerate(["NEAR", "FAR"], 1)]
    depot = {"NEAR": 10.0, "FAR": 10.0}
    s = choose_bin(
        item,
        1,
        lot="",
        status="available",
        bins=bins,
        depot_m=depot,
        travel_from={"NEAR": 3.0, "FAR": 30.0}.__getitem__,
        position="DOCK-01",
    )
    assert s.bin is not None and s.bin.code == "NEAR"
    assert [a.code for a in s.alternates] == ["FAR"]
    assert s.reason.endswith("3 m from DOCK-01")
    flipped = choose_bin(
        item,
        1,
        lot="",
        status="available",
        bins=bins,
        depot_m=depot,
        travel_from={"NEAR": 30.0, "FAR": 3.0}.__getitem__,
    )
    assert flipped.bin is not None and flipped.bin.code == "FAR"


def test_the_dock_the_goods_wait_at_decides_between_equal_bins(site):
    add_item(site, "SKU-1", velocity="B")
    [left] = putaway(site, "SKU-1", 1, location="DOCK-01")
    [right] = putaway(site, "SKU-1", 1, location="DOCK-02")
    travel = site_travel(site, "CHI")
    assert travel.between("DOCK-01", left["to_location"]) <= travel.between(
        "DOCK-01", right["to_location"]
    )
    assert travel.between("DOCK-02", right["to_location"]) <= travel.between(
        "DOCK-02", left["to_location"]
    )


# -- tasks need the stock ----------------------------------------------------------------------
def test_tasks_cannot_claim_more_than_is_at_the_dock(site):
    add_item(site, "SKU-1")
    putaway(site, "SKU-1", 3)
    with pytest.raises(AislewayError) as err, site.write() as w:
        tasks.create_putaway_tasks(
            w, "CHI", location="DOCK-01", lpn="", sku="SKU-1", lot="", qty=1, status="available"
        )
    assert err.value.code == "INSUFFICIENT_STOCK"


# -- concurrency -------------------------------------------------------------------------------
def test_concurrent_putaways_never_overfill_a_bin(site):
    add_item(site, "BOX", velocity="A", length_cm=30)  # 3 litres: 3 fit in a bin
    receive(site, "BOX", 8 * 10)
    errors = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(10):
            try:
                with site.write() as w:
                    tasks.create_putaway_tasks(
                        w,
                        "CHI",
                        location="DOCK-01",
                        lpn="",
                        sku="BOX",
                        lot="",
                        qty=1,
                        status="available",
                    )
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    open_tasks = tasks.list_tasks(site, "CHI", kind="putaway", limit=1000)
    assert len(open_tasks) == 80
    with site.write() as w:
        for t in open_tasks:
            tasks.confirm_task(w, "CHI", t["id"], scan=t["to_location"])
    per_bin = site.query(
        "SELECT l.code, SUM(st.qty) AS q FROM stock st JOIN locations l ON l.id = st.location_id "
        "WHERE l.code != 'DOCK-01' GROUP BY l.code"
    )
    assert sum(r["q"] for r in per_bin) == 80
    assert max(r["q"] for r in per_bin) == 3  # filled up, never over
    assert stock(site, "DOCK-01", "BOX") == 0
    assert check_ledger(site).ok


# -- count hook --------------------------------------------------------------------------------
def test_every_nth_putaway_into_a_bin_requests_a_count_and_hooks_are_called(site):
    add_item(site, "SKU-1", velocity="A", lot_tracked=True)
    seen = []
    count_hook.on_putaway_confirmed.append(lambda w, event: seen.append(event))
    try:
        made = []
        for _ in range(4):
            [task] = putaway(site, "SKU-1", 1, lot="L1")
            with site.write() as w:
                out = tasks.confirm_task(
                    w, "CHI", task["id"], scan=task["to_location"], count_every_nth=2
                )
            made.append(out["count_request_id"])
    finally:
        count_hook.on_putaway_confirmed.clear()
    # All four consolidate into one bin: the 2nd and 4th putaway ask for a count (one open
    # request per bin, so the 4th finds the 2nd's).
    assert made[0] is None and made[2] is None
    assert made[1] is not None and made[3] == made[1]
    row = site.query_one("SELECT requested_by, reason FROM count_requests")
    assert row == {"requested_by": "putaway", "reason": "nth_putaway"}
    assert [e.qty for e in seen] == [1, 1, 1, 1]
    assert seen[0].location == task["to_location"] and seen[0].lot == "L1"
