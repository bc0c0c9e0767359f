"""The packing scenario over HTTP: totes in, items verified, cartons sealed with SSCC, label and
tracking, the order packed; and every refusal changing nothing."""

import pytest
from packing_support import (
    PREFIX,
    Packer,
    Pick,
    events,
    gs1,
    gtin13,
    pack_events,
    picked_order,
    setup_site,
    snapshot,
    stock_item,
    stock_rows,
)

from edge_server.wms.ledger import check_ledger
from edge_server.wms.outbound.packing import format_sscc
from protocols.barcodes import ScanKind, parse_scan

from conftest import assert_response, login_as


@pytest.fixture
def site(services):
    setup_site(services)
    return services


@pytest.fixture
def packer(site, edge):
    return Packer(edge, login_as(site, "packer"))


def two_tote_order(site, number="SO-1"):
    """Zone picking: MUG-1 and TEA-1 (lot L1) from zone A in TOTE-0001, MILK-1 (lot M1) from
    zone COLD in TOTE-0002."""
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


# -- starting ---------------------------------------------------------------------------------
def test_a_tote_shows_the_orders_contents_and_the_totes_still_to_bring(site, packer):
    two_tote_order(site)
    data = packer.step("start", {"barcode": "TOTE-0001"})["data"]["scan_item"]
    assert data["order"] == "SO-1"
    assert data["station"] == "PACK-01"
    assert [(c["line_no"], c["sku"], c["lot"], c["qty_picked"]) for c in data["contents"]] == [
        (1, "MUG-1", "", 2),
        (2, "TEA-1", "L1", 3),
        (3, "MILK-1", "M1", 1),
    ]
    assert data["totes_to_bring"] == ["TOTE-0002"]
    assert data["units_left"] == 6
    assert data["open_carton"] is None and data["cartons"] == []
    added = packer.step("scan", {"barcode": "TOTE-0002"})
    assert added["message"]["code"] == "PACK_TOTE_ADDED"
    assert added["data"]["scan_item"]["totes_to_bring"] == []


def test_the_order_number_typed_in_starts_too_and_a_second_start_resumes(site, packer):
    two_tote_order(site)
    first = packer.step("start", {"order": "SO-1", "station": "PACK-02"})["data"]["scan_item"]
    assert first["station"] == "PACK-02"
    assert first["totes_to_bring"] == ["TOTE-0001", "TOTE-0002"]
    again = packer.step("start", {"barcode": "TOTE-0002"})["data"]["scan_item"]
    assert again["session_id"] == first["session_id"]
    assert again["totes_to_bring"] == ["TOTE-0001"]
    assert site.db.query_one("SELECT COUNT(*) AS n FROM pack_sessions")["n"] == 1


def test_an_order_not_completely_picked_is_refused_with_what_is_missing(site, packer):
    stock_item(site.db, "MUG-1", 10)
    stock_item(site.db, "CUP-1", 10)
    picked_order(
        site.db,
        "SO-2",
        [("MUG-1", 2), ("CUP-1", 4)],
        [Pick(1, "TOTE-0003", zone="A"), Pick(2, "TOTE-0004", zone="A", open=True)],
    )
    before = snapshot(site.db)
    for body in ({"barcode": "TOTE-0003"}, {"order": "SO-2"}, {"barcode": "TOTE-0004"}):
        details = assert_response(packer.post("start", body), 409, code="PACK_ORDER_NOT_READY")
        assert details is None
        msg = packer.post("start", body).json()["message"]["details"]
        assert msg["number"] == "SO-2"
        assert [(p["sku"], p["qty"], p["location"]) for p in msg["open_picks"]] == [
            ("CUP-1", 4, "A01-02-1L")
        ]
        assert [(a["sku"], a["qty"]) for a in msg["allocated"]] == [("CUP-1", 4)]
    assert snapshot(site.db) == before


def test_unknown_totes_orders_and_stations_are_refused(site, packer):
    two_tote_order(site)
    before = snapshot(site.db)
    assert_response(packer.post("start", {"barcode": "TOTE-0999"}), 404, code="PACK_TOTE_UNKNOWN")
    assert_response(packer.post("start", {"order": "SO-404"}), 404, code="FO_NOT_FOUND")
    assert_response(packer.post("start", {"barcode": "A01-01-1L"}), 422, code="BARCODE_UNEXPECTED")
    assert_response(
        packer.post("start", {"order": "SO-1", "station": "A01-01-1L"}),
        422,
        code="PACK_STATION_INVALID",
    )
    assert_response(packer.post("start", {}), 422, code="VALIDATION_FAILED")
    assert snapshot(site.db) == before


