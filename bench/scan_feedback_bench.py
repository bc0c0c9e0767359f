"""Scan → screen on the handheld: how long from a scan to its Feedback and the new View,
including the durable queue write (SQLite WAL, synchronous=FULL, committed) — the budget is
50 ms. Compared with two baselines: a bare committed SQLite insert (the durability floor) and a
round trip to an edge server on loopback (what a handheld waiting for the server would pay at
least: `GET /health`, no database work).

The workflow is the real PickingWorkflow over a real CommandQueue; its task is set up in memory
(as a download would leave it) and the replayer is not started, so every good scan is queued
exactly as on a handheld out of Wi-Fi reach. Run: `python -m bench scan_feedback`.
"""

from __future__ import annotations

import socket
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from protocols.barcodes import gs1_check_digit
from terminal.client.connection import Connection
from terminal.client.edge import DeviceCredentials, EdgeClient
from terminal.client.queue import CommandQueue
from terminal.client.replay import Replayer
from terminal.scanners.base import DecodedScan
from terminal.workflows.picking import PickingWorkflow
from terminal.workflows.session import ItemInfo, Work

LINES = 150  # 150 lines × 4 steps = 600 timed scans/keys
ROUND_TRIPS = 300


def _gtin(ref: int) -> str:
    body = "0614141" + f"{ref:05d}"
    return body + str(gs1_check_digit(body))


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/api/v1"


def _workflow(tmp: Path) -> tuple[PickingWorkflow, Connection]:
    client = EdgeClient(_dead_url(), device=DeviceCredentials(1, "bench"))
    queue = CommandQueue(tmp / "queue.db", 1)
    conn = Connection(client, queue, Replayer(queue, client))
    work = Work(conn, role="picker")
    wf = PickingWorkflow(work)
    lines = []
    for n in range(LINES):
        sku = f"SKU-{n:04d}"
        work.items.add(ItemInfo(sku, f"Item {n}", False, False, {_gtin(n + 1).zfill(14): 1}))
        lines.append(
            {
                "line_id": n + 1,
                "seq": n + 1,
                "bin": f"A{n // 50 + 1:02d}-{n % 50 // 2 + 1:02d}-1{'LR'[n % 2]}",
                "sku": sku,
                "description": f"Item {n}",
                "lot": "",
                "lpn": "",
                "qty": 2,
                "qty_picked": 0,
                "qty_short": 0,
                "qty_remaining": 2,
                "status": "open",
                "order": "SO-1",
                "order_line_no": n + 1,
                "position": 1,
                "tote": "TOTE-0001",
            }
        )
    wf.task = {
        "task_id": 1,
        "orders": [{"position": 1, "order": "SO-1", "tote": "TOTE-0001"}],
        "drop_location": "PACK-01",
    }
    wf.lines = lines
    wf.current, wf.state = lines[0], "scan_bin"
    return wf, conn


def _timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def scan_to_screen() -> list[float]:
    """ms per scan (or key) → Feedback → View, every good one queued durably."""
    with tempfile.TemporaryDirectory() as d:
        wf, conn = _workflow(Path(d))
        times: list[float] = []

        def step(fn: Callable[[], Any]) -> None:
            def both() -> None:
                feedback = fn()
                assert feedback.tone.value in ("good", "done"), feedback
                wf.view()

            times.append(_timed(both))

        def scan(text: str) -> Callable[[], Any]:
            return lambda: wf.on_scan(DecodedScan(text=text, raw=text.encode()))

        for n in range(LINES):
            line = wf.current
            assert line is not None
            step(scan(line["bin"]))
            step(scan(_gtin(n + 1)))
            step(lambda: wf.on_input("qty", 2))
            step(scan("TOTE-0001"))
        assert wf.state == "done" and conn.queue.pending_count() == 4 * LINES
        conn.queue.close()
        conn.client.close()
        return times


def bare_insert() -> list[float]:
    """ms per committed one-row insert, WAL + synchronous=FULL (the durability floor)."""
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(Path(d) / "bare.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE q (seq INTEGER PRIMARY KEY, body TEXT)")
        times = [
            _timed(lambda: db.execute("INSERT INTO q (body) VALUES (?)", ['{"task_id": 1}']))
            for _ in range(4 * LINES)
        ]
        db.close()
        return times


def loopback_round_trip() -> list[float]:
    """ms per `GET /health` to a real edge server on 127.0.0.1 (uvicorn, lifespan on)."""
    import uvicorn

    from edge_server.app import create_app
    from edge_server.services import open_services
    from edge_server.settings import Settings

    with tempfile.TemporaryDirectory() as d:
        settings = Settings(
            db_path=Path(d) / "site.db", site="BEN", advertise=False, relay_enabled=False
        )
        services = open_services(settings)
        config = uvicorn.Config(
            create_app(settings, services), host="127.0.0.1", port=0, log_config=None
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
                http.get("/health")
                return [_timed(lambda: http.get("/health")) for _ in range(ROUND_TRIPS)]
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            services.db.close()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    results = {
        "scan → feedback + view (queued)": scan_to_screen(),
        "bare SQLite insert (WAL, FULL)": bare_insert(),
        "edge round trip on loopback": loopback_round_trip(),
    }
    print(f"{'measure':36} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in results.items():
        print(
            f"{name:36} {len(values):5d} {statistics.median(values):8.2f} "
            f"{_pct(values, 0.99):8.2f} {max(values):8.2f}"
        )
    scan = results["scan → feedback + view (queued)"]
    for base in ("bare SQLite insert (WAL, FULL)", "edge round trip on loopback"):
        other = results[base]
        print(
            f"scan vs {base}: p50 ratio {statistics.median(scan) / statistics.median(other):.2f}, "
            f"p99 ratio {_pct(scan, 0.99) / _pct(other, 0.99):.2f}"
        )
    verdict = "within" if _pct(scan, 0.99) < 50 else "OVER"
    print(f"budget: p99 {_pct(scan, 0.99):.2f} ms is {verdict} the 50 ms scan-to-screen budget")


if __name__ == "__main__":
    main()
