"""Every workflow leaves a labor record: receive, putaway, replenish, pick, pack, return, count —
driven through the API the handhelds use."""

import counting_support as cs
import packing_support as ps
import receiving_support as rs
import returns_support as ret
from labor_support import API, at, labor_tasks, the_task
from picking_support import Picker, one_order_task
from putaway_support import add_item, build_site, receive

from edge_server.wms import inventory
from edge_server.wms.ledger import Actor
from protocols.barcodes import format_rma
from protocols.inventory import MoveIn, PickIn

from conftest import assert_response, login_as


def test_receiving_a_po_records_lines_and_units_until_the_receipt_closes(services, edge):
    rs.setup_site(services)
    rs.make_po(services, "4500001", [("SOAP-1", 3), ("ODD-1", 2)])
    who = login_as(services, "receiver", badge="R-1")
    boss = login_as(services, "supervisor")
    hh = rs.Handheld(edge, who)
    at(who, 0)
    hh.step("start", {"barcode": "PO-4500001"})  # arrives at the dock
    at(who, 10)
    hh.step("scan", {"barcode": rs.gtin13("1")})
    at(who, 15)
    hh.step("quantity", {"qty": 3})
    at(who, 25)
    hh.step("lpn", {})  # posts the receipt line
    task = the_task(edge, boss, "receive", "PO-4500001")
    assert (task["units"], task["lines"], task["ended_at"]) == (3, 1, None)
    at(who, 40)
    hh.step("scan", {"barcode": rs.gtin13("4")})
    at(who, 45)
    hh.step("quantity", {"qty": 2})
    at(who, 50)
    hh.step("lpn", {})
    at(who, 60)
    assert hh.step("close", {})["next_state"] == "done"

    task = the_task(edge, boss, "receive", "PO-4500001")
    assert task["worker"]["badge"] == "R-1"
    assert (task["units"], task["lines"], task["scans"]) == (5, 2, 8)
    assert task["handling_seconds"] == 60.0 and task["ended_at"] is not None


def test_putaway_records_the_walk_to_the_bin_and_finishes_on_confirm(services, edge):
    db = services.db
    build_site(db)
    add_item(db, "SKU-1", velocity="A")
    receive(db, "SKU-1", 4, lpn="LPN000000017")
    who = login_as(services, "receiver", badge="R-2")
    boss = login_as(services, "supervisor")
    body = {"location": "DOCK-01", "sku": "SKU-1", "qty": 4, "lpn": "LPN000000017"}
    [task] = assert_response(
        edge.post(f"{API}/putaway/tasks", json=body, headers=who.with_key()), 201
    )["tasks"]
    at(who, 0)
    resp = edge.post(f"{API}/putaway/tasks/{task['id']}/bin-full", json={}, headers=who.with_key())
    moved = assert_response(resp, 200)["task"]
    at(who, 45)
    resp = edge.post(
        f"{API}/putaway/tasks/{task['id']}/confirm",
        json={"scan": moved["to_location"]},
        headers=who.with_key(),
    )
    assert_response(resp, 200)
    labor = the_task(edge, boss, "putaway", f"putaway-{task['id']}")
    assert (labor["units"], labor["lines"], labor["scans"]) == (4, 1, 2)
    assert labor["travel_seconds"] == 45.0 and labor["ended_at"] is not None


def test_replenishment_records_a_task_on_confirm(services, edge):
    db = services.db
    build_site(db)
    add_item(db, "SKU-1", velocity="A", length_cm=1, width_cm=1, height_cm=1)
    receive(db, "SKU-1", 40)
    with db.write() as w:
        for dst, qty in (("A01-02-2L", 30), ("A01-01-1L", 10)):
            inventory.move(
                w,
                "CHI",
                MoveIn(from_location="DOCK-01", to_location=dst, sku="SKU-1", qty=qty),
                Actor(),
            )
    boss = login_as(services, "supervisor")
    rule = {"location": "A01-01-1L", "sku": "SKU-1", "min_qty": 5, "max_qty": 20}
    assert_response(edge.put(f"{API}/replenishment/rules", json=rule, headers=boss.with_key()), 200)
    with db.write() as w:
        inventory.pick(
            w,
            "CHI",
            PickIn(from_location="A01-01-1L", to_location="PACK-01", sku="SKU-1", qty=6),
            Actor(),
        )
    who = login_as(services, "picker", badge="P-R")
    task = assert_response(edge.get(f"{API}/replenishment/tasks/next", headers=who.headers), 200)[
        "task"
    ]
    at(who, 0)
    resp = edge.post(
        f"{API}/replenishment/tasks/{task['id']}/confirm",
        json={"scan": "A01-01-1L"},
        headers=who.with_key(),
    )
    assert_response(resp, 200)
    labor = the_task(edge, boss, "replenish", f"replenish-{task['id']}")
    assert (labor["units"], labor["lines"], labor["worker"]["badge"]) == (task["qty"], 1, "P-R")
    assert labor["ended_at"] is not None


