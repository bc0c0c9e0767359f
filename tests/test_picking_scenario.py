"""The picking scenario end to end over HTTP: claim, totes, bin → item → quantity → tote,
refusals that change nothing but are counted, lot substitutes, short picks, resume."""

from __future__ import annotations

from fastapi.testclient import TestClient
from picking_support import (
    Picker,
    case_gtin14,
    gs1,
    gtin13,
    make_order,
    make_task,
    one_order_task,
    outbox,
    pick_events,
    picking_site,
    put_stock,
    snapshot,
    stock_at,
)

from edge_server.app import create_app
from edge_server.services import open_services
from edge_server.wms.ledger import check_ledger
from edge_server.wms.routing.router import route
from protocols.barcodes import format_lpn

from conftest import assert_response, login_as


def test_discrete_happy_path(edge, services):
    task_id = one_order_task(services, qty=3)
    picker = Picker(edge, login_as(services, "picker"))
    answer = picker.claim()
    assert answer["next_state"] == "bind_tote"
    assert picker.task_id == task_id
    picker.bind("TOTE-0001")
    assert picker.state == "scan_bin"
    line = picker.view["line"]
    assert (line["bin"], line["sku"], line["qty_remaining"], line["tote"]) == (
        "A01-01-1L",
        "SOAP-1",
        3,
        "TOTE-0001",
    )
    picker.step("scan-bin", {"barcode": "A01-01-1L"})
    assert picker.state == "scan_item"
    picker.step("scan-item", {"barcode": gtin13("SOAP-1")})
    assert picker.state == "set_quantity"
    picker.step("quantity", {"qty": 3})
    assert picker.state == "scan_tote"
    done = picker.step("tote", {"barcode": "TOTE-0001"})
    assert done["next_state"] == "done"
    assert done["message"]["code"] == "PICK_TASK_DONE"
    assert stock_at(services, "A01-01-1L", "SOAP-1") == 7
    assert stock_at(services, "PACK-01", "SOAP-1", lpn="TOTE-0001") == 3
    assert [e["kind"] for e in pick_events(services)] == ["picked"]
    assert outbox(services, "pick_task.done")[0]["task_id"] == task_id


# -- helpers -----------------------------------------------------------------------------------
def at_item(picker: Picker) -> dict:
    """Claim, bind TOTE-0001 and scan the first line's bin."""
    picker.claim()
    picker.bind("TOTE-0001")
    return picker.step("scan-bin", {"barcode": picker.view["line"]["bin"]})


def refused_and_counted(services, picker, step, body, code, kind, *, status=409):
    """The step is refused with `code`, nothing but one `kind` pick event changes."""
    before = snapshot(services)
    events_before = len(pick_events(services))
    resp = picker.post(step, body)
    assert_response(resp, status, code=code)
    assert snapshot(services) == before
    new = pick_events(services)[events_before:]
    assert [e["kind"] for e in new] == ([kind] if kind else [])
    return new[0] if new else None


def ledger_is_whole(services):
    report = check_ledger(services.db)
    assert not report.differences and not report.integrity_errors, report


# -- happy paths -------------------------------------------------------------------------------
def test_the_ledger_stays_whole_after_picks(edge, services):
    one_order_task(services, qty=4)
    picker = Picker(edge, login_as(services, "picker"))
    picker.claim()
    picker.bind("TOTE-0007")
    picker.pick_all()
    assert picker.state == "done"
    ledger_is_whole(services)
    moves = services.db.query("SELECT type, qty, to_lpn FROM movements WHERE type = 'pick'")
    assert moves == [{"type": "pick", "qty": 4, "to_lpn": "TOTE-0007"}]
    assert services.db.query("SELECT * FROM allocations") == []


