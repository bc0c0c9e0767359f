"""Packing to the dock: cartons sealed with labels and tracking, ship confirm, the
`shipment.created` event, wrong items reported later, and the refusals that change nothing."""

import pytest
from packing_support import (
    Packer,
    Pick,
    events,
    gs1,
    gtin13,
    pack_events,
    picked_order,
    put_order,
    setup_site,
    snapshot,
    stock_item,
    stock_rows,
)

from edge_server.wms.ledger import check_ledger
from edge_server.wms.outbound.pick_kpi import picking_kpi
from edge_server.wms.outbound.shipping import wrong_shipments_summary
from protocols.barcodes import parse_scan

from conftest import assert_response, login_as


@pytest.fixture
def site(services):
    setup_site(services)
    return services


@pytest.fixture
def packer(site, edge):
    return Packer(edge, login_as(site, "packer"))


def zone_order(site, number="SO-1"):
    """MUG-1 ×2 and TEA-1 ×3 (lot L1) in TOTE-0001 from zone A; MILK-1 ×1 (lot M1) in
    TOTE-0002 from zone COLD."""
    stock_item(site.db, "MUG-1", 10)
    stock_item(site.db, "TEA-1", 10, lot="L1")
    stock_item(site.db, "MILK-1", 10, lot="M1")
    return picked_order(
        site.db,
        number,
        [("MUG-1", 2), ("TEA-1", 3), ("MILK-1", 1)],
        [
            Pick(1, "TOTE-0001", zone="A"),
            Pick(2, "TOTE-0001", zone="A"),
            Pick(3, "TOTE-0002", zone="COLD"),
        ],
        strategy="zone",
    )


def pack_in_two_cartons(packer, printer=None):
    """Carton 1: MUG-1 ×2 and TEA-1 ×3 from TOTE-0001; carton 2: MILK-1 from TOTE-0002."""
    packer.step("start", {"barcode": "TOTE-0001"})
    packer.step("scan", {"barcode": gtin13("MUG-1")})
    packer.step("scan", {"barcode": gtin13("MUG-1")})
    packer.step("scan", {"barcode": gs1("TEA-1", lot="L1", count=3)})
    close = {"carton_type": "BOX-L", "weight_kg": 5.5} | ({"printer": printer} if printer else {})
    first = packer.step("close-carton", close)
    packer.step("scan", {"barcode": "TOTE-0002"})
    packer.step("scan", {"barcode": gs1("MILK-1", lot="M1")})
    last = packer.step("close-carton", {"carton_type": "BOX-S", "weight_kg": 1.3})
    return first, last


def confirm(edge, who, number="SO-1", key=None):
    return edge.post(f"/api/v1/shipments/{number}/confirm", json={}, headers=who.with_key(key))


def test_two_totes_two_cartons_labels_tracking_ship_confirm_and_the_event(site, edge, packer):
    zone_order(site)
    first, last = pack_in_two_cartons(packer)
    assert first["next_state"] == "scan_item"
    assert first["message"]["code"] == "PACK_CARTON_SEALED"
    sealed = first["data"]["scan_item"]["sealed"]
    assert sealed["carton_no"] == 1 and sealed["tracking"] and sealed["carton_type"] == "BOX-L"
    assert parse_scan("]C1" + "00" + sealed["sscc"]).sscc == sealed["sscc"]
    assert last["next_state"] == "done"
    assert last["message"]["code"] == "PACK_ORDER_PACKED"
    done = last["data"]["done"]
    assert done["status"] == "packed" and done["units"] == 6
    c1, c2 = done["cartons"]
    assert c1["tracking"] != c2["tracking"] and c1["sscc"] != c2["sscc"]
    # The totes are empty; the goods lie in the station under each carton's SSCC.
    rows = stock_rows(site.db)
    assert not [k for k in rows if k[3].startswith("TOTE-")]
    assert rows[("PACK-01", "MUG-1", "", c1["sscc"])] == 2
    assert rows[("PACK-01", "TEA-1", "L1", c1["sscc"])] == 3
    assert rows[("PACK-01", "MILK-1", "M1", c2["sscc"])] == 1
    changed = events(site.db, "fulfillment_order.changed")
    assert changed[-1] == {"site": "CHI", "number": "SO-1", "status": "packed", "outcome": "packed"}
    assert check_ledger(site.db).ok

    sup = login_as(site, "supervisor")
    view = assert_response(confirm(edge, packer.who, key="ship-1"), 200)["shipment"]
    assert view["status"] == "shipped"
    (shipment,) = events(site.db, "shipment.created")
    assert shipment == {
        "site": "CHI",
        "number": "SO-1",
        "carrier_service": "GROUND",
        "shipped_at": view["shipped_at"],
        "cartons": [
            {
                "sscc": c1["sscc"],
                "tracking": c1["tracking"],
                "carton_type": "BOX-L",
                "weight_kg": 5.5,
                "contents": [
                    {"sku": "MUG-1", "lot": "", "qty": 2},
                    {"sku": "TEA-1", "lot": "L1", "qty": 3},
                ],
            },
            {
                "sscc": c2["sscc"],
                "tracking": c2["tracking"],
                "carton_type": "BOX-S",
                "weight_kg": 1.3,
                "contents": [{"sku": "MILK-1", "lot": "M1", "qty": 1}],
            },
        ],
        "lines": [
            {"line_no": 1, "sku": "MUG-1", "qty_ordered": 2, "qty_shipped": 2, "qty_short": 0},
            {"line_no": 2, "sku": "TEA-1", "qty_ordered": 3, "qty_shipped": 3, "qty_short": 0},
            {"line_no": 3, "sku": "MILK-1", "qty_ordered": 1, "qty_shipped": 1, "qty_short": 0},
        ],
    }
    assert events(site.db, "fulfillment_order.changed")[-1]["status"] == "shipped"
    # The stock left the building: nothing in the station, every ship movement on the books.
    assert not [k for k in stock_rows(site.db) if k[0] == "PACK-01"]
    ships = site.db.query("SELECT ref, qty FROM movements WHERE type = 'ship'")
    assert sorted(r["qty"] for r in ships) == [1, 2, 3] and {r["ref"] for r in ships} == {"SO-1"}
    assert check_ledger(site.db).ok
    # Anyone with orders.read sees the cartons, tracking and contents.
    got = assert_response(edge.get("/api/v1/shipments/SO-1", headers=sup.headers), 200)
    assert [c["tracking"] for c in got["cartons"]] == [c1["tracking"], c2["tracking"]]
    assert {c["status"] for c in got["cartons"]} == {"shipped"}


