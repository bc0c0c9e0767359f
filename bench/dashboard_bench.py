"""The supervisors' page: one summary against polling every endpoint, and live-update latency.

Everything real, on 127.0.0.1: the demo site CHI (layout, 42 items, stock, a dozen orders),
served by uvicorn, after the demo's simulated morning (two pickers, a recounted bin awaiting
approval) — the data a supervisor opens the page on.

1. `GET /dashboard/summary` (every tile in one answer) against the baseline a page without it
   would need: the nine endpoints that hold the same figures, fetched one after the other
   (receiving and pick KPIs, IRA, counting summary, variances, labor rates, waves, handhelds,
   webhook deliveries). Median of 40 rounds each, printed as a ratio.
2. Live update: with the stream open (`Accept: text/event-stream`), a supervisor creates a count
   task; latency = the new summary's arrival − the moment before the request was sent (20
   changes, 0.5–1.5 s apart at random, so they fall anywhere in the stream's polling cycle).
   Compared with a page that reloads every 30 s (15 s average wait).
Bounded: well under a minute.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from edge_server.app import create_app
from edge_server.demo import demo_settings, seed_demo
from edge_server.demo_floor import simulate_floor
from edge_server.services import Services, open_services

ROUNDS = 40
CHANGES = 20
RELOAD_MEAN_SECONDS = 15.0  # a page reloading every 30 s waits 15 s on average
API = "/api/v1"
BASELINE = [
    "/kpi/receiving-accuracy",
    "/kpi/picking",
    "/counts/ira",
    "/counts/summary",
    "/counts/variances?status=awaiting_approval",
    "/labor/rates?group_by=worker,task_type",
    "/waves?status=released",
    "/devices/queues",
    "/webhooks/deliveries",
]


@contextmanager
def demo_site(directory: Path) -> Iterator[tuple[str, Services]]:
    settings = demo_settings(directory, port=0).model_copy(
        update={
            "relay_enabled": False,
            "wave_auto_release": False,
            "count_schedule_enabled": False,
            "advertise": False,
            "pin_hash_memory_kib": 1024,
            "log_level": "WARNING",
        }
    )
    services = open_services(settings)
    seed_demo(services)
    config = uvicorn.Config(
        create_app(settings, services), host="127.0.0.1", port=0, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", services
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.db.close()


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def compare_summary(http: httpx.Client, headers: dict[str, str]) -> None:
    one: list[float] = []
    many: list[float] = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        assert http.get(f"{API}/dashboard/summary", headers=headers).status_code == 200
        one.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for path in BASELINE:
            resp = http.get(API + path, headers=headers)
            assert resp.status_code == 200, (path, resp.text[:200])
        many.append(time.perf_counter() - t0)
    a, b = _median_ms(one), _median_ms(many)
    print(f"summary, every tile in one call  median {a:7.1f} ms  (p95 {_p95(one):6.1f} ms)")
    print(
        f"baseline: {len(BASELINE)} endpoints in a row     median {b:7.1f} ms  "
        f"(p95 {_p95(many):6.1f} ms)"
    )
    print(f"  ratio summary / baseline: {a / b:.2f}x")


def _p95(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.95) - 1] * 1000


class Stream:
    """Reads summary events in a thread, noting when each arrived."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        self.cond = threading.Condition()
        headers = {**headers, "Accept": "text/event-stream"}
        self.thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self.thread.start()

    def _read(self, url: str, headers: dict[str, str]) -> None:
        with httpx.stream("GET", url, headers=headers, timeout=60) as resp:
            event, data = "", []
            for line in resp.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "" and data:
                    if event == "summary":
                        with self.cond:
                            self.arrivals.append((time.perf_counter(), json.loads("".join(data))))
                            self.cond.notify_all()
                    event, data = "", []

    def wait_past(self, n: int, timeout: float = 10) -> tuple[float, dict[str, Any]]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.arrivals) > n, timeout)
            return self.arrivals[n]


def live_latency(url: str, http: httpx.Client, headers: dict[str, str], services: Services) -> None:
    stream = Stream(url + f"{API}/dashboard/stream", headers)
    stream.wait_past(0)
    bins = [
        r["code"]
        for r in services.db.query(
            "SELECT DISTINCT l.code FROM stock s JOIN locations l ON l.id = s.location_id "
            "WHERE l.type = 'pick_face' ORDER BY l.code LIMIT ?",
            [CHANGES],
        )
    ]
    latencies: list[float] = []
    rng = random.Random(7)
    for code in bins:
        seen = len(stream.arrivals)
        time.sleep(rng.uniform(0.5, 1.5))  # out of step with the stream's polling
        t0 = time.perf_counter()
        resp = http.post(
            f"{API}/counts/tasks",
            json={"kind": "bin", "location": code},
            headers={**headers, "Idempotency-Key": f"bench-{uuid.uuid4()}"},
        )
        assert resp.status_code == 201, resp.text[:200]
        arrived, _summary = stream.wait_past(seen)
        latencies.append(arrived - t0)
    print(
        f"live update (change -> summary on the stream), {len(latencies)} changes: "
        f"median {_median_ms(latencies):.0f} ms, max {max(latencies) * 1000:.0f} ms"
    )
    print(
        f"  vs a page reloading every 30 s (15 s average wait): "
        f"{RELOAD_MEAN_SECONDS / statistics.median(latencies):.0f}x sooner"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, demo_site(Path(tmp)) as (url, services):
        simulate_floor(url, services.db, lambda _line: None)
        with httpx.Client(base_url=url, timeout=30) as http:
            login = http.post(f"{API}/auth/login", json={"badge": "SUP01", "pin": "2222"})
            headers = {"Authorization": f"Bearer {login.json()['data']['token']}"}
            compare_summary(http, headers)
            live_latency(url, http, headers, services)


if __name__ == "__main__":
    main()
