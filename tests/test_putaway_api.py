"""Putaway over HTTP: next task, confirm by scanning the bin, overrides and the KPI, refusals
that change nothing, bin full, and who may do it."""

import json

import pytest
from putaway_support import add_item, build_site, receive, stock

from edge_server.wms.ledger import check_ledger

from conftest import assert_response

API = "/api/v1"


@pytest.fixture
def site(services):
    db = services.db
    build_site(db)
    add_item(db, "SKU-1", velocity="A", lot_tracked=True)
    receive(db, "SKU-1", 4, lot="L7", lpn="LPN000000017")
    return db


@pytest.fixture
def receiver(as_role):
    return as_role("receiver")


def create(edge, caller, qty=4, **extra):
    body = {"location": "DOCK-01", "sku": "SKU-1", "qty": qty, "lot": "L7"}
    body["lpn"] = "LPN000000017"
    body.update(extra)
    resp = edge.post(f"{API}/putaway/tasks", json=body, headers=caller.with_key())
    return assert_response(resp, 201)["tasks"]


def snapshot(db):
    return (
        db.query("SELECT * FROM stock ORDER BY id"),
        db.query("SELECT id, status, to_location_id, excluded_json FROM stock_tasks ORDER BY id"),
        db.query_one("SELECT COUNT(*) AS n FROM movements")["n"],
    )


def test_next_task_then_confirm_by_scanning_the_bin_moves_the_stock(edge, site, receiver):
    [task] = create(edge, receiver)
    resp = edge.get(f"{API}/putaway/tasks/next?position=DOCK-02", headers=receiver.headers)
    body = resp.json()
    assert body["next_state"] == "scan_bin"
    nxt = assert_response(resp, 200)["task"]
    assert nxt["id"] == task["id"] and nxt["to_location"] == task["to_location"]
    assert nxt["reason"] and nxt["travel_m"] > 0
    bin_code = task["to_location"]

    resp = edge.post(
        f"{API}/putaway/tasks/{task['id']}/confirm",
        json={"scan": bin_code},
        headers=receiver.with_key(),
    )
    done = assert_response(resp, 200)
    assert done["task"]["status"] == "done" and done["task"]["override_reason"] is None
    assert done["movement"]["type"] == "putaway"
    assert stock(site, bin_code, "SKU-1") == 4 and stock(site, "DOCK-01", "SKU-1") == 0
    assert check_ledger(site).ok
    events = [r["type"] for r in site.query("SELECT type FROM outbox ORDER BY id")]
    assert events[-2:] == ["inventory.changed", "putaway.confirmed"]
    payload = json.loads(
        site.query("SELECT payload_json FROM outbox ORDER BY id DESC")[0]["payload_json"]
    )
    assert payload["location"] == bin_code and payload["qty"] == 4 and payload["lot"] == "L7"

    resp = edge.get(f"{API}/putaway/tasks/next", headers=receiver.headers)
    assert resp.json()["next_state"] == "no_task"
    assert assert_response(resp, 200)["task"] is None


def test_a_repeated_confirm_replays_and_a_new_one_is_refused(edge, site, receiver):
    [task] = create(edge, receiver)
    headers = receiver.with_key("confirm-1")
    url = f"{API}/putaway/tasks/{task['id']}/confirm"
    first = edge.post(url, json={"scan": task["to_location"]}, headers=headers)
    again = edge.post(url, json={"scan": task["to_location"]}, headers=headers)
    assert first.json() == again.json()
    assert stock(site, task["to_location"], "SKU-1") == 4
    resp = edge.post(url, json={"scan": task["to_location"]}, headers=receiver.with_key())
    assert_response(resp, 409, code="TASK_CLOSED")


@pytest.mark.parametrize(
    ("scan", "reason", "status", "code"),
    [
        ("A09-01-1L", "other", 404, "UNKNOWN_LOCATION"),  # bin-shaped, not in this layout
        ("%%%", None, 422, "BARCODE_NOT_RECOGNISED"),
        ("LPN000000017", None, 422, "BARCODE_UNEXPECTED"),  # an LPN, not a bin
        ("DOCK-02", "other", 422, "PUTAWAY_BIN_NOT_ALLOWED"),  # a dock is not storage
        ("QUAR-01", "other", 422, "PUTAWAY_BIN_NOT_ALLOWED"),  # available stock
        ("C01-01-1L", "other", 422, "PUTAWAY_BIN_NOT_ALLOWED"),  # chilled
        ("A04-05-1L", None, 422, "PUTAWAY_OVERRIDE_REASON_REQUIRED"),
        ("A04-05-1L", "because", 422, "VALIDATION_FAILED"),
    ],
)
def test_wrong_or_unknown_bin_scans_are_refused_and_change_nothing(
    edge, site, receiver, scan, reason, status, code
):
    [task] = create(edge, receiver)
    assert task["to_location"] != "A04-05-1L"
    before = snapshot(site)
    body = {"scan": scan} | ({"reason_code": reason} if reason else {})
    resp = edge.post(
        f"{API}/putaway/tasks/{task['id']}/confirm", json=body, headers=receiver.with_key()
    )
    assert_response(resp, status, code=code)
    assert snapshot(site) == before


