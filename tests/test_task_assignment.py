"""Handing tasks to another worker and the supervisors' task list, through the API
(docs/reports.md#reassigning-tasks)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from picking_support import Picker, gtin13, make_order, make_task, picking_site, put_stock

from edge_server.services import Services
from edge_server.timeutil import iso

from conftest import Caller, assert_response, login_as

API = "/api/v1"


@pytest.fixture
def floor(services: Services) -> dict[str, Any]:
    """Stock, one pick task for two lines in two bins, a putaway and a count task, and the
    people: two pickers, a packer, a receiver, a counter and a supervisor."""
    picking_site(services)
    put_stock(services, "A01-01-1L", "SOAP-1", 10)
    put_stock(services, "A03-05-1R", "MUG-1", 10)
    put_stock(services, "DOCK-01", "JAM-1", 2)
    people = {
        "ann": login_as(services, "picker", badge="PK-ANN"),
        "ben": login_as(services, "picker", badge="PK-BEN"),
        "pat": login_as(services, "packer", badge="PA-PAT"),
        "rex": login_as(services, "receiver", badge="RC-REX"),
        "cat": login_as(services, "counter", badge="CT-CAT"),
        "sup": login_as(services, "supervisor", badge="SV-SUE"),
    }
    task_id = make_task(services, [make_order(services, "SO-1", [("SOAP-1", 2), ("MUG-1", 1)])])
    return {"task_id": task_id, **people}


def uid(services: Services, badge: str) -> int:
    row = services.db.query_one("SELECT id FROM users WHERE badge = ?", [badge])
    assert row is not None
    return int(row["id"])


def assign(edge: Any, who: Caller, kind: str, task_id: int, body: dict[str, Any]) -> Any:
    return edge.post(f"{API}/tasks/{kind}/{task_id}/assign", json=body, headers=who.with_key())


def snapshot(services: Services) -> dict[str, Any]:
    q = services.db.query
    return {
        t: q(f"SELECT * FROM {t} ORDER BY rowid")
        for t in (
            "pick_tasks",
            "pick_lines",
            "stock_tasks",
            "count_tasks",
            "task_assignments",
            "labor_tasks",
            "outbox",
        )
    }


def test_an_in_progress_pick_moves_to_the_new_picker_who_finishes_it(
    services: Services, edge: Any, floor: dict[str, Any]
) -> None:
    task_id = floor["task_id"]
    ann = Picker(edge, floor["ann"])
    ann.claim(task_id)
    ann.bind("TOTE-0001")
    first = ann.view["line"]
    ann.pick_current()
    # Ann is at the second bin with the product scanned when she is called away.
    second = ann.view["line"]
    if ann.state == "scan_bin":
        ann.step("scan-bin", {"barcode": second["bin"]})
    ann.step("scan-item", {"barcode": gtin13(second["sku"])})
    assert ann.state == "set_quantity"

    resp = assign(edge, floor["sup"], "pick", task_id, {"badge": "PK-BEN", "reason": "break"})
    task = assert_response(resp, 200)["task"]
    assert task["kind"] == "pick" and task["id"] == task_id
    assert task["status"] == "in_progress"
    assert task["assigned_to"]["badge"] == "PK-BEN"
    # the half-done scan at the bin goes back to the bin scan: Ann holds those units
    assert task["summary"]["state"] == "scan_bin"
    assert (task["summary"]["lines"], task["summary"]["lines_done"]) == (2, 1)

    # Ann can no longer work it
    refused = ann.post("quantity", {"qty": 1})
    assert_response(refused, 409, code="PICK_TASK_NOT_YOURS")

    # Ben asks for his next task: it is this one, where it stands
    ben = Picker(edge, floor["ben"])
    ben.claim()
    assert ben.task_id == task_id
    assert ben.state == "scan_bin" and ben.view["line"]["line_id"] == second["line_id"]
    ben.pick_all()
    assert ben.state == "done"
    picked_by = {
        r["id"]: r["picked_by"]
        for r in services.db.query(
            "SELECT id, picked_by FROM pick_lines WHERE task_id = ?", [task_id]
        )
    }
    assert picked_by == {
        first["line_id"]: uid(services, "PK-ANN"),
        second["line_id"]: uid(services, "PK-BEN"),
    }
    # Ann's labor on the task was closed when it was handed over
    ann_labor = services.db.query(
        "SELECT ended_at FROM labor_tasks WHERE task_type = 'pick' AND task_ref = ? "
        "AND user_id = ?",
        [f"pick-{task_id}", uid(services, "PK-ANN")],
    )
    assert ann_labor and all(r["ended_at"] for r in ann_labor)
    (event,) = [
        json.loads(r["payload_json"])
        for r in services.db.query("SELECT payload_json FROM outbox WHERE type = 'task.reassigned'")
    ]
    assert event["kind"] == "pick" and event["task_id"] == task_id
    assert event["from"]["badge"] == "PK-ANN" and event["to"]["badge"] == "PK-BEN"
    assert event["reason"] == "break" and event["status"] == "in_progress"
    (audit,) = services.db.query("SELECT * FROM task_assignments")
    assert (audit["from_user"], audit["to_user"]) == (
        uid(services, "PK-ANN"),
        uid(services, "PK-BEN"),
    )


def test_an_open_pick_task_is_claimed_for_the_worker_given_it(
    services: Services, edge: Any, floor: dict[str, Any]
) -> None:
    task_id = floor["task_id"]
    task = assert_response(assign(edge, floor["sup"], "pick", task_id, {"badge": "PK-BEN"}), 200)[
        "task"
    ]
    assert task["status"] == "in_progress" and task["summary"]["state"] == "bind_tote"
    # Ann asking for work does not get it; Ben does, at the first tote to bind
    assert_response(
        edge.post(f"{API}/picking/next", json={}, headers=floor["ann"].with_key()),
        404,
        code="PICK_NO_TASK",
    )
    ben = Picker(edge, floor["ben"])
    ben.claim()
    assert ben.task_id == task_id and ben.state == "bind_tote"
    ben.bind("TOTE-0009")
    ben.pick_all()
    assert ben.state == "done"


def test_putaway_and_count_tasks_are_handed_over_and_listed(
    services: Services, edge: Any, floor: dict[str, Any]
) -> None:
    sup = floor["sup"]
    created = assert_response(
        edge.post(
            f"{API}/putaway/tasks",
            json={"location": "DOCK-01", "sku": "JAM-1", "qty": 2},
            headers=sup.with_key(),
        ),
        201,
    )
    putaway_id = created["tasks"][0]["id"]
    count = assert_response(
        edge.post(
            f"{API}/counts/tasks",
            json={"kind": "bin", "location": "A01-01-1L"},
            headers=sup.with_key(),
        ),
        201,
    )["task"]
    listed = assert_response(edge.get(f"{API}/tasks", headers=sup.headers), 200)["items"]
    assert {(t["kind"], t["id"]): t["assigned_to"] for t in listed} == {
        ("pick", floor["task_id"]): None,
        ("putaway", putaway_id): None,
        ("count", count["id"]): None,
    }

    other = login_as(services, "receiver", badge="RC-ROY")

    def next_putaway(who: Caller) -> Any:
        got = assert_response(edge.get(f"{API}/putaway/tasks/next", headers=who.headers), 200)
        return got["task"]["id"] if got["task"] else None

    assert next_putaway(other) == putaway_id  # nobody holds it: anyone may take it
    task = assert_response(assign(edge, sup, "putaway", putaway_id, {"badge": "RC-REX"}), 200)
    assert task["task"]["assigned_to"]["badge"] == "RC-REX"
    assert task["task"]["summary"]["sku"] == "JAM-1"
    # Handed to Rex: his handheld is directed to it, nobody else's is.
    assert next_putaway(floor["rex"]) == putaway_id
    assert next_putaway(other) is None
    task = assert_response(assign(edge, sup, "count", count["id"], {"badge": "CT-CAT"}), 200)
    assert task["task"]["assigned_to"]["badge"] == "CT-CAT"
    # a picker may count too (counting.work is for everyone on the floor)
    task = assert_response(assign(edge, sup, "count", count["id"], {"badge": "PK-BEN"}), 200)
    assert task["task"]["assigned_to"]["role"] == "picker"
    got = assert_response(edge.get(f"{API}/counts/tasks/{count['id']}", headers=sup.headers), 200)[
        "task"
    ]
    assert got["assigned_to"] == uid(services, "PK-BEN")

    holders = {
        (t["kind"], t["id"]): (t["assigned_to"] or {}).get("badge")
        for t in assert_response(
            edge.get(f"{API}/tasks", params={"status": "open"}, headers=sup.headers), 200
        )["items"]
    }
    assert holders == {
        ("pick", floor["task_id"]): None,
        ("putaway", putaway_id): "RC-REX",
        ("count", count["id"]): "PK-BEN",
    }
    in_progress = assert_response(
        edge.get(f"{API}/tasks", params={"status": "in_progress"}, headers=sup.headers), 200
    )["items"]
    assert in_progress == []


def _close_task(services: Services, task_id: int) -> None:
    with services.db.write() as w:
        w.execute(
            "UPDATE pick_tasks SET status = 'done', finished_at = ? WHERE id = ?", [iso(), task_id]
        )


@pytest.mark.parametrize(
    ("kind", "task", "body", "status", "code"),
    [
        ("replenish", "task", {"badge": "PK-BEN"}, 404, "ASSIGN_KIND_UNKNOWN"),
        ("pick", 9999, {"badge": "PK-BEN"}, 404, "ASSIGN_TASK_NOT_FOUND"),
        ("putaway", 9999, {"badge": "RC-REX"}, 404, "ASSIGN_TASK_NOT_FOUND"),
        ("count", 9999, {"badge": "CT-CAT"}, 404, "ASSIGN_TASK_NOT_FOUND"),
        ("pick", "done", {"badge": "PK-BEN"}, 409, "ASSIGN_TASK_CLOSED"),
        ("pick", "unreleased", {"badge": "PK-BEN"}, 409, "ASSIGN_TASK_NOT_RELEASED"),
        ("pick", "task", {"badge": "NOBODY"}, 404, "ASSIGN_BADGE_UNKNOWN"),
        ("pick", "task", {"badge": "PK-OLD"}, 409, "ASSIGN_WORKER_INACTIVE"),
        ("pick", "task", {"badge": "PA-PAT"}, 422, "ASSIGN_ROLE_NOT_ALLOWED"),
        ("pick", "task", {"badge": "CT-CAT"}, 422, "ASSIGN_ROLE_NOT_ALLOWED"),
        ("pick", "held", {"badge": "PK-ANN"}, 409, "ASSIGN_SAME_WORKER"),
        ("pick", "task", {}, 422, "VALIDATION_FAILED"),
        ("pick", "task", {"badge": ""}, 422, "VALIDATION_FAILED"),
        ("pick", "task", {"badge": "PK-BEN", "extra": 1}, 422, "VALIDATION_FAILED"),
    ],
)
def test_bad_hand_overs_are_refused_and_change_nothing(
    services: Services,
    edge: Any,
    floor: dict[str, Any],
    kind: str,
    task: Any,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    task_id = floor["task_id"]
    old = services.users.create(badge="PK-OLD", pin="1234", role="picker")
    with services.db.write() as w:
        w.execute("UPDATE users SET active = 0 WHERE id = ?", [old.id])
    if task == "held":
        Picker(edge, floor["ann"]).claim(task_id)
    elif task == "done":
        _close_task(services, task_id)
    elif task == "unreleased":
        with services.db.write() as w:
            wave = w.execute(
                "INSERT INTO waves (site_id, number, carrier_service, cutoff_at, release_at, "
                "created_at) VALUES (1, 'W-1', 'UPS-GROUND', ?, ?, ?)",
                [iso(), iso(), iso()],
            ).lastrowid
            w.execute("UPDATE pick_tasks SET wave_id = ? WHERE id = ?", [wave, task_id])
    target = task if isinstance(task, int) else task_id
    before = snapshot(services)
    resp = assign(edge, floor["sup"], kind, target, body)
    assert_response(resp, status, code=code)
    assert snapshot(services) == before


def test_only_supervisors_hand_tasks_over(
    services: Services, edge: Any, floor: dict[str, Any]
) -> None:
    before = snapshot(services)
    for who in ("ann", "pat", "rex", "cat"):
        resp = assign(edge, floor[who], "pick", floor["task_id"], {"badge": "PK-BEN"})
        assert_response(resp, 403, code="FORBIDDEN_ROLE")
        assert_response(edge.get(f"{API}/tasks", headers=floor[who].headers), 403)
    assert snapshot(services) == before
    admin = login_as(services, "admin")
    assert_response(assign(edge, admin, "pick", floor["task_id"], {"badge": "PK-BEN"}), 200)


def test_a_replayed_hand_over_is_answered_once(
    services: Services, edge: Any, floor: dict[str, Any]
) -> None:
    headers = floor["sup"].with_key("hand-over-1")
    path = f"{API}/tasks/pick/{floor['task_id']}/assign"
    first = edge.post(path, json={"badge": "PK-BEN"}, headers=headers)
    again = edge.post(path, json={"badge": "PK-BEN"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert len(services.db.query("SELECT * FROM task_assignments")) == 1
