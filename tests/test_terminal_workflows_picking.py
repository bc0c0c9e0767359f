"""The handheld's picking workflow against a real edge server on loopback: claimed and
downloaded once, every scan checked on the handheld, queued, replayed in order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from picking_support import (
    gs1,
    gtin13,
    make_order,
    make_task,
    one_order_task,
    pick_events,
    picking_site,
    put_stock,
    snapshot,
    stock_at,
)
from terminal_workflow_support import Handheld, ok, refused, scan

from edge_server.wms.ledger import check_ledger
from terminal.client.queue import Status
from terminal.workflows.base import Tone
from terminal.workflows.picking import PickingWorkflow

from conftest import LiveEdge


@pytest.fixture
def picker(live_edge: LiveEdge, tmp_path: Path) -> Iterator[Handheld]:
    hh = Handheld.open(live_edge, tmp_path, "picker")
    yield hh
    hh.close()


def test_a_task_is_picked_scan_by_scan_and_posted_on_replay(live_edge, picker):
    task_id = one_order_task(live_edge.services, qty=3)
    wf = PickingWorkflow(picker.work)
    assert wf.view().state == "start"
    ok(wf.on_input("next", None))
    view = wf.view()
    assert (view.state, view.fields["position"], view.fields["order"]) == ("bind_tote", 1, "SO-1")
    assert view.title == f"Picking — task {task_id}"
    ok(wf.on_scan(scan("TOTE-0001")))
    assert wf.view().state == "scan_bin"
    assert wf.view().fields["bin"] == "A01-01-1L"
    ok(wf.on_scan(scan("A01-01-1L")))
    ok(wf.on_scan(scan(gtin13("SOAP-1"))))
    assert wf.view().state == "set_quantity"
    ok(wf.on_input("qty", 3))
    assert wf.view().state == "scan_tote"
    done = ok(wf.on_scan(scan("TOTE-0001")))
    assert done.code == "PICK_TASK_DONE"
    assert wf.view().state == "done" and wf.view().progress == (1, 1)
    picker.drain()
    assert wf.poll() is None  # the server agreed at every step
    assert [c.status for c in picker.conn.queue.commands()] == [Status.APPLIED] * 5
    assert stock_at(live_edge.services, "PACK-01", "SOAP-1", lpn="TOTE-0001") == 3
    assert stock_at(live_edge.services, "A01-01-1L", "SOAP-1") == 7
    task = live_edge.services.db.query_one("SELECT status FROM pick_tasks WHERE id = ?", [task_id])
    assert task["status"] == "done"
    assert check_ledger(live_edge.services.db).ok


def test_wrong_scans_are_refused_on_the_handheld_and_only_reported(live_edge, picker):
    services = live_edge.services
    picking_site(services)
    put_stock(services, "A01-01-1L", "SOAP-1", 10)
    put_stock(services, "A01-02-1L", "MUG-1", 10)
    make_task(services, [make_order(services, "SO-1", [("SOAP-1", 3)])])
    make_order(services, "SO-2", [("MUG-1", 1)])
    wf = PickingWorkflow(picker.work)
    ok(wf.on_input("next", None))
    before = snapshot(services)
    queued = len(picker.conn.queue.commands())
    refused(wf.on_scan(scan("A01-01-1L")), "BARCODE_UNEXPECTED")  # a bin, not a tote
    ok(wf.on_scan(scan("TOTE-0001")))
    queued += 1
    details = refused(wf.on_scan(scan("A01-02-1L")), "PICK_WRONG_BIN")
    assert (details["scanned"], details["expected"]) == ("A01-02-1L", "A01-01-1L")
    refused(wf.on_scan(scan("BIN ☃")), "BARCODE_UNREADABLE")
    ok(wf.on_scan(scan("A01-01-1L")))
    queued += 1
    details = refused(wf.on_scan(scan(gtin13("MUG-1"))), "PICK_WRONG_ITEM")
    assert details["expected_sku"] == "SOAP-1" and details["scanned_sku"] is None
    refused(wf.on_scan(scan("LPN000012348")), "PICK_WRONG_ITEM")
    details = refused(wf.on_scan(scan(gs1("SOAP-1", count=4))), "PICK_OVER_PICK")
    assert (details["qty"], details["remaining"]) == (4, 3)
    refused(wf.on_input("short", 1), "PICK_WRONG_STEP")  # nothing identified yet
    ok(wf.on_scan(scan(gtin13("SOAP-1"))))
    queued += 1
    refused(wf.on_input("qty", 4), "PICK_OVER_PICK")
    refused(wf.on_input("qty", 0), "QUANTITY_INVALID")
    refused(wf.on_input("qty", "two"), "QUANTITY_INVALID")
    refused(wf.on_input("short", 3), "PICK_SHORT_QTY_INVALID")
    refused(wf.on_input("dance", None), "TERMINAL_INPUT_UNKNOWN")
    ok(wf.on_input("qty", 2))
    queued += 1
    details = refused(wf.on_scan(scan("TOTE-0002")), "PICK_WRONG_TOTE")
    assert details["expected"] == "TOTE-0001"
    refused(wf.on_scan(scan("POS-2")), "PICK_WRONG_TOTE")
    # Besides the accepted steps, only reports of the mis-scans were queued (for pick accuracy).
    commands = picker.conn.queue.commands()
    reports = [c for c in commands if c.path == "/picking/mis-scans"]
    assert len(commands) - len(reports) == queued
    assert [c.body["kind"] for c in reports] == [
        "wrong_bin",
        "wrong_item",
        "wrong_item",
        "over_pick",
        "over_pick",
        "wrong_tote",
        "wrong_tote",
    ]
    picker.drain()
    after = snapshot(services)
    # No stock moved; the server counted each mis-scan the handheld caught.
    assert after["stock"] == before["stock"] and after["movements"] == before["movements"]
    events = pick_events(services)
    assert [e["kind"] for e in events] == [c.body["kind"] for c in reports]
    assert {e["detail"]["caught"] for e in events} == {"handheld"}
    ok(wf.on_scan(scan("POS-1")))  # the cart slot label stands for its tote
    assert wf.view().state == "scan_item"  # one more to take from the same bin
    picker.drain()
    assert stock_at(services, "PACK-01", "SOAP-1", lpn="TOTE-0001") == 2


def test_picking_goes_on_offline_and_replays_in_order(live_edge, picker):
    services = live_edge.services
    picking_site(services)
    put_stock(services, "A01-01-1L", "SOAP-1", 10)
    put_stock(services, "A01-02-1L", "MUG-1", 10)
    make_task(services, [make_order(services, "SO-1", [("SOAP-1", 2), ("MUG-1", 1)])])
    wf = PickingWorkflow(picker.work)
    ok(wf.on_input("next", None))
    picker.offline()
    ok(wf.on_scan(scan("TOTE-0001")))
    picker.wait_offline()  # the replayer tried to send it and found no server
    for step in [
        lambda: wf.on_scan(scan(wf.view().fields["bin"])),
        lambda: wf.on_scan(scan(gtin13(wf.view().fields["sku"]))),
        lambda: wf.on_input("qty", wf.view().fields["qty_remaining"]),
        lambda: wf.on_scan(scan("TOTE-0001")),
    ] * 2:
        ok(step())
    view = wf.view()
    assert view.state == "done" and not view.online and view.pending == 9
    assert stock_at(services, "PACK-01", "SOAP-1") == 0  # nothing reached the server yet
    # New work needs the server, and never overtakes queued scans.
    refused(wf.on_input("next", None), "TERMINAL_SENDING")
    picker.online()
    picker.drain()
    assert wf.poll() is None
    assert [c.seq for c in picker.conn.queue.commands() if c.status is Status.APPLIED] == list(
        range(1, 10)
    )
    assert stock_at(services, "PACK-01", "SOAP-1", lpn="TOTE-0001") == 2
    assert stock_at(services, "PACK-01", "MUG-1", lpn="TOTE-0001") == 1
    assert wf.view().pending == 0
    refused(wf.on_input("next", None), "PICK_NO_TASK")


def test_a_short_pick_is_queued_and_the_task_reloaded_after_reallocation(live_edge, picker):
    services = live_edge.services
    picking_site(services)
    put_stock(services, "A01-01-1L", "SOAP-1", 2)
    put_stock(services, "A02-01-1L", "SOAP-1", 5)
    make_task(services, [make_order(services, "SO-1", [("SOAP-1", 4)])])
    wf = PickingWorkflow(picker.work)
    ok(wf.on_input("next", None))
    ok(wf.on_scan(scan("TOTE-0001")))
    first_bin = wf.view().fields["bin"]
    ok(wf.on_scan(scan(first_bin)))
    ok(wf.on_scan(scan(gtin13("SOAP-1"))))
    ok(wf.on_input("qty", 1))
    fb = wf.on_input("short", 1)
    assert fb.tone is Tone.INFO and wf.view().fields["short_found"] == 1
    refused(wf.on_input("qty", 1), "PICK_WRONG_STEP")
    ok(wf.on_scan(scan("TOTE-0001")))
    picker.drain()
    news = wf.poll()  # the server reallocated the rest: the handheld reloads the task
    assert news is not None and news.code == "TERMINAL_RESYNCED"
    view = wf.view()
    assert view.state == "scan_bin" and view.fields["bin"] != first_bin
    open_lines = [ln for ln in view.lines if ln["status"] == "open"]
    assert sum(ln["qty_remaining"] for ln in open_lines) == 3  # 4 ordered, 1 found, 3 to go
    assert {ln["bin"] for ln in open_lines} == {"A02-01-1L"}
    assert len(pick_events(services, "short")) == 1


def test_a_refusal_on_replay_is_shown_and_never_dropped(live_edge, picker):
    services = live_edge.services
    task_id = one_order_task(services, qty=2)
    wf = PickingWorkflow(picker.work)
    ok(wf.on_input("next", None))
    picker.offline()
    ok(wf.on_scan(scan("TOTE-0009")))
    picker.wait_offline()
    # Meanwhile another task bound that tote on the server.
    other = make_task(services, [make_order(services, "SO-2", [("SOAP-1", 1)])])
    _bind(services, other)
    picker.online()
    picker.drain()
    fb = wf.on_scan(scan("A01-01-1L"))  # the next scan shows the refusal first
    assert fb.tone is Tone.BAD and fb.code == "PICK_TOTE_IN_USE"
    assert fb.details["rejected_on_replay"] is True
    rejected = picker.conn.queue.rejected(include_acknowledged=True)
    assert [c.error_code for c in rejected] == ["PICK_TOTE_IN_USE"]
    view = wf.view()
    assert view.state == "bind_tote"  # reloaded from the server: the tote was never bound
    ok(wf.on_scan(scan("TOTE-0001")))
    picker.drain()
    assert (
        services.db.query_one("SELECT tote FROM pick_task_orders WHERE task_id = ?", [task_id])[
            "tote"
        ]
        == "TOTE-0001"
    )


def _bind(services, task_id: int) -> None:
    with services.db.write() as w:
        w.execute("UPDATE pick_task_orders SET tote = 'TOTE-0009' WHERE task_id = ?", [task_id])
