"""End to end, as a handheld does it, against a real edge server on loopback: discover it
(zeroconf on 127.0.0.1), pair with a code a supervisor made, log in by badge + PIN, receive a
PO, put the LPN away, pick an order — every step through the workflows' scans and their
queue — and check the ledger."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from picking_support import gs1, gtin13, make_order, make_task, picking_site, stock_at
from terminal_workflow_support import PIN, ok, scan

from edge_server.discovery import Advertiser
from edge_server.wms.ledger import check_ledger
from protocols.barcodes import format_po
from terminal.client.connection import Connection
from terminal.client.edge import EdgeClient
from terminal.client.queue import Status
from terminal.net.discovery import Browser, EdgeServer
from terminal.workflows.base import Tone
from terminal.workflows.menu import open_workflow, workflows_for
from terminal.workflows.picking import PickingWorkflow
from terminal.workflows.putaway import PutawayWorkflow
from terminal.workflows.receiving import ReceivingWorkflow
from terminal.workflows.session import Work

from conftest import LiveEdge, login_as, make_settings

DEADLINE = 20.0


@pytest.fixture
def advertised_edge(live_edge: LiveEdge, tmp_path: Path) -> Iterator[LiveEdge]:
    """The live edge, advertised with zeroconf on loopback as the server does at start-up."""
    port = int(live_edge.url.rsplit(":", 1)[1])
    (tmp_path / "adv").mkdir()
    adv = Advertiser(make_settings(tmp_path / "adv", site="CHI", port=port, advertise=True))
    adv.start()
    try:
        yield live_edge
    finally:
        adv.stop()


def discover(port: int) -> EdgeServer:
    """Browse on loopback until our edge answers (other test runs may advertise CHI too: the
    port tells ours apart)."""
    with Browser(interfaces=["127.0.0.1"]) as browser:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            for server in browser.servers():
                if server.site == "CHI" and server.port == port and server.compatible:
                    return server
            time.sleep(0.05)
    raise AssertionError("the edge server was not discovered")


def test_discover_pair_login_receive_put_away_and_pick(advertised_edge, tmp_path):
    live = advertised_edge
    services = live.services
    picking_site(services)  # layout (DOCK-01 receiving dock, PACK-01) and GS1 items
    supervisor = login_as(services, "supervisor")
    with httpx.Client(base_url=live.url) as http:
        resp = http.put(
            "/api/v1/purchase-orders/PO-E2E1",
            json={"supplier": "Acme", "lines": [{"line_no": 1, "sku": "SOAP-1", "qty": 12}]},
            headers=supervisor.with_key(),
        )
        assert resp.status_code == 201, resp.text
        resp = http.post("/api/v1/devices/pairing-codes", json={}, headers=supervisor.with_key())
        assert resp.status_code == 201, resp.text
        code = resp.json()["data"]["code"]
    services.users.create(badge="R-100", pin=PIN, role="receiver")
    services.users.create(badge="P-200", pin=PIN, role="picker")

    # -- discover and pair ----------------------------------------------------------------------
    server = discover(int(live.url.rsplit(":", 1)[1]))
    assert server.url == live.url
    pairing = EdgeClient(server.api_url)
    device = pairing.pair(code, "handheld-e2e")
    pairing.close()
    conn = Connection.open(tmp_path / "queue.db", api_url=server.api_url, device=device)
    try:
        # -- the receiver: receive the PO -----------------------------------------------------
        session = conn.login("R-100", PIN)
        work = Work(conn)
        assert (session.role, workflows_for(work.role)[:2]) == (
            "receiver",
            ("receiving", "putaway"),
        )
        rcv = open_workflow("receiving", work)
        assert isinstance(rcv, ReceivingWorkflow)
        ok(rcv.on_scan(scan(format_po("PO-E2E1"))))
        ok(rcv.on_scan(scan(gs1("SOAP-1", count=12))))  # a GS1-128 with its count (AI 37)
        assert rcv.view().state == "set_lpn"
        ok(rcv.on_input("new_lpn", None))
        assert conn.replayer.flush(DEADLINE)
        # The session's first answer said the PO is not blind: expected quantities show.
        assert rcv.view().state == "scan_item" and rcv.view().progress == (1, 1)
        assert rcv.on_input("close", None).tone is Tone.DONE
        assert conn.replayer.flush(DEADLINE)
        assert rcv.poll() is None  # the server answered every step as the handheld predicted
        lpn = rcv.received[0]["lpn"]
        assert rcv.received[0]["qty"] == 12 and lpn.startswith("LPN")
        assert rcv.summary["po_closed"] is True
        assert stock_at(services, "DOCK-01", "SOAP-1", lpn=lpn) == 12

        # -- the receiver: put the LPN away ---------------------------------------------------
        put = open_workflow("putaway", work)
        assert isinstance(put, PutawayWorkflow)
        ok(put.on_scan(scan(lpn)))
        bins = []
        while put.view().state == "scan_bin":
            target = put.view().fields["to_location"]
            bins.append((target, put.view().fields["qty"]))
            ok(put.on_scan(scan(target)))
        assert conn.replayer.flush(DEADLINE)
        assert put.poll() is None
        assert sum(q for _, q in bins) == 12
        assert stock_at(services, "DOCK-01", "SOAP-1") == 0
        for target, qty in bins:
            assert stock_at(services, target, "SOAP-1") >= qty
        conn.logout()

        # -- the picker: pick an order --------------------------------------------------------
        order_id = make_order(services, "SO-E2E", [("SOAP-1", 5)])
        task_id = make_task(services, [order_id])
        conn.login("P-200", PIN)
        work = Work(conn)
        assert work.role == "picker" and "receiving" not in workflows_for(work.role)
        pick = open_workflow("picking", work)
        assert isinstance(pick, PickingWorkflow)
        ok(pick.on_input("next", None))
        assert pick.task["task_id"] == task_id
        ok(pick.on_scan(scan("TOTE-0042")))
        while pick.view().state in ("scan_bin", "scan_item"):
            fields = pick.view().fields
            if pick.view().state == "scan_bin":
                ok(pick.on_scan(scan(fields["bin"])))
            ok(pick.on_scan(scan(gtin13("SOAP-1"))))
            ok(pick.on_input("qty", fields["qty_remaining"]))
            ok(pick.on_scan(scan("POS-1")))
        assert pick.view().state == "done"
        assert conn.replayer.flush(DEADLINE)
        assert pick.poll() is None
        statuses = {c.status for c in conn.queue.commands()}
        assert statuses == {Status.APPLIED}  # every scan reached the server, none refused
    finally:
        conn.close()

    # -- the ledger ---------------------------------------------------------------------------
    assert stock_at(services, "PACK-01", "SOAP-1", lpn="TOTE-0042") == 5
    kinds = [
        r["type"]
        for r in services.db.query(
            "SELECT m.type FROM movements m JOIN items i ON i.id = m.item_id "
            "WHERE i.sku = 'SOAP-1' ORDER BY m.id"
        )
    ]
    assert kinds[0] == "receipt"
    assert kinds.count("putaway") == len(bins) and kinds[-1] == "pick"
    report = check_ledger(services.db)
    assert report.ok, report
    task = services.db.query_one("SELECT status FROM pick_tasks WHERE id = ?", [task_id])
    assert task["status"] == "done"
