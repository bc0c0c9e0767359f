"""The handheld's receiving workflow against a real edge server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from receiving_support import (
    FUTURE,
    PAST,
    case_gtin14,
    counts,
    gs1_128,
    gtin13,
    make_po,
    setup_site,
    stock,
)
from terminal_workflow_support import Handheld, ok, refused, scan

from edge_server.wms.ledger import check_ledger
from protocols.barcodes import format_lpn, format_po
from terminal.client.queue import Ref, Status
from terminal.workflows.base import Tone
from terminal.workflows.receiving import ReceivingWorkflow

from conftest import LiveEdge


@pytest.fixture
def site(live_edge: LiveEdge) -> LiveEdge:
    setup_site(live_edge.services)
    return live_edge


@pytest.fixture
def receiver(site: LiveEdge, tmp_path: Path) -> Iterator[Handheld]:
    hh = Handheld.open(site, tmp_path, "receiver")
    yield hh
    hh.close()


def test_a_po_is_received_while_the_edge_is_out_of_reach_and_replayed_with_refs(site, tmp_path):
    services = site.services
    make_po(services, "PO-7", [("SOAP-1", 24), ("MILK-1", 10)])
    hh = Handheld.open(site, tmp_path, "receiver", replay=False)  # nothing is sent yet
    try:
        wf = ReceivingWorkflow(hh.work)
        ok(wf.on_scan(scan(format_po("PO-7"))))  # the PO is downloaded; `start` is queued
        ok(wf.on_scan(scan(case_gtin14("1"))))  # a case of 12
        assert wf.view().fields["uom"] == "CS"
        ok(wf.on_input("qty", 2))
        assert wf.view().state == "set_lpn"
        ok(wf.on_scan(scan(format_lpn(501))))
        ok(wf.on_scan(scan(gs1_128("MILK-1", lot="M7", expiry=FUTURE, count=10))))
        ok(wf.on_input("new_lpn", None))
        fb = wf.on_input("close", None)
        assert fb.tone is Tone.DONE and wf.view().state == "done"
        commands = hh.conn.queue.commands()
        assert [c.path.rsplit("/", 1)[1] for c in commands] == [
            "start",
            "scan",
            "quantity",
            "lpn",
            "scan",
            "lpn",
            "close",
        ]
        assert all(c.status is Status.PENDING for c in commands)
        assert commands[1].body["session_id"] == Ref(1, "data.scan_item.session_id")
        assert counts(services)["receipt_lines"] == 0
        hh.start_replay()
        hh.drain()
        assert wf.poll() is None
        assert {c.status for c in hh.conn.queue.commands()} == {Status.APPLIED}
        lpns = [r["lpn"] for r in wf.received]
        assert lpns[0] == format_lpn(501) and lpns[1].startswith("LPN")
        assert stock(services) == {
            ("SOAP-1", "", format_lpn(501), "available"): 24,
            ("MILK-1", "M7", lpns[1], "available"): 10,
        }
        assert wf.summary["po_closed"] is True and wf.summary["units"] == 34
        assert check_ledger(services.db).ok
    finally:
        hh.close()


def test_refused_scans_change_nothing_and_queue_nothing(site, receiver):
    services = site.services
    make_po(services, "PO-8", [("SOAP-1", 12), ("TEA-1", 5)])
    wf = ReceivingWorkflow(receiver.work)
    refused(wf.on_scan(scan(gtin13("1"))), "BARCODE_UNEXPECTED")  # a product before the PO
    refused(wf.on_input("po", "PO-404"), "RECEIVING_DOCUMENT_UNKNOWN")
    ok(wf.on_scan(scan(format_po("PO-8"))))
    receiver.drain()
    before, queued = counts(services), len(receiver.conn.queue.commands())
    details = refused(
        wf.on_scan(scan(gs1_128("MILK-1", lot="X", expiry=PAST))), "RECEIVING_EXPIRY_PAST"
    )
    assert details["expiry"] == PAST.isoformat()
    refused(wf.on_scan(scan(gtin13("999"))), "UNKNOWN_ITEM")  # asked of the server
    refused(wf.on_scan(scan(format_lpn(5))), "BARCODE_UNEXPECTED")
    refused(wf.on_input("lot", "L1"), "RECEIVING_WRONG_STEP")
    ok(wf.on_scan(scan(gtin13("3"))))  # TEA-1: lot tracked
    queued += 1
    for bad_qty in (0, -2, "x", 10_000_001, True):
        refused(wf.on_input("qty", bad_qty), "QUANTITY_INVALID")
    ok(wf.on_input("qty", 5))
    queued += 1
    assert wf.view().state == "set_lot"
    refused(wf.on_input("lot", ""), "LOT_REQUIRED")
    refused(wf.on_input("lot", {"lot": "L1", "expiry": "31/12/2030"}), "VALIDATION_FAILED")
    refused(wf.on_input("close", None), "RECEIVING_WRONG_STEP")
    refused(wf.on_input("teleport", None), "TERMINAL_INPUT_UNKNOWN")
    assert len(receiver.conn.queue.commands()) == queued
    receiver.drain()
    assert counts(services) == before
    assert wf.poll() is None  # the server agrees: set_lot


def test_an_item_off_the_order_waits_for_a_supervisor_whose_pin_never_reaches_the_queue(
    site, receiver
):
    services = site.services
    services.users.create(badge="SUP-9", pin="86420", role="supervisor")
    make_po(services, "PO-9", [("SOAP-1", 12)])
    wf = ReceivingWorkflow(receiver.work)
    ok(wf.on_scan(scan(format_po("PO-9"))))
    fb = wf.on_scan(scan(gs1_128("TEA-1", lot="T1", count=3)))  # not on the PO
    assert fb.tone is Tone.INFO and fb.code == "RECEIVING_ITEM_NOT_ON_ORDER"
    assert wf.view().state == "override"
    refused(wf.on_input("override", {"badge": "SUP-9"}), "VALIDATION_FAILED")
    receiver.drain()
    assert wf.poll() is None  # the server also waits for a supervisor
    refused(
        wf.on_input("override", {"badge": "SUP-9", "pin": "00000"}),
        "RECEIVING_SUPERVISOR_PIN_WRONG",
    )
    ok(wf.on_input("override", {"badge": "BADGE-SUP-9", "pin": "86420"}))
    assert wf.view().state == "set_lpn"
    ok(wf.on_input("new_lpn", None))
    receiver.drain()
    assert wf.poll() is None
    assert wf.received[0]["reasons"] == ["unexpected"]
    path = receiver.queue_path  # the database and its WAL
    raw = b"".join(f.read_bytes() for f in path.parent.glob(path.name + "*"))
    assert b"SUP-9" not in raw and b"86420" not in raw