def test_a_batch_of_three_orders_goes_into_three_totes(edge, services):
    layout = picking_site(services)
    put_stock(services, "A02-02-1L", "SOAP-1", 20)
    put_stock(services, "A01-04-1R", "MUG-1", 20)
    put_stock(services, "A03-01-1L", "JAM-1", 20)
    a = make_order(services, "SO-A", [("SOAP-1", 2), ("MUG-1", 1)])
    b = make_order(services, "SO-B", [("MUG-1", 3)])
    c = make_order(services, "SO-C", [("JAM-1", 1), ("SOAP-1", 1)])
    task_id = make_task(services, [a, b, c])
    picker = Picker(edge, login_as(services, "picker"))
    claimed = picker.claim()
    assert claimed["data"]["bind_tote"]["position"] == 1
    assert claimed["data"]["bind_tote"]["order"] == "SO-A"
    picker.bind("TOTE-0001")
    assert picker.view["position"] == 2 and picker.view["order"] == "SO-B"
    picker.bind("TOTE-0002", "TOTE-0003")
    assert picker.state == "scan_bin"
    picked = picker.pick_all()
    assert picker.state == "done"
    # walked in routing's order; the lines at one bin one after the other
    bins = [ln["bin"] for ln in picked]
    assert list(dict.fromkeys(bins)) == route(layout, set(bins)).sequence
    assert stock_at(services, "PACK-01", "SOAP-1", lpn="TOTE-0001") == 2
    assert stock_at(services, "PACK-01", "MUG-1", lpn="TOTE-0001") == 1
    assert stock_at(services, "PACK-01", "MUG-1", lpn="TOTE-0002") == 3
    assert stock_at(services, "PACK-01", "JAM-1", lpn="TOTE-0003") == 1
    assert stock_at(services, "PACK-01", "SOAP-1", lpn="TOTE-0003") == 1
    done = outbox(services, "pick_task.done")
    assert done[0]["task_id"] == task_id
    assert done[0]["orders"] == [
        {"position": 1, "order": "SO-A", "tote": "TOTE-0001"},
        {"position": 2, "order": "SO-B", "tote": "TOTE-0002"},
        {"position": 3, "order": "SO-C", "tote": "TOTE-0003"},
    ]
    assert done[0]["units_picked"] == 8
    ledger_is_whole(services)


def test_a_zone_task_is_walked_in_its_zone_only(edge, services):
    picking_site(services)
    put_stock(services, "A01-02-1L", "SOAP-1", 5)
    put_stock(services, "C01-02-1R", "MUG-1", 5)
    put_stock(services, "C02-01-1L", "JAM-1", 5)
    a = make_order(services, "SO-A", [("SOAP-1", 1), ("MUG-1", 1)])
    b = make_order(services, "SO-B", [("JAM-1", 2)])
    make_task(services, [a, b], zone="COLD")
    picker = Picker(edge, login_as(services, "picker"))
    picker.claim()
    picker.bind("TOTE-0011", "TOTE-0012")
    picked = picker.pick_all()
    assert picker.state == "done"
    assert sorted(ln["bin"] for ln in picked) == ["C01-02-1R", "C02-01-1L"]
    assert stock_at(services, "A01-02-1L", "SOAP-1") == 5


def test_a_case_gtin_quantity_counts_cases_and_a_gs1_count_sets_the_quantity(edge, services):
    one_order_task(services, qty=9, stock=20)
    picker = Picker(edge, login_as(services, "picker"))
    at_item(picker)
    picker.step("scan-item", {"barcode": case_gtin14("SOAP-1")})
    assert picker.view["units_per_scan"] == 6
    picker.step("quantity", {"qty": 1})
    assert picker.view["qty"] == 6
    picker.step("tote", {"barcode": "TOTE-0001"})
    # a partial pick: the rest of the line, from the same bin
    assert picker.state == "scan_item"
    assert picker.view["line"]["qty_remaining"] == 3
    picker.step("scan-item", {"barcode": gs1("SOAP-1", count=3)})
    assert picker.state == "scan_tote" and picker.view["qty"] == 3
    assert picker.step("tote", {"barcode": "TOTE-0001"})["next_state"] == "done"
    assert stock_at(services, "PACK-01", "SOAP-1", lpn="TOTE-0001") == 9
    assert [e["qty"] for e in pick_events(services, "picked")] == [6, 3]


def test_the_next_line_in_the_same_bin_skips_the_bin_scan(edge, services):
    picking_site(services)
    put_stock(services, "A01-02-1L", "SOAP-1", 5)
    a = make_order(services, "SO-A", [("SOAP-1", 1)])
    b = make_order(services, "SO-B", [("SOAP-1", 2)])
    make_task(services, [a, b])
    picker = Picker(edge, login_as(services, "picker"))
    picker.claim()
    picker.bind("TOTE-0001", "TOTE-0002")
    picker.pick_current()
    assert picker.state == "scan_item"
    assert picker.view["line"]["order"] == "SO-B" and picker.view["line"]["tote"] == "TOTE-0002"


# -- refusals change nothing, mis-scans are counted --------------------------------------------
def test_a_wrong_bin_is_refused_and_counted(edge, services):
    one_order_task(services)
    put_stock(services, "A02-01-1L", "MUG-1", 5)
    picker = Picker(edge, login_as(services, "picker"))
    picker.claim()
    picker.bind("TOTE-0001")
    event = refused_and_counted(
        services,
        picker,
        "scan-bin",
        {"barcode": "A02-01-1L"},
        "PICK_WRONG_BIN",
        "wrong_bin",
    )
    assert event["detail"]["scanned"] == "A02-01-1L"
    assert event["detail"]["expected"] == "A01-01-1L"
    # a product scanned where a bin is expected is a wrong step, not a mis-scan
    refused_and_counted(
        services,
        picker,
        "scan-bin",
        {"barcode": gtin13("SOAP-1")},
        "BARCODE_UNEXPECTED",
        None,
        status=422,
    )
    assert picker.step("scan-bin", {"barcode": "A01-01-1L"})["next_state"] == "scan_item"


