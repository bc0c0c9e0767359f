"""The handheld's packing workflow against a real edge server on loopback."""

from __future__ import annotations

from pathlib import Path

from packing_support import Pick, gs1, gtin13, picked_order, setup_site, stock_item
from terminal_workflow_support import Handheld, ok, refused, scan

from terminal.client.queue import Status
from terminal.workflows.base import Tone
from terminal.workflows.packing import PackingWorkflow

from conftest import LiveEdge


def test_an_order_is_verified_and_packed_with_local_checks(live_edge: LiveEdge, tmp_path: Path):
    services = live_edge.services
    setup_site(services)
    stock_item(services.db, "MUG-1", 10)
    stock_item(services.db, "TEA-1", 10, lot="L1")
    picked_order(
        services.db,
        "SO-5",
        [("MUG-1", 2), ("TEA-1", 1)],
        [Pick(1, "TOTE-0001"), Pick(2, "TOTE-0001")],
    )
    hh = Handheld.open(live_edge, tmp_path, "packer")
    try:
        wf = PackingWorkflow(hh.work)
        refused(wf.on_input("close_carton", {}), "TERMINAL_WRONG_STEP")
        ok(wf.on_scan(scan("TOTE-0001")))
        assert wf.view().fields["units_left"] == 3
        refused(wf.on_scan(scan(gtin13("SPOON-1"))), "PACK_ITEM_NOT_IN_ORDER")
        details = refused(wf.on_scan(scan(gs1("TEA-1", lot="L9"))), "PACK_ITEM_NOT_IN_ORDER")
        assert details["picked_lots"] == ["L1"]
        details = refused(wf.on_scan(scan(gs1("MUG-1", count=3))), "PACK_OVER_SCANNED")
        assert details["left"] == 2
        refused(wf.on_scan(scan("TOTE-0777")), "PACK_TOTE_OTHER_ORDER")
        refused(
            wf.on_input("close_carton", {"carton_type": "BOX-S", "weight_kg": 1}),
            "PACK_CARTON_EMPTY",
        )
        refused(wf.on_input("qty", 0), "QUANTITY_INVALID")
        assert hh.conn.queue.commands() == []
        ok(wf.on_input("qty", 2), Tone.INFO)
        ok(wf.on_scan(scan(gtin13("MUG-1"))))  # 2 of the scanned unit
        ok(wf.on_scan(scan(gs1("TEA-1", lot="L1"))))
        assert wf.view().fields["units_left"] == 0
        refused(
            wf.on_input("close_carton", {"carton_type": "BOX-X", "weight_kg": 3}),
            "PACK_CARTON_TYPE_UNKNOWN",
        )
        refused(
            wf.on_input("close_carton", {"carton_type": "BOX-S", "weight_kg": 11}),
            "PACK_WEIGHT_OUT_OF_RANGE",
        )
        refused(
            wf.on_input("close_carton", {"carton_type": "BOX-S", "weight_kg": "heavy"}),
            "VALIDATION_FAILED",
        )
        fb = wf.on_input("close_carton", {"carton_type": "BOX-S", "weight_kg": 3.2})
        assert fb.tone is Tone.DONE and wf.view().state == "done"
        hh.drain()
        assert wf.poll() is None
        assert {c.status for c in hh.conn.queue.commands()} == {Status.APPLIED}
        assert wf.sealed and wf.sealed[0]["sscc"]
        order = services.db.query_one("SELECT status FROM fulfillment_orders WHERE number = 'SO-5'")
        assert order["status"] == "packed"
    finally:
        hh.close()
