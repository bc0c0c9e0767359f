"""Allocation: FEFO/FIFO ranking, pick faces before reserve, never blocked stock, shortage
backorders, and no over-allocation under concurrent orders."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from test_fulfillment_orders import (
    FACE,
    FACE2,
    FO,
    RESERVE,
    RESERVE2,
    events,
    load_site,
    order_body,
    stock,
)

from edge_server.services import Services
from edge_server.wms.outbound import allocation, orders
from edge_server.wms.outbound.allocation import Candidate, allocate_order, rank, take
from protocols.outbound import FulfillmentOrderIn

from conftest import Caller, assert_response


@pytest.fixture
def site(services: Services) -> Services:
    load_site(services)
    return services


def put(services: Services, number: str, sku: str, qty: int) -> None:
    body = FulfillmentOrderIn.model_validate(order_body([{"line_no": 1, "sku": sku, "qty": qty}]))
    with services.db.write() as w:
        orders.put_order(w, "CHI", number, body)


def allocate(services: Services, number: str) -> dict[str, Any]:
    with services.db.write() as w:
        return allocate_order(w, "CHI", number)


def allocations(services: Services, number: str) -> list[tuple[str, str, int]]:
    order = orders.get_order(services.db, "CHI", number)
    assert order is not None
    return [(a["location"], a["lot"], a["qty"]) for a in order["lines"][0]["allocations"]]


# -- the pure ranking --------------------------------------------------------------------------
def cand(
    code: str,
    kind: str,
    *,
    expiry: str | None = None,
    lot_age: int = 0,
    key_age: int = 0,
    free: int = 1,
    lot: str = "",
) -> Candidate:
    return Candidate(1, code, kind, lot, "", expiry, lot_age, key_age, free)


def test_rank_fefo_expiry_before_pick_face() -> None:
    ranked = rank(
        [
            cand("F", "pick_face", expiry="2030-03-01"),
            cand("R", "reserve", expiry="2030-02-01"),
            cand("N", "pick_face", expiry=None),
            cand("F2", "pick_face", expiry="2030-02-01"),
            cand("E", "pick_face", expiry="2030-01-01", free=0),
        ],
        fefo=True,
    )
    assert [c.location_code for c in ranked] == ["F2", "R", "F", "N"]


def test_rank_fifo_age_then_pick_face_then_key_age() -> None:
    ranked = rank(
        [
            cand("R-new", "reserve", lot_age=1, key_age=9),
            cand("F", "pick_face", lot_age=1, key_age=10),
            cand("R-old", "reserve", lot_age=1, key_age=2),
            cand("OLDLOT", "reserve", lot_age=0, key_age=50),
        ],
        fefo=False,
    )
    assert [c.location_code for c in ranked] == ["OLDLOT", "F", "R-old", "R-new"]
    assert [(c.location_code, q) for c, q in take(ranked, 2)] == [("OLDLOT", 1), ("F", 1)]


# -- against the database --------------------------------------------------------------------
def test_fefo_takes_the_earliest_expiry_even_from_reserve(site: Services) -> None:
    stock(site, FACE, "MILK-1L", 10, lot="LATE", expires_in=30)
    stock(site, RESERVE, "MILK-1L", 4, lot="EARLY", expires_in=5)
    stock(site, FACE2, "MILK-1L", 10, lot="GONE", expires_in=-1)  # expired: never allocated
    put(site, "SO-1", "MILK-1L", 6)
    result = allocate(site, "SO-1")
    assert result["outcome"] == "allocated"
    assert allocations(site, "SO-1") == [(RESERVE, "EARLY", 4), (FACE, "LATE", 2)]


def test_fefo_same_expiry_prefers_the_pick_face(site: Services) -> None:
    stock(site, RESERVE, "MILK-1L", 5, lot="A", expires_in=10)
    stock(site, FACE, "MILK-1L", 5, lot="B", expires_in=10)
    put(site, "SO-1", "MILK-1L", 6)
    allocate(site, "SO-1")
    assert allocations(site, "SO-1") == [(FACE, "B", 5), (RESERVE, "A", 1)]


def test_fifo_takes_the_oldest_lot_first(site: Services) -> None:
    stock(site, RESERVE, "TEE-M", 3, lot="OLD")
    stock(site, FACE, "TEE-M", 5, lot="NEW")
    put(site, "SO-1", "TEE-M", 4)
    allocate(site, "SO-1")
    assert allocations(site, "SO-1") == [(RESERVE, "OLD", 3), (FACE, "NEW", 1)]


def test_fifo_without_lots_pick_face_first_then_oldest_key(site: Services) -> None:
    stock(site, RESERVE2, "MUG-01", 3)  # oldest, but in reserve
    stock(site, RESERVE, "MUG-01", 3)
    stock(site, FACE, "MUG-01", 2)
    put(site, "SO-1", "MUG-01", 7)
    allocate(site, "SO-1")
    assert allocations(site, "SO-1") == [(FACE, "", 2), (RESERVE2, "", 3), (RESERVE, "", 2)]


def test_blocked_stock_and_wrong_locations_are_never_allocated(site: Services) -> None:
    stock(site, FACE, "MUG-01", 5, status="quarantine")
    stock(site, FACE, "MUG-01", 5, status="damaged")
    stock(site, "DOCK-01", "MUG-01", 5)
    stock(site, "STAGE-01", "MUG-01", 5)
    stock(site, "PACK-01", "MUG-01", 5)
    stock(site, "SHIP-01", "MUG-01", 5)
    stock(site, RESERVE, "MUG-01", 1)
    put(site, "SO-1", "MUG-01", 3)
    result = allocate(site, "SO-1")
    assert allocations(site, "SO-1") == [(RESERVE, "", 1)]
    assert result["outcome"] == "backordered"
    avail = allocation.availability(site.db, "CHI", "MUG-01")
    assert avail == {
        "sku": "MUG-01",
        "on_hand": 1,
        "allocated": 1,
        "available": 0,
        "elsewhere": 20,
        "blocked": 10,
    }


def test_shortage_backorders_and_a_later_allocation_fills(site: Services) -> None:
    stock(site, FACE, "MUG-01", 2)
    put(site, "SO-1", "MUG-01", 5)
    result = allocate(site, "SO-1")
    assert result["outcome"] == "backordered"
    assert result["lines"][0]["qty_short"] == 3
    assert events(site, "fulfillment_order.backordered") == [
        {"site": "CHI", "number": "SO-1", "lines": [{"line_no": 1, "sku": "MUG-01", "short": 3}]}
    ]
    order = orders.get_order(site.db, "CHI", "SO-1")
    assert order is not None and order["status"] == "backordered"
    assert order["lines"][0]["status"] == "short"
    assert allocate(site, "SO-1")["outcome"] == "unchanged"
    stock(site, RESERVE, "MUG-01", 10)
    assert allocate(site, "SO-1")["outcome"] == "allocated"
    assert allocations(site, "SO-1") == [(FACE, "", 2), (RESERVE, "", 3)]
    assert len(events(site, "fulfillment_order.backordered")) == 1


def test_two_orders_share_stock_without_over_allocating(site: Services) -> None:
    stock(site, FACE, "MUG-01", 5)
    put(site, "SO-1", "MUG-01", 3)
    put(site, "SO-2", "MUG-01", 3)
    allocate(site, "SO-1")
    result = allocate(site, "SO-2")
    assert result["lines"][0]["qty_allocated"] == 2 and result["lines"][0]["qty_short"] == 1


def test_the_trigger_refuses_an_allocation_beyond_stock(site: Services) -> None:
    import sqlite3

    stock(site, FACE, "MUG-01", 1)
    put(site, "SO-1", "MUG-01", 1)
    with pytest.raises(sqlite3.IntegrityError, match="exceeds stock"), site.db.write() as w:
        w.execute(
            "INSERT INTO allocations (order_line_id, location_id, item_id, lot, lpn, qty, "
            "created_at) SELECT fl.id, l.id, fl.item_id, '', '', 2, 'now' FROM fo_lines fl, "
            "locations l WHERE l.code = ?",
            [FACE],
        )


def test_concurrent_allocations_never_over_allocate(site: Services) -> None:
    stock(site, FACE, "MUG-01", 3)
    stock(site, RESERVE, "MUG-01", 2)
    numbers = [f"SO-{n}" for n in range(8)]
    for number in numbers:
        put(site, number, "MUG-01", 2)
    barrier = threading.Barrier(len(numbers))
    errors: list[BaseException] = []

    def run(number: str) -> None:
        try:
            barrier.wait()
            allocate(site, number)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in numbers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = site.db.query(
        "SELECT a.location_id, SUM(a.qty) AS allocated, st.qty AS on_hand FROM allocations a "
        "JOIN stock st ON st.location_id = a.location_id AND st.item_id = a.item_id "
        "AND st.status = 'available' GROUP BY a.location_id"
    )
    assert rows and all(r["allocated"] <= r["on_hand"] for r in rows)
    assert sum(r["allocated"] for r in rows) == 5
    shorts = sum(
        line["qty_short"]
        for n in numbers
        for line in (orders.get_order(site.db, "CHI", n) or {"lines": []})["lines"]
    )
    assert shorts == 8 * 2 - 5


def test_concurrent_http_allocations_for_the_last_units(
    live_edge: Any, site: Services, as_role: Any
) -> None:
    oms: Caller = as_role("integration")
    stock(site, FACE, "MUG-01", 1)
    with live_edge.client() as client:
        for number in ("SO-A", "SO-B"):
            body = order_body([{"line_no": 1, "sku": "MUG-01", "qty": 1}])
            assert_response(client.put(f"{FO}/{number}", json=body, headers=oms.with_key()), 201)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def run(number: str) -> None:
        with live_edge.client() as client:
            barrier.wait()
            resp = client.post(f"{FO}/{number}/allocate", headers=oms.with_key())
            outcomes[number] = assert_response(resp, 200)["outcome"]

    threads = [threading.Thread(target=run, args=(n,)) for n in ("SO-A", "SO-B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["allocated", "backordered"]
    assert site.db.query("SELECT SUM(qty) AS n FROM allocations")[0]["n"] == 1


def test_an_integration_key_can_allocate_over_http(edge: Any, site: Services, as_role: Any) -> None:
    oms: Caller = as_role("integration")
    stock(site, FACE, "MUG-01", 3)
    assert_response(edge.put(f"{FO}/SO-1", json=order_body(), headers=oms.with_key()), 201)
    data = assert_response(edge.post(f"{FO}/SO-1/allocate", headers=oms.with_key()), 200)
    assert data["outcome"] == "allocated"
    line = data["fulfillment_order"]["lines"][0]
    assert (line["qty_allocated"], line["qty_short"], line["status"]) == (3, 0, "allocated")
    resp = edge.get("/api/v1/inventory/availability", params={"sku": "NOPE"}, headers=oms.headers)
    assert_response(resp, 404, code="UNKNOWN_ITEM")


# -- allocated stock stays put ------------------------------------------------------------------
def _key(services: Services, code: str, sku: str) -> Any:
    from edge_server.wms.ledger import StockKey

    row = services.db.query_one(
        "SELECT l.id AS loc, i.id AS item FROM locations l, items i WHERE l.code = ? AND i.sku = ?",
        [code, sku],
    )
    assert row is not None
    return StockKey(location_id=row["loc"], item_id=row["item"])


def test_a_move_cannot_take_allocated_stock_but_may_take_the_free_rest(site: Services) -> None:
    from edge_server.errors import AislewayError
    from edge_server.wms import ledger
    from protocols.errors import ErrorCode

    stock(site, FACE, "MUG-01", 5)
    put(site, "SO-1", "MUG-01", 3)
    allocate(site, "SO-1")
    key = _key(site, FACE, "MUG-01")
    to = _key(site, FACE2, "MUG-01").location_id
    with pytest.raises(AislewayError) as err, site.db.write() as w:
        ledger.move(w, key, to, 3)
    assert err.value.code is ErrorCode.STOCK_ALLOCATED
    assert err.value.details == {"requested": 3, "on_hand": 5, "allocated": 3, "free": 2}
    assert ledger.on_hand(site.db, key) == 5
    with site.db.write() as w:  # the two free units may go
        ledger.move(w, key, to, 2)
    assert ledger.on_hand(site.db, key) == 3
    assert allocations(site, "SO-1") == [(FACE, "", 3)]


def test_the_trigger_refuses_taking_allocated_stock_behind_the_ledger(site: Services) -> None:
    import sqlite3

    stock(site, FACE, "MUG-01", 2)
    put(site, "SO-1", "MUG-01", 2)
    allocate(site, "SO-1")
    with pytest.raises(sqlite3.IntegrityError, match="allocated"), site.db.write() as w:
        w.execute("UPDATE stock SET qty = 1")


def test_allocation_leaves_stock_an_open_replenishment_is_moving(site: Services) -> None:
    from edge_server.wms.putaway.replenishment import set_rule

    stock(site, RESERVE, "MUG-01", 10)
    with site.db.write() as w:
        set_rule(w, "CHI", location=FACE, sku="MUG-01", min_qty=2, max_qty=6)
    put(site, "SO-1", "MUG-01", 10)
    result = allocate(site, "SO-1")
    assert result["lines"][0]["qty_allocated"] == 4  # 6 of the 10 are on their way to FACE


def test_replenishment_does_not_take_reserve_stock_orders_hold(site: Services) -> None:
    from edge_server.wms.putaway.replenishment import set_rule

    stock(site, RESERVE, "MUG-01", 10)
    put(site, "SO-1", "MUG-01", 7)
    allocate(site, "SO-1")
    with site.db.write() as w:
        set_rule(w, "CHI", location=FACE, sku="MUG-01", min_qty=2, max_qty=6)
    rows = site.db.query("SELECT qty FROM stock_tasks WHERE kind = 'replenish' AND status = 'open'")
    assert [r["qty"] for r in rows] == [3]  # 10 in reserve, 7 held by SO-1