def test_an_order_allocated_but_not_picked_is_not_ready(site, packer):
    from packing_support import put_order

    stock_item(site.db, "MUG-1", 5)
    put_order(site.db, "SO-3", [("MUG-1", 2)])
    resp = packer.post("start", {"order": "SO-3"})
    assert_response(resp, 409, code="PACK_ORDER_NOT_READY")
    assert resp.json()["message"]["details"]["status"] == "allocated"


# -- verifying --------------------------------------------------------------------------------
def test_scans_are_verified_into_the_open_carton(site, packer):
    two_tote_order(site)
    packer.step("start", {"barcode": "TOTE-0001"})
    one = packer.step("scan", {"barcode": gtin13("MUG-1")})
    assert one["message"]["code"] == "PACK_VERIFIED"
    view = one["data"]["scan_item"]
    assert view["verified"] == [
        {"line_no": 1, "sku": "MUG-1", "lot": "", "tote": "TOTE-0001", "qty": 1}
    ]
    assert view["open_carton"]["contents"] == [{"line_no": 1, "sku": "MUG-1", "lot": "", "qty": 1}]
    view = packer.step("scan", {"barcode": gs1("TEA-1", lot="L1", count=3)})["data"]["scan_item"]
    assert view["verified"][0] == {
        "line_no": 2,
        "sku": "TEA-1",
        "lot": "L1",
        "tote": "TOTE-0001",
        "qty": 3,
    }
    assert view["units_left"] == 2
    # Nothing leaves a tote before the carton is sealed.
    assert stock_rows(site.db)[("PACK-01", "MUG-1", "", "TOTE-0001")] == 2
    contents = {(c["sku"], c["qty_packed"]) for c in view["contents"]}
    assert contents == {("MUG-1", 1), ("TEA-1", 3), ("MILK-1", 0)}
    assert pack_events(site.db) == [("verified", "MUG-1", 1), ("verified", "TEA-1", 3)]


def test_an_item_not_in_the_order_is_caught_changes_nothing_and_counts_once(site, packer):
    two_tote_order(site)
    stock_item(site.db, "SPOON-1", 3)
    packer.step("start", {"barcode": "TOTE-0001"})
    packer.step("scan", {"barcode": gtin13("MUG-1")})
    before = snapshot(site.db)
    resp = packer.post("scan", {"barcode": gtin13("SPOON-1")}, key="mis-1")
    assert_response(resp, 409, code="PACK_ITEM_NOT_IN_ORDER")
    assert resp.json()["message"]["details"]["sku"] == "SPOON-1"
    # The handheld retries the same command (Wi-Fi drop): refused again, counted once.
    assert_response(packer.post("scan", {"barcode": gtin13("SPOON-1")}, key="mis-1"), 409)
    # A lot that was not picked for the order is a mis-scan too.
    resp = packer.post("scan", {"barcode": gs1("TEA-1", lot="L9")}, key="mis-2")
    assert_response(resp, 409, code="PACK_ITEM_NOT_IN_ORDER")
    assert resp.json()["message"]["details"]["picked_lots"] == ["L1"]
    assert snapshot(site.db) == before
    assert pack_events(site.db)[1:] == [
        ("not_in_order", "SPOON-1", 1),
        ("not_in_order", "TEA-1", 1),
    ]


def test_more_than_was_picked_is_refused_as_over_scanned(site, packer):
    two_tote_order(site)
    packer.step("start", {"barcode": "TOTE-0001"})
    packer.step("scan", {"barcode": gtin13("MUG-1"), "qty": 2})
    before = snapshot(site.db)
    resp = packer.post("scan", {"barcode": gtin13("MUG-1")})
    assert_response(resp, 409, code="PACK_OVER_SCANNED")
    assert resp.json()["message"]["details"]["left"] == 0
    assert_response(
        packer.post("scan", {"barcode": gs1("TEA-1", lot="L1", count=4)}),
        409,
        code="PACK_OVER_SCANNED",
    )
    assert snapshot(site.db) == before
    assert [k for k, _, _ in pack_events(site.db)] == ["verified", "over_scanned", "over_scanned"]