def test_a_wrong_item_or_lpn_is_refused_and_counted(edge, services):
    one_order_task(services)
    picker = Picker(edge, login_as(services, "picker"))
    at_item(picker)
    event = refused_and_counted(
        services,
        picker,
        "scan-item",
        {"barcode": gtin13("MUG-1")},
        "PICK_WRONG_ITEM",
        "wrong_item",
    )
    assert event["detail"]["scanned_sku"] == "MUG-1"
    assert event["detail"]["expected_sku"] == "SOAP-1"
    # a GTIN nobody has, and an LPN label the line does not pick from
    refused_and_counted(
        services,
        picker,
        "scan-item",
        {"barcode": "4006381333931"},
        "PICK_WRONG_ITEM",
        "wrong_item",
    )
    refused_and_counted(
        services,
        picker,
        "scan-item",
        {"barcode": format_lpn(42)},
        "PICK_WRONG_ITEM",
        "wrong_item",
    )
    assert picker.step("scan-item", {"barcode": gtin13("SOAP-1")})["next_state"] == ("set_quantity")


def test_an_over_pick_is_refused_and_counted(edge, services):
    one_order_task(services, qty=3)
    picker = Picker(edge, login_as(services, "picker"))
    at_item(picker)
    picker.step("scan-item", {"barcode": gtin13("SOAP-1")})
    event = refused_and_counted(
        services, picker, "quantity", {"qty": 4}, "PICK_OVER_PICK", "over_pick"
    )
    assert event["qty"] == 4 and event["detail"]["remaining"] == 3
    resp = edge.get(f"/api/v1/picking/tasks/{picker.task_id}/state", headers=picker.who.headers)
    assert resp.json()["next_state"] == "set_quantity"
    assert picker.step("quantity", {"qty": 3})["next_state"] == "scan_tote"


def test_a_gs1_count_above_the_line_is_an_over_pick(edge, services):
    one_order_task(services, qty=3)
    picker = Picker(edge, login_as(services, "picker"))
    at_item(picker)
    refused_and_counted(
        services,
        picker,
        "scan-item",
        {"barcode": gs1("SOAP-1", count=5)},
        "PICK_OVER_PICK",
        "over_pick",
    )
    resp = edge.get(f"/api/v1/picking/tasks/{picker.task_id}/state", headers=picker.who.headers)
    assert resp.json()["next_state"] == "scan_item"


def test_a_wrong_tote_is_refused_and_counted(edge, services):
    picking_site(services)
    put_stock(services, "A01-02-1L", "SOAP-1", 5)
    a = make_order(services, "SO-A", [("SOAP-1", 1)])
    b = make_order(services, "SO-B", [("SOAP-1", 1)])
    make_task(services, [a, b])
    picker = Picker(edge, login_as(services, "picker"))
    picker.claim()
    picker.bind("TOTE-0001", "TOTE-0002")
    picker.step("scan-bin", {"barcode": "A01-02-1L"})
    picker.step("scan-item", {"barcode": gtin13("SOAP-1")})
    picker.step("quantity", {"qty": 1})
    event = refused_and_counted(
        services, picker, "tote", {"barcode": "TOTE-0002"}, "PICK_WRONG_TOTE", "wrong_tote"
    )
    assert event["detail"]["expected"] == "TOTE-0001" and event["detail"]["position"] == 1
    assert picker.step("tote", {"barcode": "TOTE-0001"})["next_state"] == "scan_item"


def test_the_cart_slot_label_stands_for_its_tote(edge, services):
    picking_site(services)
    put_stock(services, "A01-02-1L", "SOAP-1", 5)
    a = make_order(services, "SO-A", [("SOAP-1", 1)])
    b = make_order(services, "SO-B", [("SOAP-1", 2)])
    make_task(services, [a, b])
    picker = Picker(edge, login_as(services, "picker"))
    picker.claim()
    picker.bind("TOTE-0001", "TOTE-0002")
    picker.step("scan-bin", {"barcode": "A01-02-1L"})
    picker.step("scan-item", {"barcode": gtin13("SOAP-1")})
    picker.step("quantity", {"qty": 1})
    event = refused_and_counted(
        services, picker, "tote", {"barcode": "POS-2"}, "PICK_WRONG_TOTE", "wrong_tote"
    )
    detail = event["detail"]
    assert (detail["scanned"], detail["expected"], detail["position"]) == ("POS-2", "TOTE-0001", 1)
    picker.step("tote", {"barcode": "POS-1"})
    assert stock_at(services, "PACK-01", "SOAP-1", lpn="TOTE-0001") == 1
    picker.step("scan-item", {"barcode": gtin13("SOAP-1")})
    picker.step("quantity", {"qty": 2})
    assert picker.step("tote", {"barcode": "pos-2"})["next_state"] == "done"
    assert stock_at(services, "PACK-01", "SOAP-1", lpn="TOTE-0002") == 2