def test_ship_confirm_is_idempotent_and_shipping_twice_is_refused(site, edge, packer):
    zone_order(site)
    pack_in_two_cartons(packer)
    first = confirm(edge, packer.who, key="ship-same")
    assert first.status_code == 200
    after = snapshot(site.db)
    replay = confirm(edge, packer.who, key="ship-same")
    assert replay.status_code == 200 and replay.json() == first.json()
    twice = confirm(edge, packer.who)
    assert_response(twice, 409, code="SHIP_ALREADY_SHIPPED")
    assert snapshot(site.db) == after
    assert len(events(site.db, "shipment.created")) == 1


def test_an_order_not_packed_or_cancelled_is_not_shipped(site, edge, packer):
    zone_order(site)
    packer.step("start", {"barcode": "TOTE-0001"})
    packer.step("scan", {"barcode": gtin13("MUG-1")})
    packer.step("close-carton", {"carton_type": "BOX-S", "weight_kg": 1.5})  # one of three
    stock_item(site.db, "CUP-1", 5)
    put_order(site.db, "SO-9", [("CUP-1", 1)])
    sup = login_as(site, "supervisor")
    edge.post("/api/v1/fulfillment-orders/SO-9/cancel", headers=sup.with_key())
    before = snapshot(site.db)
    resp = confirm(edge, packer.who)
    assert_response(resp, 409, code="SHIP_NOT_PACKED")
    assert resp.json()["message"]["details"]["status"] == "picking"
    assert_response(confirm(edge, sup, "SO-9"), 409, code="SHIP_ORDER_CANCELLED")
    assert_response(confirm(edge, sup, "SO-404"), 404, code="FO_NOT_FOUND")
    assert snapshot(site.db) == before
    picker = login_as(site, "picker")
    assert_response(confirm(edge, picker), 403, code="FORBIDDEN_ROLE")


def test_a_short_pick_packs_and_ships_what_was_picked(site, edge, packer):
    stock_item(site.db, "MUG-1", 10)
    stock_item(site.db, "CUP-1", 10)
    picked_order(
        site.db,
        "SO-6",
        [("MUG-1", 3), ("CUP-1", 1)],
        [Pick(1, "TOTE-0010", picked=2), Pick(2, "TOTE-0010")],
    )
    packer.step("start", {"order": "SO-6"})
    packer.step("scan", {"barcode": gtin13("MUG-1"), "qty": 2})
    packer.step("scan", {"barcode": gtin13("CUP-1")})
    done = packer.step("close-carton", {"carton_type": "BOX-S", "weight_kg": 3.2})
    assert done["next_state"] == "done"
    assert_response(confirm(edge, packer.who, "SO-6"), 200)
    (shipment,) = events(site.db, "shipment.created")
    assert shipment["lines"] == [
        {"line_no": 1, "sku": "MUG-1", "qty_ordered": 3, "qty_shipped": 2, "qty_short": 1},
        {"line_no": 2, "sku": "CUP-1", "qty_ordered": 1, "qty_shipped": 1, "qty_short": 0},
    ]
    assert check_ledger(site.db).ok


def test_a_packed_order_cannot_be_packed_again(site, packer):
    zone_order(site)
    pack_in_two_cartons(packer)
    before = snapshot(site.db)
    assert_response(packer.post("start", {"order": "SO-1"}), 409, code="PACK_ORDER_CLOSED")
    assert_response(packer.post("start", {"barcode": "TOTE-0001"}), 404, code="PACK_TOTE_UNKNOWN")
    assert_response(
        packer.post("scan", {"barcode": gtin13("MUG-1")}), 409, code="PACK_SESSION_CLOSED"
    )
    assert snapshot(site.db) == before


