"""Waves: cutoff arithmetic, planning by carrier service and cutoff, priority and size limits,
release by a supervisor (HTTP) and automatically at the lead time, and every refusal with its
code and nothing changed."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from test_fulfillment_orders import FACE, events, load_site, order_body, stock

from edge_server.services import Services
from edge_server.settings import Settings
from edge_server.timeutil import iso
from edge_server.wms.outbound import orders
from edge_server.wms.outbound.allocation import allocate_order
from edge_server.wms.outbound.wave_release import release_due
from edge_server.wms.outbound.waves import (
    WaveConfig,
    cancel_wave,
    get_wave,
    next_cutoff,
    plan_waves,
    refresh_wave_status,
    release_wave,
)
from protocols.outbound import FulfillmentOrderIn

from conftest import Caller, LiveEdge, assert_response, make_settings

WAVES = "/api/v1/waves"
MON = datetime(2030, 1, 14, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
CFG = WaveConfig()  # UTC, 50 orders, 120 min lead


# -- helpers ----------------------------------------------------------------------------------
def carrier(
    services: Services,
    code: str = "UPS-GROUND",
    *,
    cutoff: str = "17:00",
    ship_days: str = "12345",
    active: bool = True,
) -> None:
    """A carrier service row written straight to the table (its CRUD lives elsewhere)."""
    with services.db.write() as w:
        sid = w.execute("SELECT id FROM sites WHERE code = 'CHI'").fetchone()[0]
        w.execute(
            "INSERT INTO carrier_services (site_id, code, carrier, name, cutoff_local, ship_days, "
            "active, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [sid, code, code.split("-")[0], code, cutoff, ship_days, int(active), iso()],
        )


def place(
    services: Services,
    number: str,
    *,
    service: str = "UPS-GROUND",
    priority: int = 5,
    promised: str | None = "2030-01-15",
    lines: list[dict[str, Any]] | None = None,
    allocate: bool = True,
) -> None:
    """Create an order and (by default) allocate it, in one transaction."""
    body = FulfillmentOrderIn.model_validate(
        order_body(lines, carrier_service=service, priority=priority, promised_ship_date=promised)
    )
    with services.db.write() as w:
        orders.put_order(w, "CHI", number, body)
        if allocate:
            allocate_order(w, "CHI", number)


def plan(services: Services, now: datetime = MON, config: WaveConfig = CFG) -> dict[str, Any]:
    with services.db.write() as w:
        return plan_waves(w, "CHI", now, config)


def release(services: Services, number: str, config: WaveConfig = CFG) -> dict[str, Any]:
    with services.db.write() as w:
        return release_wave(w, "CHI", number, mode="supervisor", user_id=None, config=config)


def wave_of(services: Services, order: str) -> str | None:
    row = services.db.query_one(
        "SELECT wv.number FROM fulfillment_orders o LEFT JOIN waves wv ON wv.id = o.wave_id "
        "WHERE o.number = ?",
        [order],
    )
    assert row is not None
    return row["number"]


def wave(services: Services, number: str, now: datetime = MON) -> dict[str, Any]:
    return get_wave(services.db, "CHI", number, CFG, now=now)


def snapshot(services: Services) -> tuple[Any, ...]:
    db = services.db
    return (
        db.query("SELECT * FROM waves ORDER BY id"),
        db.query("SELECT id, status, wave_id FROM fulfillment_orders ORDER BY id"),
        db.query("SELECT * FROM pick_tasks ORDER BY id"),
        db.query("SELECT * FROM wave_order_decisions ORDER BY wave_id, order_id"),
        db.query("SELECT id, type FROM outbox ORDER BY id"),
    )


@pytest.fixture
def site(services: Services) -> Services:
    load_site(services)
    stock(services, FACE, "MUG-01", 500)
    carrier(services, "UPS-GROUND", cutoff="17:00")
    carrier(services, "FEDEX-2DAY", cutoff="15:00")
    return services


# -- cutoff arithmetic (pure) ---------------------------------------------------------------------
CHI = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("now", "cutoff", "days", "tz", "expected"),
    [
        # before today's cutoff: today
        (MON, "17:00", "12345", ZoneInfo("UTC"), datetime(2030, 1, 14, 17, 0, tzinfo=UTC)),
        # exactly at the cutoff: it is no longer ahead, so the next ship day
        (
            datetime(2030, 1, 14, 17, 0, tzinfo=UTC),
            "17:00",
            "12345",
            ZoneInfo("UTC"),
            datetime(2030, 1, 15, 17, 0, tzinfo=UTC),
        ),
        # Friday after the cutoff: Monday
        (
            datetime(2030, 1, 18, 18, 0, tzinfo=UTC),
            "17:00",
            "12345",
            ZoneInfo("UTC"),
            datetime(2030, 1, 21, 17, 0, tzinfo=UTC),
        ),
        # Saturday: Monday; Saturday pickups only: the same Saturday
        (
            datetime(2030, 1, 19, 8, 0, tzinfo=UTC),
            "17:00",
            "12345",
            ZoneInfo("UTC"),
            datetime(2030, 1, 21, 17, 0, tzinfo=UTC),
        ),
        (
            datetime(2030, 1, 19, 8, 0, tzinfo=UTC),
            "12:00",
            "6",
            ZoneInfo("UTC"),
            datetime(2030, 1, 19, 12, 0, tzinfo=UTC),
        ),
        # Chicago in winter (UTC-6): 17:00 local is 23:00 UTC
        (MON, "17:00", "12345", CHI, datetime(2030, 1, 14, 23, 0, tzinfo=UTC)),
        # Chicago in summer (UTC-5): 17:00 local is 22:00 UTC
        (
            datetime(2030, 7, 15, 9, 0, tzinfo=UTC),
            "17:00",
            "12345",
            CHI,
            datetime(2030, 7, 15, 22, 0, tzinfo=UTC),
        ),
        # Tuesday 03:00 UTC is still Monday 21:00 in Chicago, after Monday's cutoff: Tuesday's
        (
            datetime(2030, 1, 15, 3, 0, tzinfo=UTC),
            "17:00",
            "12345",
            CHI,
            datetime(2030, 1, 15, 23, 0, tzinfo=UTC),
        ),
        # Friday 23:30 UTC is Friday 17:30 in Chicago, after the cutoff: Monday 23:00 UTC
        (
            datetime(2030, 1, 18, 23, 30, tzinfo=UTC),
            "17:00",
            "12345",
            CHI,
            datetime(2030, 1, 21, 23, 0, tzinfo=UTC),
        ),
    ],
)
def test_next_cutoff(
    now: datetime, cutoff: str, days: str, tz: ZoneInfo, expected: datetime
) -> None:
    assert next_cutoff(now, cutoff, days, tz) == expected


@pytest.mark.parametrize(("cutoff", "days"), [("5pm", "12345"), ("24:00", "12345"), ("17:00", "")])
def test_next_cutoff_without_a_valid_time_or_ship_day_is_none(cutoff: str, days: str) -> None:
    assert next_cutoff(MON, cutoff, days, ZoneInfo("UTC")) is None


def test_settings_refuse_an_unknown_time_zone(tmp_path: Any) -> None:
    with pytest.raises(ValidationError, match="site_timezone"):
        make_settings(tmp_path, site_timezone="Mars/Olympus_Mons")
    assert make_settings(tmp_path, site_timezone="America/Chicago").site_timezone == (
        "America/Chicago"
    )


# -- planning ---------------------------------------------------------------------------------
def test_plan_groups_orders_by_carrier_service_and_cutoff(site: Services) -> None:
    place(site, "SO-1")
    place(site, "SO-2", service="FEDEX-2DAY")
    place(site, "SO-3")
    place(site, "SO-4", allocate=False)  # received, not allocated: not waved
    result = plan(site)
    assert result["unplanned"] == []
    by_service = {w["carrier_service"]: w for w in result["waves"]}
    ups, fedex = by_service["UPS-GROUND"], by_service["FEDEX-2DAY"]
    assert ups["number"] == "W300114-002" and fedex["number"] == "W300114-001"  # earlier cutoff
    assert ups["added"] == ["SO-1", "SO-3"] and fedex["added"] == ["SO-2"]
    assert ups["cutoff_at"] == iso(datetime(2030, 1, 14, 17, 0, tzinfo=UTC))
    assert ups["release_at"] == iso(datetime(2030, 1, 14, 15, 0, tzinfo=UTC))  # 120 min lead
    assert wave_of(site, "SO-4") is None
    assert [e["number"] for e in events(site, "wave.planned")] == ["W300114-001", "W300114-002"]
    # planning again changes nothing
    before = snapshot(site)
    assert plan(site) == {"waves": [], "unplanned": []}
    assert snapshot(site) == before


def test_new_orders_join_the_planned_wave_until_its_cutoff_passes(site: Services) -> None:
    place(site, "SO-1")
    plan(site)
    place(site, "SO-2")
    assert plan(site, MON + timedelta(hours=1))["waves"][0]["added"] == ["SO-2"]
    assert wave_of(site, "SO-2") == wave_of(site, "SO-1") == "W300114-001"
    # after Monday's 17:00 cutoff a new order goes to Tuesday's wave
    place(site, "SO-3")
    later = plan(site, datetime(2030, 1, 14, 17, 30, tzinfo=UTC))["waves"]
    assert [(w["number"], w["cutoff_at"]) for w in later] == [
        ("W300115-001", iso(datetime(2030, 1, 15, 17, 0, tzinfo=UTC)))
    ]
    # a released wave takes no more orders: a late order gets a wave of its own, same cutoff
    release(site, "W300115-001")
    place(site, "SO-4")
    again = plan(site, datetime(2030, 1, 15, 16, 0, tzinfo=UTC))["waves"]
    assert [(w["number"], w["added"]) for w in again] == [("W300115-002", ["SO-4"])]


def test_cutoffs_follow_the_site_time_zone(site: Services) -> None:
    place(site, "SO-1")
    result = plan(site, MON, WaveConfig(timezone="America/Chicago"))
    assert result["waves"][0]["cutoff_at"] == iso(datetime(2030, 1, 14, 23, 0, tzinfo=UTC))


def test_orders_in_a_wave_by_priority_then_promised_date_then_arrival(site: Services) -> None:
    place(site, "SO-LOW", priority=1)
    place(site, "SO-LATE", priority=9, promised="2030-01-20")
    place(site, "SO-NODATE", priority=9, promised=None)
    place(site, "SO-EARLY", priority=9, promised="2030-01-16")
    place(site, "SO-EARLY2", priority=9, promised="2030-01-16")
    result = plan(site, MON, WaveConfig(max_orders=3))
    assert [(w["number"], w["added"]) for w in result["waves"]] == [
        ("W300114-001", ["SO-EARLY", "SO-EARLY2", "SO-LATE"]),
        ("W300114-002", ["SO-NODATE", "SO-LOW"]),
    ]
    listed = [o["number"] for o in wave(site, "W300114-001")["order_list"]]
    assert listed == ["SO-EARLY", "SO-EARLY2", "SO-LATE"]
    # the next order fills the second wave (one place left) before a third is opened
    place(site, "SO-X")
    place(site, "SO-Y")
    more = plan(site, MON, WaveConfig(max_orders=3))["waves"]
    assert [(w["number"], w["added"]) for w in more] == [
        ("W300114-002", ["SO-X"]),
        ("W300114-003", ["SO-Y"]),
    ]


def test_unknown_and_inactive_carrier_services_are_reported_not_planned(site: Services) -> None:
    carrier(site, "DHL-OLD", active=False)
    carrier(site, "NEVER", ship_days="")
    place(site, "SO-1", service="POSTAL-EXPRESS")
    place(site, "SO-2", service="DHL-OLD")
    place(site, "SO-3", service="NEVER")
    place(site, "SO-4")
    result = plan(site)
    assert [w["added"] for w in result["waves"]] == [["SO-4"]]
    assert {u["number"]: u["code"] for u in result["unplanned"]} == dict.fromkeys(
        ("SO-1", "SO-2", "SO-3"), "CARRIER_SERVICE_UNKNOWN"
    )
    reasons = {u["number"]: u["reason"] for u in result["unplanned"]}
    assert "inactive" in reasons["SO-2"] and "ship days" in reasons["SO-3"]
    assert wave_of(site, "SO-1") is None and wave_of(site, "SO-2") is None


def test_backordered_orders_are_waved_only_when_shipping_partial(site: Services) -> None:
    stock(site, "B01-01-1L", "TEE-M", 2, lot="L1")
    place(site, "SO-PART", lines=[{"line_no": 1, "sku": "TEE-M", "qty": 5}])
    place(site, "SO-NONE", lines=[{"line_no": 1, "sku": "MILK-1L", "qty": 1}])  # no stock
    assert plan(site)["waves"] == []
    result = plan(site, MON, WaveConfig(ship_partial=True))
    assert [w["added"] for w in result["waves"]] == [["SO-PART"]]
    assert wave_of(site, "SO-NONE") is None


def test_a_cancelled_order_simply_leaves_its_planned_wave(site: Services) -> None:
    place(site, "SO-1")
    place(site, "SO-2")
    plan(site)
    with site.db.write() as w:
        orders.cancel_order(w, "CHI", "SO-1")
    got = wave(site, "W300114-001")
    assert got["orders"] == 1 and [o["number"] for o in got["order_list"]] == ["SO-2"]
    result = release(site, "W300114-001")
    assert [o["number"] for o in result["orders"]] == ["SO-2"]


def test_cancelling_a_planned_wave_returns_its_orders_to_planning(site: Services) -> None:
    place(site, "SO-1")
    plan(site)
    with site.db.write() as w:
        assert cancel_wave(w, "CHI", "W300114-001")["orders"] == ["SO-1"]
    assert wave_of(site, "SO-1") is None
    assert wave(site, "W300114-001")["status"] == "cancelled"
    assert [w["number"] for w in plan(site)["waves"]] == ["W300114-002"]


def test_an_order_whose_carrier_service_changed_moves_to_the_right_wave(site: Services) -> None:
    place(site, "SO-1")
    plan(site)
    place(site, "SO-1", service="FEDEX-2DAY")  # replaced by the OMS, allocated again
    result = plan(site)
    assert [(w["carrier_service"], w["added"]) for w in result["waves"]] == [
        ("FEDEX-2DAY", ["SO-1"])
    ]
    assert wave(site, "W300114-001")["orders"] == 0


# -- release ----------------------------------------------------------------------------------
def test_release_creates_pick_tasks_and_announces_them(site: Services) -> None:
    place(site, "SO-1")
    place(site, "SO-2", priority=9)
    plan(site)
    result = release(site, "W300114-001")
    assert [o["number"] for o in result["orders"]] == ["SO-2", "SO-1"]
    assert {o["strategy"] for o in result["orders"]} == {"batch"}
    assert [t["orders"] for t in result["tasks"]] == [["SO-2", "SO-1"]]  # one cart
    got = wave(site, "W300114-001")
    assert got["status"] == "released" and got["release_mode"] == "supervisor"
    assert got["progress"]["tasks"] == {"open": 1, "in_progress": 0, "done": 0, "cancelled": 0}
    assert got["progress"]["units"] == {"total": 6, "picked": 0, "short": 0, "open": 6}
    assert all(o["status"] == "picking" for o in got["order_list"])
    assert all(o["strategy_reason"] for o in got["order_list"])
    (event,) = events(site, "wave.released")
    assert event["number"] == "W300114-001" and event["orders"] == ["SO-2", "SO-1"]
    assert event["tasks"] == [t["id"] for t in result["tasks"]]
    assert event["cutoff_at"] == iso(datetime(2030, 1, 14, 17, 0, tzinfo=UTC))


def test_wave_is_done_when_its_last_task_is(site: Services) -> None:
    place(site, "SO-1")
    plan(site)
    (task,) = release(site, "W300114-001")["tasks"]
    wave_id = site.db.query("SELECT id FROM waves WHERE number = 'W300114-001'")[0]["id"]
    with site.db.write() as w:
        refresh_wave_status(w, wave_id)  # task still open: nothing happens
    assert wave(site, "W300114-001")["status"] == "released"
    with site.db.write() as w:
        w.execute("UPDATE pick_tasks SET status = 'done' WHERE id = ?", [task["id"]])
        refresh_wave_status(w, wave_id)
    assert wave(site, "W300114-001")["status"] == "done"


def test_a_wave_whose_orders_all_left_is_done_at_release(site: Services) -> None:
    place(site, "SO-1")
    plan(site)
    with site.db.write() as w:
        orders.cancel_order(w, "CHI", "SO-1")
    assert release(site, "W300114-001")["tasks"] == []
    assert wave(site, "W300114-001")["status"] == "done"


def test_auto_release_at_the_lead_time_before_cutoff(site: Services) -> None:
    place(site, "SO-1")
    place(site, "SO-2", service="FEDEX-2DAY")
    # 12:59: nothing due yet (FEDEX releases at 13:00, UPS at 15:00), but orders get planned
    first = release_due(site.db, "CHI", CFG, datetime(2030, 1, 14, 12, 59, tzinfo=UTC))
    assert first["released"] == [] and len(first["planned"]["waves"]) == 2
    second = release_due(site.db, "CHI", CFG, datetime(2030, 1, 14, 13, 0, tzinfo=UTC))
    assert second["released"] == ["W300114-001"] and second["failed"] == []
    fedex = wave(site, "W300114-001")
    assert fedex["status"] == "released" and fedex["release_mode"] == "auto"
    assert fedex["released_by"] is None and fedex["tasks"] == 1
    assert wave(site, "W300114-002")["status"] == "planned"
    third = release_due(site.db, "CHI", CFG, datetime(2030, 1, 14, 15, 0, tzinfo=UTC))
    assert third["released"] == ["W300114-002"]
    assert (
        release_due(site.db, "CHI", CFG, datetime(2030, 1, 14, 15, 1, tzinfo=UTC))["released"] == []
    )


def test_auto_release_skips_a_wave_that_fails_and_goes_on(site: Services) -> None:
    place(site, "SO-1")
    place(site, "SO-2", service="FEDEX-2DAY")
    plan(site)
    # no packing location any more: the pick tasks cannot be made, so release is refused
    with site.db.write() as w:
        w.execute("UPDATE locations SET active = 0 WHERE type = 'packing'")
    before = snapshot(site)
    result = release_due(site.db, "CHI", CFG, datetime(2030, 1, 14, 16, 0, tzinfo=UTC))
    assert result["released"] == []
    assert [f["code"] for f in result["failed"]] == ["PICK_NO_PACKING_LOCATION"] * 2
    assert snapshot(site) == before


def test_at_risk_when_release_is_late_or_picking_runs_into_the_cutoff(site: Services) -> None:
    place(site, "SO-1")
    plan(site)
    number = "W300114-001"
    assert wave(site, number, MON)["at_risk"] is False
    late = wave(site, number, datetime(2030, 1, 14, 15, 30, tzinfo=UTC))
    assert late["at_risk"] is True and late["minutes_to_cutoff"] == 90
    assert late["at_risk_reasons"] == ["not released and its release time has passed"]
    release(site, number)
    assert wave(site, number, datetime(2030, 1, 14, 16, 0, tzinfo=UTC))["at_risk"] is False
    near = wave(site, number, datetime(2030, 1, 14, 16, 45, tzinfo=UTC))
    assert near["at_risk_reasons"] == ["15 minutes to cutoff with picking unfinished"]
    past = wave(site, number, datetime(2030, 1, 14, 17, 5, tzinfo=UTC))
    assert past["minutes_to_cutoff"] == -5
    assert past["at_risk_reasons"] == ["the cutoff has passed with picking unfinished"]


# -- HTTP ---------------------------------------------------------------------------------------
@pytest.fixture
def supervisor(as_role: Any) -> Caller:
    caller: Caller = as_role("supervisor", badge="SUP-1")
    return caller


def test_supervisor_plans_and_releases_over_http(
    edge: Any, site: Services, supervisor: Caller, as_role: Any
) -> None:
    carrier(site, "ANYDAY", cutoff="23:59", ship_days="1234567")
    place(site, "SO-1", service="ANYDAY")
    place(site, "SO-2", service="NOPE")
    planned = assert_response(edge.post(f"{WAVES}/plan", headers=supervisor.with_key()), 200)
    (entry,) = planned["waves"]
    number = entry["number"]
    assert entry["added"] == ["SO-1"]
    assert [(u["number"], u["code"]) for u in planned["unplanned"]] == [
        ("SO-2", "CARRIER_SERVICE_UNKNOWN")
    ]
    picker = as_role("picker")
    listed = assert_response(
        edge.get(WAVES, params={"status": "planned"}, headers=picker.headers), 200
    )
    assert [w["number"] for w in listed["items"]] == [number] and listed["total"] == 1
    assert listed["items"][0]["orders"] == 1
    assert (
        assert_response(edge.get(WAVES, params={"status": "done"}, headers=picker.headers), 200)[
            "items"
        ]
        == []
    )

    resp = edge.post(f"{WAVES}/{number}/release", headers=supervisor.with_key())
    data = assert_response(resp, 200)
    assert data["wave"]["status"] == "released"
    user_id = site.db.query_one("SELECT id FROM users WHERE badge = 'SUP-1'")
    assert user_id is not None
    assert data["wave"]["released_by"] == user_id["id"]
    assert data["wave"]["release_mode"] == "supervisor"
    assert [t["orders"] for t in data["release"]["tasks"]] == [["SO-1"]]
    got = assert_response(edge.get(f"{WAVES}/{number}", headers=picker.headers), 200)
    assert got["progress"]["tasks"]["open"] == 1
    assert got["progress"]["lines"] == {"total": 1, "picked": 0, "short": 0, "open": 1}
    assert got["task_list"][0]["orders"] == ["SO-1"]
    assert isinstance(got["minutes_to_cutoff"], int)


def test_refusals_change_nothing(
    edge: Any, site: Services, supervisor: Caller, as_role: Any
) -> None:
    place(site, "SO-1")
    place(site, "SO-2", service="FEDEX-2DAY")
    plan(site)
    release(site, "W300114-001")
    before = snapshot(site)

    def refused(resp: Any, status: int, code: str) -> dict[str, Any]:
        body = resp.json()
        assert resp.status_code == status and body["message"]["code"] == code, resp.text
        assert body["message"]["text"]
        assert snapshot(site) == before
        return body

    body = refused(
        edge.post(f"{WAVES}/W300114-001/release", headers=supervisor.with_key()),
        409,
        "WAVE_NOT_PLANNED",
    )
    assert body["message"]["details"] == {"number": "W300114-001", "status": "released"}
    refused(
        edge.post(f"{WAVES}/W300114-001/cancel", headers=supervisor.with_key()),
        409,
        "WAVE_NOT_PLANNED",
    )
    for path in ("release", "cancel"):
        refused(
            edge.post(f"{WAVES}/W999999-001/{path}", headers=supervisor.with_key()),
            404,
            "WAVE_NOT_FOUND",
        )
    refused(edge.get(f"{WAVES}/W999999-001", headers=supervisor.headers), 404, "WAVE_NOT_FOUND")
    refused(
        edge.post(f"{WAVES}/not a number/release", headers=supervisor.with_key()),
        422,
        "VALIDATION_FAILED",
    )
    refused(
        edge.get(WAVES, params={"status": "lost"}, headers=supervisor.headers),
        422,
        "VALIDATION_FAILED",
    )
    picker = as_role("picker")
    for path in ("plan", "W300114-002/release", "W300114-002/cancel"):
        refused(edge.post(f"{WAVES}/{path}", headers=picker.with_key()), 403, "FORBIDDEN_ROLE")
    refused(edge.get(WAVES), 401, "AUTH_REQUIRED")
    refused(
        edge.post(f"{WAVES}/W300114-002/release", headers=supervisor.headers),
        400,
        "IDEMPOTENCY_KEY_REQUIRED",
    )
    # the planned one can still be cancelled; cancelling again is refused
    assert_response(edge.post(f"{WAVES}/W300114-002/cancel", headers=supervisor.with_key()), 200)
    after = snapshot(site)
    resp = edge.post(f"{WAVES}/W300114-002/cancel", headers=supervisor.with_key())
    assert_response(resp, 409, code="WAVE_NOT_PLANNED")
    assert snapshot(site) == after


def test_the_same_release_request_replayed_returns_the_same_answer(
    edge: Any, site: Services, supervisor: Caller
) -> None:
    place(site, "SO-1")
    plan(site)
    headers = supervisor.with_key("release-once")
    first = edge.post(f"{WAVES}/W300114-001/release", headers=headers)
    again = edge.post(f"{WAVES}/W300114-001/release", headers=headers)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert len(events(site, "wave.released")) == 1


# -- the loop in a live server ----------------------------------------------------------------
class TestAutoReleaseInALiveServer:
    @pytest.fixture
    def settings(self, tmp_path: Any) -> Settings:
        # A lead longer than any week: whatever the clock says, the next cutoff's wave is due.
        return make_settings(
            tmp_path,
            wave_auto_release=True,
            wave_release_poll_seconds=0.05,
            wave_release_lead_minutes=20000,
        )

    def test_the_server_releases_a_due_wave_by_itself(self, live_edge: LiveEdge) -> None:
        services = live_edge.services
        load_site(services)
        stock(services, FACE, "MUG-01", 10)
        carrier(services, "UPS-GROUND", cutoff="17:00", ship_days="1234567")
        place(services, "SO-1")
        deadline = time.monotonic() + 20
        found: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            found = services.db.query_one(
                "SELECT number, status, release_mode FROM waves WHERE status = 'released'"
            )
            if found:
                break
            time.sleep(0.05)
        assert found is not None, "the wave was not released"
        assert found["release_mode"] == "auto"
        (event,) = events(services, "wave.released")
        assert event["orders"] == ["SO-1"] and event["mode"] == "auto"
        order = services.db.query_one("SELECT status FROM fulfillment_orders WHERE number = 'SO-1'")
        assert order == {"status": "picking"}
        assert json.loads(json.dumps(event))["tasks"]