def test_a_retried_refusal_is_counted_once(edge, services):
    one_order_task(services)
    picker = Picker(edge, login_as(services, "picker"))
    picker.claim()
    picker.bind("TOTE-0001")
    for _ in range(2):
        resp = picker.post("scan-bin", {"barcode": "A03-01-1L"}, key="same-key")
        assert_response(resp, 409, code="PICK_WRONG_BIN")
    assert len(pick_events(services, "wrong_bin")) == 1


def test_a_closed_task_is_refused(edge, services):
    one_order_task(services)
    picker = Picker(edge, login_as(services, "picker"))
    picker.claim()
    picker.bind("TOTE-0001")
    picker.pick_all()
    assert picker.state == "done"
    for step, body in [
        ("scan-bin", {"barcode": "A01-01-1L"}),
        ("scan-item", {"barcode": gtin13("SOAP-1")}),
        ("quantity", {"qty": 1}),
        ("tote", {"barcode": "TOTE-0001"}),
        ("short", {"qty_found": 0}),
        ("bind-tote", {"barcode": "TOTE-0002"}),
    ]:
        refused_and_counted(services, picker, step, body, "PICK_TASK_CLOSED", None)
    resp = picker.post("next", {"task_id": picker.task_id})
    assert_response(resp, 409, code="PICK_TASK_CLOSED")
    # and nothing else to do
    assert_response(picker.post("next", {}), 404, code="PICK_NO_TASK")


def test_steps_out_of_order_are_refused(edge, services):
    one_order_task(services)
    picker = Picker(edge, login_as(services, "picker"))
    task_id = services.db.query_one("SELECT id FROM pick_tasks")["id"]
    picker.task_id = task_id
    # not claimed yet
    refused_and_counted(
        services, picker, "scan-bin", {"barcode": "A01-01-1L"}, "PICK_WRONG_STEP", None
    )
    picker.claim()
    refused_and_counted(
        services, picker, "scan-bin", {"barcode": "A01-01-1L"}, "PICK_WRONG_STEP", None
    )
    refused_and_counted(
        services,
        picker,
        "bind-tote",
        {"barcode": "A01-01-1L"},
        "BARCODE_UNEXPECTED",
        None,
        status=422,
    )
    refused_and_counted(services, picker, "quantity", {"qty": 1}, "PICK_WRONG_STEP", None)
    resp = picker.post("scan-item", {"task_id": 999999, "barcode": gtin13("SOAP-1")})
    assert_response(resp, 404, code="PICK_TASK_NOT_FOUND")


def test_another_pickers_task_is_not_yours_but_a_supervisor_takes_it_over(edge, services):
    one_order_task(services)
    first = Picker(edge, login_as(services, "picker"))
    first.claim()
    second = Picker(edge, login_as(services, "picker"))
    second.task_id = first.task_id
    refused_and_counted(
        services, second, "bind-tote", {"barcode": "TOTE-0001"}, "PICK_TASK_NOT_YOURS", None
    )
    resp = second.post("next", {"task_id": first.task_id})
    assert_response(resp, 409, code="PICK_TASK_NOT_YOURS")
    resp = edge.get(f"/api/v1/picking/tasks/{first.task_id}/state", headers=second.who.headers)
    assert_response(resp, 409, code="PICK_TASK_NOT_YOURS")
    boss = Picker(edge, login_as(services, "supervisor"))
    boss.task_id = first.task_id
    assert boss.step("bind-tote", {"barcode": "TOTE-0001"})["next_state"] == "scan_bin"
    boss_id = services.db.query_one("SELECT assigned_to FROM pick_tasks")["assigned_to"]
    refused_and_counted(
        services, first, "scan-bin", {"barcode": "A01-01-1L"}, "PICK_TASK_NOT_YOURS", None
    )
    assert boss_id is not None