def test_a_lot_tracked_item_with_two_lots_needs_the_lot(site, packer):
    stock_item(site.db, "TEA-1", 2, lot="L1")
    stock_item(site.db, "TEA-1", 2, lot="L2")
    picked_order(
        site.db,
        "SO-4",
        [("TEA-1", 4)],
        [Pick(1, "TOTE-0005"), Pick(1, "TOTE-0005")],
    )
    packer.step("start", {"barcode": "TOTE-0005"})
    before = snapshot(site.db)
    assert_response(packer.post("scan", {"barcode": gtin13("TEA-1")}), 422, code="LOT_REQUIRED")
    assert snapshot(site.db) == before
    packer.step("scan", {"barcode": gs1("TEA-1", lot="L2", count=2)})
    # One lot left: a plain GTIN scan is enough now.
    view = packer.step("scan", {"barcode": gtin13("TEA-1")})["data"]["scan_item"]
    assert view["verified"][0]["lot"] == "L1"


def test_a_tote_of_another_order_and_bad_scans_are_refused(site, packer):
    two_tote_order(site)
    stock_item(site.db, "CUP-1", 5)
    picked_order(site.db, "SO-5", [("CUP-1", 1)], [Pick(1, "TOTE-0007")])
    packer.step("start", {"barcode": "TOTE-0001"})
    before = snapshot(site.db)
    resp = packer.post("scan", {"barcode": "TOTE-0007"})
    assert_response(resp, 409, code="PACK_TOTE_OTHER_ORDER")
    assert resp.json()["message"]["details"]["order"] == "SO-5"
    assert_response(packer.post("scan", {"barcode": "TOTE-0888"}), 404, code="PACK_TOTE_UNKNOWN")
    assert_response(packer.post("scan", {"barcode": "4006381333931"}), 404, code="UNKNOWN_ITEM")
    assert_response(packer.post("scan", {"barcode": "4006381333932"}), 422)
    assert_response(packer.post("scan", {"barcode": "A01-01-1L"}), 422, code="BARCODE_UNEXPECTED")
    assert_response(
        packer.post("scan", {"barcode": gtin13("MUG-1"), "qty": 0}), 422, code="VALIDATION_FAILED"
    )
    assert_response(
        packer.post("scan", {"session_id": 999, "barcode": gtin13("MUG-1")}),
        404,
        code="PACK_SESSION_UNKNOWN",
    )
    assert snapshot(site.db) == before
    assert pack_events(site.db) == []


def test_another_packer_cannot_use_the_job_but_a_supervisor_can_read_it(site, edge, packer):
    two_tote_order(site)
    packer.step("start", {"barcode": "TOTE-0001"})
    other = Packer(edge, login_as(site, "packer"))
    before = snapshot(site.db)
    assert_response(
        other.post("start", {"barcode": "TOTE-0002"}), 409, code="PACK_SESSION_OTHER_USER"
    )
    other.session_id = packer.session_id
    assert_response(
        other.post("scan", {"barcode": gtin13("MUG-1")}), 409, code="PACK_SESSION_OTHER_USER"
    )
    assert snapshot(site.db) == before
    sup = login_as(site, "supervisor")
    resp = edge.get(f"{PREFIX}/sessions/{packer.session_id}", headers=sup.headers)
    assert assert_response(resp, 200)["scan_item"]["order"] == "SO-1"


# -- sealing ----------------------------------------------------------------------------------
def test_sealing_a_carton_with_nothing_verified_is_refused(site, packer):
    two_tote_order(site)
    packer.step("start", {"barcode": "TOTE-0001"})
    before = snapshot(site.db)
    resp = packer.post("close-carton", {"carton_type": "BOX-S", "weight_kg": 1.0})
    assert_response(resp, 409, code="PACK_CARTON_EMPTY")
    assert snapshot(site.db) == before


