"""The returns scenario over HTTP: RMA label or tracking → item → quantity → condition; each
disposition's ledger effect and events, wrong items feeding the pick accuracy KPI, closing
with the refund event, and the refusals that change nothing."""

import pytest
from returns_support import (
    Receiver,
    events,
    gs1,
    gtin13,
    put_rma,
    rma_body,
    setup_site,
    shipped_order,
    snapshot,
    stock,
)

from edge_server.wms.ledger import check_ledger
from edge_server.wms.outbound.pick_kpi import picking_kpi
from protocols.barcodes import format_rma

from conftest import assert_response, login_as


@pytest.fixture
def site(services):
    setup_site(services)
    return services


@pytest.fixture
def oms(site):
    return login_as(site, "integration")


@pytest.fixture
def receiver(site, edge):
    return Receiver(edge, login_as(site, "receiver"))


def movements(db, ref):
    return [
        (r["type"], r["sku"], r["qty"], r["from_status"], r["to_status"])
        for r in db.query(
            "SELECT m.type, i.sku, m.qty, m.from_status, m.to_status FROM movements m "
            "JOIN items i ON i.id = m.item_id WHERE m.ref = ? ORDER BY m.id",
            [ref],
        )
    ]


def test_each_disposition_moves_stock_its_way_and_tells_the_oms(site, edge, oms, receiver):
    lines = [
        ("MUG-1", 2, "not_wanted"),  # new → restock
        ("CUP-1", 1, "not_wanted"),  # opened → refurbish
        ("SPOON-1", 1, "damaged"),  # new → quarantine
        ("TEA-1", 3, "defective"),  # damaged → scrap
    ]
    assert_response(put_rma(edge, oms, "R-10", rma_body(lines, tracking="1Z999AA10")), 201)
    start = receiver.step("start", {"barcode": format_rma("R-10")})
    assert start["next_state"] == "scan_item"
    view = start["data"]["scan_item"]
    assert view["rma"] == "R-10" and view["location"] == "RET-01" and len(view["lines"]) == 4

    restock = receiver.receive(gtin13("MUG-1"), 2, "new")
    assert restock["disposition"] == "restock" and restock["sellable_qty"] == 2
    assert stock(site.db, "RET-01", "MUG-1") == {"available": 2}
    tasks = site.db.query("SELECT * FROM stock_tasks WHERE ref = 'RMA R-10' ORDER BY id")
    assert [(t["kind"], t["stock_status"], t["qty"], t["status"]) for t in tasks] == [
        ("putaway", "available", 2, "open")
    ]
    assert restock["putaway_task_ids"] == [tasks[0]["id"]]

    env = receiver.step("scan", {"barcode": gtin13("CUP-1")})
    assert env["next_state"] == "set_quantity"
    env = receiver.step("quantity", {"qty": 1})
    # The screen can say what each grading leads to before the receiver presses it.
    assert env["data"]["set_condition"]["dispositions"] == {
        "new": "restock",
        "opened": "refurbish",
        "damaged": "quarantine",
    }
    refurbish = receiver.step("condition", {"condition": "opened"})
    assert refurbish["message"]["code"] == "RETURNS_RECEIVED"
    assert refurbish["data"]["scan_item"]["received"]["disposition"] == "refurbish"
    assert stock(site.db, "RET-01", "CUP-1") == {"quarantine": 1}

    quarantine = receiver.receive(gtin13("SPOON-1"), 1, "new")
    assert quarantine["disposition"] == "quarantine" and quarantine["sellable_qty"] == 0
    assert stock(site.db, "RET-01", "SPOON-1") == {"quarantine": 1}
    to_bin = site.db.query_one(
        "SELECT l.code FROM stock_tasks t JOIN locations l ON l.id = t.to_location_id "
        "WHERE t.id = ?",
        [quarantine["putaway_task_ids"][0]],
    )
    assert to_bin["code"] == "QUAR-01"

    scrap = receiver.receive(gs1("TEA-1", lot="L9", count=3), None, "damaged")
    assert scrap["disposition"] == "scrap" and scrap["lot"] == "L9"
    assert stock(site.db, "RET-01", "TEA-1") == {}

    assert movements(site.db, "RMA R-10") == [
        ("return", "MUG-1", 2, None, "available"),
        ("return", "CUP-1", 1, None, "quarantine"),
        ("return", "SPOON-1", 1, None, "quarantine"),
        ("return", "TEA-1", 3, None, "damaged"),
        ("disposition", "TEA-1", 3, "damaged", None),
    ]
    received = events(site.db, "return.received")
    assert [
        (e["sku"], e["qty"], e["condition"], e["disposition"], e["sellable_qty"]) for e in received
    ] == [
        ("MUG-1", 2, "new", "restock", 2),
        ("CUP-1", 1, "opened", "refurbish", 0),
        ("SPOON-1", 1, "new", "quarantine", 0),
        ("TEA-1", 3, "damaged", "scrap", 0),
    ]
    assert all(e["rma"] == "R-10" and e["order"] is None for e in received)
    changed = [e for e in events(site.db, "inventory.changed") if e["sku"] == "MUG-1"]
    assert changed[-1]["type"] == "return" and changed[-1]["available"] == 2

    done = receiver.step("close", {})
    assert done["next_state"] == "done" and done["message"]["code"] == "RETURNS_CLOSED"
    (closed,) = events(site.db, "return.closed")
    assert closed["rma"] == "R-10" and closed["complete"] is True
    assert (closed["units_received"], closed["units_sellable"]) == (7, 2)
    assert closed["lines"][0]["dispositions"] == {"restock": 2}
    ret = assert_response(edge.get("/api/v1/returns/R-10", headers=oms.headers), 200)
    assert ret["status"] == "closed" and len(ret["receipts"]) == 4
    assert check_ledger(site.db).ok