def test_a_tote_in_use_cannot_be_bound(edge, services):
    picking_site(services)
    put_stock(services, "A01-02-1L", "SOAP-1", 10)
    a = make_order(services, "SO-A", [("SOAP-1", 1)])
    b = make_order(services, "SO-B", [("SOAP-1", 1)])
    c = make_order(services, "SO-C", [("SOAP-1", 1)])
    make_task(services, [a])
    make_task(services, [b, c])
    first = Picker(edge, login_as(services, "picker"))
    first.claim()
    first.bind("TOTE-0001")
    second = Picker(edge, login_as(services, "picker"))
    second.claim()
    # bound in another open task
    refused_and_counted(
        services, second, "bind-tote", {"barcode": "TOTE-0001"}, "PICK_TOTE_IN_USE", None
    )
    second.bind("TOTE-0002")
    # bound at another position of the same task
    refused_and_counted(
        services, second, "bind-tote", {"barcode": "TOTE-0002"}, "PICK_TOTE_IN_USE", None
    )
    # the first task finishes: TOTE-0001 holds SO-A's goods, so it cannot take SO-C's
    first.pick_all()
    assert first.state == "done"
    refused_and_counted(
        services, second, "bind-tote", {"barcode": "TOTE-0001"}, "PICK_TOTE_IN_USE", None
    )
    assert second.bind("TOTE-0003")["next_state"] == "scan_bin"


# -- lots --------------------------------------------------------------------------------------
def lot_site(services):
    """TEA-1 (lot-tracked) in A01-02-1L: L1 (allocated first, FIFO), L2 free, L3 too little;
    L4 in another bin. Order SO-T for 3, one discrete task."""
    picking_site(services)
    put_stock(services, "A01-02-1L", "TEA-1", 3, lot="L1")
    put_stock(services, "A01-02-1L", "TEA-1", 5, lot="L2")
    put_stock(services, "A01-02-1L", "TEA-1", 1, lot="L3")
    put_stock(services, "A02-01-1L", "TEA-1", 5, lot="L4")
    make_task(services, [make_order(services, "SO-T", [("TEA-1", 3)])])


def allocated_lots(services):
    return {
        (r["lot"], r["qty"])
        for r in services.db.query("SELECT lot, SUM(qty) AS qty FROM allocations GROUP BY lot")
    }


def test_another_lot_with_free_stock_in_the_bin_is_an_allowed_substitute(edge, services):
    lot_site(services)
    assert allocated_lots(services) == {("L1", 3)}
    picker = Picker(edge, login_as(services, "picker"))
    at_item(picker)
    answer = picker.step("scan-item", {"barcode": gs1("TEA-1", lot="L2")})
    assert answer["message"]["code"] == "PICK_LOT_SUBSTITUTED"
    assert answer["message"]["type"] == "warning"
    assert picker.view["line"]["lot"] == "L2"
    assert allocated_lots(services) == {("L2", 3)}
    [event] = pick_events(services, "substitute")
    assert event["detail"]["from_lot"] == "L1" and event["detail"]["to_lot"] == "L2"
    assert event["qty"] == 3
    picker.step("quantity", {"qty": 3})
    assert picker.step("tote", {"barcode": "TOTE-0001"})["next_state"] == "done"
    tote = services.db.query(
        "SELECT lot, qty FROM stock WHERE lpn = 'TOTE-0001' AND qty > 0 ORDER BY lot"
    )
    assert tote == [{"lot": "L2", "qty": 3}]
    assert stock_at(services, "A01-02-1L", "TEA-1") == 6  # L1 3, L2 2, L3 1
    ledger_is_whole(services)


def test_a_lot_that_cannot_replace_the_allocated_one_is_refused_and_counted(edge, services):
    lot_site(services)
    picker = Picker(edge, login_as(services, "picker"))
    at_item(picker)
    for lot in ("L3", "L4", "NOPE"):  # too little free / other bin / none at all
        event = refused_and_counted(
            services,
            picker,
            "scan-item",
            {"barcode": gs1("TEA-1", lot=lot)},
            "PICK_WRONG_LOT",
            "wrong_lot",
        )
        assert event["detail"]["scanned_lot"] == lot and event["detail"]["expected_lot"] == "L1"
    assert allocated_lots(services) == {("L1", 3)}
    # the allocated lot goes straight through
    picker.step("scan-item", {"barcode": gs1("TEA-1", lot="L1", count=3)})
    assert picker.state == "scan_tote"


def test_a_lot_allocated_to_another_order_is_not_free_to_substitute(edge, services):
    lot_site(services)
    # 4 of L2's 5 are reserved already (written straight to the table)
    with services.db.write() as w:
        line = w.execute(
            "SELECT fl.id, fl.item_id, a.location_id FROM fo_lines fl "
            "JOIN allocations a ON a.order_line_id = fl.id"
        ).fetchone()
        w.execute(
            "INSERT INTO allocations (order_line_id, location_id, item_id, lot, lpn, qty, "
            "created_at) VALUES (?, ?, ?, 'L2', '', 4, '2030-01-01')",
            [line[0], line[2], line[1]],
        )
    picker = Picker(edge, login_as(services, "picker"))
    at_item(picker)
    event = refused_and_counted(
        services,
        picker,
        "scan-item",
        {"barcode": gs1("TEA-1", lot="L2")},
        "PICK_WRONG_LOT",
        "wrong_lot",
    )
    assert event["detail"]["free"] == 1 and event["detail"]["needed"] == 3


