"""The handheld's cycle-counting workflow against a real edge on loopback: blind counts of a
bin (lots and expiry from the GS1 label), a variance recounted by another worker on another
handheld, counting with the edge stopped (replayed once when it is back), refusals on the
handheld and on replay, and a pick that asks the picker to count what is left."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from picking_support import gtin13, make_order, make_task, picking_site, put_stock, stock_at
from terminal_sync_support import RestartableEdge
from terminal_workflow_support import Handheld, ok, refused, scan

from edge_server.services import Services
from edge_server.wms.counting.tasks import assign, create_task
from edge_server.wms.ledger import check_ledger
from protocols.barcodes import GS
from terminal.client.queue import Status
from terminal.workflows.base import Tone, View
from terminal.workflows.counting import CountingWorkflow
from terminal.workflows.menu import open_workflow
from terminal.workflows.picking import PickingWorkflow

from conftest import LiveEdge, make_settings

BIN, OTHER = "A01-01-1L", "A01-02-1L"
EXPIRY = date.today() + timedelta(days=200)


def gs1_label(sku: str, *, lot: str, expiry: date | None = None, count: int | None = None) -> str:
    """A GS1-128 label: GTIN, expiry (AI 17), lot (AI 10) and a count (AI 37)."""
    text = "]C1" + "01" + gtin13(sku).zfill(14)
    if expiry is not None:
        text += "17" + expiry.strftime("%y%m%d")
    text += "10" + lot
    if count is not None:
        text += GS + "37" + str(count)
    return text


def count_task(services: Services, location: str = BIN, **extra: Any) -> int:
    with services.db.write() as w:
        return create_task(w, "CHI", kind="bin", reason="manual", location=location, **extra)


def view_text(view: View) -> str:
    """Everything a view could put on the screen, as one string."""
    return json.dumps([view.title, view.prompt, view.state, view.fields, view.lines], default=str)


def no_book_quantities(value: Any) -> None:
    """No answer the handheld got carries a book (expected) quantity."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert "book" not in key and "expected" not in key, (key, value)
            no_book_quantities(item)
    elif isinstance(value, list):
        for item in value:
            no_book_quantities(item)


def lines_of(services: Services, task_id: int) -> list[dict[str, Any]]:
    return services.db.query(
        "SELECT l.code AS location, i.sku, c.lot, c.expiry, c.lpn, c.counted_qty, c.status "
        "FROM count_lines c JOIN locations l ON l.id = c.location_id "
        "JOIN items i ON i.id = c.item_id WHERE c.task_id = ? ORDER BY c.id",
        [task_id],
    )


def task_row(services: Services, task_id: int) -> dict[str, Any]:
    row = services.db.query_one("SELECT * FROM count_tasks WHERE id = ?", [task_id])
    assert row is not None
    return row


@pytest.fixture
def counter(live_edge: LiveEdge, tmp_path: Path) -> Iterator[Handheld]:
    hh = Handheld.open(live_edge, tmp_path, "counter")
    yield hh
    hh.close()


