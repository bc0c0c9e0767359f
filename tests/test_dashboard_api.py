"""The dashboard's summary and live stream over real HTTP: numbers from seeded activity."""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import seed_floor

from edge_server.app import create_app

from conftest import assert_response, login_as, make_settings, serving

SUMMARY = "/api/v1/dashboard/summary"
STREAM = "/api/v1/dashboard/stream"
LIVE = {"Accept": "text/event-stream"}


@pytest.fixture
def settings(tmp_path: Path) -> Any:
    # Any count difference is within tolerance and any valued one waits for approval: one
    # count makes one variance for the supervisor.
    return make_settings(tmp_path, count_tolerance_units=100, count_approval_value=Decimal("0"))


def summary(http: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    return assert_response(http.get(SUMMARY, headers=headers), 200)


def test_summary_counts_the_seeded_floor(live_edge):
    floor = seed_floor(live_edge)
    with live_edge.client(floor.supervisor) as http:
        s = summary(http, floor.supervisor.headers)
    assert s["site"] == "CHI" and s["layout_loaded"] is True
    # Receiving: 2 lines, the recounted one is not accurate → 50 % against 99.5 %.
    assert (s["receiving"]["lines"], s["receiving"]["accurate"]) == (2, 1)
    assert s["receiving"]["accuracy_pct"] == 50.0
    assert s["receiving"]["target_pct"] == 99.5 and s["receiving"]["meets_target"] is False
    assert s["receiving"]["trend"][-1]["accuracy_pct"] == 50.0
    # Picking: one pick, one refused wrong-bin scan.
    assert s["picking"]["picks"] == 1 and s["picking"]["mis_scans_total"] == 1
    assert s["picking"]["scan_accuracy_pct"] == 50.0
    assert s["picking"]["pick_accuracy_pct"] == 100.0
    # Orders: SO-D1 is being picked (unified status `picking`), younger than an hour.
    picking = {e["status"]: e for e in s["orders"]["by_status"]}["picking"]
    assert picking["total"] == 1 and picking["ages"]["lt_1h"] == 1
    assert s["orders"]["open"] == 1
    # Counting: one variance of -2 × 2.50 waiting (and counted in IRA).
    counting = s["counting"]
    assert counting["awaiting_approval"] == 1 and counting["awaiting_value"] == "5.00"
    (v,) = counting["variances"]
    assert (v["id"], v["location"], v["sku"], v["delta"]) == (
        floor.variance_id,
        floor.count_bin,
        "MUG-1",
        -2,
    )
    assert counting["ira"]["overall"]["counted"] >= 1
    # Handhelds: the three floor logins paired a device each; none has sent a heartbeat.
    assert s["handhelds"]["online"] + s["handhelds"]["offline"] == 3
    assert s["handhelds"]["pending_scans"] == 0
    # Labor: the picker's and the receiver's scans today.
    workers = {r["worker"]["badge"] for r in s["labor"]["rows"] if r["worker"]}
    assert {"PICK-D", "REC-D"} <= workers
    # Webhooks: nobody subscribed, nothing pending, events were emitted.
    assert s["integration"]["pending"] == 0 and s["integration"]["failed"] == 0
    assert s["integration"]["events_24h"] > 0 and s["integration"]["healthy"] is True


def test_summary_matches_the_kpi_endpoints(live_edge):
    floor = seed_floor(live_edge)
    with live_edge.client() as http:
        s = summary(http, floor.supervisor.headers)
        rec = assert_response(
            http.get("/api/v1/kpi/receiving-accuracy", headers=floor.supervisor.headers), 200
        )
        ira = assert_response(http.get("/api/v1/counts/ira", headers=floor.supervisor.headers), 200)
    assert s["receiving"]["accuracy_pct"] == rec["overall"]["accuracy_pct"]
    assert s["counting"]["ira"]["overall"] == ira["overall"]


def test_webhook_latency_and_failures(edge, services):
    sup = login_as(services, "supervisor")
    with services.db.write() as w:
        w.execute(
            "INSERT INTO webhook_subscribers (id, url, secret, created_at) "
            "VALUES (1, 'http://127.0.0.1:9/x', 's', '2026-01-01T00:00:00+00:00')"
        )
        for i, (status, made, done) in enumerate(
            [
                ("delivered", "2026-01-01T10:00:00+00:00", "2026-01-01T10:00:00.200000+00:00"),
                ("delivered", "2026-01-01T10:00:00+00:00", "2026-01-01T10:00:01+00:00"),
                ("failed", "2026-01-01T10:00:00+00:00", None),
                ("pending", "2026-01-01T10:00:00+00:00", None),
            ],
            1,
        ):
            w.execute(
                "INSERT INTO outbox (id, event_id, type, payload_json, created_at) "
                "VALUES (?, ?, 'a.b', '{}', ?)",
                [i, f"e{i}", made],
            )
            w.execute(
                "INSERT INTO webhook_deliveries (outbox_id, subscriber_id, status, "
                "next_attempt_at, delivered_at) VALUES (?, 1, ?, ?, ?)",
                [i, status, made, done],
            )
    from datetime import UTC, datetime

    from edge_server.dashboard.summary import integration_panel

    data = integration_panel(services.db, datetime(2026, 1, 1, 10, 10, tzinfo=UTC))
    assert (data["pending"], data["failed"], data["delivered_24h"]) == (1, 1, 2)
    assert data["latency_ms"] == {"p50": 200, "p95": 1000}
    assert data["backlog_seconds"] == 600.0 and data["healthy"] is False
    # Over HTTP the same panel is there (its 24-hour window excludes these old deliveries).
    body = assert_response(edge.get(SUMMARY, headers=sup.headers), 200)
    assert body["integration"]["failed"] == 1 and body["integration"]["pending"] == 1


def test_orders_by_unified_status_and_age(edge, services):
    from picking_support import make_order, picking_site, put_stock

    picking_site(services)
    put_stock(services, "A01-01-1L", "SOAP-1", 5)
    make_order(services, "SO-A", [("SOAP-1", 2)])  # allocated
    make_order(services, "SO-B", [("SOAP-1", 9)])  # backordered → short_at_site
    make_order(services, "SO-C", [("SOAP-1", 1)], allocate=False)  # received → released
    with services.db.write() as w:
        w.execute(
            "UPDATE fulfillment_orders SET created_at = '2020-01-01T00:00:00+00:00' "
            "WHERE number = 'SO-C'"
        )
    sup = login_as(services, "supervisor")
    orders = assert_response(edge.get(SUMMARY, headers=sup.headers), 200)["orders"]
    by = {e["status"]: e for e in orders["by_status"]}
    assert [e["status"] for e in orders["by_status"]] == ["released", "short_at_site", "allocated"]
    assert by["released"]["ages"]["gt_24h"] == 1 and by["allocated"]["ages"]["lt_1h"] == 1
    assert orders["open"] == 3 and orders["oldest_open_at"].startswith("2020-01-01")


def test_an_empty_site_has_a_summary(edge, services):
    sup = login_as(services, "supervisor")
    s = assert_response(edge.get(SUMMARY, headers=sup.headers), 200)
    assert s["layout_loaded"] is False and s["picking"] is None and s["counting"] is None
    assert s["receiving"]["accuracy_pct"] is None and s["orders"]["open"] == 0


@pytest.mark.parametrize("path", [SUMMARY, STREAM])
def test_only_supervisors_read_the_dashboard(edge, services, path):
    resp = edge.get(path)
    assert_response(resp, 401, code="AUTH_REQUIRED")
    picker = login_as(services, "picker")
    assert_response(edge.get(path, headers=picker.headers), 403, code="FORBIDDEN_ROLE")
    key = login_as(services, "integration")
    assert_response(edge.get(path, headers=key.headers), 403, code="FORBIDDEN_ROLE")
    resp = edge.get(path, headers={"Authorization": "Bearer nonsense"})
    assert_response(resp, 401, code="TOKEN_INVALID")


def test_admin_reads_the_dashboard(edge, services):
    admin = login_as(services, "admin")
    assert assert_response(edge.get(SUMMARY, headers=admin.headers), 200)["site"] == "CHI"


# -- the stream --------------------------------------------------------------------------------
class Events:
    """Reads `summary` events from the stream in a thread."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.summaries: list[dict[str, Any]] = []
        self.comments: list[str] = []
        self.status: int | None = None
        self.content_type = ""
        self.ended = threading.Event()
        self._lock = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            with httpx.stream("GET", url, headers=LIVE | headers, timeout=60) as resp:
                self.status, self.content_type = resp.status_code, resp.headers["content-type"]
                event, data = "", []
                for line in resp.iter_lines():
                    if line.startswith(":"):
                        self.comments.append(line)
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif line == "" and data:
                        if event == "summary":
                            with self._lock:
                                self.summaries.append(json.loads("\n".join(data)))
                                self._lock.notify_all()
                        event, data = "", []
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()
            with self._lock:
                self._lock.notify_all()

    def wait_for(self, n: int, timeout: float = 20) -> list[dict[str, Any]]:
        with self._lock:
            self._lock.wait_for(lambda: len(self.summaries) >= n or self.ended.is_set(), timeout)
            assert len(self.summaries) >= n, f"{len(self.summaries)} summaries, wanted {n}"
            return list(self.summaries)


def test_stream_pushes_a_new_summary_after_a_change(live_edge):
    floor = seed_floor(live_edge)
    events = Events(live_edge.url + STREAM, floor.supervisor.headers)
    first = events.wait_for(1)[0]
    assert events.status == 200 and events.content_type.startswith("text/event-stream")
    assert first["counting"]["awaiting_approval"] == 1
    with live_edge.client() as http:
        resp = http.post(
            f"/api/v1/counts/variances/{floor.variance_id}/approve",
            json={"note": "checked"},
            headers=floor.supervisor.with_key(),
        )
        assert_response(resp, 200)
    # The next summary carries the decision (others may come between on a busy floor).
    deadline = time.monotonic() + 20
    while True:
        latest = events.wait_for(len(events.summaries) + 1, timeout=20)[-1]
        if latest["counting"]["awaiting_approval"] == 0 or time.monotonic() > deadline:
            break
    assert latest["counting"]["awaiting_approval"] == 0
    assert latest["counting"]["variances"] == []


def test_stream_sends_nothing_new_when_nothing_changed(live_edge):
    sup = login_as(live_edge.services, "supervisor")
    events = Events(live_edge.url + STREAM, sup.headers)
    events.wait_for(1)
    # A write that changes no figure (a new user) is noticed, rebuilt, and not sent again.
    live_edge.services.users.create(badge="nobody", pin="1234", role="supervisor")
    with pytest.raises(AssertionError):
        events.wait_for(2, timeout=2)


def wrapping_receive(app: Any) -> Any:
    """An ASGI middleware that wraps `receive` in a closure (as tracing middleware does)."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        async def wrapped_receive() -> Any:
            return await receive()

        await app(scope, wrapped_receive, send)

    return middleware


@pytest.mark.parametrize("wrapped", [False, True], ids=["plain", "receive-wrapped"])
def test_stream_ends_when_the_server_shuts_down(services, wrapped):
    """An open stream must not keep uvicorn waiting at shutdown."""
    app = create_app(services.settings, services)
    with serving(wrapping_receive(app) if wrapped else app) as served:
        sup = login_as(services, "supervisor")
        events = Events(served.url + STREAM, sup.headers)
        events.wait_for(1)
        served.stop(timeout=30)
        assert not served.thread.is_alive(), "uvicorn is still waiting for the dashboard stream"
    assert events.ended.wait(10)


def test_stream_ends_when_the_client_goes(live_edge):
    sup = login_as(live_edge.services, "supervisor")
    url = live_edge.url + STREAM
    with httpx.stream("GET", url, headers=LIVE | sup.headers, timeout=30) as resp:
        lines = resp.iter_lines()
        assert next(lines).startswith("retry:")
    # The server noticed the disconnect: it still answers, and shuts down cleanly (fixture).
    with live_edge.client() as http:
        assert http.get("/health").status_code == 200


def test_page_is_served_and_root_redirects(edge):
    resp = edge.get("/", follow_redirects=False)
    assert resp.status_code in (302, 307) and resp.headers["location"] == "/dashboard/"
    page = edge.get("/dashboard/")
    assert page.status_code == 200 and "Supervisor login" in page.text
    for asset in ("app.js", "app.css"):
        assert edge.get(f"/dashboard/{asset}").status_code == 200
    # No third-party assets: everything the page loads comes from the edge itself.
    assert "http://" not in page.text and "https://" not in page.text


def test_a_client_not_asking_for_a_stream_gets_one_summary(edge, services):
    """A plain GET (no `Accept: text/event-stream`) gets the current summary and the end."""
    sup = login_as(services, "supervisor")
    resp = edge.get(STREAM, headers=sup.headers)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
    events = [block for block in resp.text.split("\n\n") if block.startswith("event: summary")]
    assert len(events) == 1
    data = json.loads(events[0].split("data: ", 1)[1])
    assert data["site"] == "CHI"