# -- short picks -------------------------------------------------------------------------------
def short_site(services, *, elsewhere: int) -> None:
    """SO-1 wants 5 SOAP-1, all allocated in A01-01-1L; `elsewhere` more arrive in A03-03-1R
    after allocation."""
    picking_site(services)
    put_stock(services, "A01-01-1L", "SOAP-1", 5)
    order = make_order(services, "SO-1", [("SOAP-1", 5)])
    if elsewhere:
        put_stock(services, "A03-03-1R", "SOAP-1", elsewhere)
    make_task(services, [order])


def count_requests(services):
    return services.db.query(
        "SELECT l.code, cr.requested_by, cr.reason, cr.status FROM count_requests cr "
        "JOIN locations l ON l.id = cr.location_id"
    )


def test_a_short_pick_is_reallocated_from_another_bin(edge, services):
    short_site(services, elsewhere=10)
    picker = Picker(edge, login_as(services, "picker"))
    at_item(picker)
    picker.step("scan-item", {"barcode": gtin13("SOAP-1")})
    answer = picker.step("short", {"qty_found": 2, "barcode": "TOTE-0001"})
    assert answer["message"]["code"] == "PICK_SHORT_RECORDED"
    assert picker.state == "scan_bin"
    line = picker.view["line"]
    assert (line["bin"], line["qty"], line["tote"]) == ("A03-03-1R", 3, "TOTE-0001")
    assert count_requests(services) == [
        {"code": "A01-01-1L", "requested_by": "picking", "reason": "short_pick", "status": "open"}
    ]
    [short] = pick_events(services, "short")
    assert short["qty"] == 3 and short["detail"]["found"] == 2
    assert short["detail"]["reallocated"] == [{"bin": "A03-03-1R", "lot": "", "qty": 3}]
    assert short["detail"]["backordered"] == 0
    picker.pick_all()
    assert picker.state == "done"
    assert stock_at(services, "PACK-01", "SOAP-1", lpn="TOTE-0001") == 5
    fo_line = services.db.query_one("SELECT qty_short, status FROM fo_lines")
    assert fo_line == {"qty_short": 0, "status": "allocated"}
    assert outbox(services, "fulfillment_order.backordered") == []
    task = edge.get(f"/api/v1/picking/tasks/{picker.task_id}", headers=picker.who.headers)
    lines = task.json()["data"]["lines"]
    assert [(ln["bin"], ln["status"], ln["qty_picked"], ln["qty_short"]) for ln in lines] == [
        ("A01-01-1L", "short", 2, 3),
        ("A03-03-1R", "picked", 3, 0),
    ]
    ledger_is_whole(services)


def test_a_short_pick_with_no_other_stock_is_backordered(edge, services):
    short_site(services, elsewhere=0)
    picker = Picker(edge, login_as(services, "picker"))
    at_item(picker)
    answer = picker.step("short", {"qty_found": 0})
    assert answer["next_state"] == "done"
    assert outbox(services, "fulfillment_order.backordered") == [
        {"site": "CHI", "number": "SO-1", "lines": [{"line_no": 1, "sku": "SOAP-1", "short": 5}]}
    ]
    assert services.db.query_one("SELECT qty_short, status FROM fo_lines") == {
        "qty_short": 5,
        "status": "short",
    }
    assert services.db.query("SELECT * FROM allocations") == []
    assert count_requests(services)[0]["reason"] == "short_pick"
    assert stock_at(services, "A01-01-1L", "SOAP-1") == 5  # the count will find out


def test_a_short_pick_partly_reallocated_backorders_the_rest(edge, services):
    short_site(services, elsewhere=2)
    picker = Picker(edge, login_as(services, "picker"))
    at_item(picker)
    picker.step("short", {"qty_found": 0})
    assert picker.state == "scan_bin" and picker.view["line"]["qty"] == 2
    assert outbox(services, "fulfillment_order.backordered")[0]["lines"][0]["short"] == 3
    picker.pick_all()
    assert picker.state == "done"
    assert outbox(services, "pick_task.done")[0]["units_short"] == 5


def test_bad_short_picks_are_refused_and_change_nothing(edge, services):
    short_site(services, elsewhere=10)
    picker = Picker(edge, login_as(services, "picker"))
    at_item(picker)
    # found something before the product was scanned
    refused_and_counted(
        services,
        picker,
        "short",
        {"qty_found": 1, "barcode": "TOTE-0001"},
        "PICK_WRONG_STEP",
        None,
    )
    picker.step("scan-item", {"barcode": gtin13("SOAP-1")})
    for body in ({"qty_found": 5}, {"qty_found": 9}, {"qty_found": 2}):  # all / more / no tote
        refused_and_counted(
            services, picker, "short", body, "PICK_SHORT_QTY_INVALID", None, status=422
        )
    refused_and_counted(
        services,
        picker,
        "short",
        {"qty_found": 2, "barcode": "TOTE-0009"},
        "PICK_WRONG_TOTE",
        "wrong_tote",
    )
    assert count_requests(services) == []


