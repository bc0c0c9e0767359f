"""The handheld's putaway workflow against a real edge server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from picking_support import picking_site, put_stock, stock_at
from terminal_workflow_support import Handheld, ok, refused, scan

from edge_server.wms.putaway import tasks
from edge_server.wms.putaway.tasks import create_putaway_tasks
from protocols.barcodes import format_lpn
from terminal.client.queue import Status
from terminal.workflows.base import Tone
from terminal.workflows.putaway import OVERRIDE_REASONS, PutawayWorkflow

from conftest import LiveEdge

LPN = format_lpn(77)


@pytest.fixture
def pallet(live_edge: LiveEdge) -> int:
    """4 MUG-1 on LPN 77 waiting at DOCK-01, with their putaway task."""
    services = live_edge.services
    picking_site(services)
    put_stock(services, "DOCK-01", "MUG-1", 4, lpn=LPN)
    with services.db.write() as w:
        ids = create_putaway_tasks(
            w, "CHI", location="DOCK-01", lpn=LPN, sku="MUG-1", lot="", qty=4, status="available"
        )
    assert len(ids) == 1
    return ids[0]


@pytest.fixture
def receiver(live_edge: LiveEdge, tmp_path: Path) -> Iterator[Handheld]:
    hh = Handheld.open(live_edge, tmp_path, "receiver")
    yield hh
    hh.close()


def suggested(live_edge: LiveEdge, task_id: int) -> str:
    return str(tasks.get_task(live_edge.services.db, "CHI", task_id)["to_location"])


def test_the_override_reasons_are_the_servers():
    assert OVERRIDE_REASONS == tasks.OVERRIDE_REASONS


def test_the_pallet_goes_to_the_suggested_bin_offline_and_is_moved_on_replay(
    live_edge, pallet, receiver
):
    wf = PutawayWorkflow(receiver.work)
    ok(wf.on_input("next", None))  # downloads the open tasks
    ok(wf.on_input("cancel", None), Tone.INFO)
    receiver.offline()
    ok(wf.on_scan(scan(LPN)))
    target = suggested(live_edge, pallet)
    assert wf.view().fields["to_location"] == target
    fb = ok(wf.on_scan(scan(target)))
    assert fb.details == {"task": pallet, "bin": target}
    receiver.wait_offline()
    assert wf.view().state == "scan_lpn" and not wf.view().online and wf.view().pending == 1
    assert stock_at(live_edge.services, target, "MUG-1") == 0
    receiver.online()
    receiver.drain()
    assert wf.poll() is None
    assert stock_at(live_edge.services, target, "MUG-1", lpn=LPN) == 4
    assert tasks.get_task(live_edge.services.db, "CHI", pallet)["status"] == "done"


def test_another_bin_needs_a_reason_first_and_unknown_pallets_are_refused(
    live_edge, pallet, receiver
):
    wf = PutawayWorkflow(receiver.work)
    refused(wf.on_scan(scan("A01-01-1L")), "BARCODE_UNEXPECTED")  # a bin before the pallet
    refused(wf.on_scan(scan(format_lpn(999))), "TASK_NOT_FOUND")
    ok(wf.on_scan(scan(LPN)))
    target = suggested(live_edge, pallet)
    other = "A04-05-1R" if target != "A04-05-1R" else "A04-04-1R"
    details = refused(wf.on_scan(scan(other)), "PUTAWAY_OVERRIDE_REASON_REQUIRED")
    assert details["suggested"] == target and details["reasons"] == list(OVERRIDE_REASONS)
    refused(wf.on_input("reason", "lazy"), "VALIDATION_FAILED")
    refused(wf.on_input("fly", None), "TERMINAL_INPUT_UNKNOWN")
    assert receiver.conn.queue.commands() == []
    wf.on_input("reason", "bin_blocked")
    ok(wf.on_scan(scan(other)))
    receiver.drain()
    task = tasks.get_task(live_edge.services.db, "CHI", pallet)
    assert (task["confirmed_location"], task["override_reason"]) == (other, "bin_blocked")


def test_a_bin_the_server_refuses_on_replay_is_shown_and_the_task_stays_open(
    live_edge, pallet, receiver
):
    wf = PutawayWorkflow(receiver.work)
    ok(wf.on_scan(scan(LPN)))
    receiver.offline()
    wf.on_input("reason", "other")
    ok(wf.on_scan(scan("QUAR-01")))  # available stock may not go to quarantine: server says
    receiver.wait_offline()
    receiver.online()
    receiver.drain()
    fb = wf.on_scan(scan(LPN))
    assert fb.code == "PUTAWAY_BIN_NOT_ALLOWED" and fb.details["rejected_on_replay"] is True
    [rejected] = receiver.conn.queue.rejected(include_acknowledged=True)
    assert rejected.status is Status.REJECTED and rejected.acknowledged
    assert wf.view().rejected == 0  # shown and acknowledged, still kept in the queue
    ok(wf.on_scan(scan(LPN)))  # the task is open again after the reload
    ok(wf.on_scan(scan(suggested(live_edge, pallet))))
    receiver.drain()
    assert tasks.get_task(live_edge.services.db, "CHI", pallet)["status"] == "done"
