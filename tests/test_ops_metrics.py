"""Prometheus metrics at /metrics (edge_server/ops/metrics.py): request counts by route
template, and the site's figures read from the database at scrape time."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from edge_server.app import create_app
from edge_server.services import open_services
from edge_server.timeutil import iso, utcnow

from conftest import login_as, make_settings
from factories import make_item, make_site


def scrape(client: TestClient, headers: dict[str, str] | None = None) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} from one scrape."""
    resp = client.get("/metrics", headers=headers or {})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    samples: dict[tuple, float] = {}
    for family in text_string_to_metric_families(resp.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def _requests(samples, method, route, status) -> float:
    key = (
        "aisleway_http_requests_total",
        (("method", method), ("route", route), ("status", status)),
    )
    return samples.get(key, 0.0)


def test_requests_are_counted_by_route_template_method_and_status(edge, services):
    sup = login_as(services, "supervisor")
    for _ in range(3):
        assert edge.get("/health").status_code == 200
    for number in (7, 8):
        assert edge.get(f"/api/v1/waves/{number}", headers=sup.headers).status_code == 404
    assert edge.get("/api/v1/waves/9").status_code == 401
    assert edge.get("/no/such/page").status_code == 404
    assert edge.post("/api/v1/auth/login", json={"badge": "x"}).status_code == 422

    samples = scrape(edge)
    assert _requests(samples, "GET", "/health", "200") == 3
    assert _requests(samples, "GET", "/api/v1/waves/{number}", "404") == 2
    assert _requests(samples, "GET", "/api/v1/waves/{number}", "401") == 1
    assert _requests(samples, "GET", "<unmatched>", "404") == 1
    assert _requests(samples, "POST", "/api/v1/auth/login", "422") == 1
    routes = {dict(labels).get("route") for (_, labels) in samples}
    assert not any(r and ("/7" in r or "/9" in r or "no/such" in r) for r in routes), routes
    count = (
        "aisleway_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/api/v1/waves/{number}")),
    )
    assert samples[count] == 3
    # The scrape itself is counted from the next scrape on.
    assert _requests(scrape(edge), "GET", "/metrics", "200") == 1


