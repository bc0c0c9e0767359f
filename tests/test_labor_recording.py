"""Labor recorded by picking, timed by the handheld's scan times: worker, device, start, end,
units, lines, travel vs handling vs idle; replays and out-of-order scans add no time."""

from datetime import UTC, datetime, timedelta

from labor_support import API, WINDOW, at, the_task, when
from picking_support import Picker, gtin13, one_order_task

from conftest import assert_response, login_as


def _labor_rows(services):
    q = services.db.query
    return q("SELECT * FROM labor_tasks ORDER BY id"), q("SELECT * FROM labor_scans ORDER BY id")


def test_a_pick_task_records_worker_device_times_units_and_the_travel_handling_split(
    services, edge
):
    task_id = one_order_task(services, qty=3)
    who = login_as(services, "picker", badge="P-ANN")
    boss = login_as(services, "supervisor")
    picker = Picker(edge, who)
    at(who, 0)
    picker.claim()
    picker.bind("TOTE-0001")  # the first scan: the task starts, no time before it
    line = picker.view["line"]
    at(who, 20)
    picker.step("scan-bin", {"barcode": line["bin"]})  # 20 s walking: travel
    at(who, 40)
    picker.step("scan-item", {"barcode": gtin13(line["sku"])})  # handling
    at(who, 60)
    picker.step("quantity", {"qty": 3})
    at(who, 80)
    tote = {"barcode": line["tote"]}
    done = picker.post("tote", tote, key="tote-once")
    assert done.status_code == 200 and done.json()["next_state"] == "done"

    task = the_task(edge, boss, "pick", f"pick-{task_id}")
    device = services.db.query_one("SELECT id, name FROM devices WHERE name = 'hh-P-ANN'")
    assert task["worker"]["badge"] == "P-ANN"
    assert task["device"] == {"id": device["id"], "name": "hh-P-ANN"}
    assert (task["started_at"], task["ended_at"]) == (when(0), when(80))
    assert (task["units"], task["lines"], task["scans"]) == (3, 1, 5)
    assert (task["travel_seconds"], task["handling_seconds"], task["idle_seconds"]) == (
        20.0,
        60.0,
        0.0,
    )
    assert task["working_seconds"] == 80.0

    # The handheld replays the last command (same idempotency key): counted once.
    again = picker.post("tote", tote, key="tote-once")
    assert again.status_code == 200 and again.json() == done.json()
    assert the_task(edge, boss, "pick", f"pick-{task_id}") == task


def test_an_out_of_order_scan_adds_no_time_and_a_long_gap_is_idle(services, edge):
    task_id = one_order_task(services, qty=2)
    who = login_as(services, "picker", badge="P-BO")
    boss = login_as(services, "supervisor")
    picker = Picker(edge, who)
    at(who, 0)
    picker.claim()
    picker.bind("TOTE-0001")
    line = picker.view["line"]
    at(who, 100)
    picker.step("scan-bin", {"barcode": line["bin"]})
    at(who, 50)  # replayed out of order: older than the worker's last scan
    picker.step("scan-item", {"barcode": gtin13(line["sku"])})
    at(who, 120)
    picker.step("quantity", {"qty": 2})
    at(who, 720)  # ten minutes later (idle gap 300 s)
    picker.step("tote", {"barcode": line["tote"]})

    task = the_task(edge, boss, "pick", f"pick-{task_id}")
    assert (task["travel_seconds"], task["handling_seconds"], task["idle_seconds"]) == (
        100.0,
        20.0,
        600.0,
    )
    assert (task["started_at"], task["ended_at"]) == (when(0), when(720))
    _, scans = _labor_rows(services)
    assert [(s["gap_kind"], s["gap_seconds"]) for s in scans] == [
        ("start", 0.0),
        ("travel", 100.0),
        ("handling", 0.0),
        ("handling", 20.0),
        ("idle", 600.0),
    ]

    resp = edge.get(f"{API}/labor/gaps", params={**WINDOW, "worker": "P-BO"}, headers=boss.headers)
    data = assert_response(resp, 200)
    assert data["idle_gap_seconds"] == 300.0
    assert [(g["start"], g["end"], g["seconds"]) for g in data["items"]] == [
        (when(120), when(720), 600.0)
    ]
    assert data["items"][0]["worker"]["badge"] == "P-BO"
    assert data["items"][0]["after"] == {"task_type": "pick", "task_ref": f"pick-{task_id}"}


def test_a_garbage_scan_time_is_refused_and_changes_nothing(services, edge):
    one_order_task(services)
    who = login_as(services, "picker")
    picker = Picker(edge, who)
    picker.claim()
    before = _labor_rows(services), services.db.query("SELECT * FROM pick_tasks")
    who.headers["X-Scanned-At"] = "yesterday after lunch"
    resp = picker.post("bind-tote", {"barcode": "TOTE-0001"})
    assert_response(resp, 422, code="VALIDATION_FAILED")
    who.headers["X-Scanned-At"] = "2024-01-15T10:00:00"  # no time zone
    resp = picker.post("bind-tote", {"barcode": "TOTE-0001"})
    assert_response(resp, 422, code="VALIDATION_FAILED")
    assert (_labor_rows(services), services.db.query("SELECT * FROM pick_tasks")) == before


def test_a_scan_time_in_the_future_is_clamped_to_now(services, edge):
    one_order_task(services)
    who = login_as(services, "picker")
    picker = Picker(edge, who)
    picker.claim()
    who.headers["X-Scanned-At"] = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    picker.bind("TOTE-0001")
    after = datetime.now(UTC)
    _, scans = _labor_rows(services)
    assert len(scans) == 1
    assert datetime.fromisoformat(scans[0]["ts"]) <= after


def test_under_a_minute_of_work_gets_no_rate_rather_than_a_wild_one(services, edge):
    one_order_task(services, qty=3)
    who = login_as(services, "picker", badge="P-QUICK")
    boss = login_as(services, "supervisor")
    picker = Picker(edge, who)
    at(who, 0)
    picker.claim()
    picker.bind("TOTE-0001")
    line = picker.view["line"]
    steps = (
        ("scan-bin", {"barcode": line["bin"]}),
        ("scan-item", {"barcode": gtin13(line["sku"])}),
        ("quantity", {"qty": 3}),
        ("tote", {"barcode": line["tote"]}),
    )
    for second, (step, body) in enumerate(steps, start=1):
        at(who, second)  # a second apart
        picker.step(step, body)
    resp = edge.get(f"{API}/labor/rates", params=WINDOW, headers=boss.headers)
    row = assert_response(resp, 200)["items"][0]
    assert row["units"] == 3 and 0 < row["hours"] * 3600 < 60
    assert row["units_per_hour"] is None and row["rate"] is None
    assert row["performance_pct"] is None
