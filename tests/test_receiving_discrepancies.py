"""Receiving discrepancies and refusals: each has a reason code (or an error code) and a
refusal changes nothing."""

import json
import re

import pytest
from receiving_support import (
    FUTURE,
    PAST,
    Handheld,
    counts,
    gs1_128,
    gtin13,
    make_po,
    setup_site,
    sscc,
    stock,
)

from edge_server.wms.ledger import check_ledger
from protocols.barcodes import format_lpn

from conftest import assert_response, login_as


@pytest.fixture
def site(services):
    setup_site(services)
    return services


@pytest.fixture
def hh(edge, site):
    return Handheld(edge, login_as(site, "receiver", badge="REC-1"))


def receipt_lines(site):
    return site.db.query("SELECT * FROM receipt_lines ORDER BY id")


def test_over_within_tolerance_is_received_with_reason_over(site, hh):
    make_po(site, "P1", [("SOAP-1", 100)])  # 5 % tolerance: up to 105
    hh.step("start", {"po": "P1"})
    hh.step("scan", {"barcode": gtin13("1")})
    assert hh.step("quantity", {"qty": 104})["next_state"] == "set_lpn"
    hh.step("lpn", {})
    (line,) = receipt_lines(site)
    assert line["reasons"] == "over" and line["override_id"] is None
    assert site.db.query_one("SELECT status FROM po_lines")["status"] == "over"
    d = site.db.query_one("SELECT reason, qty FROM receiving_discrepancies")
    assert (d["reason"], d["qty"]) == ("over", 4)


def test_over_beyond_tolerance_needs_a_supervisor_badge_and_pin(site, hh):
    make_po(site, "P2", [("SOAP-1", 10)])
    sup = site.users.create(badge="SUP-1", pin="2468", role="supervisor")
    site.users.create(badge="REC-2", pin="1357", role="receiver")
    hh.step("start", {"po": "P2"})
    hh.step("scan", {"barcode": gtin13("1")})
    waiting = hh.step("quantity", {"qty": 12})
    assert waiting["next_state"] == "override"
    assert waiting["message"]["code"] == "RECEIVING_OVER_TOLERANCE"
    assert waiting["data"]["override"]["reasons"] == ["over"]
    # posting is not possible while waiting
    assert_response(hh.post("lpn", {}), 409, code="RECEIVING_WRONG_STEP")
    # a receiver's badge cannot approve; a wrong PIN is not the receiver's login failing
    resp = hh.post("override", {"badge": "REC-2", "pin": "1357"})
    assert_response(resp, 403, code="RECEIVING_OVERRIDE_NOT_ALLOWED")
    resp = hh.post("override", {"badge": "SUP-1", "pin": "0000"})
    assert_response(resp, 422, code="RECEIVING_SUPERVISOR_PIN_WRONG")
    assert counts(site)["receipt_lines"] == 0
    approved = hh.step("override", {"badge": "BADGE-SUP-1", "pin": "2468"})
    assert approved["next_state"] == "set_lpn"
    assert approved["message"]["code"] == "RECEIVING_APPROVED"
    hh.step("lpn", {})
    (line,) = receipt_lines(site)
    override = site.db.query_one("SELECT * FROM receiving_overrides")
    assert line["override_id"] == override["id"] and line["reasons"] == "over"
    assert (override["approved_by"], override["method"]) == (sup.id, "badge_pin")
    assert override["reasons"] == "over"
    # the PIN is never stored with the idempotency record
    stored = site.db.query("SELECT response_json FROM idempotency")
    assert all("2468" not in r["response_json"] for r in stored)


def test_unexpected_item_is_refused_until_a_supervisor_approves_it(edge, site, hh):
    make_po(site, "P3", [("SOAP-1", 10)])
    hh.step("start", {"po": "P3"})
    hh.step("scan", {"barcode": gtin13("4")})
    waiting = hh.step("quantity", {"qty": 2})
    assert waiting["next_state"] == "override"
    assert waiting["message"]["code"] == "RECEIVING_ITEM_NOT_ON_ORDER"
    assert hh.step("cancel", {})["next_state"] == "scan_item"
    assert counts(site)["receipt_lines"] == 0 and stock(site) == {}

    hh.step("scan", {"barcode": gtin13("4")})
    hh.step("quantity", {"qty": 2})
    supervisor = login_as(site, "supervisor")
    resp = edge.post(
        f"/api/v1/scenarios/receiving/sessions/{hh.session_id}/approve",
        json={"note": "sample from supplier"},
        headers=supervisor.with_key(),
    )
    assert assert_response(resp, 200)["set_lpn"]["receiving"]["approved"] is True
    # the receiver's handheld picks the new state up
    resp = edge.get(f"/api/v1/scenarios/receiving/sessions/{hh.session_id}", headers=hh.who.headers)
    assert resp.json()["next_state"] == "set_lpn"
    hh.step("lpn", {})
    (line,) = receipt_lines(site)
    assert line["po_line_id"] is None and line["reasons"] == "unexpected"
    override = site.db.query_one("SELECT method, note FROM receiving_overrides")
    assert override == {"method": "supervisor", "note": "sample from supplier"}


