"""The receiving scenario end to end, over real HTTP against a live edge server."""

import re

import pytest
from receiving_support import (
    FUTURE,
    Handheld,
    case_gtin14,
    events,
    gs1_128,
    gtin13,
    make_asn,
    make_po,
    setup_site,
    sscc,
    stock,
)

from edge_server.scenarios.base import ScenarioService, UndeclaredState, endpoint
from edge_server.scenarios.receiving import ReceivingScenario
from edge_server.wms.ledger import check_ledger
from protocols.barcodes import format_lpn

from conftest import assert_response, login_as


@pytest.fixture
def site(services):
    setup_site(services)
    return services


def assert_declared(answers):
    """Every next_state an endpoint answered is one it declares."""
    declared = ReceivingScenario.endpoints()
    assert answers
    for step, envelope in answers:
        name = {"override": "override"}.get(step, step)
        assert envelope["next_state"] in declared[name].to_states, (step, envelope["next_state"])


def test_receive_a_po_by_scan_from_start_to_close(live_edge, site):
    make_po(site, "4500001", [("SOAP-1", 27), ("MILK-1", 10)])
    receiver = login_as(site, "receiver")
    with live_edge.client() as http:
        hh = Handheld(http, receiver)
        started = hh.step("start", {"barcode": "PO-4500001"})
        assert started["next_state"] == "scan_item"
        view = started["data"]["scan_item"]
        assert view["dock"] == "DOCK-01" and view["blind"] is False
        assert [(ln["sku"], ln["qty_expected"]) for ln in view["lines"]] == [
            ("SOAP-1", 27),
            ("MILK-1", 10),
        ]

        # EAN-13 of one soap: how many? 3 → not tracked → LPN from the server
        assert hh.step("scan", {"barcode": gtin13("1")})["next_state"] == "set_quantity"
        assert hh.step("quantity", {"qty": 3})["next_state"] == "set_lpn"
        done = hh.step("lpn", {})
        assert done["next_state"] == "scan_item"
        first = done["data"]["scan_item"]["received"]
        assert [(r["sku"], r["qty"], r["status"]) for r in first] == [("SOAP-1", 3, "available")]
        new_lpn = first[0]["lpn"]
        assert re.fullmatch(r"LPN\d{9}", new_lpn)
        assert done["message"]["code"] == "RECEIVING_RECEIVED"

        # the case GTIN (ITF-14): 2 cases of 12 = 24 eaches, on a pre-printed LPN label
        answer = hh.step("scan", {"barcode": case_gtin14("1")})
        assert answer["data"]["set_quantity"]["receiving"]["units_per_scan"] == 12
        hh.step("quantity", {"qty": 2})
        done = hh.step("lpn", {"barcode": format_lpn(500)})
        assert done["data"]["scan_item"]["received"][0]["qty"] == 24

        # GS1-128 with lot, expiry and count: nothing to key in but the LPN
        answer = hh.step("scan", {"barcode": gs1_128("MILK-1", lot="M1", expiry=FUTURE, count=10)})
        assert answer["next_state"] == "set_lpn"
        part = answer["data"]["set_lpn"]["receiving"]["parts"][0]
        assert (part["qty"], part["lot"], part["expiry"]) == (10, "M1", FUTURE.isoformat())
        hh.step("lpn", {"barcode": format_lpn(501)})

        closed = hh.step("close", {})
        assert closed["next_state"] == "done"
        summary = closed["data"]["done"]
        assert (summary["lines"], summary["units"], summary["po_closed"]) == (3, 37, True)
        assert set(summary["discrepancies"].values()) == {0}

        who = login_as(site, "supervisor")
        dock = assert_response(
            http.get(
                "/api/v1/inventory/stock", params={"location": "DOCK-01"}, headers=who.headers
            ),
            200,
        )
    assert sorted((r["sku"], r["lot"], r["lpn"], r["qty"]) for r in dock["items"]) == sorted(
        [
            ("MILK-1", "M1", format_lpn(501), 10),
            ("SOAP-1", "", format_lpn(500), 24),
            ("SOAP-1", "", new_lpn, 3),
        ]
    )
    assert check_ledger(site.db).ok
    types = [t for t, _ in events(site)]
    assert types.count("inventory.changed") == 3
    assert types.count("receiving.line_received") == 3
    assert types.count("receiving.lpn_received") == 3
    assert types[-1] == "receiving.closed"
    lpn_events = [p for t, p in events(site, "receiving.lpn_received")]
    task_ids = [i for p in lpn_events for i in p.pop("putaway_task_ids")]
    # every received unit got a directed putaway task in the receipt's transaction
    marks = ",".join("?" * len(task_ids))
    tasks = site.db.query(
        f"SELECT qty, to_location_id FROM stock_tasks WHERE id IN ({marks})", task_ids
    )
    assert sum(t["qty"] for t in tasks) == 37 and all(t["to_location_id"] for t in tasks)
    assert lpn_events[2] == {
        "site": "CHI",
        "lpn": format_lpn(501),
        "sku": "MILK-1",
        "lot": "M1",
        "qty": 10,
        "status": "available",
        "location": "DOCK-01",
    }
    lines = site.db.query("SELECT qty_received, status FROM po_lines ORDER BY line_no")
    assert [(r["qty_received"], r["status"]) for r in lines] == [(27, "complete"), (10, "complete")]
    assert site.db.query_one("SELECT status FROM purchase_orders")["status"] == "closed"
    assert_declared(hh.answers)