def test_a_blind_bin_count_with_lot_and_expiry_is_accurate(live_edge, counter):
    services = live_edge.services
    picking_site(services)
    put_stock(services, BIN, "TEA-1", 4817, lot="L7", expiry=EXPIRY.isoformat())
    put_stock(services, BIN, "SOAP-1", 2963)
    task_id = count_task(services)
    wf = CountingWorkflow(counter.work)  # opening downloads the counts
    seen: list[str] = []

    def look() -> View:
        view = wf.view()
        seen.append(view_text(view))
        return view

    view = look()
    assert view.state == "choose_task" and f"task {task_id}" in view.prompt
    assert [ln["id"] for ln in view.lines] == [task_id]
    ok(wf.on_input("next", None))
    view = look()
    assert (view.state, view.fields["bin"], view.progress) == ("scan_bin", BIN, (0, 1))
    assert view.title == f"Cycle counting — task {task_id}"
    ok(wf.on_scan(scan(BIN)))
    assert look().state == "scan_item"
    # The lot-tracked tea: its label carries lot, expiry and a count, which pre-fills.
    ok(wf.on_scan(scan(gs1_label("TEA-1", lot="L7", expiry=EXPIRY, count=4000))))
    view = look()
    assert view.state == "set_quantity" and view.fields["label_qty"] == 4000
    assert (view.fields["lot"], view.fields["expiry"]) == ("L7", EXPIRY.isoformat())
    refused(wf.on_input("qty", -1), "QUANTITY_INVALID")
    refused(wf.on_input("qty", "lots"), "QUANTITY_INVALID")
    refused(wf.on_input("bin_done", None), "TERMINAL_WRONG_STEP")
    # Seen so far: everything up to keying the first count. No book quantity anywhere.
    assert not [t for t in seen if "4817" in t or "2963" in t]
    ok(wf.on_input("qty", 4817))  # counted more than the label said: the count wins
    ok(wf.on_scan(scan(gtin13("SOAP-1"))))
    assert look().state == "set_quantity"
    refused(wf.on_input("confirm", None), "TERMINAL_WRONG_STEP")  # no label count to accept
    assert not [t for t in seen if "2963" in t]
    ok(wf.on_input("qty", 2963))
    view = look()
    assert view.lines[0]["text"] == f"{BIN}  ·  4817 × TEA-1 lot L7,  2963 × SOAP-1"
    done = ok(wf.on_input("bin_done", None))
    assert "Submit" in done.text and wf.view().state == "review"
    assert wf.view().progress == (1, 1)
    fb = wf.on_input("submit", None)
    assert fb.tone is Tone.DONE
    counter.drain()
    assert wf.poll() is None  # the server took every command as predicted
    view = look()
    assert view.state == "submitted" and view.fields["outcome"] == "accurate"
    assert view.prompt.startswith("Count accurate")
    commands = counter.conn.queue.commands()
    assert [c.path for c in commands] == [
        f"/counts/tasks/{task_id}/claim",
        f"/counts/tasks/{task_id}/lines",
        f"/counts/tasks/{task_id}/lines",
        f"/counts/tasks/{task_id}/submit",
    ]
    assert {c.status for c in commands} == {Status.APPLIED}
    assert commands[1].body == {
        "location": BIN,
        "qty": 4817,
        "sku": "TEA-1",
        "lot": "L7",
        "expiry": EXPIRY.isoformat(),
    }
    for c in commands:
        no_book_quantities(c.response)
    assert [
        (r["sku"], r["lot"], r["expiry"], r["counted_qty"]) for r in lines_of(services, task_id)
    ] == [
        ("TEA-1", "L7", EXPIRY.isoformat(), 4817),
        ("SOAP-1", "", None, 2963),
    ]
    assert task_row(services, task_id)["status"] == "closed"
    assert stock_at(services, BIN, "SOAP-1") == 2963  # nothing adjusted
    # Next: nothing more to count.
    info = wf.on_input("next", None)
    assert info.tone is Tone.INFO and wf.view().state == "no_task"


def test_a_variance_goes_to_a_recount_by_another_counter_on_another_handheld(
    live_edge, counter, tmp_path
):
    services = live_edge.services
    picking_site(services)
    put_stock(services, BIN, "SOAP-1", 10)
    task_id = count_task(services)
    first = CountingWorkflow(counter.work)
    ok(first.on_scan(scan(BIN)))  # scanning a bin at the list takes the count of that bin
    assert first.view().state == "scan_item"
    ok(first.on_scan(scan(gtin13("SOAP-1"))))
    ok(first.on_input("qty", 7))
    ok(first.on_scan(scan(gtin13("SOAP-1"))))  # counted again: the latest count wins
    again = ok(first.on_input("qty", 8))
    assert "instead of 7" in again.text
    assert first.view().lines[0]["text"] == f"{BIN}  ·  8 × SOAP-1"
    ok(first.on_input("submit", None), Tone.DONE)
    counter.drain()
    first.poll()
    view = first.view()
    assert view.fields["outcome"] == "recount"
    assert view.prompt.startswith("The count differs: another worker will recount it.")
    recount_id = view.fields["recount_task"]
    assert stock_at(services, BIN, "SOAP-1") == 10  # nothing posted on a first count
    # The first counter is not offered the recount of their own count.
    ok(first.on_input("next", None), Tone.INFO)
    assert first.view().state == "no_task"
    refused(first.on_input("task", recount_id), "COUNT_TASK_NOT_FOUND")

    second = Handheld.open(live_edge, tmp_path, "counter")
    try:
        wf = CountingWorkflow(second.work)
        [line] = wf.view().lines
        assert line["id"] == recount_id and "recount" in line["text"]
        ok(wf.on_input("task", recount_id))
        ok(wf.on_scan(scan(BIN)))
        ok(wf.on_scan(scan(gtin13("SOAP-1"))))
        ok(wf.on_input("qty", 8))
        ok(wf.on_input("submit", None), Tone.DONE)
        second.drain()
        wf.poll()
        view = wf.view()
    finally:
        second.close()
    # The recount agrees with the first count: the books follow (no unit cost: no approval).
    assert view.fields["outcome"] == "adjusted"
    assert view.prompt.startswith("Count accepted: the stock was adjusted to your count.")
    assert stock_at(services, BIN, "SOAP-1") == 8
    row = task_row(services, recount_id)
    assert row["recount_of"] == task_id
    assert row["assigned_to"] != task_row(services, task_id)["assigned_to"]
    assert check_ledger(services.db).ok