def test_site_figures_match_the_database(edge, services):
    db = services.db
    bins = make_site(db)
    item = make_item(db, "SKU-1")
    login_as(services, "picker")
    login_as(services, "picker")
    login_as(services, "picker")
    now = utcnow()
    with db.write() as w:
        site_id = w.execute("SELECT id FROM sites").fetchone()[0]
        devices = [r[0] for r in w.execute("SELECT id FROM devices ORDER BY id").fetchall()]
        w.execute("UPDATE devices SET last_seen_at = ? WHERE id = ?", [iso(now), devices[0]])
        old = iso(now - timedelta(hours=2))
        w.execute("UPDATE devices SET last_seen_at = ? WHERE id = ?", [old, devices[1]])
        w.execute("UPDATE devices SET last_seen_at = NULL WHERE id = ?", [devices[2]])
        for status in ("open", "open", "in_progress", "done", "cancelled"):
            w.execute(
                "INSERT INTO pick_tasks (site_id, strategy, status, created_at) "
                "VALUES (?, 'discrete', ?, ?)",
                [site_id, status, iso(now)],
            )
        task = w.execute(
            "INSERT INTO count_tasks (site_id, kind, reason, status, created_at) "
            "VALUES (?, 'bin', 'manual', 'counted', ?)",
            [site_id, iso(now)],
        ).lastrowid
        for status in ("awaiting_approval", "awaiting_approval", "posted", "accurate"):
            w.execute(
                "INSERT INTO count_variances (site_id, task_id, location_id, item_id, book_qty, "
                "counted_qty, delta, within_tolerance, status, created_at) "
                "VALUES (?, ?, ?, ?, 5, 4, -1, 0, ?, ?)",
                [site_id, task, bins["A01-01-1L"], item, status, iso(now)],
            )
        sub = w.execute(
            "INSERT INTO webhook_subscribers (url, secret, created_at) VALUES (?, ?, ?)",
            ["http://127.0.0.1:9/hook", "s", iso(now)],
        ).lastrowid
        states = ("pending", "pending", "failed", "delivered")
        for n, status in enumerate(states):
            created = iso(now - timedelta(seconds=600 - n))
            event = w.execute(
                "INSERT INTO outbox (event_id, type, payload_json, created_at) "
                "VALUES (?, 'test.event', '{}', ?)",
                [f"evt-{n}", created],
            ).lastrowid
            w.execute(
                "INSERT INTO webhook_deliveries (outbox_id, subscriber_id, status, "
                "next_attempt_at) VALUES (?, ?, ?, ?)",
                [event, sub, status, iso(now)],
            )

    s = scrape(edge)
    assert s[("aisleway_webhook_deliveries", (("status", "pending"),))] == 2
    assert s[("aisleway_webhook_deliveries", (("status", "failed"),))] == 1
    assert s[("aisleway_outbox_backlog_events", ())] == 2
    assert 595 <= s[("aisleway_outbox_backlog_seconds", ())] < 3600
    last = db.query_one("SELECT MAX(id) AS id FROM outbox")
    assert last is not None and s[("aisleway_outbox_last_event_id", ())] == last["id"]
    assert s[("aisleway_pick_tasks_open", (("status", "open"),))] == 2
    assert s[("aisleway_pick_tasks_open", (("status", "in_progress"),))] == 1
    assert s[("aisleway_count_approvals_pending", ())] == 2
    assert s[("aisleway_handhelds", (("state", "online"),))] == 1
    assert s[("aisleway_handhelds", (("state", "offline"),))] == 2
    size = Path(services.settings.db_path).stat().st_size
    assert s[("aisleway_db_size_bytes", (("file", "db"),))] == size
    wal = Path(f"{services.settings.db_path}-wal")
    assert s[("aisleway_db_size_bytes", (("file", "wal"),))] > 0 and wal.exists()

    # Scrape-time figures follow the database.
    with db.write() as w:
        w.execute("UPDATE pick_tasks SET status = 'done'")
        w.execute("UPDATE webhook_deliveries SET status = 'delivered'")
    s = scrape(edge)
    assert s[("aisleway_pick_tasks_open", (("status", "open"),))] == 0
    assert s[("aisleway_webhook_deliveries", (("status", "pending"),))] == 0
    assert s[("aisleway_outbox_backlog_events", ())] == 0
    assert s[("aisleway_outbox_backlog_seconds", ())] == 0


def test_metrics_token_guards_the_route_when_set(tmp_path):
    settings = make_settings(tmp_path, metrics_token="s3cret-scrape")
    services = open_services(settings)
    try:
        with TestClient(create_app(settings, services)) as client:
            for headers, code in (
                ({}, "AUTH_REQUIRED"),
                ({"Authorization": "Bearer wrong"}, "TOKEN_INVALID"),
                ({"Authorization": "Basic s3cret-scrape"}, "TOKEN_INVALID"),
            ):
                resp = client.get("/metrics", headers=headers)
                assert resp.status_code == 401
                assert resp.json()["message"]["code"] == code
            samples = scrape(client, {"Authorization": "Bearer s3cret-scrape"})
            assert _requests(samples, "GET", "/metrics", "401") == 3
    finally:
        services.db.close()


def test_metrics_can_be_turned_off(tmp_path):
    settings = make_settings(tmp_path, metrics_enabled=False)
    services = open_services(settings)
    try:
        with TestClient(create_app(settings, services)) as client:
            assert client.get("/metrics").status_code == 404
    finally:
        services.db.close()


def test_each_app_has_its_own_registry(edge, tmp_path):
    other_settings = make_settings(tmp_path / "other")
    other_services = open_services(other_settings)
    try:
        with TestClient(create_app(other_settings, other_services)) as other:
            for _ in range(4):
                other.get("/health")
            edge.get("/health")
            assert _requests(scrape(edge), "GET", "/health", "200") == 1
            assert _requests(scrape(other), "GET", "/health", "200") == 4
    finally:
        other_services.db.close()


def test_every_metric_is_documented(edge):
    edge.get("/health")
    resp = edge.get("/metrics")
    names = {family.name for family in text_string_to_metric_families(resp.text)}
    assert "aisleway_http_requests" in names and "aisleway_db_size_bytes" in names
    docs = (Path(__file__).resolve().parent.parent / "docs" / "operations.md").read_text()
    documented = {n.removesuffix("_total") for n in re.findall(r"`(aisleway_\w+)`", docs)}
    assert names <= documented, sorted(names - documented)
