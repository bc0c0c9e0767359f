"""Clients' picking rules in allocation (docs/client-rules.md): FEFO with a minimum remaining
shelf life at the promised ship date, blocked lots, one lot per line; house orders as before;
a rule change only affects later allocations; ATP leaves out what the rules never let out;
short picks re-allocate under the same rules."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from picking_support import (
    Picker,
    gs1,
    gtin13,
    make_task,
    pick_events,
    picking_site,
    put_stock,
)
from picking_support import make_order as make_pick_order
from test_fulfillment_orders import FACE, FACE2, RESERVE, RESERVE2, load_site, order_body, stock

from edge_server.services import Services
from edge_server.wms import clients
from edge_server.wms.items import upsert_item, validate_item
from edge_server.wms.outbound import allocation, orders
from edge_server.wms.outbound.allocation import LotRules, allocate_order, availability, plan
from protocols.clients import ClientIn
from protocols.outbound import FulfillmentOrderIn

from conftest import assert_response, login_as
from factories import make_client

SKU = "CMILK"  # ACME's expiry-tracked item


def own_item(services: Services, sku: str, owner: str, **fields: Any) -> None:
    with services.db.write() as w:
        item, _ = validate_item(
            {"sku": sku, "description": f"Item {sku}", "owner": owner, **fields}
        )
        upsert_item(w, item)


def set_rules(services: Services, code: str, **picking: Any) -> None:
    current = clients.get_client(services.db, code)
    body = ClientIn.model_validate(
        {"name": current["name"], "picking": picking, "branding": current["branding"]}
    )
    with services.db.write() as w:
        clients.put_client(w, code, body)


@pytest.fixture
def site(services: Services) -> Services:
    load_site(services)
    make_client(services.db, "ACME")
    own_item(services, SKU, "ACME", lot_tracked=True, expiry_tracked=True)
    return services


def put(services: Services, number: str, sku: str, qty: int, **overrides: Any) -> None:
    body = FulfillmentOrderIn.model_validate(
        order_body([{"line_no": 1, "sku": sku, "qty": qty}], **overrides)
    )
    with services.db.write() as w:
        orders.put_order(w, "CHI", number, body)


def allocate(services: Services, number: str) -> dict[str, Any]:
    with services.db.write() as w:
        return allocate_order(w, "CHI", number)


def lots(services: Services, number: str) -> list[tuple[str, str, int]]:
    order = orders.get_order(services.db, "CHI", number)
    assert order is not None
    return [(a["location"], a["lot"], a["qty"]) for a in order["lines"][0]["allocations"]]


def in_days(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


# -- shelf life ------------------------------------------------------------------------------
def test_fefo_skips_a_lot_with_too_little_shelf_life_left(site: Services) -> None:
    set_rules(site, "ACME", min_shelf_life_days=30)
    stock(site, FACE, SKU, 10, lot="SOON", expires_in=10)  # FEFO's first, but too short
    stock(site, RESERVE, SKU, 4, lot="MID", expires_in=40)
    stock(site, FACE2, SKU, 10, lot="LATE", expires_in=90)
    put(site, "SO-1", SKU, 6, promised_ship_date=None)
    assert allocate(site, "SO-1")["outcome"] == "allocated"
    assert lots(site, "SO-1") == [(RESERVE, "MID", 4), (FACE2, "LATE", 2)]


def test_the_shelf_life_counts_from_the_promised_ship_date(site: Services) -> None:
    set_rules(site, "ACME", min_shelf_life_days=30)
    stock(site, FACE, SKU, 10, lot="MID", expires_in=40)  # 40 days today, 20 at shipping
    stock(site, FACE2, SKU, 10, lot="LATE", expires_in=90)
    put(site, "SO-1", SKU, 3, promised_ship_date=in_days(20))
    allocate(site, "SO-1")
    assert lots(site, "SO-1") == [(FACE2, "LATE", 3)]
    # A ship date already past counts as today.
    put(site, "SO-2", SKU, 3, promised_ship_date=(date.today() - timedelta(days=5)).isoformat())
    allocate(site, "SO-2")
    assert lots(site, "SO-2") == [(FACE, "MID", 3)]


def test_an_order_with_no_lot_long_enough_is_backordered_and_nothing_reserved(
    site: Services,
) -> None:
    set_rules(site, "ACME", min_shelf_life_days=60)
    stock(site, FACE, SKU, 10, lot="SOON", expires_in=30)
    put(site, "SO-1", SKU, 2, promised_ship_date=None)
    result = allocate(site, "SO-1")
    assert result["outcome"] == "backordered"
    assert result["lines"][0]["qty_short"] == 2
    assert lots(site, "SO-1") == []


# -- blocked lots ----------------------------------------------------------------------------
def test_a_blocked_lot_is_never_allocated(site: Services) -> None:
    set_rules(site, "ACME", blocked_lots=["RECALL"])
    stock(site, FACE, SKU, 10, lot="RECALL", expires_in=20)
    stock(site, RESERVE, SKU, 10, lot="OK", expires_in=60)
    put(site, "SO-1", SKU, 12, promised_ship_date=None)
    result = allocate(site, "SO-1")
    assert result["outcome"] == "backordered"
    assert lots(site, "SO-1") == [(RESERVE, "OK", 10)]


# -- one lot per line ------------------------------------------------------------------------
def test_single_lot_per_line_takes_the_first_lot_that_covers_the_line(site: Services) -> None:
    set_rules(site, "ACME", single_lot_per_line=True)
    stock(site, FACE, SKU, 4, lot="EARLY", expires_in=10)  # too little for the line
    stock(site, FACE2, SKU, 3, lot="MID", expires_in=20)  # two bins of MID: 3 + 5
    stock(site, RESERVE2, SKU, 5, lot="MID", expires_in=20)
    stock(site, RESERVE, SKU, 20, lot="LATE", expires_in=90)
    put(site, "SO-1", SKU, 7, promised_ship_date=None)
    assert allocate(site, "SO-1")["outcome"] == "allocated"
    assert lots(site, "SO-1") == [(FACE2, "MID", 3), (RESERVE2, "MID", 4)]


def test_single_lot_per_line_waits_when_no_lot_covers_it(site: Services) -> None:
    set_rules(site, "ACME", single_lot_per_line=True)
    stock(site, FACE, SKU, 4, lot="A", expires_in=10)
    stock(site, FACE2, SKU, 4, lot="B", expires_in=20)
    put(site, "SO-1", SKU, 6, promised_ship_date=None)
    result = allocate(site, "SO-1")
    assert result["outcome"] == "backordered"
    assert result["lines"][0]["qty_short"] == 6
    assert lots(site, "SO-1") == []
    # More of lot B arrives: the next allocation serves the whole line from it.
    stock(site, RESERVE, SKU, 2, lot="B", expires_in=20)
    assert allocate(site, "SO-1")["outcome"] == "allocated"
    assert lots(site, "SO-1") == [(FACE2, "B", 4), (RESERVE, "B", 2)]


def test_the_rest_of_a_part_allocated_single_lot_line_comes_from_its_lot(site: Services) -> None:
    stock(site, FACE, SKU, 4, lot="A", expires_in=10)
    put(site, "SO-1", SKU, 6, promised_ship_date=None)
    assert allocate(site, "SO-1")["outcome"] == "backordered"  # 4 of A, no rule yet
    set_rules(site, "ACME", single_lot_per_line=True)
    stock(site, FACE2, SKU, 10, lot="B", expires_in=5)  # earlier, but another lot
    assert allocate(site, "SO-1")["outcome"] == "unchanged"
    stock(site, RESERVE, SKU, 2, lot="A", expires_in=10)
    assert allocate(site, "SO-1")["outcome"] == "allocated"
    assert lots(site, "SO-1") == [(FACE, "A", 4), (RESERVE, "A", 2)]


def test_plan_is_pure_and_keeps_rank_order() -> None:
    def cand(code: str, lot: str, expiry: str | None, free: int) -> allocation.Candidate:
        return allocation.Candidate(1, code, "pick_face", lot, "", expiry, 0, 0, free)

    cands = [
        cand("X", "L1", "2030-01-01", 2),
        cand("Y", "L2", "2030-02-01", 5),
        cand("Z", "L3", None, 9),
    ]
    rules = LotRules(earliest_expiry="2030-01-15", blocked=frozenset({"L2"}), single_lot=True)
    assert [(c.location_code, q) for c, q in plan(cands, 4, fefo=True, rules=rules)] == [("Z", 4)]
    assert plan(cands, 10, fefo=True, rules=rules) == []
    free = [(c.location_code, q) for c, q in plan(cands, 4, fefo=True)]
    assert free == [("X", 2), ("Y", 2)]


# -- the house and rule changes --------------------------------------------------------------
def test_house_orders_ignore_client_rules(site: Services) -> None:
    set_rules(
        site, "ACME", min_shelf_life_days=100, blocked_lots=["SOON"], single_lot_per_line=True
    )
    stock(site, FACE, "MILK-1L", 2, lot="SOON", expires_in=3)
    stock(site, RESERVE, "MILK-1L", 5, lot="LATE", expires_in=30)
    put(site, "SO-H", "MILK-1L", 4, promised_ship_date=in_days(2))
    assert allocate(site, "SO-H")["outcome"] == "allocated"
    assert lots(site, "SO-H") == [(FACE, "SOON", 2), (RESERVE, "LATE", 2)]
    assert availability(site.db, "CHI", "MILK-1L") == {
        "sku": "MILK-1L",
        "on_hand": 7,
        "allocated": 4,
        "available": 3,
        "elsewhere": 0,
        "blocked": 0,
    }


def test_a_rule_change_affects_later_allocations_only(site: Services) -> None:
    stock(site, FACE, SKU, 10, lot="SOON", expires_in=10)
    stock(site, RESERVE, SKU, 10, lot="LATE", expires_in=90)
    put(site, "SO-1", SKU, 3, promised_ship_date=None)
    allocate(site, "SO-1")
    assert lots(site, "SO-1") == [(FACE, "SOON", 3)]
    set_rules(site, "ACME", min_shelf_life_days=30)
    # SO-1 keeps what it holds (allocating again changes nothing) ...
    assert allocate(site, "SO-1")["outcome"] == "unchanged"
    assert lots(site, "SO-1") == [(FACE, "SOON", 3)]
    # ... a later order goes by the new rule.
    put(site, "SO-2", SKU, 3, promised_ship_date=None)
    allocate(site, "SO-2")
    assert lots(site, "SO-2") == [(RESERVE, "LATE", 3)]


# -- what the OMS is told is available -------------------------------------------------------
def test_atp_leaves_out_lots_the_client_rules_never_let_out(site: Services, edge: Any) -> None:
    set_rules(site, "ACME", min_shelf_life_days=30, blocked_lots=["RECALL"])
    stock(site, FACE, SKU, 5, lot="SOON", expires_in=10)
    stock(site, FACE2, SKU, 7, lot="RECALL", expires_in=90)
    stock(site, RESERVE, SKU, 20, lot="LATE", expires_in=90)
    put(site, "SO-1", SKU, 4, promised_ship_date=None)
    allocate(site, "SO-1")
    found = availability(site.db, "CHI", SKU)
    assert found == {
        "sku": SKU,
        "on_hand": 20,
        "allocated": 4,
        "available": 16,
        "elsewhere": 0,
        "blocked": 12,
    }
    levels, _ = allocation.availability_snapshot(site.db, "CHI", [SKU, "MILK-1L"])
    assert levels == {SKU: 16, "MILK-1L": 0}
    # The SOON lot was held before the rule (a later rule change): not counted against ATP.
    set_rules(site, "ACME", min_shelf_life_days=0)
    put(site, "SO-2", SKU, 5, promised_ship_date=None)
    allocate(site, "SO-2")
    set_rules(site, "ACME", min_shelf_life_days=30, blocked_lots=["RECALL"])
    assert availability(site.db, "CHI", SKU)["available"] == 16  # type: ignore[index]
    assert allocation.availability_snapshot(site.db, "CHI", [SKU])[0] == {SKU: 16}
    who = login_as(site, "integration")
    resp = edge.get("/api/v1/inventory/availability", params={"sku": SKU}, headers=who.headers)
    assert assert_response(resp, 200)["available"] == 16


# -- short picks re-allocate under the same rules --------------------------------------------
def client_pick_site(services: Services, **picking: Any) -> None:
    """TEA-1 (lot-tracked) is ACME's; SO-1 wants 5, allocated from lot L1 in A01-01-1L."""
    picking_site(services)
    make_client(services.db, "ACME", picking=picking)
    own_item(services, "TEA-1", "ACME", gtin=gtin13("TEA-1"), lot_tracked=True)
    put_stock(services, "A01-01-1L", "TEA-1", 5, lot="L1")


