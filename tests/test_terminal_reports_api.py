"""Handheld reports on the edge: refused replays (kept for supervisors, sent on as an event)
and heartbeats with queue depth."""

from __future__ import annotations

import pytest

from conftest import assert_response

REPORT = "/api/v1/devices/me/rejections"


def report(key: str, **over):
    body = {
        "seq": 3,
        "idempotency_key": key,
        "method": "POST",
        "path": "/inventory/moves",
        "body": {"qty": 5},
        "workflow": "move",
        "scanned_at": "2025-05-01T10:00:00+00:00",
        "code": "INSUFFICIENT_STOCK",
        "text": "There is not enough stock there for this.",
        "details": {"on_hand": 1},
        "http_status": 409,
    }
    body.update(over)
    return body


def device_of(services, caller) -> int:
    return services.devices.identify(caller.headers["X-Device-Token"])


def test_report_is_stored_once_evented_and_listed_for_supervisors(edge, services, as_role):
    picker, supervisor = as_role("picker"), as_role("supervisor")
    dev = device_of(services, picker)
    body = report(f"{dev}-q1-3")
    first = assert_response(edge.post(REPORT, json=body, headers=picker.with_key("r-1")), 201)
    assert first["device_id"] == dev and first["code"] == "INSUFFICIENT_STOCK"
    assert first["acknowledged"] is False
    # the same report again under a new key (e.g. after a reinstall): still one row
    again = assert_response(edge.post(REPORT, json=body, headers=picker.with_key("r-2")), 200)
    assert again["id"] == first["id"]
    events = services.db.query("SELECT type FROM outbox WHERE type = 'terminal.command_rejected'")
    assert len(events) == 1

    listed = assert_response(
        edge.get("/api/v1/devices/rejections", headers=supervisor.headers), 200
    )
    assert listed["total"] == 1 and listed["items"][0]["body"] == {"qty": 5}
    ack = assert_response(
        edge.post(
            f"/api/v1/devices/rejections/{first['id']}/acknowledge",
            json={"note": "re-entered by hand"},
            headers=supervisor.with_key(),
        ),
        200,
    )
    assert ack["acknowledged"] and ack["note"] == "re-entered by hand"
    open_now = assert_response(
        edge.get("/api/v1/devices/rejections", headers=supervisor.headers), 200
    )
    assert open_now["total"] == 0
    every = assert_response(
        edge.get("/api/v1/devices/rejections?status=all", headers=supervisor.headers), 200
    )
    assert every["total"] == 1
    assert_response(
        edge.post(
            "/api/v1/devices/rejections/999/acknowledge", json={}, headers=supervisor.with_key()
        ),
        404,
        code="TERMINAL_REJECTION_NOT_FOUND",
    )


def test_floor_roles_cannot_read_the_supervisors_list(edge, as_role):
    assert_response(
        edge.get("/api/v1/devices/rejections", headers=as_role("picker").headers),
        403,
        code="FORBIDDEN_ROLE",
    )


@pytest.mark.parametrize(
    "over",
    [
        {"seq": 0},
        {"method": "GET"},
        {"path": "inventory"},
        {"scanned_at": "2025-05-01T10:00:00"},  # no time zone
        {"code": ""},
        {"http_status": 42},
        {"body": {"x": "y" * 70_000}},
        {"user_id": 999_999},
    ],
)
def test_bad_reports_are_refused_and_store_nothing(edge, services, as_role, over):
    picker = as_role("picker")
    body = report(f"{device_of(services, picker)}-q-1", **over)
    assert_response(edge.post(REPORT, json=body, headers=picker.with_key()), 422)
    assert services.db.query("SELECT id FROM terminal_rejections") == []


def test_a_handheld_reports_only_its_own_commands(edge, services, as_role):
    picker = as_role("picker")
    body = report("99999-q-1")
    assert_response(
        edge.post(REPORT, json=body, headers=picker.with_key()), 422, code="VALIDATION_FAILED"
    )


def test_reports_need_a_handheld(edge, as_role):
    supervisor = as_role("supervisor")  # logged in from a browser, no device
    assert_response(
        edge.post(REPORT, json=report("1-q-1"), headers=supervisor.with_key()),
        401,
        code="DEVICE_REQUIRED",
    )


def test_heartbeat_records_queue_depth_for_the_supervisors_view(edge, services, as_role):
    picker, supervisor = as_role("picker"), as_role("supervisor")
    dev = device_of(services, picker)
    hb = {"pending": 12, "rejected": 1, "app_version": "0.3.0"}
    assert_response(
        edge.post("/api/v1/devices/me/heartbeat", json=hb, headers=picker.with_key()), 200
    )
    queues = assert_response(edge.get("/api/v1/devices/queues", headers=supervisor.headers), 200)
    mine = next(q for q in queues if q["device_id"] == dev)
    assert (mine["pending"], mine["rejected"], mine["app_version"]) == (12, 1, "0.3.0")
    assert mine["last_seen_at"] == mine["seen_at"]
    assert_response(
        edge.post(
            "/api/v1/devices/me/heartbeat",
            json={"pending": -1, "rejected": 0},
            headers=picker.with_key(),
        ),
        422,
    )
