"""Stock change on the edge → the channel holds the signed availability push, on loopback.

The whole path, every part real and on 127.0.0.1: an edge server (uvicorn, relay on) takes a
receipt over its API, its relay posts the signed `inventory.changed` to the OMS's site-event
intake (uvicorn), the intake records the site's stock, the OMS's channel sync debounces the
SKU (`AISLEWAY_OMS_CHANNEL_DEBOUNCE_SECONDS`, default 0.15 s) and its relay posts the signed
`inventory.availability` to a channel endpoint (an HTTP receiver verifying each push with the
reference `standardwebhooks` library). Latency = the receiver's arrival time − the moment
before the edge request was sent.

Changes: 50 SKUs × 4 rounds, one every 20 ms (each SKU's changes 1 s apart, so none coalesce
and every change is one push). Compared with the 1 s target and with the usual integration
that polls every 15 minutes (a change waits 450 s on average, up to 900 s). Bounded: < 60 s.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from edge_server.app import create_app
from edge_server.integration import subscriptions
from edge_server.integration.url_guard import check_webhook_url
from edge_server.oms import channels
from edge_server.oms.app import create_oms_app
from edge_server.oms.services import open_oms_services
from edge_server.oms.settings import OmsSettings
from edge_server.oms.sites import SiteIn, put_site
from edge_server.services import open_services
from edge_server.settings import Settings
from edge_server.timeutil import iso, parse_iso

SKUS = 50
ROUNDS = 4
SPACING_SECONDS = 0.02
TARGET_SECONDS = 1.0
POLL_MEAN_SECONDS = 450.0  # polling every 15 minutes: the average wait
POLL_WORST_SECONDS = 900.0
DEADLINE_SECONDS = 50.0
SITE = "BEN"
BIN = "A01-01-1L"


class Channel:
    """The channel's endpoint: verifies each push, notes when each (SKU, value) arrived."""

    def __init__(self) -> None:
        self.secret = ""
        self.arrived: dict[tuple[str, int], float] = {}
        self.rejected = 0
        self.lock = threading.Lock()
        channel = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                now = time.perf_counter()
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(channel.secret).verify(body, headers)
                    status = 200
                    with channel.lock:
                        for item in json.loads(body)["data"]["items"]:
                            key = (item["channel_sku"], item["available"])
                            channel.arrived.setdefault(key, now)
                except WebhookVerificationError:
                    status = 400
                    with channel.lock:
                        channel.rejected += 1
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/availability"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def served(app: Any, name: str) -> Iterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _sku(n: int) -> str:
    return f"BEN-{n:03d}"


def _edge_settings(tmp: Path) -> Settings:
    return Settings(
        db_path=tmp / "site.db",
        site=SITE,
        advertise=False,
        relay_enabled=True,
        webhook_allow_private=True,
        wave_auto_release=False,
        pin_hash_time_cost=1,
        pin_hash_memory_kib=1024,
        log_json=False,
        log_level="WARNING",
    )