def test_the_shipping_label_is_queued_and_sent_to_the_printer(live_edge, site):
    from label_helpers import FakePrinter

    printer = FakePrinter().start()
    try:
        zone_order(site)
        sup = login_as(site, "supervisor")
        with live_edge.client() as http:
            assert_response(
                http.put(
                    "/api/v1/printers/pack1",
                    json={"host": "127.0.0.1", "port": printer.port},
                    headers=sup.with_key(),
                ),
                200,
            )
            first, _ = pack_in_two_cartons(Packer(http, login_as(site, "packer")), "pack1")
        sealed = first["data"]["scan_item"]["sealed"]
        assert sealed["print_job_id"]
        (job,) = printer.wait_for(1, timeout=10)
        assert job.startswith(b"^XA")
        assert sealed["tracking"].encode() in job and sealed["sscc"].encode() in job
        row = site.db.query_one(
            "SELECT label, ref, status FROM print_jobs WHERE id = ?", [sealed["print_job_id"]]
        )
        assert row["label"] == "shipping" and row["ref"] == sealed["sscc"]
    finally:
        printer.stop()


@pytest.fixture
def settings(tmp_path):
    from conftest import make_settings

    return make_settings(tmp_path, printer_allow_loopback=True, printer_timeout_seconds=2.0)


def test_a_carrier_refusal_rolls_the_seal_back(site, packer):
    zone_order(site)
    with site.db.write() as w:
        w.execute("UPDATE carrier_services SET active = 0")
    packer.step("start", {"barcode": "TOTE-0001"})
    packer.step("scan", {"barcode": gtin13("MUG-1")})
    before = snapshot(site.db)
    resp = packer.post("close-carton", {"carton_type": "BOX-S", "weight_kg": 1.5})
    assert_response(resp, 422, code="CARRIER_SERVICE_UNKNOWN")
    assert snapshot(site.db) == before


# -- wrong items shipped (reported later through returns) --------------------------------------
def test_wrong_items_reported_after_shipping_count_in_the_accuracy_figures(site, edge, packer):
    zone_order(site)
    stock_item(site.db, "SPOON-1", 2)
    packer.step("start", {"barcode": "TOTE-0001"})
    assert_response(packer.post("scan", {"barcode": gtin13("SPOON-1")}), 409)  # caught
    pack_in_two_cartons(packer)
    oms = login_as(site, "integration")
    before = snapshot(site.db)
    body = {"sku": "SPOON-1", "qty": 1, "note": "RMA-77: customer got a spoon"}
    assert_response(
        edge.post("/api/v1/shipments/SO-1/wrong-items", json=body, headers=oms.with_key()),
        409,
        code="SHIP_NOT_SHIPPED",
    )
    assert snapshot(site.db) == before
    assert_response(confirm(edge, oms), 200)
    resp = edge.post(
        "/api/v1/shipments/SO-1/wrong-items", json=body, headers=oms.with_key("wrong-1")
    )
    stored = assert_response(resp, 201)["wrong_items"]
    replay = edge.post(
        "/api/v1/shipments/SO-1/wrong-items", json=body, headers=oms.with_key("wrong-1")
    )
    assert replay.json() == resp.json()
    assert stored["sku"] == "SPOON-1"
    before = snapshot(site.db)
    for bad, status, code in (
        ({"sku": "NOPE-1", "qty": 1}, 404, "UNKNOWN_ITEM"),
        ({"sku": "SPOON-1", "qty": 0}, 422, "VALIDATION_FAILED"),
        ({"sku": "SPOON-1"}, 422, "VALIDATION_FAILED"),
    ):
        resp = edge.post("/api/v1/shipments/SO-1/wrong-items", json=bad, headers=oms.with_key())
        assert_response(resp, status, code=code)
    assert_response(
        edge.post("/api/v1/shipments/SO-1/wrong-items", json=body, headers=packer.who.with_key()),
        403,
        code="FORBIDDEN_ROLE",
    )
    assert snapshot(site.db) == before
    view = assert_response(edge.get("/api/v1/shipments/SO-1", headers=oms.headers), 200)
    assert [(w["sku"], w["qty"]) for w in view["wrong_items"]] == [("SPOON-1", 1)]
    summary = wrong_shipments_summary(site.db, "CHI")
    assert summary == {
        "shipments": 1,
        "units_shipped": 6,
        "wrong_items_shipped": 1,
        "shipments_with_wrong_items": 1,
        "wrong_shipment_rate": 1.0,
        "pack_mis_scans_caught": 1,
        "pack_not_in_order": 1,
        "pack_over_scanned": 0,
    }
    assert ("not_in_order", "SPOON-1", 1) in pack_events(site.db)
    kpi = picking_kpi(site.db, "CHI")
    assert kpi["wrong_items_shipped"] == 1
    assert kpi["shipping"] == summary