def test_the_return_label_tracking_opens_the_rma_and_a_short_close_needs_confirming(
    site, edge, oms, receiver
):
    body = rma_body([("MUG-1", 3, "not_wanted")], tracking="1Z999AA10123456784")
    assert_response(put_rma(edge, oms, "R-11", body), 201)
    for barcode, status, code in (
        ("1Z000000000000000", 404, "RETURNS_RMA_UNKNOWN"),
        (gtin13("MUG-1"), 422, "BARCODE_UNEXPECTED"),
        (format_rma("R-404"), 404, "RETURNS_RMA_UNKNOWN"),
    ):
        assert_response(receiver.post("start", {"barcode": barcode}), status, code=code)
    assert_response(receiver.post("start", {}), 422, code="VALIDATION_FAILED")
    env = receiver.step("start", {"barcode": "]C01Z999AA10123456784"})
    assert env["data"]["scan_item"]["rma"] == "R-11"
    receiver.receive(gtin13("MUG-1"), 1, "new")
    short = receiver.step("close", {})
    assert short["next_state"] == "confirm_close"
    assert short["message"]["code"] == "RETURNS_SHORT_LINES"
    assert short["data"]["confirm_close"]["short_lines"][0]["qty_open"] == 2
    assert events(site.db, "return.closed") == []
    done = receiver.step("close", {"confirm": True})
    assert done["next_state"] == "done"
    (closed,) = events(site.db, "return.closed")
    assert closed["complete"] is False and closed["units_received"] == 1
    # Closed: the parcel cannot be received again, by label or by tracking.
    before = snapshot(site.db)
    for start in ({"barcode": "RMA-R-11"}, {"rma": "R-11"}):
        assert_response(receiver.post("start", start), 409, code="RETURNS_RMA_CLOSED")
    assert_response(
        receiver.post("scan", {"barcode": gtin13("MUG-1")}), 409, code="RETURNS_SESSION_CLOSED"
    )
    assert snapshot(site.db) == before


def test_items_off_the_rma_and_too_many_units_are_refused_and_change_nothing(
    site, edge, oms, receiver
):
    assert_response(put_rma(edge, oms, "R-12", rma_body([("MUG-1", 2, "not_wanted")])), 201)
    receiver.step("start", {"rma": "R-12"})
    before = snapshot(site.db)
    for barcode, status, code in (
        (gtin13("CUP-1"), 409, "RETURNS_ITEM_NOT_ON_RMA"),
        (gs1("MUG-1", count=3), 409, "RETURNS_OVER_QTY"),
        ("4006381333931", 404, "UNKNOWN_ITEM"),
        ("A01-01-1L", 422, "BARCODE_UNEXPECTED"),
        ("4006381333932", 422, "BARCODE_CHECK_DIGIT"),
    ):
        assert_response(receiver.post("scan", {"barcode": barcode}), status, code=code)
    assert_response(
        receiver.post("condition", {"condition": "new"}), 409, code="RETURNS_WRONG_STEP"
    )
    assert_response(receiver.post("quantity", {"qty": 1}), 409, code="RETURNS_WRONG_STEP")
    assert snapshot(site.db) == before
    receiver.step("scan", {"barcode": gtin13("MUG-1")})
    before = snapshot(site.db)
    assert_response(receiver.post("quantity", {"qty": 3}), 409, code="RETURNS_OVER_QTY")
    assert_response(receiver.post("quantity", {"qty": 0}), 422, code="VALIDATION_FAILED")
    assert_response(
        receiver.post("condition", {"condition": "new"}), 409, code="RETURNS_WRONG_STEP"
    )
    assert snapshot(site.db) == before
    receiver.step("quantity", {"qty": 2})
    before = snapshot(site.db)
    assert_response(
        receiver.post("condition", {"condition": "mint"}), 422, code="VALIDATION_FAILED"
    )
    other = Receiver(edge, login_as(site, "receiver"))
    other.session_id = receiver.session_id
    assert_response(
        other.post("condition", {"condition": "new"}), 409, code="RETURNS_SESSION_OTHER_USER"
    )
    assert_response(
        other.post("condition", {"condition": "new", "session_id": 999}),
        404,
        code="RETURNS_SESSION_UNKNOWN",
    )
    packer = Receiver(edge, login_as(site, "packer"))
    assert_response(packer.post("start", {"rma": "R-12"}), 403, code="FORBIDDEN_ROLE")
    assert snapshot(site.db) == before
    cancelled = receiver.step("cancel", {})
    assert cancelled["next_state"] == "scan_item"
    assert snapshot(site.db)["movements"] == before["movements"]
    receiver.receive(gtin13("MUG-1"), 2, "new")
    before = snapshot(site.db)
    assert_response(
        receiver.post("scan", {"barcode": gtin13("MUG-1")}), 409, code="RETURNS_OVER_QTY"
    )
    assert snapshot(site.db) == before
    assert check_ledger(site.db).ok