def short_at_first_bin(edge: Any, services: Services, found: int) -> dict[str, Any]:
    picker = Picker(edge, login_as(services, "picker"))
    picker.claim()
    picker.bind("TOTE-0001")
    picker.step("scan-bin", {"barcode": picker.view["line"]["bin"]})
    picker.step("scan-item", {"barcode": gtin13("TEA-1")})
    picker.step("short", {"qty_found": found, "barcode": "TOTE-0001"})
    [short] = pick_events(services, "short")
    return dict(short["detail"])


def test_a_short_pick_does_not_reallocate_a_blocked_lot(edge: Any, services: Services) -> None:
    client_pick_site(services, blocked_lots=["BAD"])
    order = make_pick_order(services, "SO-1", [("TEA-1", 5)])
    put_stock(services, "A03-03-1R", "TEA-1", 10, lot="BAD")
    make_task(services, [order])
    detail = short_at_first_bin(edge, services, found=2)
    assert detail["reallocated"] == [] and detail["backordered"] == 3


def test_a_short_pick_of_a_single_lot_line_stays_in_its_lot(edge: Any, services: Services) -> None:
    client_pick_site(services, single_lot_per_line=True)
    order = make_pick_order(services, "SO-1", [("TEA-1", 5)])
    put_stock(services, "A03-03-1R", "TEA-1", 3, lot="L1")
    put_stock(services, "A02-01-1L", "TEA-1", 10, lot="L2")
    make_task(services, [order])
    detail = short_at_first_bin(edge, services, found=2)
    assert detail["reallocated"] == [{"bin": "A03-03-1R", "lot": "L1", "qty": 3}]
    assert detail["backordered"] == 0


