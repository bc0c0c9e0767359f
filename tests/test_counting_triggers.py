"""Opportunistic counts: a pick that leaves a bin (nearly) empty asks the picker to confirm
what remains; every Nth putaway into a bin asks the putaway worker for a count; a short pick
and a full bin become count tasks too."""

from __future__ import annotations

from counting_support import API, Worker, claim, count_bin, counting_site, line, submit
from picking_support import Picker, make_order, make_task, one_order_task, put_stock
from putaway_support import add_item, build_site, receive

from conftest import assert_response


def picker_for(edge, services):
    worker = Worker(services, "picker")
    return worker, Picker(edge, worker.caller)


def test_a_pick_leaving_the_bin_low_asks_the_picker_to_count_what_remains(edge, services):
    one_order_task(services, qty=3, stock=4)  # 1 left after the pick; threshold 2
    worker, picker = picker_for(edge, services)
    picker.claim()
    picker.bind("TOTE-0001")
    answer = picker.pick_current()
    [data] = answer["data"].values()
    remaining = data["confirm_remaining"]
    assert remaining is not None
    assert (remaining["location"], remaining["sku"]) == ("A01-01-1L", "SOAP-1")
    got = edge.get(f"{API}/tasks/{remaining['count_task_id']}", headers=worker.headers)
    task = assert_response(got, 200)["task"]
    assert (task["kind"], task["reason"], task["assigned_to"]) == (
        "bin",
        "low_after_pick",
        worker.id,
    )
    mine = edge.get(f"{API}/tasks", params={"mine": "true"}, headers=worker.headers)
    assert [t["id"] for t in assert_response(mine, 200)["items"]] == [task["id"]]
    # Somebody else may not take it from the picker.
    other = Worker(services, "counter")
    claim(edge, other, task["id"], status=409, code="COUNT_TASK_NOT_YOURS")
    # The picker counts the 1 that is left.
    result = count_bin(
        edge, worker, task["id"], [{"location": "A01-01-1L", "sku": "SOAP-1", "qty": 1}]
    )
    assert result["outcome"] == "accurate"


def test_a_pick_leaving_plenty_asks_nothing(edge, services):
    one_order_task(services, qty=3, stock=10)
    _, picker = picker_for(edge, services)
    picker.claim()
    picker.bind("TOTE-0001")
    answer = picker.pick_current()
    [data] = answer["data"].values()
    assert data["confirm_remaining"] is None
    assert services.db.query("SELECT * FROM count_tasks") == []


def test_the_threshold_zero_asks_only_when_the_bin_is_emptied(edge, services):
    services.settings.count_low_remaining_threshold = 0
    counting_site(services)
    put_stock(services, "A01-01-1L", "SOAP-1", 4)
    put_stock(services, "A01-02-1L", "MUG-1", 1)
    order = make_order(services, "SO-1", [("SOAP-1", 3), ("MUG-1", 1)])
    make_task(services, [order])
    _, picker = picker_for(edge, services)
    picker.claim()
    picker.bind("TOTE-0001")
    seen = []
    while picker.state in ("scan_bin", "scan_item"):
        bin_code = picker.view["line"]["bin"]
        answer = picker.pick_current()
        [data] = answer["data"].values()
        seen.append((bin_code, data["confirm_remaining"]))
    assert seen[0] == ("A01-01-1L", None)
    assert seen[1][0] == "A01-02-1L" and seen[1][1]["sku"] == "MUG-1"


def test_every_nth_putaway_asks_the_putaway_worker_for_a_count(edge, services):
    services.settings.count_every_nth_putaway = 1
    db = services.db
    build_site(db)
    add_item(db, "SKU-1", velocity="A")
    receive(db, "SKU-1", 4)
    worker = Worker(services, "receiver")
    resp = edge.post(
        "/api/v1/putaway/tasks",
        json={"location": "DOCK-01", "sku": "SKU-1", "qty": 4},
        headers=worker.with_key(),
    )
    [task] = assert_response(resp, 201)["tasks"]
    resp = edge.post(
        f"/api/v1/putaway/tasks/{task['id']}/confirm",
        json={"scan": task["to_location"]},
        headers=worker.with_key(),
    )
    done = assert_response(resp, 200)
    count_task_id = done["count_task_id"]
    assert count_task_id is not None and done["count_request_id"] is not None
    got = edge.get(f"{API}/tasks/{count_task_id}", headers=worker.headers)
    count_task = assert_response(got, 200)["task"]
    assert (count_task["reason"], count_task["assigned_to"], count_task["location"]) == (
        "nth_putaway",
        worker.id,
        task["to_location"],
    )
    request = db.query_one("SELECT status FROM count_requests")
    assert request == {"status": "open"}
    claim(edge, worker, count_task_id)
    line(edge, worker, count_task_id, location=task["to_location"], sku="SKU-1", qty=4)
    assert submit(edge, worker, count_task_id)["outcome"] == "accurate"
    assert db.query_one("SELECT status FROM count_requests") == {"status": "taken"}


def test_a_short_pick_becomes_a_count_task(edge, services):
    one_order_task(services, qty=5, stock=10)
    _, picker = picker_for(edge, services)
    picker.claim()
    picker.bind("TOTE-0001")
    picker.step("scan-bin", {"barcode": "A01-01-1L"})
    picker.step("short", {"qty_found": 0})
    [task] = services.db.query("SELECT kind, reason, assigned_to FROM count_tasks")
    assert task == {"kind": "bin", "reason": "short_pick", "assigned_to": None}
