"""Labor rates, standards and their refusals over HTTP: two pickers shaped to 120 and 80
units an hour, per worker, hour, shift and day, performance against a changed standard."""

from datetime import timedelta

import pytest
from labor_support import API, BASE, WINDOW, at
from picking_support import Picker, gtin13, make_order, make_task, picking_site, put_stock

from edge_server.wms.labor.rates import labor_hours

from conftest import assert_response, login_as


def _pick(services, edge, badge, task_id, tote, start, step):
    """Pick the task's single line with `step` seconds between the scans."""
    who = login_as(services, "picker", badge=badge)
    picker = Picker(edge, who)
    at(who, start)
    picker.claim(task_id)
    picker.bind(tote)
    line = picker.view["line"]
    for n, (name, body) in enumerate(
        [
            ("scan-bin", {"barcode": line["bin"]}),
            ("scan-item", {"barcode": gtin13(line["sku"])}),
            ("quantity", {"qty": line["qty_remaining"]}),
            ("tote", {"barcode": line["tote"]}),
        ],
        1,
    ):
        at(who, start + n * step)
        picker.step(name, body)
    assert picker.state == "done"


@pytest.fixture
def picked(services, edge):
    """P-FAST picks 4 units in 120 working seconds (120/h), P-SLOW 4 in 180 s (80/h)."""
    picking_site(services)
    put_stock(services, "A01-01-1L", "SOAP-1", 20)
    fast = make_task(services, [make_order(services, "SO-1", [("SOAP-1", 4)])])
    slow = make_task(services, [make_order(services, "SO-2", [("SOAP-1", 4)])])
    _pick(services, edge, "P-FAST", fast, "TOTE-0001", 0, 30)
    _pick(services, edge, "P-SLOW", slow, "TOTE-0002", 200, 45)
    return services


BAD_PERIOD = "LABOR_PERIOD_INVALID"


@pytest.fixture
def boss(services):
    return login_as(services, "supervisor")


def rates(edge, boss, group_by):
    resp = edge.get(
        f"{API}/labor/rates", params={**WINDOW, "group_by": group_by}, headers=boss.headers
    )
    return assert_response(resp, 200)["items"]


def _shift(hour):
    return "early" if 6 <= hour < 14 else "late" if 14 <= hour < 22 else "night"


def test_rates_per_worker_and_performance_against_a_changed_standard(picked, edge, boss):
    rows = rates(edge, boss, "worker,task_type")
    assert [(r["worker"]["badge"], r["task_type"]) for r in rows] == [
        ("P-FAST", "pick"),
        ("P-SLOW", "pick"),
    ]
    fast, slow = rows
    assert (fast["units"], fast["lines"], fast["tasks"], fast["scans"]) == (4, 1, 1, 5)
    assert (fast["travel_seconds"], fast["handling_seconds"]) == (30.0, 90.0)
    assert fast["units_per_hour"] == 120.0 and slow["units_per_hour"] == 80.0
    assert (fast["rate"], fast["rate_unit"], fast["standard"]) == (120.0, "units", 120.0)
    assert (fast["performance_pct"], slow["performance_pct"]) == (100.0, 66.7)
    assert fast["tasks_per_hour"] == 30.0 and slow["lines_per_hour"] == 20.0

    resp = edge.put(f"{API}/labor/standards/pick", json={"per_hour": 80}, headers=boss.with_key())
    assert assert_response(resp, 200)["standard"]["per_hour"] == 80.0
    fast, slow = rates(edge, boss, "worker,task_type")
    assert (fast["standard"], fast["performance_pct"], slow["performance_pct"]) == (
        80.0,
        150.0,
        100.0,
    )
    # By worker alone: the same, through earned standard hours.
    assert [r["performance_pct"] for r in rates(edge, boss, "worker")] == [150.0, 100.0]


def test_rates_per_hour_shift_and_day_and_the_labor_hours(picked, edge, boss):
    [row] = rates(edge, boss, "hour,shift")
    assert (row["hour"], row["shift"]) == (BASE.hour, _shift(BASE.hour))
    assert "worker" not in row and "task_type" not in row
    assert (row["units"], row["tasks"], row["hours"]) == (8, 2, round(300 / 3600, 4))
    assert row["units_per_hour"] == 96.0
    [day] = rates(edge, boss, "day")
    assert day["day"] == BASE.date().isoformat()
    hours = labor_hours(picked.db, "CHI", since=BASE, until=BASE + timedelta(hours=1))
    assert hours == round(300 / 3600, 4)


def test_the_standards_are_listed_with_their_defaults(services, edge, boss):
    resp = edge.get(f"{API}/labor/standards", headers=boss.headers)
    items = assert_response(resp, 200)["items"]
    assert {s["task_type"]: (s["unit"], s["per_hour"]) for s in items} == {
        "receive": ("lines", 60.0),
        "putaway": ("tasks", 40.0),
        "replenish": ("tasks", 30.0),
        "pick": ("units", 120.0),
        "pack": ("tasks", 30.0),
        "count": ("lines", 80.0),
        "return": ("units", 20.0),
    }


@pytest.mark.parametrize(
    ("task_type", "body", "status", "code"),
    [
        ("dance", {"per_hour": 10}, 404, "LABOR_TASK_TYPE_UNKNOWN"),
        ("pick", {"per_hour": -5}, 422, "LABOR_STANDARD_INVALID"),
        ("pick", {"per_hour": 0}, 422, "LABOR_STANDARD_INVALID"),
        ("pick", {"per_hour": 50, "unit": "boxes"}, 422, "LABOR_STANDARD_INVALID"),
        ("pick", {"per_hour": "fast"}, 422, "VALIDATION_FAILED"),
    ],
)
def test_a_bad_standard_is_refused_and_changes_nothing(
    services, edge, boss, task_type, body, status, code
):
    before = services.db.query("SELECT * FROM labor_standards ORDER BY task_type")
    resp = edge.put(f"{API}/labor/standards/{task_type}", json=body, headers=boss.with_key())
    assert_response(resp, status, code=code)
    assert services.db.query("SELECT * FROM labor_standards ORDER BY task_type") == before


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("rates", {"group_by": "worker,colour"}, 422, "LABOR_GROUP_BY_UNKNOWN"),
        ("rates", {"group_by": "worker,worker"}, 422, "LABOR_GROUP_BY_UNKNOWN"),
        ("rates", {"since": WINDOW["until"], "until": WINDOW["since"]}, 422, BAD_PERIOD),
        ("rates", {"since": "last tuesday"}, 422, BAD_PERIOD),
        ("gaps", {"worker": "NOBODY"}, 404, "LABOR_WORKER_UNKNOWN"),
        ("tasks", {"worker": "NOBODY"}, 404, "LABOR_WORKER_UNKNOWN"),
        ("gaps", {"since": "2024-13-45"}, 422, BAD_PERIOD),
    ],
)
def test_bad_questions_get_clear_codes(services, edge, boss, path, params, status, code):
    resp = edge.get(f"{API}/labor/{path}", params=params, headers=boss.headers)
    assert_response(resp, status, code=code)


def test_floor_roles_cannot_read_labor_or_change_standards(services, edge):
    picker = login_as(services, "picker")
    resp = edge.get(f"{API}/labor/rates", headers=picker.headers)
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
    resp = edge.put(
        f"{API}/labor/standards/pick", json={"per_hour": 500}, headers=picker.with_key()
    )
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
    row = services.db.query_one("SELECT per_hour FROM labor_standards WHERE task_type = 'pick'")
    assert row["per_hour"] == 120.0