def test_a_single_lot_line_short_of_its_lot_is_backordered(edge: Any, services: Services) -> None:
    client_pick_site(services, single_lot_per_line=True)
    order = make_pick_order(services, "SO-1", [("TEA-1", 5)])
    put_stock(services, "A03-03-1R", "TEA-1", 2, lot="L1")  # not enough of L1 for the 3
    put_stock(services, "A02-01-1L", "TEA-1", 10, lot="L2")  # a house order would take it
    make_task(services, [order])
    detail = short_at_first_bin(edge, services, found=2)
    assert detail["reallocated"] == [] and detail["backordered"] == 3


def test_a_blocked_lot_is_no_substitute(edge: Any, services: Services) -> None:
    client_pick_site(services, blocked_lots=["BAD"])
    order = make_pick_order(services, "SO-1", [("TEA-1", 3)])
    put_stock(services, "A01-01-1L", "TEA-1", 5, lot="BAD")  # same bin, free
    put_stock(services, "A01-01-1L", "TEA-1", 5, lot="L9")
    make_task(services, [order])
    picker = Picker(edge, login_as(services, "picker"))
    picker.claim()
    picker.bind("TOTE-0001")
    picker.step("scan-bin", {"barcode": "A01-01-1L"})
    resp = picker.post("scan-item", {"barcode": gs1("TEA-1", lot="BAD")})
    assert_response(resp, 409, code="PICK_WRONG_LOT")
    held = services.db.query("SELECT lot, qty FROM allocations")
    assert held == [{"lot": "L1", "qty": 3}]  # nothing changed
    answer = picker.step("scan-item", {"barcode": gs1("TEA-1", lot="L9")})
    assert answer["message"]["code"] == "PICK_LOT_SUBSTITUTED"


def test_a_short_pick_of_a_house_order_reallocates_any_lot(edge: Any, services: Services) -> None:
    picking_site(services)
    make_client(services.db, "ACME", picking={"blocked_lots": ["BAD"]})
    put_stock(services, "A01-01-1L", "TEA-1", 5, lot="L1")
    order = make_pick_order(services, "SO-1", [("TEA-1", 5)])
    put_stock(services, "A03-03-1R", "TEA-1", 10, lot="BAD")
    make_task(services, [order])
    detail = short_at_first_bin(edge, services, found=2)
    assert detail["reallocated"] == [{"bin": "A03-03-1R", "lot": "BAD", "qty": 3}]
