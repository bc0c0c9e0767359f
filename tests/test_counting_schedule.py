"""The ABC count schedule (API and background loop) and inventory record accuracy (IRA) by
class and zone, through the API and the Python read functions the web page calls."""

from __future__ import annotations

from datetime import timedelta

from counting_support import API, Worker, count_bin, counting_site, create, snapshot

from edge_server.app import create_app
from edge_server.timeutil import iso, utcnow
from edge_server.wms.counting import kpi
from edge_server.wms.counting.schedule_loop import CountScheduler

from conftest import assert_response, make_settings


def age_items(services, days):
    """Pretend every item was created `days` ago (a never-counted bin counts from then)."""
    with services.db.write() as w:
        w.execute("UPDATE items SET created_at = ?", [iso(utcnow() - timedelta(days=days))])


def set_velocity(services, sku, velocity):
    with services.db.write() as w:
        w.execute("UPDATE items SET velocity = ? WHERE sku = ?", [velocity, sku])


def run(edge, sup):
    resp = edge.post(f"{API}/schedule/run", json={}, headers=sup.with_key())
    return assert_response(resp, 200)


def schedule_site(services):
    counting_site(
        services,
        {("A01-01-1L", "SOAP-1"): 5, ("A01-02-1L", "MUG-1"): 5, ("C01-01-1R", "JAM-1"): 5},
    )
    set_velocity(services, "SOAP-1", "A")
    set_velocity(services, "MUG-1", "B")
    set_velocity(services, "JAM-1", "C")


def test_bins_are_due_by_the_velocity_class_of_what_they_hold(edge, services):
    schedule_site(services)
    sup = Worker(services, "supervisor")
    counter = Worker(services, "counter")
    resp = edge.get(f"{API}/schedule", headers=sup.headers)
    assert assert_response(resp, 200)["intervals"] == {"A": 30, "B": 90, "C": 365}
    # Brand-new items are not due yet.
    assert run(edge, sup)["created"] == 0
    age_items(services, 40)
    made = run(edge, sup)
    assert [(t["location"], t["reason"]) for t in made["tasks"]] == [("A01-01-1L", "schedule")]
    # An open count covers the bin: not made twice.
    assert run(edge, sup)["created"] == 0
    # Counted now: not due again for 30 days.
    task_id = made["tasks"][0]["id"]
    count_bin(edge, counter, task_id, [{"location": "A01-01-1L", "sku": "SOAP-1", "qty": 5}])
    assert run(edge, sup)["created"] == 0
    # The supervisor counts B items every 20 days: MUG-1's bin is due.
    resp = edge.put(f"{API}/schedule", json={"B": 20}, headers=sup.with_key())
    assert assert_response(resp, 200)["intervals"] == {"A": 30, "B": 20, "C": 365}
    assert [t["location"] for t in run(edge, sup)["tasks"]] == ["A01-02-1L"]


def test_schedule_refusals_change_nothing(edge, services):
    schedule_site(services)
    sup = Worker(services, "supervisor")
    counter = Worker(services, "counter")
    before = snapshot(services)
    for body in ({"A": 0}, {"B": -5}, {"D": 10}, {"A": "often"}):
        resp = edge.put(f"{API}/schedule", json=body, headers=sup.with_key())
        assert_response(resp, 422, code="VALIDATION_FAILED")
    resp = edge.post(f"{API}/schedule/run", json={}, headers=counter.with_key())
    assert_response(resp, 403, code="FORBIDDEN_ROLE")
    assert snapshot(services) == before
    assert services.db.query("SELECT * FROM count_schedule") == []


def test_the_background_loop_makes_due_counts_and_is_off_in_tests(services, tmp_path):
    schedule_site(services)
    assert not hasattr(create_app(services.settings, services).state, "count_scheduler")
    on = make_settings(tmp_path, count_schedule_enabled=True)
    assert isinstance(create_app(on, services).state.count_scheduler, CountScheduler)
    loop = CountScheduler(services.db, services.settings)
    out = loop.run_once(now=utcnow() + timedelta(days=100))
    assert out is not None
    assert sorted(t["location"] for t in out["tasks"]) == ["A01-01-1L", "A01-02-1L"]


def test_ira_by_class_and_zone(edge, services):
    schedule_site(services)
    sup = Worker(services, "supervisor")
    ann = Worker(services, "counter")
    bob = Worker(services, "counter")
    # A: accurate. C (zone COLD): accurate. B: 4 of 5, recounted as 4 -> inaccurate.
    for location, sku, qty in (("A01-01-1L", "SOAP-1", 5), ("C01-01-1R", "JAM-1", 5)):
        task = create(edge, sup, kind="bin", location=location)
        count_bin(edge, ann, task["id"], [{"location": location, "sku": sku, "qty": qty}])
    task = create(edge, sup, kind="bin", location="A01-02-1L")
    first = count_bin(edge, ann, task["id"], [{"location": "A01-02-1L", "sku": "MUG-1", "qty": 4}])
    count_bin(
        edge,
        bob,
        first["recount_task_id"],
        [{"location": "A01-02-1L", "sku": "MUG-1", "qty": 4}],
    )
    resp = edge.get(f"{API}/ira", params={"days": 30}, headers=ann.headers)
    ira = assert_response(resp, 200)
    assert ira == kpi.ira(services.db, "CHI", days=30)
    assert ira["days"] == 30
    assert ira["overall"] == {"counted": 3, "accurate": 2, "pct": 66.67}
    assert ira["by_class"] == {
        "A": {"counted": 1, "accurate": 1, "pct": 100.0},
        "B": {"counted": 1, "accurate": 0, "pct": 0.0},
        "C": {"counted": 1, "accurate": 1, "pct": 100.0},
    }
    assert ira["by_zone"] == {
        "A": {"counted": 2, "accurate": 1, "pct": 50.0},
        "COLD": {"counted": 1, "accurate": 1, "pct": 100.0},
    }


def test_the_counting_summary_for_the_web_page(edge, services):
    services.settings.count_tolerance_units = 5
    schedule_site(services)
    with services.db.write() as w:
        w.execute("UPDATE items SET unit_cost = '100.00' WHERE sku = 'MUG-1'")
    sup = Worker(services, "supervisor")
    ann = Worker(services, "counter")
    task = create(edge, sup, kind="bin", location="A01-02-1L")
    count_bin(edge, ann, task["id"], [{"location": "A01-02-1L", "sku": "MUG-1", "qty": 2}])
    create(edge, sup, kind="bin", location="A01-01-1L")
    summary = kpi.counting_summary(services.db, "CHI")
    assert summary["open_tasks"] == 1 and summary["in_progress"] == 0
    assert summary["recounts_open"] == 0
    assert summary["awaiting_approval"] == 1 and summary["awaiting_value"] == "300.00"
    [v] = summary["variances"]
    assert (v["sku"], v["delta"], v["value"], v["status"]) == (
        "MUG-1",
        -3,
        "-300.00",
        "awaiting_approval",
    )
    resp = edge.get(f"{API}/summary", headers=sup.headers)
    assert assert_response(resp, 200) == summary
    ira_now = kpi.ira(services.db, "CHI")
    assert ira_now["by_zone"] == {"A": {"counted": 1, "accurate": 1, "pct": 100.0}}