# -- claiming and resuming ---------------------------------------------------------------------
def test_the_next_task_is_the_highest_priority_of_released_waves_or_none(edge, services):
    picking_site(services)
    put_stock(services, "A01-02-1L", "SOAP-1", 10)
    low = make_task(services, [make_order(services, "SO-LOW", [("SOAP-1", 1)], priority=1)])
    with services.db.write() as w:
        sid = w.execute("SELECT id FROM sites").fetchone()[0]
        for number, status in (("W-PLANNED", "planned"), ("W-RELEASED", "released")):
            w.execute(
                "INSERT INTO waves (site_id, number, carrier_service, cutoff_at, release_at, "
                "status, created_at) VALUES (?, ?, 'UPS-GROUND', '2030-01-01T16:00:00+00:00', "
                "'2030-01-01T14:00:00+00:00', ?, '2030-01-01T00:00:00+00:00')",
                [sid, number, status],
            )
    waves = {r["number"]: r["id"] for r in services.db.query("SELECT id, number FROM waves")}
    planned = make_task(
        services,
        [make_order(services, "SO-PLANNED", [("SOAP-1", 1)], priority=9)],
        wave_id=waves["W-PLANNED"],
    )
    high = make_task(
        services,
        [make_order(services, "SO-HIGH", [("SOAP-1", 1)], priority=5)],
        wave_id=waves["W-RELEASED"],
    )
    first, second = (Picker(edge, login_as(services, "picker")) for _ in range(2))
    assert first.claim()["data"]["bind_tote"]["task_id"] == high
    assert second.claim()["data"]["bind_tote"]["task_id"] == low
    # asking again resumes one's own task
    assert first.claim()["data"]["bind_tote"]["task_id"] == high
    third = Picker(edge, login_as(services, "picker"))
    assert_response(third.post("next", {}), 404, code="PICK_NO_TASK")
    assert_response(third.post("next", {"task_id": planned}), 404, code="PICK_NO_TASK")
    task = services.db.query_one("SELECT * FROM pick_tasks WHERE id = ?", [high])
    assert task["status"] == "in_progress" and task["started_at"] and task["device_id"]
    # the wave is done when its last task is
    first.bind("TOTE-0001")
    first.pick_all()
    assert (
        services.db.query_one("SELECT status FROM waves WHERE id = ?", [waves["W-RELEASED"]])[
            "status"
        ]
        == "done"
    )


def test_a_handheld_resumes_after_a_restart(edge, services):
    one_order_task(services, qty=3)
    who = login_as(services, "picker")
    picker = Picker(edge, who)
    at_item(picker)
    asked = picker.step("scan-item", {"barcode": gtin13("SOAP-1")})
    assert asked["next_state"] == "set_quantity"
    # a new server process on the same database
    restarted = open_services(services.settings)
    try:
        with TestClient(create_app(restarted.settings, restarted)) as http:
            resp = http.get(f"/api/v1/picking/tasks/{picker.task_id}/state", headers=who.headers)
            assert resp.status_code == 200 and resp.json() == asked
            again = Picker(http, who)
            assert again.claim() == asked
            again.step("quantity", {"qty": 3})
            assert again.step("tote", {"barcode": "TOTE-0001"})["next_state"] == "done"
    finally:
        restarted.db.close()
    ledger_is_whole(services)


# -- reads and the KPI -------------------------------------------------------------------------
def test_task_reads_show_lines_in_route_order_and_progress(edge, services):
    picking_site(services)
    put_stock(services, "A04-01-1L", "SOAP-1", 10)
    put_stock(services, "A01-05-1R", "MUG-1", 10)
    a = make_order(services, "SO-A", [("SOAP-1", 2), ("MUG-1", 1)])
    task_id = make_task(services, [a])
    packer = login_as(services, "packer")
    resp = edge.get(f"/api/v1/picking/tasks/{task_id}", headers=packer.headers)
    data = assert_response(resp, 200)
    assert data["route_length_m"] > 0 and data["status"] == "open"
    assert [ln["seq"] for ln in data["lines"]] == [1, 2]
    assert data["progress"] == {
        "lines": 2,
        "lines_done": 0,
        "units": 3,
        "units_picked": 0,
        "units_short": 0,
    }
    assert data["orders"] == [{"position": 1, "order": "SO-A", "tote": None}]
    listed = assert_response(
        edge.get("/api/v1/picking/tasks?status=open", headers=packer.headers), 200
    )
    assert [t["task_id"] for t in listed["tasks"]] == [task_id]
    none = assert_response(
        edge.get("/api/v1/picking/tasks?status=done", headers=packer.headers), 200
    )
    assert none["tasks"] == []
    assert_response(
        edge.get("/api/v1/picking/tasks/424242", headers=packer.headers),
        404,
        code="PICK_TASK_NOT_FOUND",
    )
    assert edge.get(f"/api/v1/picking/tasks/{task_id}", headers={}).status_code == 401
    receiver = login_as(services, "receiver")
    resp = edge.get(f"/api/v1/picking/tasks/{task_id}", headers=receiver.headers)
    assert resp.status_code == 403
    resp = edge.post("/api/v1/picking/next", json={}, headers=receiver.with_key())
    assert resp.status_code == 403, resp.text