def test_wrong_bin_other_item_and_unknown_product_are_refused_on_the_handheld(live_edge, counter):
    services = live_edge.services
    picking_site(services)
    put_stock(services, BIN, "SOAP-1", 5)
    put_stock(services, OTHER, "SOAP-1", 5)
    with services.db.write() as w:
        item_task = create_task(w, "CHI", kind="item", reason="manual", sku="SOAP-1")
    wf = CountingWorkflow(counter.work)
    refused(wf.on_input("qty", 3), "TERMINAL_WRONG_STEP")
    refused(wf.on_input("dance", None), "TERMINAL_INPUT_UNKNOWN")
    refused(wf.on_scan(scan("A04-05-2L")), "COUNT_BIN_NOT_IN_TASK")  # in no count of mine
    ok(wf.on_input("task", item_task))
    assert wf.view().lines[0]["text"] == BIN and wf.view().lines[1]["text"] == OTHER
    details = refused(wf.on_scan(scan("A03-01-1L")), "COUNT_BIN_NOT_IN_TASK")
    assert details["bins"] == [BIN, OTHER]
    refused(wf.on_scan(scan("BIN ☃")), "BARCODE_UNREADABLE")
    refused(wf.on_scan(scan("TOTE-0001")), "BARCODE_UNEXPECTED")
    ok(wf.on_scan(scan(OTHER)))  # any bin of the count, not only the next one
    details = refused(wf.on_scan(scan(gtin13("MUG-1"))), "COUNT_ITEM_NOT_IN_TASK")
    assert (details["scanned_sku"], details["sku"]) == ("MUG-1", "SOAP-1")
    unknown = "00614141999996"  # a valid GTIN nobody has
    refused(wf.on_scan(scan(unknown)), "UNKNOWN_ITEM")
    ok(wf.on_scan(scan(gtin13("SOAP-1"))))
    ok(wf.on_input("cancel", None), Tone.INFO)
    assert wf.view().state == "scan_item"
    # Only the claim was queued: nothing refused reached the queue.
    assert [c.path for c in counter.conn.queue.commands()] == [f"/counts/tasks/{item_task}/claim"]
    # A bin count takes any product — but one unknown to the item master is refused here.
    bin_task = count_task(services)
    other = CountingWorkflow(counter.work)
    ok(other.on_input("task", bin_task))
    ok(other.on_scan(scan(BIN)))
    details = refused(other.on_scan(scan(unknown)), "UNKNOWN_ITEM")
    assert details["gtin"] == unknown
    ok(other.on_scan(scan(gtin13("TEA-1"))), Tone.INFO)  # lot tracked: the lot first
    assert other.view().state == "set_lot"
    refused(other.on_input("qty", 2), "TERMINAL_WRONG_STEP")
    refused(other.on_input("lot", "  "), "LOT_REQUIRED")
    ok(other.on_input("lot", "L9"))
    assert other.view().state == "set_quantity" and other.view().fields["lot"] == "L9"
    counter.drain()
    assert counter.conn.queue.rejected() == []