def _seed_edge(services: Any) -> None:
    with services.db.write() as w:
        w.execute(
            "INSERT OR IGNORE INTO sites (code, name, created_at) VALUES (?, ?, ?)",
            [SITE, SITE, iso()],
        )
        sid = w.execute("SELECT id FROM sites WHERE code = ?", [SITE]).fetchone()[0]
        w.execute(
            "INSERT INTO locations (site_id, code, type) VALUES (?, ?, 'pick_face')", [sid, BIN]
        )
        for n in range(SKUS):
            w.execute(
                "INSERT INTO items (sku, description, created_at, updated_at) VALUES (?,?,?,?)",
                [_sku(n), f"bench item {n}", iso(), iso()],
            )


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure() -> dict[str, Any]:
    """Run the whole path once; returns latencies (s) end to end and edge → OMS intake."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        channel = Channel()
        edge = open_services(_edge_settings(tmp))
        oms_settings = OmsSettings(
            db_path=tmp / "oms.db",
            relay_enabled=True,
            webhook_allow_private=True,
            channel_reconcile_interval_seconds=0,
            log_json=False,
            log_level="WARNING",
        )
        oms = open_oms_services(oms_settings)
        try:
            _seed_edge(edge)
            _, edge_key = edge.api_keys.create("oms-bench")
            with (
                served(create_app(edge.settings, edge), "bench-edge") as edge_url,
                served(create_oms_app(oms_settings, oms), "bench-oms") as oms_url,
            ):
                # The OMS subscribes to the site's events (as `site_events.subscribe_site`
                # does over HTTP), and knows the site's secret to check them.
                intake = f"{oms_url}/api/v1/sites/{SITE}/events"
                with edge.db.write() as w:
                    sub = subscriptions.create_subscriber(
                        w, check_webhook_url(intake, allow_private=True), ["inventory.changed"]
                    )
                with oms.db.write() as w:
                    body = SiteIn(
                        name=SITE, base_url=edge_url, api_key=edge_key, webhook_secret=sub["secret"]
                    )
                    put_site(w, SITE, body, base_url=edge_url)
                    checked = check_webhook_url(channel.url, allow_private=True)
                    _, secret = channels.put_channel(
                        w, "WEB", channels.ChannelIn(name="Web store"), checked
                    )
                    assert secret is not None
                    channel.secret = secret
                    for n in range(SKUS):
                        channels.put_channel_sku(
                            w, "WEB", _sku(n), channels.ChannelSkuIn(channel_sku=f"W-{n:03d}")
                        )
                _wait(lambda: len(channel.arrived) >= SKUS, 10)  # the listing pushes (0 each)
                result = _run(edge_url, edge_key, channel, oms)
                return {**result, "window": oms_settings.channel_debounce_seconds}
        finally:
            channel.close()
            oms.db.close()
            edge.db.close()


def _wait(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.005)


def _run(edge_url: str, edge_key: str, channel: Channel, oms: Any) -> dict[str, Any]:
    sent: dict[tuple[str, int], tuple[float, float]] = {}
    started = time.monotonic()
    with httpx.Client(
        base_url=edge_url, headers={"Authorization": f"Bearer {edge_key}"}, timeout=10
    ) as http:
        next_at = time.perf_counter()
        for r in range(ROUNDS):
            for n in range(SKUS):
                next_at += SPACING_SECONDS
                while (pause := next_at - time.perf_counter()) > 0:
                    time.sleep(pause)
                key = (f"W-{n:03d}", r + 1)
                sent[key] = (time.perf_counter(), time.time())
                resp = http.post(
                    "/api/v1/inventory/receipts",
                    json={"location": BIN, "sku": _sku(n), "qty": 1, "ref": "BENCH"},
                    headers={"Idempotency-Key": f"bench-{r}-{n}"},
                )
                resp.raise_for_status()
    left = DEADLINE_SECONDS - (time.monotonic() - started)
    with suppress(RuntimeError):  # what never arrived is counted as missing
        _wait(lambda: all(k in channel.arrived for k in sent), max(left, 1.0))
    with channel.lock:
        arrived = dict(channel.arrived)
    latencies = [arrived[k] - t0 for k, (t0, _) in sent.items() if k in arrived]
    # Edge → OMS intake: when the OMS recorded each SKU's stock event (wall clock).
    intake: list[float] = []
    rows = oms.db.query("SELECT received_at FROM site_events_seen ORDER BY received_at")
    walls = sorted(wall for _, wall in sent.values())
    for wall, row in zip(walls, rows, strict=False):
        intake.append(parse_iso(row["received_at"]).timestamp() - wall)
    return {
        "latencies": latencies,
        "intake": intake,
        "missing": len(sent) - len(latencies),
        "rejected": channel.rejected,
        "changes": len(sent),
    }


def main() -> None:
    result = measure()
    lat = [x * 1000 for x in result["latencies"]]
    intake = [x * 1000 for x in result["intake"]]
    print(
        f"edge stock change → channel push: {result['changes']} changes, "
        f"{result['missing']} missing, {result['rejected']} refused by the channel"
    )
    print(f"{'measure':40} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in (
        ("edge change → channel (whole path)", lat),
        ("edge change → OMS intake recorded", intake),
    ):
        if values:
            print(
                f"{name:40} {len(values):5d} {statistics.median(values):8.1f} "
                f"{_pct(values, 0.99):8.1f} {max(values):8.1f}"
            )
    if not lat:
        print("no push arrived")
        return
    p50, p99 = statistics.median(lat) / 1000, _pct(lat, 0.99) / 1000
    verdict = "within" if p99 < TARGET_SECONDS and not result["missing"] else "OVER"
    print(f"of which the debounce window: {result['window'] * 1000:.0f} ms")
    print(f"target: p99 {p99 * 1000:.0f} ms is {verdict} the {TARGET_SECONDS:g} s target")
    print(
        f"vs polling every 15 min (waits {POLL_MEAN_SECONDS:.0f} s on average, "
        f"{POLL_WORST_SECONDS:.0f} s at worst): p50 ratio {POLL_MEAN_SECONDS / p50:,.0f}×, "
        f"p99 ratio {POLL_WORST_SECONDS / p99:,.0f}× faster"
    )


if __name__ == "__main__":
    main()