def test_short_lines_close_short_after_a_confirmation(site, hh):
    make_po(site, "P4", [("SOAP-1", 10), ("ODD-1", 4)])
    hh.step("start", {"po": "P4"})
    hh.step("scan", {"barcode": gtin13("1")})
    hh.step("quantity", {"qty": 7})
    hh.step("lpn", {})
    asked = hh.step("close", {})
    assert asked["next_state"] == "confirm_close"
    shorts = asked["data"]["confirm_close"]["short_lines"]
    assert [(s["sku"], s["qty_received"], s["qty_expected"]) for s in shorts] == [
        ("SOAP-1", 7, 10),
        ("ODD-1", 0, 4),
    ]
    done = hh.step("close", {"confirm": True})
    assert done["data"]["done"]["discrepancies"]["short"] == 2
    lines = site.db.query("SELECT status FROM po_lines ORDER BY line_no")
    assert [r["status"] for r in lines] == ["short", "short"]
    found = site.db.query("SELECT reason, qty FROM receiving_discrepancies ORDER BY id")
    assert [(r["reason"], r["qty"]) for r in found] == [("short", 3), ("short", 4)]
    closed = [
        json.loads(r["payload_json"])
        for r in site.db.query("SELECT payload_json FROM outbox WHERE type = 'receiving.closed'")
    ]
    assert closed[0]["discrepancies"]["short"] == 2 and closed[0]["po_closed"] is True


def test_keep_open_closes_the_session_but_not_the_po(site, hh):
    make_po(site, "P5", [("SOAP-1", 10)])
    hh.step("start", {"po": "P5"})
    done = hh.step("close", {"keep_open": True})
    assert done["next_state"] == "done" and done["data"]["done"]["po_closed"] is False
    assert site.db.query_one("SELECT status FROM po_lines")["status"] == "open"
    assert site.db.query_one("SELECT status FROM purchase_orders")["status"] == "receiving"


def test_damaged_goods_go_into_the_dock_as_damaged(site, hh):
    make_po(site, "P6", [("SOAP-1", 10)])
    hh.step("start", {"po": "P6"})
    hh.step("scan", {"barcode": gtin13("1")})
    hh.step("quantity", {"qty": 2})
    marked = hh.step("damaged", {})
    assert marked["data"]["set_lpn"]["receiving"]["damaged"] is True
    hh.step("lpn", {"barcode": format_lpn(9)})
    assert stock(site) == {("SOAP-1", "", format_lpn(9), "damaged"): 2}
    (line,) = receipt_lines(site)
    assert line["reasons"] == "damaged" and line["stock_status"] == "damaged"
    assert check_ledger(site.db).ok


def test_a_lot_not_on_the_po_is_received_but_flagged(site, hh):
    make_po(site, "P7", [("TEA-1", 10, ["T1", "T2"])])
    hh.step("start", {"po": "P7"})
    hh.step("scan", {"barcode": gs1_128("TEA-1", lot="T9", count=5)})
    done = hh.step("lpn", {})
    assert done["message"]["code"] == "RECEIVING_LOT_MISMATCH"
    assert done["message"]["type"] == "warning"
    (line,) = receipt_lines(site)
    assert line["reasons"] == "lot_mismatch" and line["lot"] == "T9"
    assert stock(site) == {
        ("TEA-1", "T9", done["data"]["scan_item"]["received"][0]["lpn"], "available"): 5
    }


def test_a_lot_tracked_item_without_a_lot_is_refused(site, hh):
    make_po(site, "P8", [("TEA-1", 10)])
    hh.step("start", {"po": "P8"})
    hh.step("scan", {"barcode": gtin13("3")})
    assert hh.step("quantity", {"qty": 5})["next_state"] == "set_lot"
    before = counts(site)
    assert_response(hh.post("lot", {}), 422, code="LOT_REQUIRED")
    assert counts(site) == before
    assert hh.step("lot", {"lot": "T1"})["next_state"] == "set_lpn"


def test_an_expiry_tracked_item_needs_its_date_and_a_past_one_is_refused(site, hh):
    make_po(site, "P9", [("MILK-1", 10)])
    hh.step("start", {"po": "P9"})
    hh.step("scan", {"barcode": gtin13("2")})
    hh.step("quantity", {"qty": 5})
    assert_response(hh.post("lot", {"lot": "M1"}), 422, code="RECEIVING_EXPIRY_REQUIRED")
    assert_response(
        hh.post("lot", {"lot": "M1", "expiry": PAST.isoformat()}), 422, code="RECEIVING_EXPIRY_PAST"
    )
    assert hh.step("lot", {"lot": "M1", "expiry": FUTURE.isoformat()})["next_state"] == "set_lpn"