def test_an_override_into_a_bin_without_room_is_refused(edge, site, receiver):
    add_item(site, "BIG", length_cm=50, width_cm=20, height_cm=10)  # 10 litres: fills a bin
    receive(site, "BIG", 1)
    with site.write() as w:
        from edge_server.wms import inventory
        from edge_server.wms.ledger import Actor
        from protocols.inventory import MoveIn

        inventory.move(
            w,
            "CHI",
            MoveIn(from_location="DOCK-01", to_location="A04-05-1L", sku="BIG", qty=1),
            Actor(),
        )
    [task] = create(edge, receiver)
    resp = edge.post(
        f"{API}/putaway/tasks/{task['id']}/confirm",
        json={"scan": "A04-05-1L", "reason_code": "closer_bin"},
        headers=receiver.with_key(),
    )
    assert_response(resp, 422, code="VALIDATION_FAILED")  # not a listed reason
    before = snapshot(site)
    resp = edge.post(
        f"{API}/putaway/tasks/{task['id']}/confirm",
        json={"scan": "A04-05-1L", "reason_code": "bin_blocked"},
        headers=receiver.with_key(),
    )
    data = assert_response(resp, 409, code="PUTAWAY_BIN_NO_ROOM")
    assert data is None
    assert resp.json()["message"]["details"]["fits"] == 0
    assert snapshot(site) == before


def test_override_with_a_reason_is_logged_and_counted_in_the_kpi(edge, site, receiver, as_role):
    receive(site, "SKU-1", 2, lot="L7", lpn="LPN000000024")
    [first] = create(edge, receiver)
    [second] = create(edge, receiver, qty=2, lpn="LPN000000024")
    resp = edge.post(
        f"{API}/putaway/tasks/{first['id']}/confirm",
        json={"scan": "A04-05-1L", "reason_code": "bin_damaged"},
        headers=receiver.with_key(),
    )
    done = assert_response(resp, 200)["task"]
    assert done["confirmed_location"] == "A04-05-1L"
    assert done["override_reason"] == "bin_damaged"
    assert done["to_location"] == first["to_location"]  # the suggestion stays on record
    assert stock(site, "A04-05-1L", "SKU-1") == 4
    resp = edge.post(
        f"{API}/putaway/tasks/{second['id']}/confirm",
        json={"scan": second["to_location"]},
        headers=receiver.with_key(),
    )
    assert_response(resp, 200)

    sup = as_role("supervisor")
    kpi = assert_response(edge.get(f"{API}/kpi/putaway", headers=sup.headers), 200)
    [row] = kpi["items"]
    assert row["worker"].startswith("receiver-")
    assert (row["tasks"], row["overrides"], row["override_share"]) == (2, 1, 0.5)
    assert kpi["total"]["override_share"] == 0.5
    assert kpi["override_reasons"] == {"bin_damaged": 1}
    resp = edge.get(f"{API}/kpi/putaway", headers=receiver.headers)
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
    assert check_ledger(site).ok


def test_bin_full_gives_the_next_suggestion_and_asks_for_a_count(edge, site, receiver):
    [task] = create(edge, receiver)
    full = task["to_location"]
    resp = edge.post(
        f"{API}/putaway/tasks/{task['id']}/bin-full", json={}, headers=receiver.with_key()
    )
    body = resp.json()
    out = assert_response(resp, 200)
    assert body["next_state"] == "scan_bin"
    new = out["task"]
    assert new["to_location"] not in (None, full)
    assert new["excluded"] == [full]
    assert new["qty"] == 4 and out["more_tasks"] == []
    assert f"from {full}" in new["reason"]  # travel is now measured from the full bin
    req = site.query_one(
        "SELECT l.code, r.reason FROM count_requests r JOIN locations l ON l.id = r.location_id"
    )
    assert req == {"code": full, "reason": "bin_full"}
    # The full bin stays out for this task even though it still has room by the books.
    resp = edge.post(
        f"{API}/putaway/tasks/{task['id']}/bin-full", json={}, headers=receiver.with_key()
    )
    again = assert_response(resp, 200)["task"]
    assert again["to_location"] not in (full, new["to_location"])
    assert sorted(again["excluded"]) == sorted([full, new["to_location"]])
    resp = edge.post(
        f"{API}/putaway/tasks/{task['id']}/confirm",
        json={"scan": again["to_location"]},
        headers=receiver.with_key(),
    )
    assert assert_response(resp, 200)["task"]["override_reason"] is None


def test_unknown_task_is_refused(edge, site, receiver):
    resp = edge.post(
        f"{API}/putaway/tasks/999/confirm", json={"scan": "A01-01-1L"}, headers=receiver.with_key()
    )
    assert_response(resp, 404, code="TASK_NOT_FOUND")
    resp = edge.get(f"{API}/putaway/tasks/999", headers=receiver.headers)
    assert_response(resp, 404, code="TASK_NOT_FOUND")


def test_manual_creation_refuses_stock_that_is_not_there(edge, site, receiver):
    resp = edge.post(
        f"{API}/putaway/tasks",
        json={"location": "DOCK-01", "sku": "SKU-1", "qty": 5, "lot": "L7", "lpn": "LPN000000017"},
        headers=receiver.with_key(),
    )
    assert_response(resp, 409, code="INSUFFICIENT_STOCK")
    assert site.query_one("SELECT COUNT(*) AS n FROM stock_tasks")["n"] == 0


def test_pickers_and_packers_do_not_put_away(edge, site, as_role):
    for role in ("picker", "packer", "counter"):
        caller = as_role(role)
        resp = edge.post(
            f"{API}/putaway/tasks",
            json={"location": "DOCK-01", "sku": "SKU-1", "qty": 1, "lot": "L7"},
            headers=caller.with_key(),
        )
        assert_response(resp, 403, code="FORBIDDEN_ROLE")
        resp = edge.get(f"{API}/putaway/tasks/next", headers=caller.headers)
        assert_response(resp, 403, code="FORBIDDEN_ROLE")
    sup = as_role("supervisor")
    assert len(create(edge, sup, qty=1)) == 1