def test_an_sscc_receives_the_whole_asn_pallet_in_one_scan_and_a_replay_does_not(live_edge, site):
    po_id = make_po(site, "4500002", [("SOAP-1", 20), ("TEA-1", 5)])
    pallet = sscc(77)
    make_asn(
        site,
        "SHIP-9",
        po_id,
        [("SOAP-1", 20, "", None, pallet), ("TEA-1", 5, "T1", FUTURE, pallet)],
    )
    receiver = login_as(site, "receiver")
    with live_edge.client() as http:
        hh = Handheld(http, receiver)
        first = hh.step("start", {"barcode": f"]C100{pallet}"}, key="pallet-77")
        assert first["next_state"] == "scan_item"
        received = first["data"]["scan_item"]["received"]
        assert [(r["sku"], r["qty"], r["lot"], r["lpn"]) for r in received] == [
            ("SOAP-1", 20, "", pallet),
            ("TEA-1", 5, "T1", pallet),
        ]
        assert first["data"]["scan_item"]["asn"] == "SHIP-9"
        # the same command again (a Wi-Fi drop ate the answer): the same answer, no second receipt
        again = hh.post("start", {"barcode": f"]C100{pallet}"}, key="pallet-77")
        assert again.status_code == 200 and again.json() == first
        # scanning the pallet again as a new command is refused
        resp = hh.post("scan", {"barcode": pallet})
        assert_response(resp, 409, code="RECEIVING_SSCC_ALREADY_RECEIVED")
        hh.step("close", {})
    assert stock(site) == {
        ("SOAP-1", "", pallet, "available"): 20,
        ("TEA-1", "T1", pallet, "available"): 5,
    }
    assert (
        site.db.query_one("SELECT COUNT(*) AS n FROM asn_lines WHERE received_at IS NULL")["n"] == 0
    )
    assert site.db.query_one("SELECT status FROM asns")["status"] == "received"
    assert check_ledger(site.db).ok
    assert_declared(hh.answers)


def test_replaying_a_scan_with_the_same_key_does_not_receive_twice(live_edge, site):
    make_po(site, "4500003", [("MILK-1", 50)])
    receiver = login_as(site, "receiver")
    with live_edge.client() as http:
        hh = Handheld(http, receiver)
        hh.step("start", {"po": "4500003"})
        hh.step("scan", {"barcode": gs1_128("MILK-1", lot="M2", expiry=FUTURE, count=6)})
        posted = hh.step("lpn", {}, key="lpn-once")
        replay = hh.post("lpn", {}, key="lpn-once")
        assert replay.status_code == 200 and replay.json() == posted
        # a new key for the same step is judged afresh: the session is no longer at set_lpn
        assert_response(hh.post("lpn", {}), 409, code="RECEIVING_WRONG_STEP")
    assert sum(stock(site).values()) == 6
    assert site.db.query_one("SELECT qty_received FROM po_lines")["qty_received"] == 6