def test_the_pick_accuracy_kpi_counts_picks_mis_scans_and_shorts(edge, services):
    short_site(services, elsewhere=0)
    picker = Picker(edge, login_as(services, "picker"))
    picker.claim()
    picker.bind("TOTE-0001")
    assert picker.post("scan-bin", {"barcode": "A02-02-1L"}).status_code == 409
    picker.step("scan-bin", {"barcode": "A01-01-1L"})
    assert picker.post("scan-item", {"barcode": gtin13("MUG-1")}).status_code == 409
    picker.step("scan-item", {"barcode": gtin13("SOAP-1")})
    picker.step("quantity", {"qty": 3})
    picker.step("tote", {"barcode": "TOTE-0001"})
    picker.step("scan-item", {"barcode": gtin13("SOAP-1")})
    picker.step("short", {"qty_found": 1, "barcode": "TOTE-0001"})
    boss = login_as(services, "supervisor")
    kpi = assert_response(edge.get("/api/v1/kpi/picking", headers=boss.headers), 200)
    assert kpi["picks"] == 2 and kpi["units_picked"] == 4
    assert kpi["lines_picked"] == 1
    assert kpi["mis_scans"] == {
        "wrong_bin": 1,
        "wrong_item": 1,
        "wrong_lot": 0,
        "wrong_tote": 0,
        "over_pick": 0,
    }
    assert kpi["mis_scans_total"] == 2
    assert kpi["short_picks"] == 1 and kpi["units_short"] == 1
    assert kpi["scan_accuracy_pct"] == 50.0
    assert kpi["pick_accuracy_pct"] == 100.0 and kpi["wrong_items_shipped"] == 0
    [day] = kpi["by_day"]
    assert day["picks"] == 2 and day["mis_scans_total"] == 2
    # a period without picks
    empty = assert_response(
        edge.get("/api/v1/kpi/picking?from=2020-01-01&to=2020-01-31", headers=boss.headers), 200
    )
    assert empty["picks"] == 0 and empty["scan_accuracy_pct"] is None and empty["by_day"] == []
    assert_response(
        edge.get("/api/v1/kpi/picking?from=2020-02-01&to=2020-01-31", headers=boss.headers),
        422,
        code="VALIDATION_FAILED",
    )
    resp = edge.get("/api/v1/kpi/picking", headers=picker.who.headers)
    assert resp.status_code == 403


def test_mis_scans_the_handheld_caught_count_for_pick_accuracy(edge, services):
    task_id = one_order_task(services)
    picker = Picker(edge, login_as(services, "picker"))
    line_id = services.db.query_one("SELECT id FROM pick_lines WHERE task_id = ?", [task_id])["id"]
    body = {
        "task_id": task_id,
        "line_id": line_id,
        "kind": "wrong_bin",
        "code": "PICK_WRONG_BIN",
        "scanned": "A02-02-1L",
        "caught_at": "2026-11-27T10:00:00Z",
    }
    data = assert_response(picker.post("mis-scans", body), 201)
    assert data == {"task_id": task_id, "kind": "wrong_bin", "recorded": True}
    (event,) = pick_events(services, "wrong_bin")
    assert event["detail"]["caught"] == "handheld" and event["detail"]["scanned"] == "A02-02-1L"
    boss = login_as(services, "supervisor")
    kpi = assert_response(edge.get("/api/v1/kpi/picking", headers=boss.headers), 200)
    assert kpi["mis_scans"]["wrong_bin"] == 1
    # bad reports are refused and change nothing
    before = snapshot(services), len(pick_events(services))
    for bad, status, code in [
        ({**body, "task_id": 999}, 404, "PICK_TASK_NOT_FOUND"),
        ({**body, "line_id": 999}, 422, "VALIDATION_FAILED"),
        ({**body, "kind": "picked"}, 422, "VALIDATION_FAILED"),
        ({**body, "scanned": "x" * 201}, 422, "VALIDATION_FAILED"),
    ]:
        assert_response(picker.post("mis-scans", bad), status, code=code)
    assert (snapshot(services), len(pick_events(services))) == before
