"""The demo's simulated morning: real handheld traffic over HTTP leaves labor, accuracy and
an approval for the supervisors' page, and the ledger still balances."""

from collections.abc import Iterator
from datetime import timedelta

import pytest

from edge_server.app import create_app
from edge_server.demo import demo_settings, seed_demo
from edge_server.demo_floor import simulate_floor
from edge_server.services import Services, open_services
from edge_server.timeutil import utcnow
from edge_server.wms.labor.rates import rates
from edge_server.wms.ledger import check_ledger

from conftest import serving


@pytest.fixture
def demo_edge(tmp_path, monkeypatch) -> Iterator[tuple[str, Services]]:
    monkeypatch.setenv("AISLEWAY_PIN_HASH_MEMORY_KIB", "1024")
    settings = demo_settings(tmp_path).model_copy(
        update={
            "relay_enabled": False,
            "wave_auto_release": False,
            "count_schedule_enabled": False,
            "advertise": False,
        }
    )
    services = open_services(settings)
    seed_demo(services)
    try:
        with serving(create_app(settings, services)) as served:
            yield served.url, services
    finally:
        services.db.close()


def test_the_simulated_morning_feeds_the_supervisors_page(demo_edge):
    url, services = demo_edge
    said: list[str] = []
    simulate_floor(url, services.db, said.append)
    db = services.db
    now = utcnow()
    per_worker = {
        r["worker"]["badge"]: r
        for r in rates(db, "CHI", since=now - timedelta(hours=4), until=now, group_by=("worker",))
    }
    # Both pickers worked, timed by their scan times; the brisk one picks faster.
    assert per_worker["PICK01"]["units"] > 0 and per_worker["PICK02"]["units"] > 0
    assert per_worker["PICK01"]["units_per_hour"] > per_worker["PICK02"]["units_per_hour"]
    # The mis-scan was caught and counted.
    caught = db.query_one("SELECT COUNT(*) AS n FROM pick_events WHERE kind != 'picked'")
    assert caught is not None and caught["n"] >= 1
    # The short bin went to a recount by the second counter and now waits for approval.
    waiting = db.query("SELECT * FROM count_variances WHERE status = 'awaiting_approval'")
    assert len(waiting) == 1 and waiting[0]["delta"] == -6
    assert check_ledger(db).ok
    assert any("awaiting approval" in line for line in said)
    # The four handhelds reported in with empty queues; both counters have a rate.
    assert db.query_one("SELECT COUNT(*) AS n FROM terminal_heartbeats")["n"] == 4
    assert per_worker["CNT01"]["lines_per_hour"] and per_worker["CNT02"]["lines_per_hour"]
