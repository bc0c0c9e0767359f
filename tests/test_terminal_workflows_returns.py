"""The handheld's returns workflow against a real edge server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from returns_support import (
    Receiver,
    events,
    gs1,
    gtin13,
    rma_body,
    setup_site,
    stock,
)
from terminal_workflow_support import Handheld, ok, refused, scan

from edge_server.wms.ledger import check_ledger
from protocols.barcodes import format_rma
from terminal.client.queue import Ref, Status
from terminal.workflows.base import Tone
from terminal.workflows.returns import ReturnsWorkflow

from conftest import LiveEdge, login_as


@pytest.fixture
def site(live_edge: LiveEdge) -> LiveEdge:
    setup_site(live_edge.services)
    return live_edge


def expect(site: LiveEdge, rma: str, body: dict) -> None:
    oms = login_as(site.services, "integration")
    with httpx.Client(base_url=site.url) as http:
        resp = http.put(f"/api/v1/returns/{rma}", json=body, headers=oms.with_key())
        assert resp.status_code == 201, resp.text


@pytest.fixture
def receiver(site: LiveEdge, tmp_path: Path) -> Iterator[Handheld]:
    hh = Handheld.open(site, tmp_path, "receiver")
    yield hh
    hh.close()


def test_an_rma_is_received_while_the_edge_is_out_of_reach_and_replayed_with_refs(site, tmp_path):
    services = site.services
    lines = [("MUG-1", 2, "not_wanted"), ("TEA-1", 3, "damaged"), ("CUP-1", 1, "defective")]
    expect(site, "R-20", rma_body(lines, tracking="1Z999AA10123456784"))
    hh = Handheld.open(site, tmp_path, "receiver", replay=False)  # nothing is sent yet
    try:
        wf = ReturnsWorkflow(hh.work)
        assert wf.view().state == "start"
        ok(wf.on_scan(scan("1Z999AA10123456784", "]C0")))  # the return label's tracking
        view = wf.view()
        assert view.state == "scan_item" and view.fields["rma"] == "R-20"
        assert view.progress == (0, 3)
        ok(wf.on_scan(scan(gtin13("MUG-1"))))
        assert wf.view().state == "set_quantity"
        ok(wf.on_input("qty", 2))
        assert wf.view().fields["dispositions"] == {
            "new": "restock",
            "opened": "refurbish",
            "damaged": "quarantine",
        }
        fb = ok(wf.on_input("new", None))
        assert fb.code == "RETURNS_RECEIVED" and fb.details["disposition"] == "restock"
        ok(wf.on_scan(scan(gs1("TEA-1", lot="T1", count=3))))  # lot and count on the label
        assert wf.view().state == "set_condition"
        ok(wf.on_input("damaged", None))
        assert "TEA-1 → scrap" in wf.view().prompt
        fb = wf.on_input("close", None)
        assert fb.tone is Tone.INFO and fb.code == "RETURNS_SHORT_LINES"
        assert wf.view().state == "confirm_close"
        fb = wf.on_input("confirm", None)
        assert fb.tone is Tone.DONE and wf.view().state == "done"
        commands = hh.conn.queue.commands()
        assert [c.path.rsplit("/", 1)[1] for c in commands] == [
            "start",
            "scan",
            "quantity",
            "condition",
            "scan",
            "condition",
            "close",
            "close",
        ]
        assert commands[0].body == {"barcode": "1Z999AA10123456784", "symbology": "]C0"}
        assert all(
            c.body["session_id"] == Ref(commands[0].seq, "data.scan_item.session_id")
            for c in commands[1:]
        )
        assert services.db.query("SELECT * FROM return_receipts") == []
        hh.start_replay()
        hh.drain()
        assert {c.status for c in hh.conn.queue.commands()} == {Status.APPLIED}
        assert wf.poll() is None
        assert [(r["sku"], r["disposition"]) for r in wf.received] == [
            ("MUG-1", "restock"),
            ("TEA-1", "scrap"),
        ]
        assert not any(r.get("predicted") for r in wf.received)
        assert stock(services.db, "RET-01", "MUG-1") == {"available": 2}
        (closed,) = events(services.db, "return.closed")
        assert closed["rma"] == "R-20" and closed["units_received"] == 5
        assert closed["units_sellable"] == 2 and closed["complete"] is False
        assert check_ledger(services.db).ok
    finally:
        hh.close()


def test_refused_scans_and_keys_change_nothing_and_queue_nothing(site, receiver):
    expect(site, "R-21", rma_body([("MUG-1", 2, "not_wanted"), ("TEA-1", 1, "not_wanted")]))
    wf = ReturnsWorkflow(receiver.work)
    refused(wf.on_input("qty", 2), "RETURNS_WRONG_STEP")
    refused(wf.on_scan(scan(format_rma("R-404"))), "RETURNS_RMA_UNKNOWN")
    refused(wf.on_scan(scan("1Z000000000000000")), "RETURNS_RMA_UNKNOWN")
    refused(wf.on_scan(scan(gtin13("MUG-1"))), "BARCODE_UNEXPECTED")
    refused(wf.on_input("rma", ""), "VALIDATION_FAILED")
    assert receiver.conn.queue.commands() == []
    ok(wf.on_input("rma", "r-21"))  # keyed in
    receiver.drain()
    queued = len(receiver.conn.queue.commands())
    refused(wf.on_scan(scan(gtin13("CUP-1"))), "RETURNS_ITEM_NOT_ON_RMA")
    refused(wf.on_scan(scan("4006381333931")), "UNKNOWN_ITEM")
    refused(wf.on_scan(scan(gs1("MUG-1", count=3))), "RETURNS_OVER_QTY")
    refused(wf.on_scan(scan("A01-01-1L")), "BARCODE_UNEXPECTED")
    refused(wf.on_input("new", None), "RETURNS_WRONG_STEP")
    refused(wf.on_input("confirm", None), "RETURNS_WRONG_STEP")
    refused(wf.on_input("juggle", None), "TERMINAL_INPUT_UNKNOWN")
    ok(wf.on_scan(scan(gtin13("MUG-1"))))
    refused(wf.on_input("qty", 3), "RETURNS_OVER_QTY")
    refused(wf.on_input("qty", 0), "QUANTITY_INVALID")
    refused(wf.on_input("qty", "two"), "QUANTITY_INVALID")
    refused(wf.on_input("condition", "mint"), "RETURNS_WRONG_STEP")
    ok(wf.on_input("qty", 2))
    refused(wf.on_input("condition", "mint"), "VALIDATION_FAILED")
    ok(wf.on_input("cancel", None), Tone.INFO)
    ok(wf.on_scan(scan(gtin13("TEA-1"))))
    ok(wf.on_input("qty", 1))
    assert wf.view().state == "set_lot"
    refused(wf.on_input("new", None), "RETURNS_WRONG_STEP")
    refused(wf.on_input("lot", ""), "VALIDATION_FAILED")
    assert len(receiver.conn.queue.commands()) == queued + 5  # scan, qty, cancel, scan, qty
    ok(wf.on_input("lot", "T4"))
    ok(wf.on_input("opened", None))
    receiver.drain()
    assert wf.poll() is None and wf.view().state == "scan_item"
    assert [r["disposition"] for r in wf.received] == ["refurbish"]
    assert stock(site.services.db, "RET-01", "TEA-1") == {"quarantine": 1}


def test_a_closed_rma_and_an_unreachable_edge_are_said_plainly(site, receiver):
    expect(site, "R-22", rma_body([("MUG-1", 1, "not_wanted")]))
    with httpx.Client(base_url=site.url) as http:
        oms = login_as(site.services, "integration")
        resp = http.post("/api/v1/returns/R-22/cancel", json={}, headers=oms.with_key())
        assert resp.status_code == 200
    wf = ReturnsWorkflow(receiver.work)
    refused(wf.on_scan(scan("RMA-R-22")), "RETURNS_RMA_CLOSED")
    receiver.offline()
    refused(wf.on_scan(scan("RMA-R-22")), "TERMINAL_OFFLINE")
    receiver.online()
    assert receiver.conn.queue.commands() == [] and wf.view().state == "start"


def test_units_taken_by_another_receiver_meanwhile_are_refused_on_replay_and_resynced(
    site, tmp_path
):
    expect(site, "R-23", rma_body([("MUG-1", 2, "not_wanted")]))
    hh = Handheld.open(site, tmp_path, "receiver", replay=False)
    try:
        wf = ReturnsWorkflow(hh.work)
        ok(wf.on_scan(scan("RMA-R-23")))
        ok(wf.on_scan(scan(gs1("MUG-1", count=2))))
        ok(wf.on_input("new", None))  # confirmed here, queued: the edge has not seen it
        # Meanwhile a colleague receives both units at the edge.
        with httpx.Client(base_url=site.url) as http:
            other = Receiver(http, login_as(site.services, "receiver"))
            other.step("start", {"rma": "R-23"})
            other.receive(gtin13("MUG-1"), 2, "opened")
        hh.start_replay()
        hh.drain()
        statuses = [c.status for c in hh.conn.queue.commands()]
        assert statuses[:2] == [Status.APPLIED, Status.REJECTED]
        fb = wf.poll()
        assert fb is not None and fb.tone is Tone.BAD and fb.code == "RETURNS_OVER_QTY"
        assert fb.details["rejected_on_replay"] is True
        wf.poll()  # the later commands are decided; the workflow reloads the server's state
        view = wf.view()
        assert view.state == "scan_item"
        assert view.lines[0]["qty_received"] == 2
        assert wf.received == []  # the prediction is gone: the colleague's posting stands
        db = site.services.db
        assert [r["condition"] for r in db.query("SELECT * FROM return_receipts")] == ["opened"]
        assert check_ledger(db).ok
    finally:
        hh.close()
