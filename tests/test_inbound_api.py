"""Purchase orders and ASNs over the integration API: create, replace, replay, and every
refusal with its code and nothing changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edge_server.services import Services
from edge_server.wms import asns, purchase_orders
from edge_server.wms.items import upsert_item, validate_item
from edge_server.wms.layout import read_layout
from edge_server.wms.layout_store import load_layout
from protocols.barcodes import gs1_check_digit
from protocols.inbound import PoLineIn

from conftest import Caller, assert_response

LAYOUT = Path(__file__).resolve().parent.parent / "docs" / "examples" / "layout-single-block.json"
PO = "/api/v1/purchase-orders"
ASN = "/api/v1/asns"


def sscc(serial: int) -> str:
    body = f"0061414{serial:010d}"
    return body + str(gs1_check_digit(body))


def load_site(services: Services) -> None:
    load_layout(services.db, read_layout(LAYOUT), site="CHI")
    with services.db.write() as w:
        for data in (
            {"sku": "TEE-M", "description": "T-shirt M", "case_qty": 12, "lot_tracked": True},
            {"sku": "MUG-01", "description": "Mug", "case_qty": 1},
            {"sku": "CAP-01", "description": "Cap", "case_qty": 6},
        ):
            item, _ = validate_item(data)
            upsert_item(w, item)


@pytest.fixture
def site(services: Services) -> Services:
    load_site(services)
    return services


@pytest.fixture
def oms(site: Services, as_role: Any) -> Caller:
    caller: Caller = as_role("integration")
    return caller


def po_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "supplier": "Acme Textiles",
        "due_date": "2025-04-01",
        "notes": "dock 2",
        "lines": [
            {"line_no": 1, "sku": "TEE-M", "qty": 5, "uom": "CS", "expected_lots": ["L1", "L2"]},
            {"line_no": 2, "sku": "MUG-01", "qty": 40},
        ],
    }
    body.update(overrides)
    return body


def snapshot(services: Services) -> tuple[Any, ...]:
    db = services.db
    return (
        db.query("SELECT * FROM purchase_orders ORDER BY id"),
        db.query("SELECT * FROM po_lines ORDER BY id"),
        db.query("SELECT * FROM asns ORDER BY id"),
        db.query("SELECT * FROM asn_lines ORDER BY id"),
        db.query("SELECT id, type FROM outbox ORDER BY id"),
    )


def events(services: Services, event_type: str) -> list[dict[str, Any]]:
    return services.db.query("SELECT * FROM outbox WHERE type = ? ORDER BY id", [event_type])


def set_received(services: Services, number: str, line_no: int, qty: int) -> None:
    """What the receiving scenario does; simulated directly here."""
    with services.db.write() as w:
        w.execute(
            "UPDATE po_lines SET qty_received = ?, status = 'partial' WHERE line_no = ? AND "
            "po_id = (SELECT id FROM purchase_orders WHERE number = ?)",
            [qty, line_no, number],
        )
        w.execute("UPDATE purchase_orders SET status = 'receiving' WHERE number = ?", [number])


def test_create_read_update_and_replay_a_po(edge, site, oms):
    key = oms.with_key()
    resp = edge.put(f"{PO}/PO-1001", json=po_body(), headers=key)
    data = assert_response(resp, 201)
    assert data["outcome"] == "created"
    po = data["purchase_order"]
    assert po["supplier"] == "Acme Textiles" and po["status"] == "open"
    assert po["blind"] is None and po["due_date"] == "2025-04-01"
    tee, mug = po["lines"]
    assert (tee["uom"], tee["qty_ordered"], tee["units_per_uom"], tee["qty_expected"]) == (
        "CS",
        5,
        12,
        60,
    )
    assert tee["expected_lots"] == ["L1", "L2"] and tee["status"] == "open"
    assert mug["qty_expected"] == 40 and "id" not in mug and "item_id" not in mug
    assert po["progress"] == {
        "qty_expected": 100,
        "qty_received": 0,
        "lines": 2,
        "lines_complete": 0,
    }

    # The same key and body again: the first answer, nothing new written.
    before = snapshot(site)
    again = edge.put(f"{PO}/PO-1001", json=po_body(), headers=key)
    assert again.status_code == 201 and again.json() == resp.json()
    assert snapshot(site) == before
    # The same key with another body is refused.
    other = edge.put(f"{PO}/PO-1001", json=po_body(notes="x"), headers=key)
    assert_response(other, 422, code="IDEMPOTENCY_KEY_REUSED")
    # The same body under a new key: unchanged, no event.
    same = edge.put(f"{PO}/PO-1001", json=po_body(), headers=oms.with_key())
    assert assert_response(same, 200)["outcome"] == "unchanged"
    assert snapshot(site)[:4] == before[:4]
    assert len(events(site, "purchase_order.changed")) == 1

    # Replace: line 2 dropped (cancelled), line 3 added, blind set.
    body = po_body(blind=True)
    body["lines"] = [body["lines"][0], {"line_no": 3, "sku": "CAP-01", "qty": 2, "uom": "cs"}]
    data = assert_response(edge.put(f"{PO}/PO-1001", json=body, headers=oms.with_key()), 200)
    assert data["outcome"] == "updated" and data["purchase_order"]["blind"] is True
    lines = {line["line_no"]: line for line in data["purchase_order"]["lines"]}
    assert lines[2]["status"] == "cancelled"
    assert lines[3]["qty_expected"] == 12
    assert data["purchase_order"]["progress"]["qty_expected"] == 72
    changed = events(site, "purchase_order.changed")
    assert [e["payload_json"].count('"updated"') for e in changed] == [0, 1]

    got = assert_response(edge.get(f"{PO}/PO-1001", headers=oms.headers), 200)
    assert got == data["purchase_order"]


def test_list_pos_by_status_and_supplier(edge, site, oms):
    for number, supplier in (("PO-1", "Acme"), ("PO-2", "Bolt"), ("PO-3", "Acme")):
        body = po_body(supplier=supplier)
        assert_response(edge.put(f"{PO}/{number}", json=body, headers=oms.with_key()), 201)
    assert_response(edge.post(f"{PO}/PO-2/cancel", headers=oms.with_key()), 200)
    page = assert_response(edge.get(PO, params={"supplier": "Acme"}, headers=oms.headers), 200)
    assert [p["number"] for p in page["items"]] == ["PO-1", "PO-3"]
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    assert "lines" not in page["items"][0] and page["items"][0]["progress"]["lines"] == 2
    page = assert_response(edge.get(PO, params={"status": "cancelled"}, headers=oms.headers), 200)
    assert [p["number"] for p in page["items"]] == ["PO-2"]
    page = assert_response(edge.get(PO, params={"limit": 1, "offset": 1}, headers=oms.headers), 200)
    assert [p["number"] for p in page["items"]] == ["PO-2"] and page["total"] == 3


@pytest.mark.parametrize(
    ("change", "status", "code", "problem"),
    [
        ({"sku": "NOPE"}, 422, "PO_INVALID", "UNKNOWN_SKU"),
        ({"sku": "MUG-01", "uom": "CS"}, 422, "PO_INVALID", "NO_CASE_QTY"),
        ({"qty": 0}, 422, "VALIDATION_FAILED", None),
        ({"uom": "PAL"}, 422, "VALIDATION_FAILED", None),
        ({"expected_lots": ["has space"]}, 422, "VALIDATION_FAILED", None),
    ],
)
def test_a_bad_po_line_is_refused_and_changes_nothing(
    edge, site, oms, change, status, code, problem
):
    assert_response(edge.put(f"{PO}/PO-7", json=po_body(), headers=oms.with_key()), 201)
    before = snapshot(site)
    body = po_body()
    body["lines"][1] = {**body["lines"][1], **change}
    resp = edge.put(f"{PO}/PO-7", json=body, headers=oms.with_key())
    assert_response(resp, status, code=code)
    details = resp.json()["message"]["details"]
    if problem:
        assert [(p["line_no"], p["code"]) for p in details["problems"]] == [(2, problem)]
    else:
        assert details["errors"][0]["field"].startswith("lines.1.")
    assert snapshot(site) == before


def test_duplicate_line_numbers_and_bad_po_numbers_are_refused(edge, site, oms):
    body = po_body()
    body["lines"][1]["line_no"] = 1
    resp = edge.put(f"{PO}/PO-8", json=body, headers=oms.with_key())
    assert_response(resp, 422, code="VALIDATION_FAILED")
    assert "line_no 1 appears twice" in resp.text
    assert_response(edge.put(f"{PO}/po-lower", json=po_body(), headers=oms.with_key()), 422)
    assert site.db.query("SELECT * FROM purchase_orders") == []


def test_a_po_being_received_may_grow_but_not_shrink_below_what_arrived(edge, site, oms):
    assert_response(edge.put(f"{PO}/PO-9", json=po_body(), headers=oms.with_key()), 201)
    set_received(site, "PO-9", 2, 30)
    before = snapshot(site)

    def refused(body: dict[str, Any], reason: str) -> None:
        resp = edge.put(f"{PO}/PO-9", json=body, headers=oms.with_key())
        assert_response(resp, 409, code="PO_LINE_RECEIVED")
        assert [
            (x["line_no"], x["reason"]) for x in resp.json()["message"]["details"]["lines"]
        ] == [(2, reason)]
        assert snapshot(site) == before

    lower = po_body()
    lower["lines"][1]["qty"] = 29
    refused(lower, "below_received")
    removed = po_body()
    removed["lines"] = removed["lines"][:1]
    refused(removed, "removed")
    other_item = po_body()
    other_item["lines"][1]["sku"] = "CAP-01"
    refused(other_item, "item_changed")
    cancel = edge.post(f"{PO}/PO-9/cancel", headers=oms.with_key())
    assert_response(cancel, 409, code="PO_RECEIVING_STARTED")
    assert snapshot(site) == before

    # Down to exactly what arrived, more on another line, a new line: all fine.
    grow = po_body()
    grow["lines"][1]["qty"] = 30
    grow["lines"][0]["qty"] = 9
    grow["lines"].append({"line_no": 4, "sku": "CAP-01", "qty": 3})
    data = assert_response(edge.put(f"{PO}/PO-9", json=grow, headers=oms.with_key()), 200)
    po = data["purchase_order"]
    assert po["status"] == "receiving"
    lines = {line["line_no"]: line for line in po["lines"]}
    assert (lines[2]["qty_expected"], lines[2]["qty_received"], lines[2]["status"]) == (
        30,
        30,
        "complete",
    )
    assert lines[1]["qty_expected"] == 108 and lines[4]["status"] == "open"


def test_closed_and_cancelled_pos_are_refused(edge, site, oms):
    assert_response(edge.put(f"{PO}/PO-10", json=po_body(), headers=oms.with_key()), 201)
    data = assert_response(edge.post(f"{PO}/PO-10/cancel", headers=oms.with_key()), 200)
    assert data["purchase_order"]["status"] == "cancelled"
    assert {line["status"] for line in data["purchase_order"]["lines"]} == {"cancelled"}
    before = snapshot(site)
    resp = edge.put(f"{PO}/PO-10", json=po_body(), headers=oms.with_key())
    assert_response(resp, 409, code="PO_CLOSED")
    assert snapshot(site) == before
    assert_response(
        edge.post(f"{PO}/PO-404/cancel", headers=oms.with_key()), 404, code="PO_NOT_FOUND"
    )
    assert_response(edge.get(f"{PO}/PO-404", headers=oms.headers), 404, code="PO_NOT_FOUND")


def test_without_a_site_row_pos_are_refused(edge, services, as_role):
    oms = as_role("integration")
    resp = edge.put(f"{PO}/PO-1", json=po_body(), headers=oms.with_key())
    assert_response(resp, 404, code="LAYOUT_NOT_LOADED")
    assert services.db.query("SELECT * FROM purchase_orders") == []


def test_who_may_write_pos(edge, site, as_role):
    picker = as_role("picker")
    resp = edge.put(f"{PO}/PO-11", json=po_body(), headers=picker.with_key())
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
    receiver = as_role("receiver")
    assert_response(edge.put(f"{PO}/PO-11", json=po_body(), headers=receiver.with_key()), 403)
    supervisor = as_role("supervisor")
    assert_response(edge.put(f"{PO}/PO-11", json=po_body(), headers=supervisor.with_key()), 201)
    assert_response(edge.get(f"{PO}/PO-11", headers=receiver.headers), 200)
    assert_response(edge.get(f"{PO}/PO-11", headers=picker.headers), 403, code="FORBIDDEN_ROLE")
    resp = edge.put(f"{PO}/PO-12", json=po_body(), headers=supervisor.headers)
    assert_response(resp, 400, code="IDEMPOTENCY_KEY_REQUIRED")


# -- ASNs -------------------------------------------------------------------------------------
def asn_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "po_number": "PO-1001",
        "expected_at": "2025-03-30T08:00:00+00:00",
        "lines": [
            {
                "line_no": 1,
                "sku": "TEE-M",
                "qty": 36,
                "lot": "L1",
                "expiry": "2027-01-31",
                "sscc": sscc(1),
                "po_line_no": 1,
            },
            {"line_no": 2, "sku": "MUG-01", "qty": 40, "sscc": sscc(1), "po_line_no": 2},
            {"line_no": 3, "sku": "TEE-M", "qty": 24, "lot": "L2", "sscc": "00" + sscc(2)},
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
def with_po(edge, oms) -> None:
    assert_response(edge.put(f"{PO}/PO-1001", json=po_body(), headers=oms.with_key()), 201)


def test_create_read_and_find_an_asn_by_sscc(edge, site, oms, with_po):
    key = oms.with_key()
    resp = edge.put(f"{ASN}/ASN-77", json=asn_body(), headers=key)
    data = assert_response(resp, 201)
    asn = data["asn"]
    assert (asn["po_number"], asn["supplier"], asn["status"]) == (
        "PO-1001",
        "Acme Textiles",
        "expected",
    )
    assert [line["po_line_no"] for line in asn["lines"]] == [1, 2, None]
    assert asn["lines"][2]["sscc"] == sscc(2)  # the AI 00 prefix is dropped
    assert edge.put(f"{ASN}/ASN-77", json=asn_body(), headers=key).json() == resp.json()
    assert len(events(site, "asn.changed")) == 1
    assert assert_response(edge.get(f"{ASN}/ASN-77", headers=oms.headers), 200) == asn

    pallet = assert_response(edge.get(f"{ASN}/by-sscc/{sscc(1)}", headers=oms.headers), 200)
    assert pallet["asn"]["number"] == "ASN-77"
    assert [(x["line_no"], x["sku"], x["qty"]) for x in pallet["lines"]] == [
        (1, "TEE-M", 36),
        (2, "MUG-01", 40),
    ]
    found = asns.asn_lines_by_sscc(site.db, "CHI", sscc(1))
    assert found is not None and found["lines"][0]["po_line_id"] is not None
    resp = edge.get(f"{ASN}/by-sscc/{sscc(3)}", headers=oms.headers)
    assert_response(resp, 404, code="SSCC_NOT_EXPECTED")
    bad = sscc(3)[:-1] + str((int(sscc(3)[-1]) + 1) % 10)
    resp = edge.get(f"{ASN}/by-sscc/{bad}", headers=oms.headers)
    assert_response(resp, 422, code="BARCODE_CHECK_DIGIT")
    assert_response(edge.get(f"{ASN}/ASN-404", headers=oms.headers), 404, code="ASN_NOT_FOUND")

    # Replace: a line dropped, a quantity changed.
    body = asn_body()
    body["lines"] = body["lines"][:2]
    body["lines"][1]["qty"] = 35
    data = assert_response(edge.put(f"{ASN}/ASN-77", json=body, headers=oms.with_key()), 200)
    assert data["outcome"] == "updated" and [x["qty"] for x in data["asn"]["lines"]] == [36, 35]


def test_bad_sscc_check_digit_is_refused_with_the_field(edge, site, oms, with_po):
    body = asn_body()
    good = body["lines"][1]["sscc"]
    body["lines"][1]["sscc"] = good[:-1] + str((int(good[-1]) + 1) % 10)
    before = snapshot(site)
    resp = edge.put(f"{ASN}/ASN-78", json=body, headers=oms.with_key())
    assert_response(resp, 422, code="VALIDATION_FAILED")
    error = resp.json()["message"]["details"]["errors"][0]
    assert error["field"] == "lines.1.sscc" and "check digit" in error["reason"]
    assert snapshot(site) == before


def test_an_sscc_may_be_on_only_one_open_asn(edge, site, oms, with_po):
    assert_response(edge.put(f"{ASN}/ASN-1", json=asn_body(), headers=oms.with_key()), 201)
    before = snapshot(site)
    other = asn_body(po_number=None)
    other["lines"] = [{"line_no": 1, "sku": "CAP-01", "qty": 6, "sscc": sscc(2)}]
    resp = edge.put(f"{ASN}/ASN-2", json=other, headers=oms.with_key())
    assert_response(resp, 409, code="SSCC_ON_OTHER_ASN")
    assert resp.json()["message"]["details"]["ssccs"] == [{"sscc": sscc(2), "asn": "ASN-1"}]
    assert snapshot(site) == before
    # Once ASN-1 is received the pallet label may come again on a new notice.
    with site.db.write() as w:
        w.execute("UPDATE asns SET status = 'received' WHERE number = 'ASN-1'")
    assert_response(edge.put(f"{ASN}/ASN-2", json=other, headers=oms.with_key()), 201)
    resp = edge.put(f"{ASN}/ASN-1", json=asn_body(), headers=oms.with_key())
    assert_response(resp, 409, code="ASN_CLOSED")


@pytest.mark.parametrize(
    ("change", "status", "code", "problem"),
    [
        ({"sku": "NOPE"}, 422, "ASN_INVALID", "UNKNOWN_SKU"),
        ({"po_line_no": 9}, 422, "ASN_INVALID", "PO_LINE_UNKNOWN"),
        ({"po_line_no": 1}, 422, "ASN_INVALID", "PO_LINE_ITEM_MISMATCH"),
        ({"qty": 0}, 422, "VALIDATION_FAILED", None),
    ],
)
def test_a_bad_asn_line_is_refused(edge, site, oms, with_po, change, status, code, problem):
    body = asn_body()
    body["lines"][1] = {**body["lines"][1], **change}
    before = snapshot(site)
    resp = edge.put(f"{ASN}/ASN-5", json=body, headers=oms.with_key())
    assert_response(resp, status, code=code)
    if problem:
        problems = resp.json()["message"]["details"]["problems"]
        assert [(p["line_no"], p["code"]) for p in problems] == [(2, problem)]
    assert snapshot(site) == before


def test_asn_for_an_unknown_or_cancelled_po_and_received_lines(edge, site, oms, with_po):
    resp = edge.put(f"{ASN}/ASN-6", json=asn_body(po_number="PO-404"), headers=oms.with_key())
    assert_response(resp, 404, code="PO_NOT_FOUND")
    assert_response(edge.put(f"{ASN}/ASN-6", json=asn_body(), headers=oms.with_key()), 201)
    with site.db.write() as w:
        w.execute("UPDATE asn_lines SET received_at = '2025-03-30T09:00:00' WHERE line_no = 1")
    before = snapshot(site)
    body = asn_body()
    body["lines"][0]["qty"] = 30
    resp = edge.put(f"{ASN}/ASN-6", json=body, headers=oms.with_key())
    assert_response(resp, 409, code="ASN_LINE_RECEIVED")
    assert snapshot(site) == before
    body = asn_body()
    body["lines"][2]["qty"] = 20  # an unreceived line may still change
    assert_response(edge.put(f"{ASN}/ASN-6", json=body, headers=oms.with_key()), 200)

    assert_response(edge.put(f"{PO}/PO-20", json=po_body(), headers=oms.with_key()), 201)
    assert_response(edge.post(f"{PO}/PO-20/cancel", headers=oms.with_key()), 200)
    resp = edge.put(f"{ASN}/ASN-8", json=asn_body(po_number="PO-20"), headers=oms.with_key())
    assert_response(resp, 409, code="PO_CLOSED")


def test_domain_readers_for_the_receiving_scenario(site):
    with site.db.write() as w:
        header = purchase_orders.PoHeader(supplier="Acme")
        line = PoLineIn(line_no=1, sku="TEE-M", qty=2, uom="CS")
        assert purchase_orders.put_po(w, "CHI", "PO-X", header, [line]) == "created"
    po = purchase_orders.get_po(site.db, "CHI", "PO-X")
    assert po is not None and po["lines"][0]["qty_expected"] == 24
    lines = purchase_orders.po_lines(site.db, "CHI", "PO-X")
    assert lines[0]["id"] > 0 and lines[0]["lot_tracked"] is True
    assert purchase_orders.line_status(24, 0) == "open"
    assert purchase_orders.line_status(24, 10) == "partial"
    assert purchase_orders.line_status(24, 24) == "complete"
    assert purchase_orders.line_status(24, 25) == "over"