@pytest.mark.parametrize(
    ("barcode", "status", "code"),
    [
        (gtin13("1")[:-1] + str((int(gtin13("1")[-1]) + 1) % 10), 422, "BARCODE_CHECK_DIGIT"),
        (f"]C101{gtin13('1').zfill(14)}10LOT1231727033110", 422, "BARCODE_GS1_SEPARATOR_MISSING"),
        (f"]C101{gtin13('1').zfill(14)}99", 422, "BARCODE_GS1_FIELD_INVALID"),
        (gtin13("999"), 404, "UNKNOWN_ITEM"),
        (gs1_128("MILK-1", lot="M1", expiry=PAST, count=3), 422, "RECEIVING_EXPIRY_PAST"),
        (f"]C100{sscc(404)}", 404, "RECEIVING_SSCC_NOT_EXPECTED"),
        ("A01-01-1L", 422, "BARCODE_UNEXPECTED"),
        (format_lpn(3), 422, "BARCODE_UNEXPECTED"),
    ],
)
def test_bad_scans_are_refused_clearly_and_change_nothing(site, hh, barcode, status, code):
    make_po(site, "P10", [("SOAP-1", 10), ("MILK-1", 10)])
    hh.step("start", {"po": "P10"})
    before = counts(site)
    resp = hh.post("scan", {"barcode": barcode})
    assert_response(resp, status, code=code)
    assert resp.json()["message"]["text"]
    assert counts(site) == before
    state = site.db.query_one("SELECT state, pending_json FROM receiving_sessions")
    assert state == {"state": "scan_item", "pending_json": None}


def test_a_pre_printed_lpn_already_on_other_stock_is_refused(site, hh, edge):
    make_po(site, "P11", [("SOAP-1", 10)])
    hh.step("start", {"po": "P11"})
    hh.step("scan", {"barcode": gtin13("1")})
    hh.step("quantity", {"qty": 1})
    hh.step("lpn", {"barcode": format_lpn(42)})
    other = Handheld(edge, login_as(site, "receiver"))
    make_po(site, "P12", [("SOAP-1", 10)])
    other.step("start", {"po": "P12"})
    other.step("scan", {"barcode": gtin13("1")})
    other.step("quantity", {"qty": 1})
    assert_response(
        other.post("lpn", {"barcode": format_lpn(42)}), 409, code="RECEIVING_LPN_IN_USE"
    )
    # the same receiver may put more on their own pallet
    hh.step("scan", {"barcode": gtin13("1")})
    hh.step("quantity", {"qty": 1})
    hh.step("lpn", {"barcode": format_lpn(42)})
    assert stock(site)[("SOAP-1", "", format_lpn(42), "available")] == 2


def test_unknown_or_closed_documents_are_refused(site, hh):
    assert_response(
        hh.post("start", {"barcode": "PO-NOPE"}), 404, code="RECEIVING_DOCUMENT_UNKNOWN"
    )
    make_po(site, "P13", [("SOAP-1", 1)])
    with site.db.write() as w:
        w.execute("UPDATE purchase_orders SET status = 'cancelled'")
    assert_response(hh.post("start", {"po": "P13"}), 409, code="RECEIVING_DOCUMENT_CLOSED")
    assert_response(
        hh.post("start", {"po": "P13", "dock": "A01-01-1L"}), 409, code="RECEIVING_DOCUMENT_CLOSED"
    )


def test_blind_receiving_never_sends_expected_quantities(site, hh):
    make_po(site, "P14", [("SOAP-1", 37), ("TEA-1", 41)], blind=True)
    answers = []
    answers.append(hh.step("start", {"po": "P14"}))
    answers.append(hh.step("scan", {"barcode": gtin13("1")}))
    answers.append(hh.step("quantity", {"qty": 45}))  # over 37 + 5 %: supervisor needed
    assert answers[-1]["next_state"] == "override"
    answers.append(hh.step("quantity", {"qty": 30}))
    answers.append(hh.step("lpn", {}))
    answers.append(hh.step("close", {}))
    assert answers[-1]["next_state"] == "confirm_close"
    answers.append(hh.step("close", {"confirm": True}))
    state = hh.http.get(
        f"/api/v1/scenarios/receiving/sessions/{hh.session_id}", headers=hh.who.headers
    )
    answers.append(state.json())

    def walk(value, path="$"):
        if isinstance(value, dict):
            for k, v in value.items():
                assert not re.search(r"qty_(expected|ordered|allowed)|remaining|expected_", k), path
                yield from walk(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from walk(v, f"{path}[{i}]")
        else:
            yield path, value

    for answer in answers:
        values = dict(walk(answer))
        assert 37 not in values.values() and 41 not in values.values(), values
        assert 7 not in values.values() and 11 not in values.values(), values  # short by
    assert answers[0]["data"]["scan_item"]["blind"] is True
