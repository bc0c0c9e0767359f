"""Cycle counting through the HTTP API: blind counts, moves during an open count, recounts by
another worker, the approval threshold, stock allocated to orders, and every bad input
refused with a clear code and nothing changed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from counting_support import (
    API,
    Worker,
    claim,
    count_bin,
    count_movements,
    counting_site,
    create,
    ledger_ok,
    line,
    set_cost,
    snapshot,
    stock_of,
    submit,
    variances,
)
from picking_support import gs1, gtin13, make_order, put_stock

from edge_server.wms import inventory
from edge_server.wms.ledger import Actor
from protocols.inventory import MoveIn

from conftest import assert_response


@pytest.fixture
def sup(services):
    return Worker(services, "supervisor")


@pytest.fixture
def ann(services):
    return Worker(services, "counter")


@pytest.fixture
def bob(services):
    return Worker(services, "counter")


def outbox(services, event_type):
    rows = services.db.query(
        "SELECT payload_json FROM outbox WHERE type = ? ORDER BY id", [event_type]
    )
    return [json.loads(r["payload_json"]) for r in rows]


def test_a_move_during_an_open_count_is_not_a_variance(edge, services, sup, ann):
    """The counter counts 9 where the books say 10 (one really is missing); then 4 are moved
    out before the count is submitted. The variance is -1 (against the book AT the count),
    and the -1 is posted against the current stock: 6 -> 5."""
    services.settings.count_tolerance_units = 1
    counting_site(services, {("A01-01-1L", "SOAP-1"): 10})
    task = create(edge, sup, kind="bin", location="A01-01-1L")
    assert task["bins"] == ["A01-01-1L"] and task["reason"] == "manual"
    claim(edge, ann, task["id"])
    counted = line(edge, ann, task["id"], location="A01-01-1L", sku="SOAP-1", qty=9)
    # Blind: the answer says nothing about the book quantity.
    assert set(counted) == {"line_id", "task"}
    assert "qty" not in json.dumps(counted["task"]).replace("lines_counted", "")
    with services.db.write() as w:
        inventory.move(
            w,
            "CHI",
            MoveIn(from_location="A01-01-1L", to_location="A01-02-1L", sku="SOAP-1", qty=4),
            Actor(),
        )
    book_at_count = services.db.query_one("SELECT book_qty_at_count FROM count_lines")
    assert book_at_count == {"book_qty_at_count": 10}

    result = submit(edge, ann, task["id"])
    assert result["outcome"] == "adjusted"
    assert result["task"]["status"] == "closed"
    assert stock_of(services, "A01-01-1L", "SOAP-1") == 5
    assert stock_of(services, "A01-02-1L", "SOAP-1") == 4
    assert count_movements(services) == [
        {
            "qty": 1,
            "out": 1,
            "reason": "count variance within tolerance",
            "ref": f"count-{task['id']}",
            "sku": "SOAP-1",
        }
    ]
    [v] = variances(edge, sup, status="posted")
    assert (v["book_qty"], v["counted_qty"], v["delta"], v["counted_by"]) == (10, 9, -1, ann.id)
    assert v["unit_cost"] is None and v["value"] is None
    ledger_ok(services)
    changed = [e for e in outbox(services, "inventory.changed") if e["type"] == "count"]
    assert changed and changed[0]["from"]["location"] == "A01-01-1L"
    [posted] = outbox(services, "count.variance_posted")
    assert posted["delta"] == -1 and posted["location"] == "A01-01-1L"
    [done] = outbox(services, "count.completed")
    assert done["outcome"] == "adjusted" and done["task"]["id"] == task["id"]
    labor = services.db.query_one(
        "SELECT task_type, task_ref, user_id, lines, units, ended_at IS NOT NULL AS ended "
        "FROM labor_tasks"
    )
    assert labor == {
        "task_type": "count",
        "task_ref": f"count-{task['id']}",
        "user_id": ann.id,
        "lines": 1,
        "units": 9,
        "ended": 1,
    }


def test_beyond_tolerance_needs_a_recount_by_another_worker(edge, services, sup, ann, bob):
    counting_site(services, {("A01-01-1L", "SOAP-1"): 10, ("A01-02-1L", "MUG-1"): 5})
    task = create(edge, sup, kind="bin", location="A01-01-1L")
    # MUG-1 is not in the counted bin: untouched.
    first = count_bin(edge, ann, task["id"], [{"location": "A01-01-1L", "sku": "SOAP-1", "qty": 7}])
    assert first["outcome"] == "recount"
    recount_id = first["recount_task_id"]
    assert stock_of(services, "A01-01-1L", "SOAP-1") == 10 and count_movements(services) == []
    [v] = variances(edge, sup, status="recount")
    assert v["delta"] == -3 and v["within_tolerance"] is False

    mine = edge.get(f"{API}/tasks", params={"mine": "true"}, headers=ann.headers)
    assert recount_id not in [t["id"] for t in assert_response(mine, 200)["items"]]
    theirs = edge.get(f"{API}/tasks", params={"mine": "true"}, headers=bob.headers)
    [recount] = [t for t in assert_response(theirs, 200)["items"] if t["id"] == recount_id]
    assert recount["reason"] == "recount" and recount["recount_of"] == task["id"]
    assert recount["excluded_user"] == ann.id and recount["bins"] == ["A01-01-1L"]

    before = snapshot(services)
    claim(edge, ann, recount_id, status=403, code="COUNT_RECOUNT_SAME_USER")
    line(
        edge,
        ann,
        recount_id,
        status=403,
        code="COUNT_RECOUNT_SAME_USER",
        location="A01-01-1L",
        sku="SOAP-1",
        qty=7,
    )
    assert snapshot(services) == before

    second = count_bin(
        edge, bob, recount_id, [{"location": "A01-01-1L", "sku": "SOAP-1", "qty": 7}]
    )
    assert second["outcome"] == "adjusted"
    assert stock_of(services, "A01-01-1L", "SOAP-1") == 7
    [posted] = variances(edge, sup, status="posted")
    assert (posted["counted_by"], posted["recounted_by"]) == (ann.id, bob.id)
    assert (posted["counted_by_badge"], posted["recounted_by_badge"]) == (ann.badge, bob.badge)
    assert count_movements(services)[0]["reason"] == "recount variance"
    ledger_ok(services)


def test_a_key_on_the_books_nobody_counted_counts_as_zero(edge, services, sup, ann, bob):
    services.settings.count_tolerance_units = 5
    counting_site(services, {("A01-01-1L", "SOAP-1"): 10})
    put_stock(services, "A01-01-1L", "MUG-1", 3)
    task = create(edge, sup, kind="bin", location="A01-01-1L")
    result = count_bin(
        edge, ann, task["id"], [{"location": "A01-01-1L", "sku": "SOAP-1", "qty": 10}]
    )
    assert result["outcome"] == "adjusted"
    assert stock_of(services, "A01-01-1L", "MUG-1") == 0
    assert stock_of(services, "A01-01-1L", "SOAP-1") == 10
    accurate = variances(edge, sup, status="accurate")
    assert [(v["sku"], v["delta"]) for v in accurate] == [("SOAP-1", 0)]
    ledger_ok(services)


def test_adjustments_above_the_approval_value_wait_for_a_supervisor(edge, services, sup, ann):
    services.settings.count_tolerance_units = 5
    services.settings.count_approval_value = Decimal("250.00")
    counting_site(
        services,
        {("A01-01-1L", "SOAP-1"): 10, ("A01-02-1L", "MUG-1"): 50, ("A01-03-1L", "JAM-1"): 20},
    )
    set_cost(services, "SOAP-1", "10.00")
    set_cost(services, "MUG-1", "100.00")
    set_cost(services, "JAM-1", "99.50")
    # Below the threshold: -2 x 10.00 = -20.00, posted at once.
    small = create(edge, sup, kind="bin", location="A01-01-1L")
    out = count_bin(edge, ann, small["id"], [{"location": "A01-01-1L", "sku": "SOAP-1", "qty": 8}])
    assert out["outcome"] == "adjusted" and stock_of(services, "A01-01-1L", "SOAP-1") == 8
    # Above: -3 x 100.00 = -300.00 waits.
    big = create(edge, sup, kind="bin", location="A01-02-1L")
    out = count_bin(edge, ann, big["id"], [{"location": "A01-02-1L", "sku": "MUG-1", "qty": 47}])
    assert out["outcome"] == "awaiting_approval"
    assert stock_of(services, "A01-02-1L", "MUG-1") == 50
    # +3 x 99.50 = 298.50 waits too.
    found = create(edge, sup, kind="bin", location="A01-03-1L")
    count_bin(edge, ann, found["id"], [{"location": "A01-03-1L", "sku": "JAM-1", "qty": 23}])
    waiting = variances(edge, sup, status="awaiting_approval")
    assert [(v["sku"], v["delta"], v["value"]) for v in waiting] == [
        ("MUG-1", -3, "-300.00"),
        ("JAM-1", 3, "298.50"),
    ]
    mug, jam = waiting

    # A counter may not decide.
    before = snapshot(services)
    resp = edge.post(f"{API}/variances/{mug['id']}/approve", json={}, headers=ann.with_key())
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
    assert snapshot(services) == before

    resp = edge.post(
        f"{API}/variances/{mug['id']}/approve", json={"note": "broken box"}, headers=sup.with_key()
    )
    approved = assert_response(resp, 200)["variance"]
    assert approved["status"] == "posted" and approved["decided_by"] == sup.id
    assert approved["decided_by_badge"] == sup.badge
    assert approved["note"] == "broken box"
    assert stock_of(services, "A01-02-1L", "MUG-1") == 47
    assert count_movements(services)[-1]["reason"] == "count variance approved"
    assert [v["id"] for v in variances(edge, sup, status="approved")] == [mug["id"]]

    before = snapshot(services)
    resp = edge.post(f"{API}/variances/{mug['id']}/approve", json={}, headers=sup.with_key())
    assert_response(resp, 409, code="COUNT_VARIANCE_DECIDED")
    resp = edge.post(f"{API}/variances/{jam['id']}/reject", json={}, headers=sup.with_key())
    assert_response(resp, 422, code="VALIDATION_FAILED")
    assert snapshot(services) == before

    resp = edge.post(
        f"{API}/variances/{jam['id']}/reject",
        json={"note": "found in A01-04"},
        headers=sup.with_key(),
    )
    rejected = assert_response(resp, 200)["variance"]
    assert rejected["status"] == "rejected"
    assert stock_of(services, "A01-03-1L", "JAM-1") == 20
    resp = edge.post(
        f"{API}/variances/{jam['id']}/reject", json={"note": "x"}, headers=sup.with_key()
    )
    assert_response(resp, 409, code="COUNT_VARIANCE_DECIDED")
    assert variances(edge, sup, status="awaiting_approval") == []
    ledger_ok(services)


def test_stock_allocated_to_orders_is_not_adjusted_away(edge, services, sup, ann):
    services.settings.count_tolerance_units = 5
    counting_site(services, {("A01-01-1L", "SOAP-1"): 10})
    make_order(services, "SO-1", [("SOAP-1", 10)])
    task = create(edge, sup, kind="bin", location="A01-01-1L")
    out = count_bin(edge, ann, task["id"], [{"location": "A01-01-1L", "sku": "SOAP-1", "qty": 8}])
    assert out["outcome"] == "awaiting_approval"
    [v] = variances(edge, sup, status="awaiting_approval")
    assert v["note"] == "not posted: STOCK_ALLOCATED"
    assert stock_of(services, "A01-01-1L", "SOAP-1") == 10
    before = snapshot(services)
    resp = edge.post(f"{API}/variances/{v['id']}/approve", json={}, headers=sup.with_key())
    assert_response(resp, 409, code="COUNT_VARIANCE_NOT_POSTABLE")
    assert resp.json()["message"]["details"]["cause"] == "STOCK_ALLOCATED"
    assert snapshot(services) == before
    ledger_ok(services)


def test_an_item_count_visits_every_bin_in_walk_order_and_reads_gs1_scans(edge, services, sup, ann):
    counting_site(services)
    put_stock(services, "A02-01-1L", "TEA-1", 5, lot="L1", expiry="2031-01-31")
    put_stock(services, "A02-03-1L", "TEA-1", 4, lot="L2")
    put_stock(services, "A01-04-1L", "TEA-1", 3, lot="L3")
    task = create(edge, sup, kind="item", sku="TEA-1")
    assert task["bins"] == ["A01-04-1L", "A02-03-1L", "A02-01-1L"]
    assert task["sku"] == "TEA-1" and task["location"] is None
    claim(edge, ann, task["id"])
    line(edge, ann, task["id"], location="A01-04-1L", scan=gs1("TEA-1", lot="L3"), qty=3)
    line(edge, ann, task["id"], location="A02-03-1L", gtin=gtin13("TEA-1"), lot="L2", qty=4)
    line(
        edge,
        ann,
        task["id"],
        location="A02-01-1L",
        sku="TEA-1",
        lot="L1",
        qty=5,
        expiry="2031-01-31",
    )
    # Another item in an item count, or a bin off the list: refused.
    line(
        edge,
        ann,
        task["id"],
        status=422,
        code="COUNT_ITEM_NOT_IN_TASK",
        location="A02-01-1L",
        sku="SOAP-1",
        qty=1,
    )
    line(
        edge,
        ann,
        task["id"],
        status=422,
        code="COUNT_BIN_NOT_IN_TASK",
        location="A01-01-1L",
        sku="TEA-1",
        lot="L1",
        qty=1,
    )
    lines = services.db.query("SELECT lot, counted_qty FROM count_lines ORDER BY id")
    assert lines == [
        {"lot": "L3", "counted_qty": 3},
        {"lot": "L2", "counted_qty": 4},
        {"lot": "L1", "counted_qty": 5},
    ]
    got = edge.get(f"{API}/tasks/{task['id']}", headers=ann.headers)
    assert assert_response(got, 200)["task"]["lines_counted"] == 3
    assert submit(edge, ann, task["id"])["outcome"] == "accurate"
    ledger_ok(services)


def test_an_lpn_count_counts_the_pallet(edge, services, sup, ann):
    counting_site(services)
    put_stock(services, "A01-01-2L", "MUG-1", 12, lpn="LPN000000017")
    task = create(edge, sup, kind="lpn", lpn="LPN000000017")
    assert task["bins"] == ["A01-01-2L"] and task["lpn"] == "LPN000000017"
    claim(edge, ann, task["id"])
    line(
        edge,
        ann,
        task["id"],
        status=422,
        code="COUNT_LPN_NOT_IN_TASK",
        location="A01-01-2L",
        sku="MUG-1",
        qty=12,
    )
    line(edge, ann, task["id"], location="A01-01-2L", sku="MUG-1", lpn="LPN000000017", qty=12)
    assert submit(edge, ann, task["id"])["outcome"] == "accurate"


def test_bad_input_is_refused_and_changes_nothing(edge, services, sup, ann, bob):
    counting_site(services, {("A01-01-1L", "SOAP-1"): 10})
    put_stock(services, "A01-02-1L", "TEA-1", 2, lot="L1")
    picker = Worker(services, "picker")
    task = create(edge, sup, kind="bin", location="A01-01-1L")
    tea = create(edge, sup, kind="bin", location="A01-02-1L")
    before = snapshot(services)
    # Making tasks.
    create(edge, sup, status=404, code="UNKNOWN_LOCATION", kind="bin", location="Z99-99-9Z")
    create(edge, sup, status=404, code="UNKNOWN_ITEM", kind="item", sku="NOPE-1")
    create(edge, sup, status=422, code="COUNT_SCOPE_INVALID", kind="bin")
    create(edge, sup, status=422, code="COUNT_SCOPE_INVALID", kind="lpn")
    create(edge, sup, status=409, code="COUNT_NOTHING_TO_COUNT", kind="item", sku="JAM-1")
    create(edge, sup, status=422, code="VALIDATION_FAILED", kind="pallet", location="A01-01-1L")
    resp = edge.post(
        f"{API}/tasks", json={"kind": "bin", "location": "A01-01-1L"}, headers=picker.with_key()
    )
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
    # Counting a task nobody claimed, or one you do not hold.
    line(
        edge,
        ann,
        task["id"],
        status=409,
        code="COUNT_TASK_NOT_YOURS",
        location="A01-01-1L",
        sku="SOAP-1",
        qty=1,
    )
    submit(edge, ann, task["id"], status=409, code="COUNT_TASK_NOT_YOURS")
    claim(edge, ann, 99999, status=404, code="COUNT_TASK_NOT_FOUND")
    assert snapshot(services) == before

    claim(edge, ann, task["id"])
    claim(edge, ann, task["id"])  # a handheld resuming: fine
    claim(edge, ann, tea["id"])
    before = snapshot(services)
    claim(edge, bob, task["id"], status=409, code="COUNT_TASK_NOT_YOURS")
    line(
        edge,
        bob,
        task["id"],
        status=409,
        code="COUNT_TASK_NOT_YOURS",
        location="A01-01-1L",
        sku="SOAP-1",
        qty=1,
    )
    submit(edge, bob, task["id"], status=409, code="COUNT_TASK_NOT_YOURS")
    # Bad lines.
    for body, status, code in [
        ({"location": "A01-01-1L", "sku": "SOAP-1", "qty": -1}, 422, "VALIDATION_FAILED"),
        ({"location": "A01-01-1L", "sku": "SOAP-1", "qty": 1.5}, 422, "VALIDATION_FAILED"),
        ({"location": "A01-01-1L", "sku": "SOAP-1"}, 422, "VALIDATION_FAILED"),
        ({"location": "A01-01-1L", "qty": 1}, 422, "VALIDATION_FAILED"),
        ({"location": "Z99-99-9Z", "sku": "SOAP-1", "qty": 1}, 404, "UNKNOWN_LOCATION"),
        ({"location": "A01-02-1L", "sku": "SOAP-1", "qty": 1}, 422, "COUNT_BIN_NOT_IN_TASK"),
        ({"location": "A01-01-1L", "sku": "NOPE-1", "qty": 1}, 404, "UNKNOWN_ITEM"),
        ({"location": "A01-01-1L", "gtin": "00614141999996", "qty": 1}, 404, "UNKNOWN_ITEM"),
        ({"location": "A01-01-1L", "gtin": "00614141000112", "qty": 1}, 422, "BARCODE_CHECK_DIGIT"),
        ({"location": "A01-01-1L", "scan": "LPN000000017", "qty": 1}, 422, "BARCODE_UNEXPECTED"),
        (
            {"location": "A01-01-1L", "sku": "SOAP-1", "qty": 1, "extra": 1},
            422,
            "VALIDATION_FAILED",
        ),
    ]:
        line(edge, ann, task["id"], status=status, code=code, **body)
    line(
        edge,
        ann,
        tea["id"],
        status=422,
        code="LOT_REQUIRED",
        location="A01-02-1L",
        sku="TEA-1",
        qty=2,
    )
    assert snapshot(services) == before

    # Closed tasks stay closed.
    submit(edge, ann, task["id"], status=200)
    before = snapshot(services)
    claim(edge, ann, task["id"], status=409, code="COUNT_TASK_CLOSED")
    claim(edge, bob, task["id"], status=409, code="COUNT_TASK_CLOSED")
    line(
        edge,
        ann,
        task["id"],
        status=409,
        code="COUNT_TASK_CLOSED",
        location="A01-01-1L",
        sku="SOAP-1",
        qty=1,
    )
    submit(edge, ann, task["id"], status=409, code="COUNT_TASK_CLOSED")
    resp = edge.post(f"{API}/variances/99999/approve", json={}, headers=sup.with_key())
    assert_response(resp, 404, code="COUNT_VARIANCE_NOT_FOUND")
    resp = edge.get(f"{API}/tasks/99999", headers=sup.headers)
    assert_response(resp, 404, code="COUNT_TASK_NOT_FOUND")
    assert snapshot(services) == before


def test_counting_the_same_key_again_replaces_the_first_count(edge, services, sup, ann):
    counting_site(services, {("A01-01-1L", "SOAP-1"): 10})
    task = create(edge, sup, kind="bin", location="A01-01-1L")
    claim(edge, ann, task["id"])
    line(edge, ann, task["id"], location="A01-01-1L", sku="SOAP-1", qty=4)
    line(edge, ann, task["id"], location="A01-01-1L", sku="SOAP-1", qty=10)
    assert submit(edge, ann, task["id"])["outcome"] == "accurate"
    assert stock_of(services, "A01-01-1L", "SOAP-1") == 10


def test_a_case_gtin_counts_cases(edge, services, sup, ann):
    from picking_support import case_gtin14

    counting_site(services, {("A01-01-1L", "SOAP-1"): 12})
    task = create(edge, sup, kind="bin", location="A01-01-1L")
    claim(edge, ann, task["id"])
    line(edge, ann, task["id"], location="A01-01-1L", gtin=case_gtin14("SOAP-1"), qty=2)
    assert submit(edge, ann, task["id"])["outcome"] == "accurate"


def test_the_idempotency_key_replays_a_line_without_counting_it_twice(edge, services, sup, ann):
    counting_site(services, {("A01-01-1L", "SOAP-1"): 10})
    task = create(edge, sup, kind="bin", location="A01-01-1L")
    claim(edge, ann, task["id"])
    body = {"location": "A01-01-1L", "sku": "SOAP-1", "qty": 10}
    first = edge.post(f"{API}/tasks/{task['id']}/lines", json=body, headers=ann.with_key("k-1"))
    again = edge.post(f"{API}/tasks/{task['id']}/lines", json=body, headers=ann.with_key("k-1"))
    assert first.json() == again.json()
    assert services.db.query_one("SELECT COUNT(*) AS n FROM count_lines") == {"n": 1}


def test_the_unit_cost_comes_from_the_item_master(edge, services, sup):
    counting_site(services)
    resp = edge.put(
        "/api/v1/items/MUG-1",
        json={"description": "Mug", "gtin": gtin13("MUG-1"), "unit_cost": "12.5"},
        headers=sup.with_key(),
    )
    assert_response(resp, 200)
    got = edge.get("/api/v1/items/MUG-1", headers=sup.headers)
    assert assert_response(got, 200)["unit_cost"] == "12.50"
    row = services.db.query_one("SELECT unit_cost FROM items WHERE sku = 'MUG-1'")
    assert row == {"unit_cost": "12.50"}
    before = services.db.query("SELECT * FROM items ORDER BY id")
    for bad in ("-1", "lots", 1e12):
        resp = edge.put(
            "/api/v1/items/MUG-1",
            json={"description": "Mug", "gtin": gtin13("MUG-1"), "unit_cost": bad},
            headers=sup.with_key(),
        )
        assert_response(resp, 422, code="ITEM_INVALID")
    assert services.db.query("SELECT * FROM items ORDER BY id") == before


def test_the_item_import_reads_an_optional_unit_cost_column(services):
    from edge_server.wms.item_import import import_items

    header = (
        "sku,description,gtin,uom,case_qty,weight_kg,length_cm,width_cm,height_cm,"
        "lot_tracked,expiry_tracked,velocity,size,colour,unit_cost\n"
    )
    good = header + "CUP-1,Cup,,EA,1,0.2,8,8,10,N,N,A,,,3.99\n"
    report = import_items(services.db, good.encode())
    assert report.counts.created == 1
    row = services.db.query_one("SELECT unit_cost FROM items WHERE sku = 'CUP-1'")
    assert row == {"unit_cost": "3.99"}
    bad = header + "CUP-2,Cup,,EA,1,0.2,8,8,10,N,N,A,,,-2\n"
    report = import_items(services.db, bad.encode())
    assert report.counts.refused == 1
    assert [p.field for p in report.problems if p.severity == "refused"] == ["unit_cost"]
    assert services.db.query_one("SELECT COUNT(*) AS n FROM items WHERE sku = 'CUP-2'") == {"n": 0}


def test_a_supervisor_calls_a_count_off_and_nothing_is_posted(edge, services, sup, ann):
    counting_site(services, {("A01-01-1L", "SOAP-1"): 10})
    task = create(edge, sup, kind="bin", location="A01-01-1L")
    claim(edge, ann, task["id"])
    line(edge, ann, task["id"], location="A01-01-1L", sku="SOAP-1", qty=4)

    def cancel(who, body, status=200, code=None):
        resp = edge.post(f"{API}/tasks/{task['id']}/cancel", json=body, headers=who.with_key())
        return assert_response(resp, status, code=code)

    before = snapshot(services)
    cancel(ann, {"reason": "mine"}, 403, "FORBIDDEN_ROLE")  # counters do not call counts off
    cancel(sup, {}, 422, "VALIDATION_FAILED")  # a reason is required
    cancel(sup, {"reason": ""}, 422, "VALIDATION_FAILED")
    assert snapshot(services) == before

    done = cancel(sup, {"reason": "bin being emptied for a re-slot"})["task"]
    assert (done["status"], done["cancel_reason"]) == (
        "cancelled",
        "bin being emptied for a re-slot",
    )
    assert done["lines_counted"] == 1  # kept on record
    assert stock_of(services, "A01-01-1L", "SOAP-1") == 10 and count_movements(services) == []
    assert variances(edge, sup) == []
    # The counter's queued submit is refused; a second cancel too.
    submit(edge, ann, task["id"], 409, "COUNT_TASK_CLOSED")
    cancel(sup, {"reason": "again"}, 409, "COUNT_TASK_CLOSED")
    ledger_ok(services)