def test_the_session_state_can_be_read_back_to_resume(live_edge, site):
    make_po(site, "4500004", [("TEA-1", 5)])
    receiver = login_as(site, "receiver")
    with live_edge.client() as http:
        hh = Handheld(http, receiver)
        hh.step("start", {"po": "4500004"})
        hh.step("scan", {"barcode": gtin13("3")})
        asked = hh.step("quantity", {"qty": 5})
        assert asked["next_state"] == "set_lot"
        resp = http.get(
            f"/api/v1/scenarios/receiving/sessions/{hh.session_id}", headers=receiver.headers
        )
        assert resp.status_code == 200 and resp.json() == asked
        other = login_as(site, "receiver")
        resp = http.get(
            f"/api/v1/scenarios/receiving/sessions/{hh.session_id}", headers=other.headers
        )
        assert_response(resp, 409, code="RECEIVING_SESSION_OTHER_USER")


def test_an_undeclared_next_state_is_refused_as_a_bug(settings):
    class Broken(ScenarioService):
        @endpoint(from_=["a"], to=["b"])
        def go(self):
            return self.envelope("c", {})

    with pytest.raises(UndeclaredState):
        Broken(settings, user_id=None, device_id=None, role="admin").go()


def test_received_stock_is_put_away_where_the_system_directs(live_edge, site):
    """Receive one LPN, then the putaway task it created: scan the suggested bin."""
    make_po(site, "4500009", [("SOAP-1", 5)])
    receiver = login_as(site, "receiver")
    with live_edge.client() as http:
        hh = Handheld(http, receiver)
        hh.step("start", {"barcode": "PO-4500009"})
        hh.step("scan", {"barcode": gtin13("1")})
        hh.step("quantity", {"qty": 5})
        received = hh.step("lpn", {"barcode": format_lpn(777)})["data"]["scan_item"]["received"]
        (task_id,) = received[0]["putaway_task_ids"]
        task = assert_response(
            http.get(f"/api/v1/putaway/tasks/{task_id}", headers=receiver.headers), 200
        )["task"]
        target = task["to_location"]
        assert task["from_location"] == "DOCK-01" and task["reason"]
        done = http.post(
            f"/api/v1/putaway/tasks/{task_id}/confirm",
            json={"scan": target},
            headers={**receiver.headers, "Idempotency-Key": "putaway-777"},
        )
        assert_response(done, 200)
    assert stock(site, location=target) == {("SOAP-1", "", format_lpn(777), "available"): 5}
    assert stock(site, location="DOCK-01") == {}
    assert check_ledger(site.db).ok


@pytest.fixture
def settings(tmp_path):
    from conftest import make_settings

    return make_settings(tmp_path, printer_allow_loopback=True, printer_timeout_seconds=2.0)


def test_a_new_lpn_label_is_printed_when_the_receiver_asks(live_edge, site):
    from label_helpers import FakePrinter

    printer = FakePrinter().start()
    try:
        sup = login_as(site, "supervisor")
        make_po(site, "4500010", [("SOAP-1", 4)])
        receiver = login_as(site, "receiver")
        with live_edge.client() as http:
            assert_response(
                http.put(
                    "/api/v1/printers/dock",
                    json={"host": "127.0.0.1", "port": printer.port},
                    headers={**sup.headers, "Idempotency-Key": "printer-dock"},
                ),
                200,
            )
            hh = Handheld(http, receiver)
            hh.step("start", {"barcode": "PO-4500010"})
            hh.step("scan", {"barcode": gtin13("1")})
            hh.step("quantity", {"qty": 4})
            unknown = hh.post("lpn", {"printer": "nope"})
            assert_response(unknown, 404, code="PRINTER_UNKNOWN")
            received = hh.step("lpn", {"printer": "dock"})["data"]["scan_item"]["received"]
        lpn = received[0]["lpn"]
        assert received[0]["print_job_id"]
        (job,) = printer.wait_for(1, timeout=10)
        assert lpn.encode() in job and b"^XA" in job
    finally:
        printer.stop()