def test_a_bad_carton_type_weight_or_printer_is_refused_before_anything_moves(site, packer):
    two_tote_order(site)
    packer.step("start", {"barcode": "TOTE-0001"})
    packer.step("scan", {"barcode": gtin13("MUG-1")})
    before = snapshot(site.db)
    close = {"carton_type": "BOX-S", "weight_kg": 1.4}
    for body, status, code in (
        ({"carton_type": "CRATE"}, 422, "PACK_CARTON_TYPE_UNKNOWN"),
        ({"weight_kg": 0.1}, 422, "PACK_WEIGHT_OUT_OF_RANGE"),  # lighter than the empty box
        ({"weight_kg": 10.5}, 422, "PACK_WEIGHT_OUT_OF_RANGE"),  # above the box's maximum
        ({"weight_kg": 0}, 422, "VALIDATION_FAILED"),
        ({"weight_kg": 5000}, 422, "VALIDATION_FAILED"),
        ({"printer": "nope"}, 404, "PRINTER_UNKNOWN"),
    ):
        assert_response(packer.post("close-carton", close | body), status, code=code)
    assert snapshot(site.db) == before


def test_the_session_can_be_resumed_with_its_last_answer(site, edge, packer):
    two_tote_order(site)
    packer.step("start", {"barcode": "TOTE-0001"})
    last = packer.step("scan", {"barcode": gtin13("MUG-1")})
    resp = edge.get(f"{PREFIX}/sessions/{packer.session_id}", headers=packer.who.headers)
    state = assert_response(resp, 200)
    assert resp.json()["next_state"] == "scan_item"
    assert state["scan_item"]["open_carton"] == last["data"]["scan_item"]["open_carton"]


def test_sscc_numbers_have_the_company_prefix_and_scan_back():
    sscc = format_sscc("0614141", 42)
    assert sscc.startswith("00614141") and len(sscc) == 18
    scan = parse_scan("]C1" + "00" + sscc)
    assert scan.kind is ScanKind.LPN and scan.sscc == sscc
    with pytest.raises(ValueError):
        format_sscc("0614141", 10**9)
    with pytest.raises(ValueError):
        format_sscc("12AB", 1)


# -- carton types -----------------------------------------------------------------------------
def test_carton_types_are_managed_by_supervisors_and_listed_for_packers(site, edge, packer):
    sup = login_as(site, "supervisor")
    body = {"description": "Mailer", "tare_kg": 0.05, "max_weight_kg": 2, "length_cm": 30}
    resp = edge.put("/api/v1/carton-types/MAILER", json=body, headers=sup.with_key())
    assert assert_response(resp, 201)["outcome"] == "created"
    resp = edge.put("/api/v1/carton-types/MAILER", json=body, headers=sup.with_key())
    assert assert_response(resp, 200)["outcome"] == "unchanged"
    resp = edge.put(
        "/api/v1/carton-types/BOX-S",
        json={"tare_kg": 0.2, "max_weight_kg": 10, "active": False},
        headers=sup.with_key(),
    )
    assert assert_response(resp, 200)["outcome"] == "updated"
    listed = assert_response(edge.get("/api/v1/carton-types", headers=packer.who.headers), 200)
    assert [t["code"] for t in listed["carton_types"]] == ["BOX-L", "MAILER"]
    assert_response(
        edge.put(
            "/api/v1/carton-types/HEAVY",
            json={"tare_kg": 5, "max_weight_kg": 5},
            headers=sup.with_key(),
        ),
        422,
        code="VALIDATION_FAILED",
    )
    assert_response(
        edge.put("/api/v1/carton-types/BAD%20CODE", json=body, headers=sup.with_key()), 422
    )
    assert_response(
        edge.put("/api/v1/carton-types/X", json=body, headers=packer.who.with_key()),
        403,
        code="FORBIDDEN_ROLE",
    )
    # A retired carton type cannot be chosen.
    two_tote_order(site)
    packer.step("start", {"barcode": "TOTE-0001"})
    packer.step("scan", {"barcode": gtin13("MUG-1")})
    assert_response(
        packer.post("close-carton", {"carton_type": "BOX-S", "weight_kg": 1.2}),
        422,
        code="PACK_CARTON_TYPE_UNKNOWN",
    )


def test_nothing_left_in_totes_once_helpers_built_the_picked_state(site):
    """The support module builds picking's contract faithfully (a guard for these tests)."""
    two_tote_order(site)
    rows = stock_rows(site.db)
    assert rows[("PACK-01", "MUG-1", "", "TOTE-0001")] == 2
    assert rows[("PACK-01", "MILK-1", "M1", "TOTE-0002")] == 1
    assert site.db.query_one("SELECT COUNT(*) AS n FROM allocations")["n"] == 0
    assert check_ledger(site.db).ok
    assert events(site.db, "shipment.created") == []