def test_a_lot_tracked_item_asks_for_its_lot_and_a_repeat_posts_once(site, edge, oms, receiver):
    assert_response(put_rma(edge, oms, "R-13", rma_body([("TEA-1", 2, "not_wanted")])), 201)
    receiver.step("start", {"barcode": "RMA-R-13"})
    assert receiver.step("scan", {"barcode": gtin13("TEA-1")})["next_state"] == "set_quantity"
    assert receiver.step("quantity", {"qty": 2})["next_state"] == "set_lot"
    assert_response(
        receiver.post("condition", {"condition": "new"}), 409, code="RETURNS_WRONG_STEP"
    )
    assert receiver.step("lot", {"lot": "T7"})["next_state"] == "set_condition"
    key = "ret-repeat-1"
    first = receiver.post("condition", {"condition": "new"}, key=key)
    again = receiver.post("condition", {"condition": "new"}, key=key)
    assert first.status_code == 200 and again.json() == first.json()
    assert stock(site.db, "RET-01", "TEA-1") == {"available": 2}
    assert len(events(site.db, "return.received")) == 1
    state = edge.get(
        f"/api/v1/scenarios/returns/sessions/{receiver.session_id}", headers=receiver.who.headers
    )
    assert state.json()["next_state"] == "scan_item"


def test_a_wrong_item_return_counts_against_pick_accuracy(site, edge, oms, receiver):
    shipped_order(edge, site, "SO-7")
    assert picking_kpi(site.db, "CHI")["shipping"]["wrong_items_shipped"] == 0
    body = rma_body([("MUG-1", 1, "wrong_item"), ("MUG-1", 1, "not_wanted")], order="SO-7")
    assert_response(put_rma(edge, oms, "R-14", body), 201)
    receiver.step("start", {"rma": "R-14"})
    wrong = receiver.receive(gtin13("MUG-1"), 1, "new")
    assert wrong["line_no"] == 1 and wrong["wrong_item_reported"] is True
    other = receiver.receive(gtin13("MUG-1"), 1, "new")
    assert other["line_no"] == 2 and other["wrong_item_reported"] is False
    kpi = picking_kpi(site.db, "CHI")
    assert kpi["wrong_items_shipped"] == 1
    assert kpi["shipping"]["wrong_items_shipped"] == 1
    shipment = assert_response(edge.get("/api/v1/shipments/SO-7", headers=oms.headers), 200)
    assert [(w["sku"], w["qty"]) for w in shipment["wrong_items"]] == [("MUG-1", 1)]
    (event,) = [e for e in events(site.db, "return.received") if e["line_no"] == 1]
    assert event["order"] == "SO-7" and event["reason"] == "wrong_item"
    assert check_ledger(site.db).ok


def test_a_site_rule_change_decides_the_next_posting(site, edge, oms, receiver):
    change = {"rules": [{"reason": "not_wanted", "condition": "new", "disposition": "scrap"}]}
    assert_response(
        edge.put("/api/v1/returns/disposition-rules", json=change, headers=oms.with_key()), 200
    )
    assert_response(put_rma(edge, oms, "R-15", rma_body([("MUG-1", 1, "not_wanted")])), 201)
    receiver.step("start", {"rma": "R-15"})
    assert receiver.receive(gtin13("MUG-1"), 1, "new")["disposition"] == "scrap"
    assert movements(site.db, "RMA R-15") == [
        ("return", "MUG-1", 1, None, "damaged"),
        ("disposition", "MUG-1", 1, "damaged", None),
    ]


def test_a_site_without_a_returns_area_says_so(services, edge):
    from packing_support import setup_site as packing_site

    packing_site(services)
    oms = login_as(services, "integration")
    assert_response(put_rma(edge, oms, "R-16", rma_body([("MUG-1", 1, "damaged")])), 201)
    hh = Receiver(edge, login_as(services, "receiver"))
    assert_response(hh.post("start", {"rma": "R-16"}), 409, code="RETURNS_NO_LOCATION")
    assert_response(
        hh.post("start", {"rma": "R-16", "location": "PACK-01"}),
        422,
        code="RETURNS_LOCATION_INVALID",
    )