def test_counting_goes_on_with_the_edge_stopped_and_replays_each_line_once(tmp_path):
    edge = RestartableEdge(make_settings(tmp_path))
    edge.start()
    hh: Handheld | None = None
    try:
        live = LiveEdge(url=f"http://127.0.0.1:{edge.port}", services=edge.svc)
        picking_site(edge.svc)
        put_stock(edge.svc, BIN, "SOAP-1", 6)
        put_stock(edge.svc, OTHER, "MUG-1", 4)
        with edge.svc.db.write() as w:
            task_id = create_task(w, "CHI", kind="item", reason="manual", sku="SOAP-1")
            create_task(w, "CHI", kind="bin", reason="manual", location=OTHER)
        hh = Handheld.open(live, tmp_path, "counter")
        wf = CountingWorkflow(hh.work)  # downloaded while the edge is up
        assert {ln["id"] for ln in wf.view().lines} >= {task_id}
        edge.stop()
        ok(wf.on_input("task", task_id))  # the claim is queued too
        ok(wf.on_scan(scan(BIN)))
        ok(wf.on_scan(scan(gtin13("SOAP-1"))))  # the task's item was downloaded with it
        ok(wf.on_input("qty", 5))
        ok(wf.on_input("bin_done", None))
        hh.wait_offline()
        view = wf.view()
        assert view.state == "review" and not view.online and view.pending == 2
        ok(wf.on_input("submit", None), Tone.DONE)
        assert wf.view().pending == 3
        refused(wf.on_input("task", task_id), "COUNT_TASK_NOT_FOUND")  # not offered again
        edge.start()  # same port, same database file
        hh.online()
        hh.drain()
        wf.poll()
        assert wf.view().fields["outcome"] == "recount"
        commands = hh.conn.queue.commands()
        assert [c.status for c in commands] == [Status.APPLIED] * 3
        [line] = lines_of(edge.svc, task_id)  # applied once
        assert (line["sku"], line["counted_qty"], line["status"]) == ("SOAP-1", 5, "counted")
        # The queue replayed again (as after a lost reply) changes nothing.
        for c in commands:
            hh.conn.client.send("POST", c.path, c.body, c.key)
        assert len(lines_of(edge.svc, task_id)) == 1
        assert task_row(edge.svc, task_id)["status"] == "closed"
    finally:
        if hh is not None:
            hh.close()
        edge.stop()


def test_a_claim_refused_on_replay_is_shown_and_the_count_left(live_edge, counter, tmp_path):
    services = live_edge.services
    picking_site(services)
    put_stock(services, BIN, "SOAP-1", 3)
    task_id = count_task(services)
    wf = CountingWorkflow(counter.work)
    counter.offline()
    ok(wf.on_input("next", None))
    ok(wf.on_scan(scan(BIN)))
    ok(wf.on_scan(scan(gtin13("SOAP-1"))))
    ok(wf.on_input("qty", 3))
    counter.wait_offline()
    # Meanwhile a supervisor gives the count to someone else.
    other = services.users.create(badge="CNT-OTHER", pin="9999", role="counter")
    with services.db.write() as w:
        assign(w, "CHI", task_id, other.id)
    counter.online()
    counter.drain()
    news = wf.poll()
    assert news is not None and news.tone is Tone.BAD
    assert news.code == "COUNT_TASK_NOT_YOURS" and news.details["rejected_on_replay"]
    second = wf.poll()  # the line that depended on it, refused as well
    assert second is not None and second.details["rejected_on_replay"]
    view = wf.view()
    assert view.state == "choose_task" and view.lines == []  # not this worker's count now
    assert lines_of(services, task_id) == []
    assert counter.conn.queue.rejected(include_acknowledged=True)


def test_a_pick_that_leaves_a_bin_low_asks_the_picker_to_count_it(live_edge, tmp_path):
    services = live_edge.services
    picking_site(services)
    put_stock(services, BIN, "SOAP-1", 3)
    make_task(services, [make_order(services, "SO-1", [("SOAP-1", 2)])])
    picker = Handheld.open(live_edge, tmp_path, "picker")
    try:
        wf = PickingWorkflow(picker.work)
        ok(wf.on_input("next", None))
        ok(wf.on_scan(scan("TOTE-0001")))
        ok(wf.on_scan(scan(BIN)))
        ok(wf.on_scan(scan(gtin13("SOAP-1"))))
        ok(wf.on_input("qty", 2))
        ok(wf.on_scan(scan("TOTE-0001")))
        picker.drain()
        wf.poll()
        view = wf.view()
        assert view.fields["count"] == f"Count what is left in {BIN}"
        assert f"Then count what is left in {BIN}" in view.prompt
        [asked] = wf.count_requests
        counting = open_workflow("counting", picker.work)  # pickers count too
        assert isinstance(counting, CountingWorkflow)
        first = counting.view().lines[0]
        assert first["id"] == asked["count_task_id"] and first["current"]
        assert "left after your pick" in first["text"]
        ok(counting.on_input("next", None))
        ok(counting.on_scan(scan(BIN)))
        ok(counting.on_scan(scan(gtin13("SOAP-1"))))
        ok(counting.on_input("qty", 1))
        ok(counting.on_input("submit", None), Tone.DONE)
        picker.drain()
        counting.poll()
        assert counting.view().fields["outcome"] == "accurate"
    finally:
        picker.close()