def test_picking_records_a_task(services, edge):
    task_id = one_order_task(services, qty=2)
    who = login_as(services, "picker")
    picker = Picker(edge, who)
    at(who, 0)
    picker.claim()
    picker.bind("TOTE-0001")
    picker.pick_all()
    boss = login_as(services, "supervisor")
    labor = the_task(edge, boss, "pick", f"pick-{task_id}")
    assert (labor["units"], labor["lines"], labor["scans"]) == (2, 1, 5)
    assert labor["ended_at"] is not None


def test_packing_records_units_verified_and_finishes_when_the_order_is_packed(services, edge):
    ps.setup_site(services)
    ps.stock_item(services.db, "MUG-1", 10)
    ps.picked_order(services.db, "SO-7", [("MUG-1", 2)], [ps.Pick(1, "TOTE-0001")])
    who = login_as(services, "packer", badge="K-1")
    packer = ps.Packer(edge, who)
    at(who, 0)
    packer.step("start", {"barcode": "TOTE-0001"})
    at(who, 12)
    packer.step("scan", {"barcode": ps.gtin13("MUG-1")})
    at(who, 20)
    packer.step("scan", {"barcode": ps.gtin13("MUG-1")})
    at(who, 50)
    assert (
        packer.step("close-carton", {"carton_type": "BOX-L", "weight_kg": 2.5})["next_state"]
        == "done"
    )
    boss = login_as(services, "supervisor")
    labor = the_task(edge, boss, "pack", "pack-SO-7")
    assert (labor["units"], labor["scans"], labor["handling_seconds"]) == (2, 4, 50.0)
    assert labor["ended_at"] is not None and labor["worker"]["badge"] == "K-1"


def test_receiving_a_return_records_units_and_finishes_when_the_rma_closes(services, edge):
    ret.setup_site(services)
    oms = login_as(services, "integration")
    body = ret.rma_body([("MUG-1", 2, "not_wanted")], tracking="1Z999AA10")
    assert_response(ret.put_rma(edge, oms, "R-10", body), 201)
    who = login_as(services, "receiver", badge="R-3")
    receiver = ret.Receiver(edge, who)
    at(who, 0)
    receiver.step("start", {"barcode": format_rma("R-10")})
    at(who, 30)
    receiver.receive(ret.gtin13("MUG-1"), 2, "new")
    at(who, 40)
    assert receiver.step("close", {})["next_state"] == "done"
    boss = login_as(services, "supervisor")
    labor = the_task(edge, boss, "return", "return-R-10")
    assert (labor["units"], labor["lines"], labor["worker"]["badge"]) == (2, 1, "R-3")
    assert labor["ended_at"] is not None
    # The putaway the restock made is not labor yet: nobody has walked it.
    assert {t["task_type"] for t in labor_tasks(edge, boss)} == {"return"}


def test_counting_records_the_walk_the_lines_and_finishes_on_submit(services, edge):
    cs.counting_site(services, {("A01-01-1L", "SOAP-1"): 5, ("A03-05-1R", "MUG-1"): 2})
    boss = cs.Worker(services, "supervisor")
    counter = cs.Worker(services, "counter")
    task = cs.create(edge, boss, kind="bin", location="A01-01-1L")
    at(counter.caller, 0)
    cs.claim(edge, counter, task["id"])  # the first scan: the count starts
    at(counter.caller, 50)
    cs.line(edge, counter, task["id"], location="A01-01-1L", sku="SOAP-1", qty=5)
    at(counter.caller, 65)
    cs.submit(edge, counter, task["id"])
    labor = the_task(edge, boss.caller, "count", f"count-{task['id']}")
    assert (labor["units"], labor["lines"], labor["scans"]) == (5, 1, 4)
    # claim → bin (50 s walking) → line (same moment) → submit 15 s later
    assert (labor["travel_seconds"], labor["handling_seconds"]) == (50.0, 15.0)
    assert labor["ended_at"] is not None
